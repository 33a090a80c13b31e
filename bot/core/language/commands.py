"""The command language of `/billing`: text in, a typed command out, or a helpful CommandError.

Pure and Slack-free. `parse(text, today)` calls nothing upstream and raises nothing but
`CommandError`, whose `suggestion` is always a complete command that itself parses: every
suggestion is checked (and, where one fix uncovers another mistake, repaired a few steps)
before it is offered, and the examples of `COMMANDS` are the last resort.

The grammar has one source: `COMMANDS` describes each form for the help text, and `_PARSERS`
dispatches on the same command words (a test keeps the two in step).
"""

from __future__ import annotations

import calendar
import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import NoReturn, TypeVar

from bot.apis.mkio.models import Granularity
from bot.clock import month_start, month_to_date, next_month_start
from bot.errors import CommandError

__all__ = [
    "BUDGET_CURRENCY",
    "COMMANDS",
    "HELP_TOPICS",
    "PREFIX",
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
    "parse",
    "quote",
    "schedule_report",
    "specs_for",
]

PREFIX = "/billing"
HELP_COMMAND = f"{PREFIX} help"
HOUR_MAX_DAYS = 31  # MK.IO: `hour` reports cover at most 31 days
DAY_MAX_DAYS = 366  # MK.IO: `day` reports cover at most one year
MIN_YEAR, MAX_YEAR = 2000, 2099  # anything else is a typo (and keeps date arithmetic in range)
MAX_TEXT = 2000  # longer text is not a command; also bounds the work an error can cost
MAX_QUOTED = 60  # user words are cut to this length when echoed
BUDGET_CURRENCY = "USD"  # budgets are set in this currency only
MAX_BUDGET_DIGITS = 12  # before the decimal point: up to 999,999,999,999.99
_T = TypeVar("_T")
_REPAIR_STEPS = 3  # how many follow-up fixes a suggestion may need before it parses


# --- The values -----------------------------------------------------------------------------


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
    def parse(cls, word: str) -> Period:
        """`YYYY-MM` to a Period; a CommandError (suggesting the corrected period) otherwise."""
        try:
            return _period(word.strip())
        except _Bad as bad:
            suggestion = f"{PREFIX} contro summary {bad.fix}" if bad.fix else None
            raise CommandError(bad.message, suggestion) from None

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
)


def specs_for(topic: str | None) -> tuple[CommandSpec, ...]:
    """The forms `help <topic>` covers: all of them for no topic, else those named by it."""
    if topic is None:
        return COMMANDS
    return tuple(s for s in COMMANDS if topic in (s.name, s.word))


HELP_TOPICS: frozenset[str] = frozenset({s.name for s in COMMANDS} | {s.word for s in COMMANDS})


# --- Echoing user words safely --------------------------------------------------------------


def quote(word: str) -> str:
    """`word` made safe to show inside backticks in a Slack message.

    Escapes `&`, `<` and `>` (so nothing becomes a mention or a link), drops backticks and
    control characters, folds whitespace, and cuts it to MAX_QUOTED characters with an ellipsis.
    The caller adds the backticks: f"`{quote(word)}`".
    """
    text = _printable(word)
    if len(text) > MAX_QUOTED:
        text = text[: MAX_QUOTED - 1] + "…"
    return _escape(text)


def _printable(word: str) -> str:
    text = "".join(ch for ch in word if ch.isprintable() or ch.isspace()).replace("`", "")
    return " ".join(text.split())


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(word: str) -> str:
    return f"`{quote(word)}`"


def _render(words: Iterable[str]) -> str:
    """A complete command to suggest; words made safe like `quote` does, but never cut short
    (a cut name would be another name)."""
    return " ".join([PREFIX, *(_escape(_printable(word)) for word in words)])


# --- Words ----------------------------------------------------------------------------------

_CLEAN = str.maketrans(
    dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-")
    | dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff", None)
)
_DOTS = re.compile(r"\s*(?:\.{2,3}|…)\s*")  # "a .. b", "a...b" and "a…b" all mean "a..b"


def _words(text: str) -> tuple[str, ...]:
    """Slack text to words: smart dashes and odd spaces undone, a leading `/billing` dropped."""
    text = _DOTS.sub("..", text.translate(_CLEAN))
    words = tuple(text.split())  # every Unicode space, non-breaking ones included
    return words[1:] if words[:1] and words[0].lower() == PREFIX else words


def _close(word: str, choices: Iterable[str], cutoff: float = 0.6) -> list[str]:
    return difflib.get_close_matches(word.lower(), list(choices), n=3, cutoff=cutoff)


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))


# --- Values: dates, periods, granularities, names -------------------------------------------


class _Bad(Exception):
    """A word that is not a valid value; `fix` is the corrected word, when there is one."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_PERIOD = re.compile(r"([0-9]{4})-([0-9]{1,2})")
_DIGIT_START = re.compile(r"[0-9]")
_MONTHS = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _check_year(word: str, year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _Bad(f"{_code(word)} is out of range: years run from {MIN_YEAR} to {MAX_YEAR}.")


def _date(word: str) -> date:
    match = _DATE.fullmatch(word)
    if match is None:
        raise _Bad(f"{_code(word)} is not a date: write dates as YYYY-MM-DD, like `2026-03-01`.")
    year, month, day = (int(group) for group in match.groups())
    _check_year(word, year)
    if not 1 <= month <= 12:
        raise _Bad(f"{_code(word)} is not a real date: months run from 01 to 12.")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        fix = date(year, month, min(max(day, 1), last)).isoformat()
        raise _Bad(
            f"{_code(word)} is not a real date: {_MONTHS[month]} {year} has {last} days.", fix
        )
    real = date(year, month, day)
    if real.isoformat() != word:
        raise _Bad(f"Write {_code(word)} as YYYY-MM-DD, with two-digit months and days.", str(real))
    return real


def _period(word: str) -> Period:
    match = _PERIOD.fullmatch(word)
    if match is None:
        as_date = _DATE.fullmatch(word)
        if as_date is not None and 1 <= int(as_date[2]) <= 12:
            fix = f"{as_date[1]}-{int(as_date[2]):02d}"
            raise _Bad(f"{_code(word)} is a date; a billing period is a month, YYYY-MM.", fix)
        raise _Bad(f"{_code(word)} is not a billing period: write it as YYYY-MM, like `2026-03`.")
    year, month = int(match[1]), int(match[2])
    _check_year(word, year)
    if not 1 <= month <= 12:
        raise _Bad(f"{_code(word)} is not a billing period: the month must be 01 to 12.")
    if len(match[2]) != 2:
        fix = f"{year:04d}-{month:02d}"
        raise _Bad(f"Write the period {_code(word)} as YYYY-MM, with a two-digit month.", fix)
    return Period(year, month)


_GRANULARITIES: dict[str, Granularity] = {
    alias: g for g in Granularity for alias in (g.value, f"{g.value}s", f"{g.value}ly")
} | {"daily": Granularity.DAY}


_QUOTES = "\"'“”‘’"
_NOT_IN_NAMES = frozenset("/\\?#%;<>&{}[]|`" + _QUOTES)
_PLACEHOLDER = re.compile(r"(?:<|&lt;).*(?:>|&gt;)")


def _name_problem(word: str) -> tuple[str, str | None] | None:
    """Why `word` cannot be a project name, ID or type, and a cleaned word if there is one."""
    if _PLACEHOLDER.fullmatch(word):
        return "replace the placeholder with a real one", None
    stripped = word.strip(_QUOTES)
    if stripped != word and stripped and _name_problem(stripped) is None:
        return "type it without quotes", stripped
    if "," in word:
        first = next((part for part in word.split(",") if part), None)
        return "give just one", first if first and _name_problem(first) is None else None
    bad = next((ch for ch in word if ch in _NOT_IN_NAMES or not ch.isprintable()), None)
    if bad is None:
        return None
    if not bad.isprintable():
        return "names cannot contain control characters", None
    shown = "backticks" if bad == "`" else "quotes" if bad in _QUOTES else _code(bad)
    return f"names cannot contain {shown}", None


# --- Parsing context: the words, and how to fail helpfully ----------------------------------


@dataclass(frozen=True)
class _Ctx:
    words: tuple[str, ...]
    today: date
    verify: bool = True  # False while checking a suggestion: then errors pick without checking
    examples: tuple[str, ...] = ()  # last-resort suggestions for this command

    def word(self, i: int) -> str | None:
        return self.words[i] if 0 <= i < len(self.words) else None

    def low(self, i: int) -> str:
        return self.words[i].lower() if 0 <= i < len(self.words) else ""

    def head(self, i: int) -> str:
        return " ".join(self.words[:i])

    def splice(self, start: int, stop: int, *new: str) -> str:
        """The command with words[start:stop] replaced by `new`."""
        return _render((*self.words[:start], *new, *self.words[stop:]))

    def fail(self, message: str, *candidates: str | None) -> NoReturn:
        options = [c for c in (*candidates, *self.examples) if c]
        raise CommandError(message, _choose(options, self.today, self.verify))

    def end(self, i: int) -> None:
        """Nothing may come after word i-1."""
        word = self.word(i)
        if word is not None:
            self.fail(
                f"Unexpected {_code(word)} after {_code(self.head(i))}.",
                self.splice(i, len(self.words)),
            )

    def name(self, i: int, what: str) -> str:
        """Word i as a project name, ID or type, taken as typed."""
        word = self.word(i)
        if word is None:
            self.fail(f"{_code(self.head(i))} needs a {what}.")
        problem = _name_problem(word)
        if problem is not None:
            reason, fix = problem
            self.fail(
                f"{_code(word)} is not a valid {what}: {reason}.",
                self.splice(i, i + 1, fix) if fix else None,
            )
        return word

    def rest(self, i: int, what: str) -> str:
        """Words i.. as one name: payment-method display names may contain spaces."""
        for j in range(i, max(i + 1, len(self.words))):
            self.name(j, what)
        return " ".join(self.words[i:])

    def relative(self, i: int) -> tuple[str, int] | None:
        """`this-month` / `last-month` (also as two words) at i: its label and word count."""
        if self.low(i) in ("this-month", "last-month"):
            return self.low(i), 1
        if self.low(i) in ("this", "last") and self.low(i + 1) in ("month", "months"):
            return f"{self.low(i)}-month", 2
        return None

    def parsed(
        self, i: int, part: str, parse: Callable[[str], _T], rebuild: Callable[[str], str] = str
    ) -> _T:
        """parse(part), `part` being (a piece of) word i; a fix goes back in through rebuild."""
        try:
            return parse(part)
        except _Bad as bad:
            self.fail(bad.message, self.splice(i, i + 1, rebuild(bad.fix)) if bad.fix else None)

    def unknown(self, i: int, choices: Sequence[str]) -> NoReturn:
        word = self.words[i]
        wanted = " or ".join(f"`{c}`" for c in choices)
        message = f"Unknown word {_code(word)} after {_code(self.head(i))}: expected {wanted}."
        fixes = [self.splice(i, i + 1, match) for match in _close(word, choices)]
        self.fail(message, *fixes, self.splice(i, len(self.words)))


def _choose(candidates: Sequence[str], today: date, verify: bool) -> str:
    """The first candidate that parses (repaired a few steps if needed), else `help`."""
    if not verify:
        return candidates[0] if candidates else HELP_COMMAND
    for candidate in candidates:
        text: str | None = candidate
        for _ in range(_REPAIR_STEPS):
            if text is None:
                break
            try:
                _parse(text, today, verify=False)
            except CommandError as error:
                text = error.suggestion if error.suggestion != text else None
            else:
                return text
    return HELP_COMMAND


# --- Ranges and periods ---------------------------------------------------------------------

_DATEISH = re.compile(r"[0-9]+-[0-9]+-[0-9]+")
_PERIODISH = re.compile(r"[0-9]+-[0-9]+")
_YEARISH = re.compile(r"[0-9]+")
_DASHED_RANGE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})-([0-9]{4}-[0-9]{2}-[0-9]{2})")
_RANGE_FORMS = (
    "`YYYY-MM-DD..YYYY-MM-DD`, two dates, `YYYY-MM`, `YYYY`, `this-month` or `last-month`"
)
_RANGE_SEPARATORS = ("to", "until", "till", "-")


def _relative_range(label: str, today: date) -> DateRange:
    if label == "this-month":  # up to and including today
        return DateRange(*month_to_date(today), label)
    this_month = month_start(today)
    return DateRange(month_start(this_month - timedelta(days=1)), this_month, label)


def _relative_period(label: str, today: date) -> Period:
    return Period.containing(_relative_range(label, today).start)


def _year(word: str) -> int:
    if len(word) != 4:
        raise _Bad(f"{_code(word)} is not a year: write it as YYYY, like `2026`.")
    _check_year(word, int(word))
    return int(word)


def _range_hints(today: date) -> dict[str, str]:
    """Ranges people type that the language spells differently."""
    return {
        "this-year": str(today.year),
        "last-year": str(today.year - 1),
        "today": f"{today}..{today + timedelta(days=1)}",
        "yesterday": f"{today - timedelta(days=1)}..{today}",
    }


def _span(ctx: _Ctx, i: int, stop: int, start: date, end: date) -> DateRange:
    """The range words[i:stop] gave, checked: start before end."""
    if start > end:
        ctx.fail(
            f"The start `{start}` must be before the end `{end}`.",
            ctx.splice(i, stop, f"{end}..{start}"),
        )
    if start == end:
        ctx.fail(
            f"The range `{start}..{end}` is empty: the end date is exclusive.",
            ctx.splice(i, stop, f"{start}..{start + timedelta(days=1)}"),
        )
    return DateRange(start, end, f"{start}..{end}")


def _dotted_range(ctx: _Ctx, i: int) -> DateRange:
    word = ctx.words[i]
    left, _, right = word.partition("..")
    if not left or not right:
        ctx.fail(f"The range {_code(word)} needs a date on each side of `..`.")
    start = ctx.parsed(i, left, _date, lambda fix: f"{fix}..{right}")
    end = ctx.parsed(i, right, _date, lambda fix: f"{left}..{fix}")
    return _span(ctx, i, i + 1, start, end)


def _two_date_range(ctx: _Ctx, i: int) -> tuple[DateRange, int]:
    start = ctx.parsed(i, ctx.words[i], _date)
    second = ctx.word(i + 1)
    if second is not None and _DATEISH.fullmatch(second):
        return _span(ctx, i, i + 2, start, ctx.parsed(i + 1, second, _date)), i + 2
    if ctx.low(i + 1) in _RANGE_SEPARATORS and _DATEISH.fullmatch(ctx.low(i + 2)):
        ctx.fail(
            f"Write the range without {_code(ctx.words[i + 1])}: the two dates, or `..` between "
            "them (the end date is exclusive).",
            ctx.splice(i, i + 3, f"{ctx.words[i]}..{ctx.words[i + 2]}"),
        )
    ctx.fail(
        f"The range starting `{start}` needs an end date too (exclusive): {_RANGE_FORMS}.",
        ctx.splice(i, i + 1, f"{start}..{start + timedelta(days=1)}"),
    )


def _range_at(
    ctx: _Ctx, i: int, what: str = "report", extra: Sequence[str] = ()
) -> tuple[DateRange, int]:
    """The range starting at word i, and the index of the word after it. `what` names the
    words that need it in an error; `extra` are fixes of last resort."""
    word = ctx.word(i)
    if word is None:
        ctx.fail(f"`{what}` needs a date range: {_RANGE_FORMS}.", *extra)
    relative = ctx.relative(i)
    if relative is not None:
        return _relative_range(relative[0], ctx.today), i + relative[1]
    if ".." in word:
        return _dotted_range(ctx, i), i + 1
    dashed = _DASHED_RANGE.fullmatch(word)
    if dashed is not None:
        ctx.fail(
            f"Write the range {_code(word)} with `..` between the dates (the end is exclusive).",
            ctx.splice(i, i + 1, f"{dashed[1]}..{dashed[2]}"),
        )
    if _DATEISH.fullmatch(word):
        return _two_date_range(ctx, i)
    if _PERIODISH.fullmatch(word):
        return ctx.parsed(i, word, _period).range, i + 1
    if _YEARISH.fullmatch(word):
        year = ctx.parsed(i, word, _year)
        return DateRange(date(year, 1, 1), date(year + 1, 1, 1), str(year)), i + 1
    hints = _range_hints(ctx.today)
    fixes = [ctx.splice(i, i + 1, hints[word.lower()])] if word.lower() in hints else []
    fixes += [ctx.splice(i, i + 1, m) for m in _close(word, ("this-month", "last-month"))]
    if word.lower() in _REPORT_OPTIONS:
        fixes.append(ctx.splice(i, i, "this-month"))
    ctx.fail(f"{_code(word)} is not a date range: use {_RANGE_FORMS}.", *fixes, *extra)


def _period_at(ctx: _Ctx, i: int) -> tuple[Period, int]:
    """The billing period at word i (`YYYY-MM`, `this-month`, `last-month`), and its length."""
    relative = ctx.relative(i)
    if relative is not None:
        return _relative_period(relative[0], ctx.today), relative[1]
    return ctx.parsed(i, ctx.words[i], _period), 1


# --- report ---------------------------------------------------------------------------------

_REPORT_OPTIONS = {
    "by": "by",
    "project": "project",
    "projects": "project",
    "payment-method": "payment-method",
    "payment-methods": "payment-method",
    "vs": "vs",
    "vs.": "vs",
    "versus": "vs",
    "reported": "reported",
    "csv": "csv",
}
_REPORT_KEYWORDS = ("by", "project", "payment-method", "vs", "reported", "csv")
_TAKES_VALUE = frozenset({"by", "project", "payment-method", "vs"})
_FILTERS = frozenset({"project", "payment-method"})
_GRANULARITY_WORDS = "`hour`, `day`, `week`, `month` or `year`"
_COMPARE_WORDS = frozenset({"against", "compared", "compare", "comparing", "vs:", "v", "v."})


@dataclass
class _ReportOptions:
    granularity: Granularity | None = None
    by_at: int | None = None  # index of the `by` word
    list_at: tuple[int, int] | None = None  # words[start:stop] held the last list of names
    projects: tuple[str, ...] = ()
    payment_methods: tuple[str, ...] = ()
    versus: DateRange | None = None
    vs_at: tuple[int, int] | None = None  # words[start:stop] held `vs <range>`
    reported: bool = False
    csv: bool = False


def _granularity_at(ctx: _Ctx, i: int) -> Granularity:
    word = ctx.word(i)
    if word is None or word.lower() in _REPORT_OPTIONS:
        ctx.fail(
            f"`by` needs a granularity: {_GRANULARITY_WORDS}.",
            ctx.splice(i, i, "day"),
            ctx.splice(i - 1, i),
        )
    granularity = _GRANULARITIES.get(word.lower())
    if granularity is None:
        fixes = [ctx.splice(i, i + 1, _GRANULARITIES[m]) for m in _close(word, _GRANULARITIES)]
        ctx.fail(
            f"{_code(word)} is not a granularity: use {_GRANULARITY_WORDS}.",
            *fixes,
            ctx.splice(i - 1, i + 1),
        )
    return granularity


def _option_width(ctx: _Ctx, key: str, i: int) -> int:
    """How many words the option at i spans, itself included."""
    if key not in _TAKES_VALUE:
        return 1
    if ctx.low(i + 1) in ("", *_REPORT_OPTIONS):
        return 1  # no value at all: `_names_at`, `_granularity_at` or `_versus_at` says so
    if key == "vs":
        return _range_at(ctx, i + 1, "vs", (ctx.splice(i, i + 2),))[1] - i
    if key not in _FILTERS:
        return 2
    stop = i + 2  # a list runs on while commas join words: "a, b", "a ,b", "a , b"
    while (
        stop < len(ctx.words)
        and (ctx.words[stop - 1].endswith(",") or ctx.words[stop].startswith(","))
        and ctx.low(stop) not in _REPORT_OPTIONS
    ):
        stop += 1
    return stop - i


def _names_at(ctx: _Ctx, i: int, stop: int, what: str) -> tuple[str, ...]:
    """The comma-separated names in words[i:stop]: empties dropped, duplicates once."""
    option = ctx.low(i - 1)
    items = _dedupe(part.strip() for part in ",".join(ctx.words[i:stop]).split(","))
    if not items:
        ctx.fail(
            f"`{option}` needs one or more {what}s, separated by commas: `{option} a,b`.",
            ctx.splice(i - 1, stop),
        )
    for item in items:
        problem = _name_problem(item)
        if problem is not None:
            reason, fix = problem
            kept = [k for k in (fix if other == item else other for other in items) if k]
            ctx.fail(
                f"{_code(item)} is not a valid {what}: {reason}.",
                ctx.splice(i, stop, ",".join(kept)) if kept else ctx.splice(i - 1, stop),
            )
    return items


def _before(span: DateRange) -> str:
    """The same-length range just before `span`, as it would be typed."""
    if span.start.day == 1 and span.end == next_month_start(span.start):
        return str(Period.containing(span.start - timedelta(days=1)))
    if (span.start.month, span.start.day) == (1, 1) and span.end == span.start.replace(
        year=span.start.year + 1
    ):
        return str(span.start.year - 1)
    return f"{span.start - timedelta(days=span.days)}..{span.start}"


def _versus_at(ctx: _Ctx, i: int, stop: int, span: DateRange, *, moving: bool) -> DateRange:
    """The range of `vs` (word i) in words[i + 1:stop]; not `span`, the report's own.
    `moving`: in a schedule, where only this-month and last-month may follow."""
    if stop == i + 1:
        ctx.fail(
            f"`vs` needs a date range to compare with: {_RANGE_FORMS}.",
            ctx.splice(i + 1, i + 1, _before(span)),
            ctx.splice(i, i + 1),
        )
    versus, _ = _range_at(ctx, i + 1, "vs")
    if (versus.start, versus.end) == (span.start, span.end):
        other = "`this-month` or `last-month`" if moving else f"`{_before(span)}`"
        ctx.fail(
            f"`vs {versus.label}` is the report's own range: compare it with another one, "
            f"like {other}.",
            None if moving else ctx.splice(i + 1, stop, _before(span)),
            ctx.splice(i, stop),
        )
    return versus


def _unknown_report_word(
    ctx: _Ctx, i: int, options: _ReportOptions, extra: Sequence[str] = ()
) -> NoReturn:
    word = ctx.words[i]
    fixes = [*extra]
    fixes += [ctx.splice(i, i + 1, m) for m in _close(word, _REPORT_KEYWORDS, cutoff=0.75)]
    if word.lower() in _COMPARE_WORDS:  # "against 2026-02", "compared to 2026-02"
        joined = 2 if ctx.low(i + 1) in ("to", "with") else 1
        fixes.append(ctx.splice(i, i + joined, "vs"))
    granularity = _GRANULARITIES.get(word.lower())
    if granularity is not None and options.granularity is None:
        fixes.append(ctx.splice(i, i + 1, "by", granularity))
    if options.list_at is not None and options.list_at[1] == i:  # "project a b": "a,b"?
        names = (*options.projects, *options.payment_methods, word)
        fixes.append(ctx.splice(options.list_at[0], i + 1, ",".join(names)))
    fixes.append(ctx.splice(i, i + 1))
    ctx.fail(
        f"Unknown word {_code(word)} in `report`: after the range come `by <granularity>`, "
        "`project <a,b>`, `payment-method <x,y>`, `vs <range>`, `reported` and `csv`.",
        *fixes,
    )


def _report_options(ctx: _Ctx, i: int, span: DateRange, *, moving: bool = False) -> _ReportOptions:
    """The options from word i on, for a report over `span` (`moving`: in a schedule)."""
    options = _ReportOptions()
    seen: set[str] = set()
    while i < len(ctx.words):
        key = _REPORT_OPTIONS.get(ctx.low(i))
        if key is None:
            _unknown_report_word(ctx, i, options)
        width = _option_width(ctx, key, i)
        if key in seen:
            ctx.fail(f"`{key}` is given twice.", ctx.splice(i, i + width))
        if key in _FILTERS and seen & _FILTERS:
            ctx.fail(
                "Use either `project` or `payment-method`, not both: a report is filtered by "
                "one or the other.",
                ctx.splice(i, i + width),
            )
        seen.add(key)
        match key:
            case "by":
                options.granularity, options.by_at = _granularity_at(ctx, i + 1), i
            case "project":
                options.projects = _names_at(ctx, i + 1, i + width, "project name")
                options.list_at = (i + 1, i + width)
            case "payment-method":
                options.payment_methods = _names_at(ctx, i + 1, i + width, "payment method")
                options.list_at = (i + 1, i + width)
            case "vs":
                options.versus = _versus_at(ctx, i, i + width, span, moving=moving)
                options.vs_at = (i, i + width)
            case "reported":
                options.reported = True
            case _:
                options.csv = True
        i += width
    return options


def _check_granularity(ctx: _Ctx, span: DateRange, options: _ReportOptions) -> None:
    """MK.IO's caps: `hour` at most 31 days, `day` at most 366, for the range and the one it
    is compared with; the fix keeps everything else."""
    granularity, at = options.granularity, options.by_at
    if granularity is None or at is None:
        return
    limit = {Granularity.HOUR: HOUR_MAX_DAYS, Granularity.DAY: DAY_MAX_DAYS}.get(granularity)
    longest = max((r for r in (span, options.versus) if r is not None), key=lambda r: r.days)
    if limit is None or longest.days <= limit:
        return
    coarser = ("day", "week", "month") if granularity is Granularity.HOUR else ("week", "month")
    ctx.fail(
        f"`by {granularity}` covers at most {limit} days, and `{longest.label}` is "
        f"{longest.days} days: use `by {coarser[0]}` or `by {coarser[1]}`, or split the range.",
        *(ctx.splice(at + 1, at + 2, g) for g in coarser),
    )


def _report(ctx: _Ctx, span: DateRange, options: _ReportOptions) -> Report:
    _check_granularity(ctx, span, options)
    longest = max(span.days, options.versus.days if options.versus else 0)
    granularity = options.granularity or (
        Granularity.DAY if longest <= DAY_MAX_DAYS else Granularity.MONTH
    )
    return Report(
        range=span,
        granularity=granularity,
        projects=options.projects,
        payment_methods=options.payment_methods,
        reported=options.reported,
        csv=options.csv,
        granularity_given=options.granularity is not None,
        versus=options.versus,
    )


def _parse_report(ctx: _Ctx) -> Report:
    span, i = _range_at(ctx, 1)
    return _report(ctx, span, _report_options(ctx, i, span))


# --- schedule -------------------------------------------------------------------------------

_FREQUENCIES: dict[str, Frequency] = {f.value: f for f in Frequency}
_SCHEDULE_FIXES = {  # words people use for the words `schedule` takes
    "month": "monthly",
    "months": "monthly",
    "every-month": "monthly",
    "week": "weekly",
    "weeks": "weekly",
    "every-week": "weekly",
    "day": "daily",
    "days": "daily",
    "every-day": "daily",
    "nightly": "daily",
    "remove": "cancel",
    "delete": "cancel",
    "stop": "cancel",
    "unschedule": "cancel",
    "rm": "cancel",
    "ls": "list",
    "show": "list",
    "all": "list",
}
_NOT_OFFERED = frozenset({"hourly", "yearly", "annually", "quarterly", "biweekly", "fortnightly"})
_MOVING = ("this-month", "last-month")  # the ranges a schedule reads again at each run
_SCHEDULE_WORDS = "`monthly`, `weekly` or `daily`"


def _default_range(frequency: Frequency, today: date) -> DateRange:
    """What a schedule reports on when its words give no range, for a run on `today`."""
    if frequency is Frequency.MONTHLY:
        return _relative_range("last-month", today)
    start = today - timedelta(days=7 if frequency is Frequency.WEEKLY else 1)
    return DateRange(start, today, f"{start}..{today}")


_COVERS = {
    Frequency.MONTHLY: "the month just ended, `last-month`",
    Frequency.WEEKLY: "the week just ended, Monday to Sunday",
    Frequency.DAILY: "the day before",
}


def _range_end(ctx: _Ctx, i: int) -> int:
    """Where the range that starts at word i ends, without reading it: for an error."""
    if not _DATEISH.fullmatch(ctx.low(i)):
        return i + 1
    if _DATEISH.fullmatch(ctx.low(i + 1)):
        return i + 2
    if ctx.low(i + 1) in _RANGE_SEPARATORS and _DATEISH.fullmatch(ctx.low(i + 2)):
        return i + 3
    return i + 1


def _moving_only(ctx: _Ctx, frequency: Frequency, start: int, stop: int, *fixes: str) -> NoReturn:
    shown = _code(" ".join(ctx.words[start:stop]))
    ctx.fail(
        f"A schedule reports on dates that move with each run, so {shown} cannot be used: "
        f"leave it out (a {frequency} schedule reports on {_COVERS[frequency]}), or use "
        "`this-month` or `last-month`.",
        *fixes,
    )


def _schedule_range(ctx: _Ctx, i: int, frequency: Frequency) -> tuple[DateRange, int]:
    """The range of a schedule's words from word i: this-month, last-month or the default."""
    low = ctx.low(i)
    if low in ("", *_REPORT_OPTIONS):
        return _default_range(frequency, ctx.today), i
    relative = ctx.relative(i)
    if relative is not None:
        return _relative_range(relative[0], ctx.today), i + relative[1]
    if low in _range_hints(ctx.today):  # "yesterday", "this-year"
        _moving_only(ctx, frequency, i, i + 1, ctx.splice(i, i + 1))
    if not _DIGIT_START.match(low):
        moving = [ctx.splice(i, i + 1, m) for m in _close(low, _MOVING)]
        _unknown_report_word(ctx, i, _ReportOptions(), moving)
    stop = _range_end(ctx, i)
    _moving_only(ctx, frequency, i, stop, ctx.splice(i, stop), ctx.splice(i, stop, "last-month"))


def _scheduled(ctx: _Ctx, i: int, frequency: Frequency) -> Report:
    """The report of a schedule's words from word i, as a run on `ctx.today` would make it."""
    span, j = _schedule_range(ctx, i, frequency)
    options = _report_options(ctx, j, span, moving=True)
    if options.versus is not None and options.vs_at and options.versus.label not in _MOVING:
        start, stop = options.vs_at
        _moving_only(
            ctx,
            frequency,
            start + 1,
            stop,
            ctx.splice(start, stop),
            ctx.splice(start + 1, stop, "last-month"),
        )
    return _report(ctx, span, options)


def _schedule_id(ctx: _Ctx) -> str:
    word = ctx.word(2)
    listing = f"{PREFIX} schedule list"
    if word is None:
        ctx.fail("`schedule cancel` needs the ID of the schedule: `schedule list` shows them.")
    problem = _name_problem(word)
    if problem is not None:
        reason, fix = problem
        ctx.fail(
            f"{_code(word)} is not a schedule ID: {reason}.",
            ctx.splice(2, 3, fix) if fix else None,
            listing,
        )
    ctx.end(3)
    return word.lower()


def _unknown_frequency(ctx: _Ctx) -> NoReturn:
    word = ctx.words[1]
    low = word.lower()
    fixes = [ctx.splice(1, 2, _SCHEDULE_FIXES[low])] if low in _SCHEDULE_FIXES else []
    fixes += [ctx.splice(1, 2, m) for m in _close(low, (*_FREQUENCIES, "list", "cancel"))]
    if (
        low == "report"
        or low in _REPORT_OPTIONS
        or ctx.relative(1)
        or _DIGIT_START.match(low)
        or low in _range_hints(ctx.today)
    ):
        fixes.append(ctx.splice(1, 1, "monthly"))
    if low in _NOT_OFFERED:
        ctx.fail(
            f"Reports can be scheduled {_SCHEDULE_WORDS}, not {_code(word)}.",
            *fixes,
            ctx.splice(1, 2, "monthly"),
        )
    ctx.fail(
        f"Unknown word {_code(word)} after `schedule`: say how often ({_SCHEDULE_WORDS}) and "
        "then the words of the report, or use `list` or `cancel <id>`.",
        *fixes,
    )


def _parse_schedule(ctx: _Ctx) -> ScheduleReport | ListSchedules | CancelSchedule:
    word = ctx.word(1)
    if word is None:
        ctx.fail(
            f"`schedule` needs how often to post the report ({_SCHEDULE_WORDS}) and then its "
            "words; or `list`, or `cancel <id>`."
        )
    match word.lower():
        case "list":
            ctx.end(2)
            return ListSchedules()
        case "cancel":
            return CancelSchedule(_schedule_id(ctx))
    frequency = _FREQUENCIES.get(word.lower())
    if frequency is None:
        _unknown_frequency(ctx)
    i = 3 if ctx.low(2) == "report" else 2  # "schedule monthly report last-month"
    report = _scheduled(ctx, i, frequency)
    return ScheduleReport(frequency, " ".join(ctx.words[i:]), report)


def schedule_report(frequency: Frequency, report_words: str, today: date) -> Report:
    """The report a schedule's words ask for, read for a run on `today` (UTC): `last-month`
    and the default ranges move with it. Raises CommandError if the words no longer parse."""
    command = parse(f"schedule {frequency} {report_words}", today)
    if not isinstance(command, ScheduleReport):  # only "list" or "cancel" could get here
        raise CommandError(f"{_code(report_words)} are not the words of a report.", HELP_COMMAND)
    return command.report


# --- budget ---------------------------------------------------------------------------------

_AMOUNT = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
_AMOUNTISH = re.compile(r"[-+$.,0-9]")
_ZERO = re.compile(r"\$?[0,.]*0[0,.]*(?:usd|\$)?")
_DECIMAL_COMMA = re.compile(r"([0-9]+(?:\.[0-9]{3})*),([0-9]{1,2})")  # "1.234,50", "12,5"
_CENT = Decimal("0.01")
_AMOUNT_EXAMPLE = "like `5000` or `12,500.50`"
_OTHER_CURRENCIES = frozenset(
    {"eur", "gbp", "jpy", "chf", "cad", "aud", "nzd", "sek", "nok", "dkk", "pln", "inr", "cny"}
    | {"€", "£", "¥", "euro", "euros", "pound", "pounds", "yen"}
)
_USD_WORDS = frozenset({"usd", "us$", "$", "dollar", "dollars"})


def _amount(word: str) -> Decimal:
    """A budget amount: more than 0, at most two decimals, thousands separated by commas; a
    `$` before it or `USD` right after it is allowed."""
    text = word.removeprefix("$").removeprefix("+")
    for suffix in ("usd", "$"):  # "500usd", "500$"
        if text.lower().endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    if text.startswith("-"):
        raise _Bad(f"{_code(word)} is negative: a budget is an amount more than 0.", text[1:])
    if text.startswith("."):
        text = "0" + text
    if text.endswith(".") and _AMOUNT.fullmatch(text[:-1]):
        raise _Bad(f"{_code(word)} ends with a dot: write it {_AMOUNT_EXAMPLE}.", text[:-1])
    if _AMOUNT.fullmatch(text) is None:
        comma = _DECIMAL_COMMA.fullmatch(text)
        fix = f"{comma[1].replace('.', ',')}.{comma[2]}" if comma else None
        if fix is not None and _AMOUNT.fullmatch(fix):
            raise _Bad(
                f"Write {_code(word)} with a dot before the cents and commas between the "
                f"thousands: {fix}.",
                fix,
            )
        raise _Bad(f"{_code(word)} is not an amount: write it {_AMOUNT_EXAMPLE}.")
    whole, _, cents = text.partition(".")
    if len(whole.replace(",", "").lstrip("0")) > MAX_BUDGET_DIGITS:
        raise _Bad(f"{_code(word)} is too large for a monthly budget.")
    amount = Decimal(text.replace(",", ""))
    if len(cents) > 2:
        rounded = max(amount.quantize(_CENT, rounding=ROUND_HALF_UP), _CENT)
        raise _Bad(
            f"{_code(word)} has more than two decimals: write it {_AMOUNT_EXAMPLE}.", str(rounded)
        )
    if amount <= 0:
        raise _Bad(f"{_code(word)} is not more than 0.")
    return amount.quantize(_CENT)


def _amount_at(ctx: _Ctx, i: int) -> tuple[Decimal, int]:
    """The amount at word i, with an optional `USD` after it; and the index after them."""
    word = ctx.word(i)
    listing = f"{PREFIX} budget list"
    if word is None:
        ctx.fail(
            f"{_code(ctx.head(i))} needs the monthly amount in {BUDGET_CURRENCY}, "
            f"{_AMOUNT_EXAMPLE}.",
            listing,
        )
    low = word.lower()
    if low in _USD_WORDS and _AMOUNTISH.match(ctx.low(i + 1)):  # "USD 5000"
        ctx.fail(
            f"Put {_code(word)} after the amount, or leave it out.",
            ctx.splice(i, i + 2, ctx.words[i + 1], BUDGET_CURRENCY),
            ctx.splice(i, i + 1),
        )
    glued = low.lstrip("$+-.,0123456789")  # "500eur"
    if {low, glued, ctx.low(i + 1)} & _OTHER_CURRENCIES:
        ctx.fail(
            f"Budgets are in {BUDGET_CURRENCY}: give the amount in {BUDGET_CURRENCY}, "
            f"{_AMOUNT_EXAMPLE}.",
            listing,
        )
    if not _AMOUNTISH.match(low):
        ctx.fail(
            f"{_code(word)} is not an amount: a budget is in {BUDGET_CURRENCY}, {_AMOUNT_EXAMPLE}.",
            listing,
        )
    if _ZERO.fullmatch(low):
        ctx.fail(
            f"A budget of {_code(word)} is no budget: give an amount more than 0, or remove "
            "the budget to stop its alerts.",
            _render(("budget", "remove", ctx.words[1])),
        )
    amount = ctx.parsed(i, word, _amount)
    return amount, i + 2 if ctx.low(i + 1) in _USD_WORDS else i + 1


def _parse_budget(ctx: _Ctx) -> SetBudget | ListBudgets | RemoveBudget:
    word = ctx.word(1)
    listing = f"{PREFIX} budget list"
    if word is None:
        ctx.fail(
            f"`budget` needs a project and its monthly amount in {BUDGET_CURRENCY} "
            "(`budget my-project 5000`); or `list`, or `remove <project>`.",
            listing,
        )
    low = word.lower()
    if low == "list":
        ctx.end(2)
        return ListBudgets()
    if low == "remove":
        if ctx.word(2) is None:
            ctx.fail("`budget remove` needs the project whose budget to remove.", listing)
        project = ctx.name(2, "project name")
        ctx.end(3)
        return RemoveBudget(project)
    if low in ("delete", "cancel", "clear", "unset", "rm", "drop", "stop"):
        ctx.fail(
            "To stop a project's budget alerts, `remove` its budget.", ctx.splice(1, 2, "remove")
        )
    if _AMOUNTISH.match(low) or low in _USD_WORDS:  # "budget 5000 my-project"
        after = ctx.word(2)
        swapped = ctx.splice(1, 3, after, word) if after is not None else None
        ctx.fail("Name the project first, then the amount: `budget <project> <amount>`.", swapped)
    project = ctx.name(1, "project name")
    amount, stop = _amount_at(ctx, 2)
    ctx.end(stop)
    return SetBudget(project, amount)


# --- The other commands ---------------------------------------------------------------------


def _parse_help(ctx: _Ctx) -> Help:
    if len(ctx.words) == 1:
        return Help()
    topic = " ".join(ctx.words[1:]).lower()
    if topic in HELP_TOPICS:
        return Help(topic)
    fixes = [_render(("help", *match.split())) for match in _close(topic, HELP_TOPICS)]
    ctx.fail(f"There is no help on {_code(' '.join(ctx.words[1:]))}.", *fixes, HELP_COMMAND)


def _parse_usage(ctx: _Ctx) -> Usage:
    project = ctx.name(1, "project name")
    ctx.end(2)
    return Usage(project)


def _parse_payment_methods(ctx: _Ctx) -> PaymentMethods:
    ctx.end(1)
    return PaymentMethods()


def _parse_ratecard(ctx: _Ctx) -> RateCard:
    return RateCard(ctx.rest(1, "payment method ID or name"))


def _parse_payment_method(ctx: _Ctx) -> ShowPaymentMethod | SetPaymentMethod:
    if ctx.low(1) == "set" and len(ctx.words) == 3:
        ctx.fail("Name the project before `set`: `payment-method <project> set <id>`.")
    project = ctx.name(1, "project name")
    if ctx.word(2) is None:
        return ShowPaymentMethod(project)
    if ctx.low(2) != "set":
        ctx.unknown(2, ("set",))
    if ctx.word(3) is None:
        ctx.fail(
            f"{_code(ctx.head(3))} needs the ID of the payment method to assign; "
            f"`{PREFIX} payment-methods` lists them.",
            f"{PREFIX} payment-methods",
        )
    return SetPaymentMethod(project, ctx.rest(3, "payment method ID or name"))


def _parse_metrics(ctx: _Ctx) -> ShowMetrics | EnableMetrics:
    project = ctx.name(1, "project name")
    if ctx.word(2) is None:
        return ShowMetrics(project)
    if ctx.low(2) in ("disable", "off", "stop"):
        ctx.fail("Metrics export can only be turned on from here.", ctx.splice(2, len(ctx.words)))
    if ctx.low(2) != "enable":
        ctx.unknown(2, ("enable",))
    ctx.end(3)
    return EnableMetrics(project)


def _contro_summary(ctx: _Ctx) -> ControSummary:
    if ctx.word(2) is None:
        return ControSummary(Period.containing(ctx.today))
    period, length = _period_at(ctx, 2)
    ctx.end(2 + length)
    return ControSummary(period)


def _contro_records(ctx: _Ctx) -> ControRecords:
    seen: set[str] = set()
    period, kind, csv = Period.containing(ctx.today), None, False
    i = 2
    while i < len(ctx.words):
        word, relative = ctx.words[i], ctx.relative(i)
        key = "period" if relative or _DIGIT_START.match(word) else word.lower()
        width = {"period": relative[1] if relative else 1, "type": 2, "csv": 1}.get(key)
        if width is None:
            fixes = [ctx.splice(i, i + 1, m) for m in _close(word, ("type", "csv"))]
            if _name_problem(word) is None:
                fixes.append(ctx.splice(i, i + 1, "type", word))
            ctx.fail(
                f"Unknown word {_code(word)} in `contro records`: it takes a period `YYYY-MM`, "
                "`type <type>` and `csv`.",
                *fixes,
                ctx.splice(i, i + 1),
            )
        if key in seen:
            shown = "The period" if key == "period" else f"`{key}`"
            ctx.fail(f"{shown} is given twice.", ctx.splice(i, i + width))
        seen.add(key)
        if key == "period":
            period, width = _period_at(ctx, i)
        elif key == "type":
            if ctx.low(i + 1) in ("", "csv", "type"):
                ctx.fail("`type` needs a usage type: `type kyc`.", ctx.splice(i, i + 1))
            kind = ctx.name(i + 1, "usage type").lower()
        else:
            csv = True
        i += width
    return ControRecords(period, kind, csv)


_CONTRO: dict[str, Callable[[_Ctx], ControSummary | ControRecords]] = {
    "summary": _contro_summary,
    "records": _contro_records,
}


def _parse_contro(ctx: _Ctx) -> ControSummary | ControRecords:
    word = ctx.word(1)
    if word is None:
        ctx.fail("`contro` needs `summary` or `records`.")
    parser = _CONTRO.get(word.lower())
    if parser is None:
        fixes = [ctx.splice(1, 2, m) for m in _close(word, _CONTRO)]
        if ctx.relative(1) or _DIGIT_START.match(word):
            fixes.insert(0, ctx.splice(1, 1, "summary"))
        ctx.fail(f"Unknown word {_code(word)} after `contro`: use `summary` or `records`.", *fixes)
    return parser(ctx)


# --- Dispatch -------------------------------------------------------------------------------

_PARSERS: dict[str, Callable[[_Ctx], Command]] = {
    "help": _parse_help,
    "usage": _parse_usage,
    "report": _parse_report,
    "payment-methods": _parse_payment_methods,
    "ratecard": _parse_ratecard,
    "payment-method": _parse_payment_method,
    "metrics": _parse_metrics,
    "contro": _parse_contro,
    "schedule": _parse_schedule,
    "budget": _parse_budget,
}

# every word a command can start with, and also the later words of two-word commands
# ("summary" -> "contro summary"), for "did you mean"
_COMMAND_WORDS: dict[str, str] = {s.word: s.word for s in COMMANDS} | {
    s.name.split()[-1]: s.name for s in COMMANDS if " " in s.name
}


# where a command that changes things went wrong beyond repair, reading comes first (as it
# does in COMMANDS, whose order also ranks the topics `phrases` suggests)
_LAST_RESORT = {
    "schedule": (f"{PREFIX} schedule list",),
    "budget": (f"{PREFIX} budget list",),
}


def _examples(word: str) -> tuple[str, ...]:
    return tuple(example for s in COMMANDS if s.word == word for example in s.examples)


def _unknown_command(ctx: _Ctx) -> NoReturn:
    word, rest = ctx.words[0], ctx.words[1:]
    fixes: list[str] = []
    if rest:  # "payment methods", "rate card"
        for joined in (f"{word}-{rest[0]}".lower(), f"{word}{rest[0]}".lower()):
            if joined in _COMMAND_WORDS:
                fixes.append(_render((*_COMMAND_WORDS[joined].split(), *rest[1:])))
    matches = [_COMMAND_WORDS[m] for m in _close(word, _COMMAND_WORDS)]
    fixes += [_render((*match.split(), *rest)) for match in matches]
    if ctx.relative(0) or _DIGIT_START.match(word):  # "/billing 2026-03"
        fixes.append(_render(("report", *ctx.words)))
    fixes += [example for match in matches for example in _examples(match.split()[0])]
    ctx.fail(f"Unknown command {_code(word)}.", *fixes, HELP_COMMAND)


def parse(text: str, today: date) -> Command:
    """The command `text` asks for, `today` (UTC) anchoring this-month, last-month and defaults.

    Raises CommandError, and only that, when the text is not a valid command.
    """
    return _parse(text, today, verify=True)


def _parse(text: str, today: date, *, verify: bool) -> Command:
    if len(text) > MAX_TEXT:
        raise CommandError("That is too long to be a billing command.", HELP_COMMAND)
    words = _words(text)
    if not words:
        return Help()
    first = words[0].lower()
    ctx = _Ctx(words, today, verify, (*_LAST_RESORT.get(first, ()), *_examples(first)))
    parser = _PARSERS.get(first)
    if parser is None:
        _unknown_command(ctx)
    return parser(ctx)
