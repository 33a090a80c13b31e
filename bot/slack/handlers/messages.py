"""Mentions and direct messages: the command language, plus plain phrasings, answered in
the message's thread, or only to the asker where the command's route says so
(`bot.slack.handlers.routes`). A Slack retry of an event never produces a second answer."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.language import commands as c
from bot.core.language.phrases import understand
from bot.errors import CommandError
from bot.slack.delivery import ChannelMessage, refuse_private
from bot.slack.handlers import contro, reports
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.commands import progress_text, run
from bot.slack.handlers.deps import Deps
from bot.slack.handlers.reply import answer_in_conversation
from bot.slack.handlers.routes import Reach, route_of, slash_form
from bot.slack.render.errors import render_error

MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")

CHANGES_NEED_A_COMMAND = CommandError(
    "Billing changes, schedules and budgets are set with the slash command, not in a "
    "conversation: its confirmations and replies are private.",
    suggestion="/billing help payment-method",
)


def _thread_responder(post: ChannelMessage) -> Any:
    """`respond` for the report path: its private notes go in the thread instead."""

    async def respond(**message: Any) -> None:
        for key in ("response_type", "replace_original"):
            message.pop(key, None)
        await post.client.chat_postMessage(
            channel=post.channel, thread_ts=post.thread_ts, **refuse_private(message, "a thread")
        )

    return respond


async def converse(
    body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    if event.get("bot_id") or event.get("subtype"):
        return  # other bots, edits, joins: nothing to answer
    event_id = body.get("event_id")
    if event_id and not await deps.dedupe.first_time(f"event:{event_id}"):
        return  # a Slack retry of an event already answered
    channel = str(event["channel"])
    thread = str(event.get("thread_ts") or event["ts"])
    post = ChannelMessage(client, channel, thread_ts=thread)
    text = MENTION.sub(" ", str(event.get("text") or ""))
    try:
        command = understand(text, deps.today())
        route = route_of(command)
        if route.reach is Reach.SLASH_COMMAND:
            raise CHANGES_NEED_A_COMMAND
    except CommandError as exc:
        await post.post(render_error(exc))
        return
    # A thread or a DM's history is not a place for secrets: only an answer the asker alone
    # will see (ephemeral) may hold one.
    asker = Asker(str(event["user"]), channel, private=route.reach is Reach.ASKER, thread_ts=thread)
    match command:
        case c.Report():
            await reports.post_report(command, asker, deps, client, _thread_responder(post))
        case c.ControRecords(csv=True):
            await contro.post_export(command, asker, deps, client, _thread_responder(post))
        case _:
            await answer_in_conversation(
                client,
                asker,
                route,
                run(command, asker, deps),
                working=progress_text(command),
                slash_form=slash_form(command),
            )


async def on_mention(
    body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await converse(body, event, client, Deps.of(context))


async def on_message(
    body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    if event.get("channel_type") == "im":
        await converse(body, event, client, Deps.of(context))


def register(app: AsyncApp) -> None:
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
