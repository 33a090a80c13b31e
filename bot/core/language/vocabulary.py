"""The vocabulary of `/billing`: the typed commands the grammar produces, their values, and
the language as the help shows it (`COMMANDS`).

Pure and Slack-free, and apart from the grammar (`bot.core.language.grammar`), so what
stores, the report form and the scheduler share is only the words, not the parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from bot.apis.mkio.models import Granularity
from bot.clock import next_month_start

__all__ = [
    "BUDGET_CURRENCY",
    "COMMANDS",
    "DAY_MAX_DAYS",
    "HELP_COMMAND",
    "HELP_TOPICS",
    "HOUR_MAX_DAYS",
    "PREFIX",
    "AllowExternalChannel",
    "CancelSchedule",
    "Command",
    "CommandSpec",
    "ControRecords",
    "ControSummary",
    "DateRange",
    "EnableMetrics",
    "Frequency",
    "Granularity",
    "Help",
    "ListBudgets",
    "ListSchedules",
    "PaymentMethods",
    "Period",
    "RateCard",
    "RemoveBudget",
    "Report",
    "ScheduleReport",
    "SetBudget",
    "SetPaymentMethod",
    "ShowMetrics",
    "ShowPaymentMethod",
    "Usage",
    "specs_for",
]

PREFIX = "/billing"
HELP_COMMAND = f"{PREFIX} help"
HOUR_MAX_DAYS = 31  # MK.IO: `hour` reports cover at most 31 days
DAY_MAX_DAYS = 366  # MK.IO: `day` reports cover at most one year
BUDGET_CURRENCY = "USD"  # budgets are set in this currency only


@dataclass(frozen=True)
class DateRange:
    """Dates in UTC, `start` inclusive and `end` exclusive, as MK.IO reports take them."""

    start: date
    end: date
    label: str  # what the user typed, normalised: "2026-03", "last-month", "2026-01-01..2026-02-01"

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError(f"empty date range {self.start}..{self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True, order=True)
class Period:
    """A billing period: one calendar month, written YYYY-MM."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1 to 12, not {self.month}")

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def range(self) -> DateRange:
        first = date(self.year, self.month, 1)
        return DateRange(first, next_month_start(first), str(self))

    @classmethod
    def containing(cls, day: date) -> Period:
        return cls(day.year, day.month)


# --- The commands ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Help:
    topic: str | None = None  # a key of HELP_TOPICS, e.g. "report" or "contro records"


@dataclass(frozen=True)
class Usage:
    project: str


@dataclass(frozen=True)
class Report:
    range: DateRange
    granularity: Granularity
    projects: tuple[str, ...] = ()
    payment_methods: tuple[str, ...] = ()
    reported: bool = False
    csv: bool = False
    granularity_given: bool = False
    versus: DateRange | None = None  # `vs <range>`: the range to compare with, when given


@dataclass(frozen=True)
class PaymentMethods:
    pass


@dataclass(frozen=True)
class RateCard:
    payment_method: str


@dataclass(frozen=True)
class ShowPaymentMethod:
    project: str


@dataclass(frozen=True)
class SetPaymentMethod:
    project: str
    payment_method: str


@dataclass(frozen=True)
class ShowMetrics:
    project: str


@dataclass(frozen=True)
class EnableMetrics:
    project: str


@dataclass(frozen=True)
class ControSummary:
    period: Period


@dataclass(frozen=True)
class ControRecords:
    period: Period
    type: str | None = None  # lower-cased; Contro's usage types are an open set
    csv: bool = False


class Frequency(StrEnum):
    """How often a scheduled report is posted (each run at 08:00 UTC: see
    `bot.core.scheduled.schedules`)."""

    MONTHLY = "monthly"  # the 1st of the month, for the month just ended
    WEEKLY = "weekly"  # Mondays, for the 7 days before (Monday to Sunday)
    DAILY = "daily"  # every day, for the day before


@dataclass(frozen=True)
class ScheduleReport:
    """`schedule <frequency> <report words>`. `report_words` are kept as typed (without a
    leading `report`) and read again for each run, as on that run's day (`schedule_report`);
    `report` is those words read as if a run were made today, so mistakes show at once."""

    frequency: Frequency
    report_words: str
    report: Report


@dataclass(frozen=True)
class ListSchedules:
    pass


@dataclass(frozen=True)
class CancelSchedule:
    id: str  # lower-cased: schedule IDs are case-insensitive


@dataclass(frozen=True)
class SetBudget:
    project: str
    amount: Decimal  # in BUDGET_CURRENCY, positive, with two decimals


@dataclass(frozen=True)
class ListBudgets:
    pass


@dataclass(frozen=True)
class RemoveBudget:
    project: str


@dataclass(frozen=True)
class AllowExternalChannel:
    """Allow billing data in this channel although it is shared with another organization
    (`allow` False: `off`, refuse it again)."""

    allow: bool = True


Command = (
    Help
    | Usage
    | Report
    | PaymentMethods
    | RateCard
    | ShowPaymentMethod
    | SetPaymentMethod
    | ShowMetrics
    | EnableMetrics
    | ControSummary
    | ControRecords
    | ScheduleReport
    | ListSchedules
    | CancelSchedule
    | SetBudget
    | ListBudgets
    | RemoveBudget
    | AllowExternalChannel
)


# --- The language, as the help shows it -----------------------------------------------------


@dataclass(frozen=True)
class CommandSpec:
    """One form of one command, for the help text and for "did you mean" suggestions."""

    syntax: str  # without the prefix: "usage <project>"
    description: str
    examples: tuple[str, ...]  # complete commands: "/billing usage my-project"
    notes: tuple[str, ...] = ()  # details shown by `help <topic>`

    @property
    def name(self) -> str:
        """The literal words before the first argument: "usage", "contro summary"."""
        literal: list[str] = []
        for word in self.syntax.split():
            if word.startswith(("<", "[")):
                break
            literal.append(word)
        return " ".join(literal)

    @property
    def word(self) -> str:
        """The first word, which the parser dispatches on."""
        return self.syntax.split()[0]


_EXAMPLE_PAYMENT_METHOD = "6f1c2a9e-3b4d-4c8e-9a7f-2d5b8e0c1f34"

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "help [topic]",
        "List the commands, or explain one of them.",
        (f"{PREFIX} help", f"{PREFIX} help report"),
    ),
    CommandSpec(
        "usage <project>",
        "This month's usage of a project so far: quantity and cost per meter, and the total.",
        (f"{PREFIX} usage my-project",),
    ),
    CommandSpec(
        "report <range> [by <granularity>] [project <a,b> | payment-method <x,y>] "
        "[vs <range>] [reported] [csv]",
        "Usage and cost over a date range, per project and meter, with the change against "
        "the period before; `csv` uploads the full file.",
        (f"{PREFIX} report last-month", f"{PREFIX} report 2026-01-01..2026-02-01 by week csv"),
        (
            "<range>: `YYYY-MM-DD..YYYY-MM-DD` or two dates (start inclusive, end exclusive, "
            "UTC), `YYYY-MM` (a month), `YYYY` (a year), `this-month` (up to today), `last-month`.",
            f"<granularity>: `hour` (up to {HOUR_MAX_DAYS} days), `day` (up to {DAY_MAX_DAYS} "
            "days), `week`, `month` or `year`; the default is `day`, or `month` for ranges "
            f"over {DAY_MAX_DAYS} days.",
            "`project` or `payment-method` (not both) narrows the report; separate several "
            "with commas.",
            "`vs <range>` compares with any other range, written like the first one, instead of "
            "the same-length period just before: `report 2026-03 vs 2025-03`.",
            "`reported` selects usage by the date it was charged rather than the date it happened.",
        ),
    ),
    CommandSpec(
        "payment-methods",
        "The organization's payment methods.",
        (f"{PREFIX} payment-methods",),
    ),
    CommandSpec(
        "ratecard <payment-method-id>",
        "The per-meter prices of a payment method.",
        (f"{PREFIX} ratecard {_EXAMPLE_PAYMENT_METHOD}",),
    ),
    CommandSpec(
        "payment-method <project>",
        "The payment method assigned to a project.",
        (f"{PREFIX} payment-method my-project",),
    ),
    CommandSpec(
        "payment-method <project> set <payment-method-id>",
        "Assign a payment method to a project (admins; asks for confirmation first).",
        (f"{PREFIX} payment-method my-project set {_EXAMPLE_PAYMENT_METHOD}",),
        (
            "A payment method can be replaced but never removed, and assigning one activates "
            "the project.",
        ),
    ),
    CommandSpec(
        "metrics <project>",
        "Whether metrics export is on for a project.",
        (f"{PREFIX} metrics my-project",),
    ),
    CommandSpec(
        "metrics <project> enable",
        "Turn on metrics export (admins; billable; asks for confirmation first).",
        (f"{PREFIX} metrics my-project enable",),
    ),
    CommandSpec(
        "contro summary [YYYY-MM]",
        "Contro totals and counts per usage type for a month (default: this month).",
        (f"{PREFIX} contro summary", f"{PREFIX} contro summary 2026-03"),
    ),
    CommandSpec(
        "contro records [YYYY-MM] [type <type>] [csv]",
        "Contro usage records for a month (default: this month); `csv` uploads them all.",
        (f"{PREFIX} contro records", f"{PREFIX} contro records 2026-03 type kyc csv"),
    ),
    CommandSpec(
        "schedule list",
        "The scheduled reports, with their IDs.",
        (f"{PREFIX} schedule list",),
    ),
    CommandSpec(
        "schedule <monthly|weekly|daily> [<report words>]",
        "Post a report in this channel on a schedule (admins): the words after how often are "
        "those of `report`, the range left out or `this-month` / `last-month`.",
        (f"{PREFIX} schedule monthly", f"{PREFIX} schedule weekly project my-project by day"),
        (
            "`monthly` posts on the 1st of each month at 08:00 UTC, for the month just ended "
            "(`last-month`) unless the words say otherwise.",
            "`weekly` posts on Mondays at 08:00 UTC, for the week just ended: the 7 days "
            "before the run, Monday to Sunday.",
            "`daily` posts every day at 08:00 UTC, for the day before.",
            "The range may only be `this-month` or `last-month` (read again at each run), or "
            "left out; a run missed while the bot was down is made up once when it is back.",
        ),
    ),
    CommandSpec(
        "schedule cancel <id>",
        "Stop a scheduled report (admins); `schedule list` shows the IDs.",
        (f"{PREFIX} schedule cancel k7m2x9pq4t",),
    ),
    CommandSpec(
        "budget list",
        "The monthly budgets, and where their alerts go.",
        (f"{PREFIX} budget list",),
    ),
    CommandSpec(
        f"budget <project> <amount> [{BUDGET_CURRENCY}]",
        "Set a project's monthly budget (admins): this channel hears when the month's cost "
        "reaches 80% and 100% of it, and when the high end of the month-end estimate "
        "reaches it.",
        (f"{PREFIX} budget my-project 5000", f"{PREFIX} budget my-project 12,500.50 USD"),
        (
            f"<amount>: in {BUDGET_CURRENCY}, more than 0, at most two decimals; commas may "
            "separate the thousands: `12,500.50`.",
            "Each alert is sent at most once a month; setting a budget again starts afresh.",
        ),
    ),
    CommandSpec(
        "budget remove <project>",
        "Remove a project's budget, and its alerts (admins).",
        (f"{PREFIX} budget remove my-project",),
    ),
    CommandSpec(
        "allow-external-channel [off]",
        "Allow billing data in this channel although it is shared with another organization "
        "(Slack Connect); `off` refuses it again (admins; recorded in the audit channel).",
        (f"{PREFIX} allow-external-channel", f"{PREFIX} allow-external-channel off"),
        (
            "By default nothing is posted in a channel shared with another organization: "
            "reports, shares, scheduled reports and alerts are refused there.",
        ),
    ),
)


def specs_for(topic: str | None) -> tuple[CommandSpec, ...]:
    """The forms `help <topic>` covers: all of them for no topic, else those named by it."""
    if topic is None:
        return COMMANDS
    return tuple(s for s in COMMANDS if topic in (s.name, s.word))


HELP_TOPICS: frozenset[str] = frozenset({s.name for s in COMMANDS} | {s.word for s in COMMANDS})
