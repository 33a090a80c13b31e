"""One way to answer: show progress when the work is slow, turn every error into words."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import BillingBotError, CommandError, SecretNotPostable
from bot.observe.metrics import answer_failed
from bot.slack.delivery import (
    ChannelGuard,
    ChannelMessage,
    ChannelUnavailable,
    Delivery,
    EphemeralReply,
    ExternalChannel,
    Posting,
    SlackRefused,
)
from bot.slack.handlers.asker import Asker
from bot.slack.render.common import Message
from bot.slack.render.errors import render_error, render_unexpected
from bot.slack.render.progress import render_working

log = logging.getLogger(__name__)

# Past this, the user first sees a "working on it" message that the answer then replaces.
PROGRESS_AFTER_SECONDS = 1.0

Send = Callable[..., Awaitable[Any]]


def words_for(exc: Exception) -> Message:
    """What to tell the user about `exc`. No stack trace reaches Slack; bugs get a reference."""
    answer_failed(exc)
    if isinstance(exc, BillingBotError):
        log.info("answered with an error: %s", type(exc).__name__)
        return render_error(exc)
    incident = secrets.token_hex(4)
    log.error("unexpected error, incident %s", incident, exc_info=exc)
    return render_unexpected(incident)


async def whisper(respond: Send, message: Message) -> None:
    """A new message only the clicker or asker sees; whatever they clicked stays as it is."""
    await respond(
        **message.to_slack(ephemeral=True), response_type="ephemeral", replace_original=False
    )


def payload(message: Message, *, ephemeral: bool) -> dict[str, Any]:
    """`message` to send, or, if it holds a secret and would not be `ephemeral`, the words
    saying why it was not sent."""
    try:
        return message.to_slack(ephemeral=ephemeral)
    except SecretNotPostable as exc:
        return words_for(exc).to_slack()


async def produce(work: Awaitable[Message]) -> Message:
    """The answer, or the words for whatever went wrong."""
    try:
        return await work
    except Exception as exc:
        return words_for(exc)


async def answer(
    respond: Send,
    work: Awaitable[Message],
    *,
    working: str,
    replace_original: bool = False,
    response_type: str = "ephemeral",
    queued: Callable[[], int] = lambda: 0,
) -> None:
    """Send `work`'s message through `respond`, with a progress message first if it is slow
    (saying so when it waits behind others in the bot's queue: `queued`)."""
    task = asyncio.ensure_future(produce(work))
    done, _ = await asyncio.wait({task}, timeout=PROGRESS_AFTER_SECONDS)
    if not done:
        await respond(
            **render_working(working, queued=queued()).to_slack(),
            response_type=response_type,
            replace_original=replace_original,
        )
        replace_original = True
    message = await task
    await respond(
        **payload(message, ephemeral=response_type == "ephemeral"),
        response_type=response_type,
        replace_original=replace_original,
    )


async def in_channel(
    posting: Posting,
    post: ChannelMessage,
    *,
    preparing: Message,
    work: Callable[[Delivery], Awaitable[None]],
    failed: Callable[[Message], Message],
) -> None:
    """Work whose result everyone in the channel sees: a "preparing" message first, edited
    in place by `work`; a failure replaces it with the reason.

    If the bot cannot post in the channel, the posting's fallback (a slash command's
    response_url) still answers the channel; without one, only the asker is told how to
    invite the bot. Where the guard refuses the channel (shared with another organization),
    nothing reaches it, by any way: only the asker is told (a scheduled post is logged)."""
    delivery: Delivery = post
    try:
        await post.post(preparing)
    except ExternalChannel as exc:
        await posting.note.post(render_error(exc))
        return
    except ChannelUnavailable as exc:
        if posting.fallback is None:
            await posting.note.post(render_error(exc))
            return
        log.info("not a member of %s: answering through the response_url", post.channel)
        delivery = posting.fallback
        await delivery.post(preparing)
    except SlackApiError as exc:  # Slack kept refusing, after slack-sdk's own retries
        log.warning("could not post in %s: %s", post.channel, exc.response.get("error"))
        await posting.note.post(render_error(SlackRefused()))
        return
    try:
        await work(delivery)
    except Exception as exc:
        await delivery.update(failed(words_for(exc)))


async def answer_in_thread(post: ChannelMessage, work: Awaitable[Message], *, working: str) -> None:
    """`answer` for conversations: the reply goes in the thread, with progress if it is slow."""
    task = asyncio.ensure_future(produce(work))
    done, _ = await asyncio.wait({task}, timeout=PROGRESS_AFTER_SECONDS)
    if not done:
        await post.post(render_working(working))
    message = await task
    try:
        await post.update(message)
    except SecretNotPostable as exc:  # nothing was posted: say why instead
        await post.update(words_for(exc))


async def answer_in_conversation(
    client: AsyncWebClient,
    guard: ChannelGuard,
    asker: Asker,
    work: Awaitable[Message],
    *,
    working: str,
    slash_form: str,
) -> None:
    """A mention's or a DM's answer: in the thread for everyone, or, when `asker.private`
    (an answer only its asker may see), ephemerally to them in that conversation (no
    progress message: an ephemeral one cannot be replaced). If Slack will not take an
    ephemeral message there, the thread gets a pointer to `slash_form`, never the answer."""
    post = ChannelMessage(client, asker.channel_id, guard=guard, thread_ts=asker.thread_ts)
    if not asker.private:
        await answer_in_thread(post, work, working=working)
        return
    private = EphemeralReply(client, asker.channel_id, asker.user_id, thread_ts=asker.thread_ts)
    message = await produce(work)
    try:
        await private.post(message)
    except SlackApiError as exc:
        log.info("no ephemeral answer in %s: %s", asker.channel_id, exc.response.get("error"))
        await post.post(render_error(ask_privately(slash_form)))


def ask_privately(slash_form: str) -> CommandError:
    return CommandError(
        "I answer that only where just you can see it, and Slack would not let me do that "
        "here. Ask with the slash command: only you see its answers.",
        suggestion=slash_form,
    )
