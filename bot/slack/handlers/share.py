"""The "Share in channel" button: the same answer, asked again, posted for everyone."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.core.language.phrases import read
from bot.errors import CommandError
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.handlers.reply import whisper, words_for
from bot.slack.handlers.routes import answer, route_of
from bot.slack.ids import ActionId
from bot.slack.render.common import Message
from bot.slack.render.share import render_already_shared, render_shared


async def shared(text: str, user_id: str, channel_id: str, deps: Deps) -> Message:
    command = read(text, deps.today())
    if not route_of(command).shareable:
        raise CommandError("That answer cannot be shared in the channel.")
    # private=False: whatever the sharer may see, the channel gets no secret.
    message = await answer(command, Asker(user_id, channel_id, private=False), deps)
    return render_shared(message, user_id)


async def on_share(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    await ack()
    deps = Deps.of(context)
    user_id = str(body["user"]["id"])
    channel_id = str((body.get("channel") or {}).get("id") or body["container"]["channel_id"])
    try:
        await deps.guard.check(channel_id)  # ExternalChannel: a Slack Connect channel
        message = await shared(str(action.get("value", "")), user_id, channel_id, deps)
        for_everyone = message.to_slack()  # never a secret (SecretNotPostable)
    except Exception as exc:
        await whisper(respond, words_for(exc))
        return
    if not await _first_share(body, channel_id, deps):
        await whisper(respond, render_already_shared())
        return
    await respond(**for_everyone, response_type="in_channel", replace_original=False)


async def _first_share(body: dict[str, Any], channel_id: str, deps: Deps) -> bool:
    """False once the answer in this message (channel and ts) was shared, on any replica."""
    message_ts = (body.get("container") or {}).get("message_ts")
    if not message_ts:
        return True
    return await deps.dedupe.first_time(f"share:{channel_id}:{message_ts}")


def register(app: AsyncApp) -> None:
    app.action(ActionId.SHARE.value)(on_share)
