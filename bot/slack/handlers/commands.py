"""The `/billing` slash command: ack at once, parse, hand the typed command to its family."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.language import commands as c
from bot.errors import CommandError
from bot.slack.handlers import (
    changes,
    contro,
    help,
    metrics,
    payment_methods,
    report_form,
    reports,
    schedules,
    usage,
)
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.handlers.reply import answer
from bot.slack.handlers.routes import route_of
from bot.slack.render.common import Message
from bot.slack.render.errors import render_error
from bot.slack.render.share import with_share_button


async def run(command: c.Command, asker: Asker, deps: Deps) -> Message:
    match command:
        case c.Help():
            return help.show(command)
        case c.Usage():
            return await usage.show(command, deps)
        case c.PaymentMethods():
            return await payment_methods.list_all(deps)
        case c.RateCard():
            return await payment_methods.rate_card(command, deps)
        case c.ShowPaymentMethod():
            return await payment_methods.show_for_project(command, deps)
        case c.ShowMetrics():
            return await metrics.show(command, asker, deps)
        case c.ControSummary():
            return await contro.summary(command, deps)
        case c.ControRecords():
            return await contro.records(command, deps)
        case c.SetPaymentMethod() | c.EnableMetrics():
            return await changes.preview(command, asker, deps)
        case (
            c.ScheduleReport()
            | c.ListSchedules()
            | c.CancelSchedule()
            | c.SetBudget()
            | c.ListBudgets()
            | c.RemoveBudget()
        ):
            return await schedules.run(command, asker, deps)
        case c.Report():
            raise AssertionError("reports are posted in the channel, not answered here")


async def personal(command: c.Command, text: str, asker: Asker, deps: Deps) -> Message:
    """An answer only the asker sees, with a share button if its route allows sharing."""
    message = await run(command, asker, deps)
    return with_share_button(message, text) if route_of(command).shareable else message


def progress_text(command: c.Command) -> str:
    match command:
        case c.Usage(project=project):
            return f"fetching this month's usage of `{c.quote(project)}`"
        case c.ControRecords() | c.ControSummary():
            return "asking Contro"
        case _:
            return "asking MK.IO"


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
        parsed = c.parse(command.get("text") or "", today=deps.today())
    except CommandError as exc:
        await respond(**render_error(exc).to_slack(), response_type="ephemeral")
        return
    asker = Asker(user_id=command["user_id"], channel_id=command["channel_id"])
    match parsed:
        case c.Report():
            await reports.post_report(parsed, asker, deps, client, respond, via_response_url=True)
        case c.ControRecords(csv=True):
            # Its answer is the file: without the bot in the channel, only the invitation helps.
            await contro.post_export(parsed, asker, deps, client, respond)
        case _:
            work = personal(parsed, command.get("text") or "", asker, deps)
            await answer(respond, work, working=progress_text(parsed))


def register(app: AsyncApp) -> None:
    app.command("/billing")(on_billing)
