"""Mentions and direct messages: the command language, plus plain phrasings, answered in
the message's thread (a DM in the conversation), or only to the asker where the command's
route says so
(`bot.slack.handlers.routes`). A Slack retry of an event is dropped before it gets here
(`bot.slack.middleware`)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.language.phrases import NotUnderstood, understand
from bot.errors import CommandError
from bot.slack.delivery import (
    ChannelMessage,
    EphemeralOrDirectMessage,
    EphemeralReply,
    ExternalChannel,
    Posting,
)
from bot.slack.handlers import routes
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.handlers.help import full_help
from bot.slack.handlers.reply import answer_in_conversation
from bot.slack.handlers.routes import Answered, Posted, Reach, route_of, slash_form
from bot.slack.render.errors import render_error

MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")

CHANGES_NEED_A_COMMAND = CommandError(
    "Billing changes, schedules and budgets are set with the slash command, not in a "
    "conversation: its confirmations and replies are private.",
    suggestion="/billing help payment-method",
)


async def converse(
    event: dict[str, Any], client: AsyncWebClient, deps: Deps, *, shared: object = None
) -> None:
    """`shared`: the event's `is_ext_shared_channel`, if it said."""
    if event.get("bot_id") or event.get("subtype"):
        return  # other bots, edits, joins: nothing to answer
    channel = str(event["channel"])
    # A mention is answered in its thread; a one-to-one DM in the conversation itself, as
    # people reply there, unless the message was written in a thread of the DM.
    in_dm = event.get("channel_type") == "im"
    started = event.get("thread_ts") or (None if in_dm else event["ts"])
    thread = str(started) if started else None
    if isinstance(shared, bool):
        deps.guard.remember(channel, shared)
    try:
        await deps.guard.check(channel)
    except ExternalChannel as exc:  # not even an error message there: only the asker hears
        private = EphemeralReply(client, channel, str(event.get("user") or ""), thread_ts=thread)
        await private.post(render_error(exc))
        return
    post = ChannelMessage(client, channel, guard=deps.guard, thread_ts=thread)
    text = MENTION.sub(" ", str(event.get("text") or ""))
    user = str(event["user"])
    try:
        command = understand(text, deps.today())
        route = route_of(command)
        if route.reach is Reach.SLASH_COMMAND:
            raise CHANGES_NEED_A_COMMAND
    except NotUnderstood as exc:
        # A short answer for the thread; every command for the asker alone.
        private = EphemeralReply(client, channel, user, thread_ts=thread)
        try:
            await private.post(full_help(deps))
        except SlackApiError:
            await post.post(render_error(exc))
            return
        sent = CommandError(f"{exc.user_message} I sent you every command privately.", None)
        await post.post(render_error(sent))
        return
    except CommandError as exc:
        await post.post(render_error(exc))
        return
    # A thread or a DM's history is not a place for secrets: only an answer the asker alone
    # will see (ephemeral) may hold one.
    asker = Asker(user, channel, private=route.reach is Reach.ASKER, thread_ts=thread)
    match route.does:
        case Posted():
            # Words for the asker alone (their mistyped filter, say) go to them privately;
            # in their DMs with the bot when Slack refuses an ephemeral message there.
            note = EphemeralOrDirectMessage(client, channel, user, thread_ts=thread)
            posting = Posting(client, deps.guard, note=note, fallback=None)
            await routes.post(command, asker, deps, posting)
        case Answered(working=working):
            await answer_in_conversation(
                client,
                deps.guard,
                asker,
                routes.answer(command, asker, deps),
                working=working(command),
                slash_form=slash_form(command),
            )


async def on_mention(
    event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    shared = body.get("is_ext_shared_channel")
    await converse(event, client, Deps.of(context), shared=shared)


async def on_message(
    event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    if event.get("channel_type") == "im":
        shared = body.get("is_ext_shared_channel")
        await converse(event, client, Deps.of(context), shared=shared)


def register(app: AsyncApp) -> None:
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
