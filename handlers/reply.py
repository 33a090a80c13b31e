"""One way to answer: show progress when the work is slow, turn every error into words."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from bot.errors import BillingBotError
from bot.render.common import Message
from bot.render.errors import render_error, render_unexpected
from bot.render.progress import render_working

log = logging.getLogger(__name__)

# Past this, the user first sees a "working on it" message that the answer then replaces.
PROGRESS_AFTER_SECONDS = 1.0

Send = Callable[..., Awaitable[Any]]


async def produce(work: Awaitable[Message]) -> Message:
    """The answer, or the words for whatever went wrong. No stack trace reaches Slack."""
    try:
        return await work
    except BillingBotError as exc:
        log.info("answered with an error: %s", type(exc).__name__)
        return render_error(exc)
    except Exception:
        incident = secrets.token_hex(4)
        log.exception("unexpected error, incident %s", incident)
        return render_unexpected(incident)


async def answer(
    respond: Send,
    work: Awaitable[Message],
    *,
    working: str,
    replace_original: bool = False,
    response_type: str = "ephemeral",
) -> None:
    """Send `work`'s message through `respond`, with a progress message first if it is slow."""
    task = asyncio.ensure_future(produce(work))
    done, _ = await asyncio.wait({task}, timeout=PROGRESS_AFTER_SECONDS)
    if not done:
        await respond(
            **render_working(working).to_slack(),
            response_type=response_type,
            replace_original=replace_original,
        )
        replace_original = True
    message = await task
    await respond(
        **message.to_slack(), response_type=response_type, replace_original=replace_original
    )
