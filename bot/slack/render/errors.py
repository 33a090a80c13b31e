"""Every typed error in words, in one place. Never a stack trace, never an exception repr."""

from __future__ import annotations

import re

from slack_sdk.models.blocks import Block

from bot.errors import (
    BillingBotError,
    CommandError,
    NotAllowed,
    NotConfigured,
    NotFound,
    UpstreamError,
)
from bot.slack.render.common import Message, code, context, escape, finish, inert, section, truncate

MAX_DETAIL = 500

# Defence in depth: an API's own error text could echo a credential back; never show one.
_SECRET = re.compile(
    r"\b(?:sk_(?:live|test)_|xox[a-z]-|xapp-)[A-Za-z0-9_\-]+|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]+"
)


def _redact(text: str) -> str:
    return _SECRET.sub("[redacted]", text)


def render_error(exc: BillingBotError) -> Message:
    """`user_message` and `suggestion` are the bot's own mrkdwn (user words in them already
    quoted by the parser), so they are made `inert`, not escaped twice; the API's `detail`
    and `ref` are raw and fully escaped."""
    said = inert(exc.user_message)
    fallback = exc.user_message
    notes: list[str] = []
    if isinstance(exc, CommandError):
        icon = ":thinking_face:"
        # A message that already says "Did you mean `…`?" needs no second "Try:".
        if exc.suggestion and f"`{exc.suggestion}`" not in exc.user_message:
            said += f"\nTry: `{inert(exc.suggestion).replace('`', '')}`"
            fallback += f" Try: {exc.suggestion}"
    elif isinstance(exc, NotConfigured):
        icon = ":gear:"
    elif isinstance(exc, NotAllowed):
        icon = ":no_entry:"
    else:
        icon = ":warning:"
    if isinstance(exc, UpstreamError):
        # The API's words once: most messages already end with them.
        if exc.detail and exc.detail not in exc.user_message:
            detail = escape(truncate(_redact(exc.detail), MAX_DETAIL))
            notes.append(f"{escape(exc.api)} said: {detail}")
        # A reference is for the provider's support: a fault needs one, a 404 for a name
        # that was mistyped does not.
        if exc.ref and not isinstance(exc, NotFound):
            notes.append(f"Reference: {code(exc.ref)}, quote it to support")
            fallback += f" Reference: {exc.ref}"
    blocks: list[Block] = [section(f"{icon} {said}")]
    if notes:
        blocks.append(context(*notes))
    return finish(inert(fallback), blocks)


def render_unexpected(incident_id: str) -> Message:
    """For bugs: no details, only a reference to find the incident in the logs."""
    said = f"Something went wrong on our side. Reference {code(incident_id)}."
    fallback = f"Something went wrong on our side. Reference {incident_id}."
    return finish(escape(fallback), [section(f":warning: {said}")])
