"""The `/billing` slash command: ack at once, read the words as a mention or a DM would be
(`bot.core.language.phrases.read`: one reader for every entry point), and do what the
command's route says."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.language import commands as c
from bot.core.language.phrases import read
from bot.errors import CommandError
from bot.slack.delivery import Posting, ResponseUrlMessage, ResponseUrlReply
from bot.slack.handlers import report_form, routes
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.handlers.reply import answer
from bot.slack.handlers.routes import Answered, Posted, route_of
from bot.slack.render.common import Message
from bot.slack.render.errors import render_error
from bot.slack.render.share import with_share_button


async def personal(command: c.Command, text: str, asker: Asker, deps: Deps) -> Message:
    """An answer only the asker sees, with a share button if its route allows sharing."""
    message = await routes.answer(command, asker, deps)
    return with_share_button(message, text) if route_of(command).shareable else message


async def on_billing(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
    client: AsyncWebClient,
) -> None:
    await ack()
    deps = Deps.of(context)
    if (command.get("text") or "").strip().lower() == "report":
        await report_form.open_form(
            client, command["trigger_id"], deps, channel_id=command.get("channel_id")
        )
        return
    try:
        parsed = read(command.get("text") or "", deps.today())
    except CommandError as exc:
        await respond(**render_error(exc).to_slack(), response_type="ephemeral")
        return
    asker = Asker(user_id=command["user_id"], channel_id=command["channel_id"])
    match route_of(parsed).does:
        case Posted():
            # Where the bot is not a member, the response_url still reaches the channel.
            fallback = ResponseUrlMessage(respond, asker.channel_id)
            posting = Posting(client, deps.guard, note=ResponseUrlReply(respond), fallback=fallback)
            await routes.post(parsed, asker, deps, posting)
        case Answered(working=working):
            work = personal(parsed, command.get("text") or "", asker, deps)
            await answer(respond, work, working=working(parsed), queued=deps.billing.queued)


def register(app: AsyncApp) -> None:
    app.command("/billing")(on_billing)
