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
    "DEFAULT_THRESHOLDS",
    "EXAMPLE_PAYMENT_METHOD",
    "EXAMPLE_PROJECT",
    "GUIDES",
    "HELP_ALIASES",
    "HELP_COMMAND",
    "HELP_TOPICS",
    "HOUR_MAX_DAYS",
    "MAX_THRESHOLDS",
    "MAX_WATCHERS",
    "PREFIX",
    "AllowExternalChannel",
    "AnomalyAlerts",
    "BudgetScope",
    "CancelSchedule",
    "CheckAnomalies",
    "Command",
    "CommandSpec",
    "ControRecords",
    "ControSummary",
    "DateRange",
    "EnableMetrics",
    "Frequency",
    "Granularity",
    "Help",
    "ListAnomalies",
    "ListBudgets",
    "ListSchedules",
    "PaymentMethods",
    "Period",
    "RateCard",
    "Reconcile",
    "RemoveBudget",
    "Report",
    "ScheduleReport",
    "ScopeKind",
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
DEFAULT_THRESHOLDS: tuple[int, ...] = (80, 100)  # a budget's alerts, in % of it, unless given
MAX_THRESHOLDS = 10
MAX_WATCHERS = 10  # users told of a budget's alerts by DM


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


class ScopeKind(StrEnum):
    """What a budget's spend is counted over."""

    PROJECT = "project"
    METER = "meter"  # one meter of one project
    PAYMENT_METHOD = "payment-method"  # the cost billed to it (the projects assigned to it)
    ORGANIZATION = "organization"
    CONTRO_TYPE = "contro"  # one Contro usage type


@dataclass(frozen=True)
class BudgetScope:
    """`name` is the project (also for a meter), the payment method as typed (ID or name), the
    Contro usage type, or "" for the organization."""

    kind: ScopeKind = ScopeKind.PROJECT
    name: str = ""
    meter: str | None = None

    @property
    def words(self) -> tuple[str, ...]:
        """The command words that name it: `budget <words> <amount>`."""
        match self.kind:
            case ScopeKind.PROJECT:
                return (self.name,)
            case ScopeKind.METER:
                return (self.name, "meter", self.meter or "")
            case ScopeKind.ORGANIZATION:
                return ("organization",)
            case ScopeKind.PAYMENT_METHOD:
                return ("payment-method", self.name)
            case ScopeKind.CONTRO_TYPE:
                return ("contro", self.name)


@dataclass(frozen=True)
class Reconcile:
    """`reconcile <YYYY-MM> [project <p>]`: does the month's bill add up?"""

    period: Period  # never after the current month
    project: str | None = None


@dataclass(frozen=True)
class SetBudget:
    scope: BudgetScope
    amount: Decimal  # in BUDGET_CURRENCY, positive, with two decimals
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS  # % of the amount, ascending, distinct
    notify: tuple[str, ...] = ()  # Slack user IDs told by DM too


@dataclass(frozen=True)
class ListBudgets:
    pass


@dataclass(frozen=True)
class RemoveBudget:
    scope: BudgetScope


@dataclass(frozen=True)
class ListAnomalies:
    """`anomalies`: the open anomalies."""


@dataclass(frozen=True)
class AnomalyAlerts:
    """`anomalies on|off`: whether this channel hears of anomalies."""

    on: bool


@dataclass(frozen=True)
class CheckAnomalies:
    """`anomalies check`: check now, instead of at the next hour."""


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
    | Reconcile
    | ListAnomalies
    | AnomalyAlerts
    | CheckAnomalies
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


# The examples' payment method and project: help shows the organization's own in their place
# when it knows them (`bot.slack.render.help`), else a placeholder.
EXAMPLE_PAYMENT_METHOD = "6f1c2a9e-3b4d-4c8e-9a7f-2d5b8e0c1f34"
EXAMPLE_PROJECT = "my-project"

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "help [topic]",
        "The main commands, or one topic: a command, `dates`, `mentions`, `dm`, `home`, "
        "`form`, or `all` for every command.",
        (f"{PREFIX} help", f"{PREFIX} help all"),
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
            "<range>: `yesterday`, `today`, `this-week`, `last-week`, `this-month` (up to "
            "today), `last-month`, a month (`march`, `march 2026`, `2026-03`, `2026/03`), a "
            "quarter (`q1`, `q1 2026`), a year (`2026`), or `YYYY-MM-DD..YYYY-MM-DD` (start "
            "inclusive, end exclusive, UTC); `help dates` has them all. The words may come in "
            "any order: `report csv last-month`.",
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
        (f"{PREFIX} ratecard {EXAMPLE_PAYMENT_METHOD}",),
        (
            "<payment-method-id>: the ID `payment-methods` lists, or the display name in any "
            "case, written as one word: `azure-marketplace-contoso-media`.",
        ),
    ),
    CommandSpec(
        "payment-method <project>",
        "The payment method assigned to a project.",
        (f"{PREFIX} payment-method my-project",),
    ),
    CommandSpec(
        "payment-method <project> set <payment-method-id>",
        "Assign a payment method to a project (admins; asks for confirmation first).",
        (f"{PREFIX} payment-method my-project set {EXAMPLE_PAYMENT_METHOD}",),
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
        "Contro totals and counts per usage type for a month (`2026-03`, `march`, "
        "`last-month`; default: this month).",
        (f"{PREFIX} contro summary", f"{PREFIX} contro summary march"),
    ),
    CommandSpec(
        "contro records [YYYY-MM] [type <type>] [csv]",
        "Contro usage records for a month (default: this month); `csv` uploads them all.",
        (f"{PREFIX} contro records", f"{PREFIX} contro records 2026-03 type kyc csv"),
    ),
    CommandSpec(
        "reconcile <YYYY-MM> [project <project>]",
        "Does the month's bill add up? MK.IO's cost per project and meter against quantity × "
        "the rate card, usage date against reported date, and Contro's summary against its "
        "records.",
        (f"{PREFIX} reconcile last-month", f"{PREFIX} reconcile 2026-02 project my-project"),
        (
            "<YYYY-MM>: a month, `this-month` or `last-month`; not a month still to come.",
            "A meter matches when its cost is within the tolerance the answer states of "
            "quantity × price; meters the card has no price for are listed apart.",
            "Days with usage not charged yet, and this month's days not over, are provisional.",
        ),
    ),
    CommandSpec(
        "schedule list",
        "The scheduled reports, with their IDs.",
        (f"{PREFIX} schedule list",),
    ),
    CommandSpec(
        "schedule <monthly|weekly|daily> [<report words>]",
        "Post a report in this channel on a schedule (admins): the words after how often are "
        "those of `report`, the range left out or one that moves with each run "
        "(`yesterday`, `last-week`, `last-month` …).",
        (f"{PREFIX} schedule monthly", f"{PREFIX} schedule weekly project my-project by day"),
        (
            "`monthly` posts on the 1st of each month at 08:00 UTC, for the month just ended "
            "(`last-month`) unless the words say otherwise.",
            "`weekly` posts on Mondays at 08:00 UTC, for the week just ended: the 7 days "
            "before the run, Monday to Sunday.",
            "`daily` posts every day at 08:00 UTC, for the day before.",
            "The range may only be one that moves: `today`, `yesterday`, `this-week`, "
            "`last-week`, `this-month` or `last-month` (read again at each run), or left out; "
            "a run missed while the bot was down is made up once when it is back.",
        ),
    ),
    CommandSpec(
        "schedule cancel <id>",
        "Stop a scheduled report (admins); `schedule list` shows the IDs.",
        (f"{PREFIX} schedule cancel k7m2x9pq4t",),
    ),
    CommandSpec(
        "budget list",
        "The monthly budgets: spend so far, % used, the month-end estimate, where alerts go.",
        (f"{PREFIX} budget list",),
    ),
    CommandSpec(
        f"budget <scope> <amount> [{BUDGET_CURRENCY}] [at <percents>] [notify <@user>…]",
        "Set a monthly budget (admins): this channel hears when the month's cost reaches each "
        "threshold (80% and 100% unless given), when the high end of the month-end estimate "
        "reaches the budget, and when it falls back under.",
        (
            f"{PREFIX} budget my-project 5000 USD at 50,80,100",
            f"{PREFIX} budget organization 20,000",
        ),
        (
            "<scope>: a project (`my-project`); one of its meters (`my-project meter "
            "streaming_egress`); `payment-method <id or name>` (the cost billed to it); "
            "`organization`; `contro <usage type>` (`contro card_issuance`).",
            f"<amount>: in {BUDGET_CURRENCY}, more than 0, at most two decimals; commas may "
            "separate the thousands: `12,500.50`.",
            f"at: up to {MAX_THRESHOLDS} whole percentages from 1 to 1000, `at 50,80,100`.",
            f"notify: up to {MAX_WATCHERS} people (@-mention them) who also get each alert "
            "by direct message.",
            "Each alert is sent at most once a month (UTC); on the 1st every budget starts "
            "afresh. Setting a budget again replaces it and starts afresh.",
        ),
    ),
    CommandSpec(
        "budget remove <scope>",
        "Remove a budget, and its alerts (admins).",
        (f"{PREFIX} budget remove my-project", f"{PREFIX} budget remove organization"),
    ),
    CommandSpec(
        "anomalies",
        "The open anomalies: days whose cost of an MK.IO meter or a Contro usage type is far "
        "from its usual level, and meters or types seen for the first time.",
        (f"{PREFIX} anomalies",),
        (
            "Each complete UTC day is compared with the median of the 28 days before it "
            "(weekends with weekends), checked every hour.",
            "An alert has buttons: Acknowledge (anyone), Expected until… and Snooze "
            "(admins), Details (anyone).",
        ),
    ),
    CommandSpec(
        "anomalies <on|off>",
        "Post anomaly alerts in this channel, or stop (admins).",
        (f"{PREFIX} anomalies on", f"{PREFIX} anomalies off"),
    ),
    CommandSpec(
        "anomalies check",
        "Check for anomalies now, instead of at the next hour (admins).",
        (f"{PREFIX} anomalies check",),
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
    """The forms `help <topic>` covers: all of them for no topic or `all`, else those named by
    it (none for a guide)."""
    if topic in (None, "all"):
        return COMMANDS
    return tuple(s for s in COMMANDS if topic in (s.name, s.word))


# `help <topic>` on what is not one command: how to ask, and the words for dates.
GUIDES: dict[str, tuple[str, ...]] = {
    "dates": (
        "Every command that takes a date range or a month takes the same words: "
        "`yesterday`, `today`, `this-week`, `last-week` (weeks run Monday to Sunday), "
        "`this-month`, `last-month`, `this-year`, `last-year`.",
        "A month: `march`, `march 2026`, `2026-03`, `2026/03`; a month named without a year is "
        "the latest one that has begun. A quarter: `q1`, `q1 2026`, `2026-q1`. A year: `2026`.",
        "Dates: `2026-03-01..2026-03-15` or two dates, the end exclusive. All dates are UTC.",
        "The range may come anywhere among the other words: `report csv last-month` is "
        "`report last-month csv`.",
    ),
    "mentions": (
        "Mention the bot in a channel with the same words as the slash command, or in plain "
        "words: `@billing how much has my-project used this month?`. It answers in the thread.",
        "Billing changes, schedules and budgets are only made with the slash command, whose "
        "replies only you see; connection details are only sent to you privately.",
    ),
    "dm": (
        "Write to the bot in a direct message with the same words as the slash command, or "
        "in plain words: `what did we spend last month?`. It answers in the conversation.",
        "Billing changes, schedules and budgets are only made with the slash command.",
    ),
    "home": (
        "The bot's Home tab (open the app in Slack's sidebar) shows this month's spend so far, "
        "and buttons for last month's report and the payment methods.",
    ),
    "form": (
        f"`{PREFIX} report` with nothing after it opens a form: pick the dates, the "
        "granularity, projects or payment methods, and the channel to post the report in.",
        "The form checks each field in place; the report is posted as `report` would post it.",
    ),
}

# Other words people use for the topics.
HELP_ALIASES: dict[str, str] = {
    "commands": "all",
    "everything": "all",
    "reports": "report",
    "budgets": "budget",
    "schedules": "schedule",
    "date": "dates",
    "ranges": "dates",
    "range": "dates",
    "time": "dates",
    "mention": "mentions",
    "channels": "mentions",
    "dms": "dm",
    "direct": "dm",
    "direct-message": "dm",
    "messages": "dm",
    "home-tab": "home",
    "app-home": "home",
    "modal": "form",
    "report-form": "form",
    "rate-card": "ratecard",
    "ratecards": "ratecard",
}

HELP_TOPICS: frozenset[str] = frozenset(
    {s.name for s in COMMANDS} | {s.word for s in COMMANDS} | set(GUIDES) | {"all"}
)
