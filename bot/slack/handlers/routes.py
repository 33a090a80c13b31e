"""Where each command's answer may go: decided here once, as data, and read by the reply
paths (a conversation, the share button), never re-decided by a listener."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.core.language import commands as c


class Reach(StrEnum):
    """Who may see the answer, and so where it may be posted."""

    # A stored message is fine: a thread, a DM's history, a shared copy.
    EVERYONE = "everyone"
    # Only the asker, ephemerally: a slash command's reply, chat.postEphemeral in a
    # conversation. The answer may hold a secret (metrics connection details).
    ASKER = "asker"
    # Only through the slash command: billing changes and what the bot posts unasked, whose
    # confirmations and replies are private.
    SLASH_COMMAND = "slash-command"


@dataclass(frozen=True)
class Route:
    reach: Reach
    shareable: bool = False  # offered with a "Share in channel" button (never with a secret)

    def __post_init__(self) -> None:
        if self.shareable and self.reach is not Reach.EVERYONE:
            raise ValueError("only an answer everyone may see can be shared")


_OPEN: Final = Route(Reach.EVERYONE)
_SHARED: Final = Route(Reach.EVERYONE, shareable=True)
_SLASH: Final = Route(Reach.SLASH_COMMAND)

ROUTES: Final[dict[type[c.Command], Route]] = {
    c.Help: _OPEN,
    c.Usage: _SHARED,
    c.Report: _OPEN,
    c.PaymentMethods: _SHARED,
    c.RateCard: _SHARED,
    c.ShowPaymentMethod: _SHARED,
    c.SetPaymentMethod: _SLASH,
    c.ShowMetrics: Route(Reach.ASKER),
    c.EnableMetrics: _SLASH,
    c.ControSummary: _SHARED,
    c.ControRecords: _SHARED,
    c.ScheduleReport: _SLASH,
    c.ListSchedules: _OPEN,
    c.CancelSchedule: _SLASH,
    c.SetBudget: _SLASH,
    c.ListBudgets: _OPEN,
    c.RemoveBudget: _SLASH,
}


def route_of(command: c.Command) -> Route:
    return ROUTES[type(command)]


def slash_form(command: c.Command) -> str:
    """The slash command that asks the same, for a pointer ("ask with …")."""
    match command:
        case c.ShowMetrics(project=project):
            return f"/billing metrics {c.quote(project)}"
        case _:
            return "/billing help"
