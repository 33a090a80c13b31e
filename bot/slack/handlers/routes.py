"""What Slack does with each command, decided here once, as data: its handler, who may ask,
where its answer may go, whether it may be shared, and whether it is answered to the asker
or posted in the channel. Every listener that takes a command (the slash command, mentions
and DMs, the share button, the report form, the Home tab, the scheduler) reads this table;
none re-decides. The table is total: every command type has a row, and a row has no defaults.
Who may press an anomaly alert's buttons is decided here too (`ANOMALY_BUTTONS`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Generic, TypeVar

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.language import commands as c
from bot.observe import labels
from bot.slack.delivery import Posting
from bot.slack.handlers import (
    anomalies,
    budgets,
    changes,
    contro,
    external_channels,
    help,
    metrics,
    payment_methods,
    reconcile,
    reports,
    schedules,
    usage,
)
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.handlers.reply import whisper
from bot.slack.ids import ActionId
from bot.slack.render.changes import render_not_admin
from bot.slack.render.common import Message

C = TypeVar("C")


class Who(StrEnum):
    """Who may ask."""

    ANYONE = "anyone"
    # Billing admins (BILLING_ADMINS); anyone else is told who they are.
    ADMIN = "admin"


class Reach(StrEnum):
    """Who may see the answer, and so where it may be posted."""

    # A stored message is fine: a thread, a DM's history, a shared copy.
    EVERYONE = "everyone"
    # Only the asker, ephemerally: a slash command's reply, chat.postEphemeral in a
    # conversation. The answer may hold a secret (metrics connection details).
    ASKER = "asker"
    # Only through the slash command: billing changes and what the bot posts unasked, whose
    # confirmations and replies are private. Refused in mentions and DMs.
    SLASH_COMMAND = "slash-command"


@dataclass(frozen=True)
class Answered(Generic[C]):
    """Answered to the asker: a slash command's ephemeral reply, a conversation's thread (or
    ephemerally there, for `Reach.ASKER`). `working` is shown while a slow answer is made."""

    run: Callable[[C, Asker, Deps], Awaitable[Message]]
    working: Callable[[C], str]


@dataclass(frozen=True)
class Posted(Generic[C]):
    """Posted in the channel for everyone: a "preparing" message edited in place, files in
    its thread. What only the asker should read goes to the posting's note."""

    run: Callable[[C, Asker, Deps, Posting], Awaitable[None]]


@dataclass(frozen=True)
class Route(Generic[C]):
    does: Answered[C] | Posted[C]
    who: Who
    reach: Reach
    shareable: bool  # offered with a "Share in channel" button (never with a secret)

    def __post_init__(self) -> None:
        if self.shareable and (self.reach is not Reach.EVERYONE or isinstance(self.does, Posted)):
            raise ValueError("only an answer everyone may see can be shared")
        if isinstance(self.does, Posted) and self.reach is Reach.ASKER:
            raise ValueError("an answer posted in the channel is seen by everyone")


def says(text: str) -> Callable[[object], str]:
    """The same working text whatever the command's words."""
    return lambda _command: text


MKIO: Final = says("asking MK.IO")
CONTRO: Final = says("asking Contro")
STORE: Final = says("looking it up")
ANYONE, ADMIN = Who.ANYONE, Who.ADMIN
EVERYONE, ASKER, SLASH = Reach.EVERYONE, Reach.ASKER, Reach.SLASH_COMMAND


def _usage_working(command: c.Usage) -> str:
    return f"fetching this month's usage of `{c.quote(command.project)}`"


ROUTES: Final[dict[type[c.Command], Route[Any]]] = {
    c.Help: Route(Answered(help.show, STORE), ANYONE, EVERYONE, shareable=False),
    c.Usage: Route(Answered(usage.show, _usage_working), ANYONE, EVERYONE, shareable=True),
    c.Report: Route(Posted(reports.post_report), ANYONE, EVERYONE, shareable=False),
    c.Reconcile: Route(Posted(reconcile.post_reconciliation), ANYONE, EVERYONE, shareable=False),
    c.PaymentMethods: Route(
        Answered(payment_methods.list_all, MKIO), ANYONE, EVERYONE, shareable=True
    ),
    c.RateCard: Route(Answered(payment_methods.rate_card, MKIO), ANYONE, EVERYONE, shareable=True),
    c.ShowPaymentMethod: Route(
        Answered(payment_methods.show_for_project, MKIO), ANYONE, EVERYONE, shareable=True
    ),
    c.SetPaymentMethod: Route(Answered(changes.preview, MKIO), ADMIN, SLASH, shareable=False),
    # Anyone may ask; only an admin asking privately sees the connection details.
    c.ShowMetrics: Route(Answered(metrics.show, MKIO), ANYONE, ASKER, shareable=False),
    c.EnableMetrics: Route(Answered(changes.preview, MKIO), ADMIN, SLASH, shareable=False),
    c.ControSummary: Route(Answered(contro.summary, CONTRO), ANYONE, EVERYONE, shareable=True),
    # `contro records … csv` has a route of its own: CONTRO_EXPORT.
    c.ControRecords: Route(Answered(contro.records, CONTRO), ANYONE, EVERYONE, shareable=True),
    # Changing what the bot posts unasked is for billing admins; reading the lists is for anyone.
    c.ScheduleReport: Route(Answered(schedules.run, MKIO), ADMIN, SLASH, shareable=False),
    c.ListSchedules: Route(Answered(schedules.run, STORE), ANYONE, SLASH, shareable=False),
    c.CancelSchedule: Route(Answered(schedules.run, STORE), ADMIN, SLASH, shareable=False),
    c.SetBudget: Route(Answered(budgets.run, MKIO), ADMIN, SLASH, shareable=False),
    c.ListBudgets: Route(Answered(budgets.run, MKIO), ANYONE, SLASH, shareable=False),
    c.RemoveBudget: Route(Answered(budgets.run, STORE), ADMIN, SLASH, shareable=False),
    # Where alerts go and checking now are for billing admins; the open anomalies for anyone.
    c.ListAnomalies: Route(Answered(anomalies.run, STORE), ANYONE, EVERYONE, shareable=False),
    c.AnomalyAlerts: Route(Answered(anomalies.run, STORE), ADMIN, SLASH, shareable=False),
    c.CheckAnomalies: Route(
        Answered(anomalies.run, says("checking for anomalies")), ADMIN, SLASH, shareable=False
    ),
    c.AllowExternalChannel: Route(
        Answered(external_channels.run, STORE), ADMIN, SLASH, shareable=False
    ),
}

# `contro records … csv`: every record as a file, which only a channel's thread can take.
CONTRO_EXPORT: Final[Route[c.ControRecords]] = Route(
    Posted(contro.post_export), ANYONE, EVERYONE, shareable=False
)


# A button's listener: Bolt passes its arguments by these names.
ButtonListener = Callable[
    [AsyncAck, dict[str, Any], dict[str, Any], AsyncRespond, AsyncWebClient, AsyncBoltContext],
    Awaitable[None],
]

# Who may press each button of an anomaly alert: acknowledging it and its details are for
# anyone who sees the alert; silencing it for everyone is for billing admins.
ANOMALY_BUTTONS: Final[Mapping[ActionId, Who]] = {
    ActionId.ANOMALY_ACK: ANYONE,
    ActionId.ANOMALY_DETAILS: ANYONE,
    ActionId.ANOMALY_EXPECTED: ADMIN,
    ActionId.ANOMALY_SNOOZE_DAY: ADMIN,
    ActionId.ANOMALY_SNOOZE_WEEK: ADMIN,
}


def _button(who: Who, pressed: ButtonListener) -> ButtonListener:
    """`pressed`, for those `who` may press it; anyone else is told who can, privately."""

    async def listener(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        deps = Deps.of(context)
        if who is Who.ADMIN and not deps.is_admin(str(body["user"]["id"])):
            await ack()
            await whisper(respond, render_not_admin(deps.settings.billing_admins))
            return
        await pressed(ack, body, action, respond, client, context)

    return listener


def register_buttons(app: AsyncApp) -> None:
    """The anomaly alerts' buttons, each behind its row of `ANOMALY_BUTTONS`."""
    for action_id, who in ANOMALY_BUTTONS.items():
        app.action(action_id.value)(_button(who, anomalies.on_action))


def route_of(command: c.Command) -> Route[Any]:
    match command:
        case c.ControRecords(csv=True):
            return CONTRO_EXPORT
        case _:
            return ROUTES[type(command)]


def _allowed(route: Route[Any], asker: Asker, deps: Deps) -> bool:
    return route.who is Who.ANYONE or deps.is_admin(asker.user_id)


async def answer(command: c.Command, asker: Asker, deps: Deps) -> Message:
    """The answer to `command` for `asker`, if its route answers rather than posts."""
    route = route_of(command)
    if not isinstance(route.does, Answered):
        raise TypeError(f"{type(command).__name__} is posted in the channel, not answered")
    with deps.metrics.answering(command_label(command)) as counted:
        if not _allowed(route, asker, deps):
            counted.refused = True
            return render_not_admin(deps.settings.billing_admins)
        return await route.does.run(command, asker, deps)


async def post(command: c.Command, asker: Asker, deps: Deps, posting: Posting) -> None:
    """Post `command`'s answer in the asker's channel, if its route posts rather than answers."""
    route = route_of(command)
    if not isinstance(route.does, Posted):
        raise TypeError(f"{type(command).__name__} is answered, not posted in the channel")
    with deps.metrics.answering(command_label(command)) as counted:
        if not _allowed(route, asker, deps):
            counted.refused = True
            await posting.note.post(render_not_admin(deps.settings.billing_admins))
            return
        await route.does.run(command, asker, deps, posting)


def command_label(command: c.Command) -> str:
    """The command's metric label: its type (`usage`, `contro_records_csv`), never its words."""
    return labels.command_label(type(command).__name__, csv=route_of(command) is CONTRO_EXPORT)


def slash_form(command: c.Command) -> str:
    """The slash command that asks the same, for a pointer ("ask with …")."""
    match command:
        case c.ShowMetrics(project=project):
            return f"/billing metrics {c.quote(project)}"
        case _:
            return "/billing help"
