"""The grammar of `/billing`: text in, a typed command out, or a helpful CommandError.

Pure and Slack-free. `parse(text, today)` calls nothing upstream and raises nothing but
`CommandError`, whose `suggestion` is always a complete command that itself parses: every
suggestion is checked (and, where one fix uncovers another mistake, repaired a few steps)
before it is offered, and the examples of `COMMANDS` are the last resort.

The grammar has one source: `COMMANDS` (in `bot.core.language.vocabulary`) describes each form
for the help text, and `_PARSERS` dispatches on the same command words (a test keeps the two
in step). Ranges and months named in words (`yesterday`, `last-week`, `march`, `q1`) are read
by `bot.core.language.when`, for every command that takes one; a report's range may stand
anywhere among its options (`_range_first`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NoReturn, TypeVar

from bot.apis.mkio.models import Granularity
from bot.clock import next_month_start
from bot.core.language.vocabulary import (
    BUDGET_CURRENCY,
    COMMANDS,
    DAY_MAX_DAYS,
    DEFAULT_THRESHOLDS,
    HELP_ALIASES,
    HELP_COMMAND,
    HELP_TOPICS,
    HOUR_MAX_DAYS,
    MAX_THRESHOLDS,
    MAX_WATCHERS,
    PREFIX,
    AllowExternalChannel,
    AnomalyAlerts,
    BudgetScope,
    CancelSchedule,
    CheckAnomalies,
    Command,
    ControRecords,
    ControSummary,
    DateRange,
    EnableMetrics,
    Frequency,
    Help,
    ListAnomalies,
    ListBudgets,
    ListSchedules,
    PaymentMethods,
    Period,
    RateCard,
    Reconcile,
    RemoveBudget,
    Report,
    ScheduleReport,
    ScopeKind,
    SetBudget,
    SetPaymentMethod,
    ShowMetrics,
    ShowPaymentMethod,
    Usage,
)
from bot.core.language.when import (
    MONTH_NAMES,
    MOVING,
    RELATIVE,
    Spoken,
    relative_range,
    spoken_at,
)
from bot.core.language.words import (
    AMOUNT_EXAMPLE,
    DIGIT_START,
    GRANULARITIES,
    MAX_QUOTED,
    BadWord,
    check_year,
    close_matches,
    code,
    dedupe,
    name_problem,
    quote,
    read_amount,
    read_date,
    read_period,
    render_command,
    slug,
    split_words,
)
from bot.errors import CommandError

__all__ = ["MAX_QUOTED", "MAX_TEXT", "parse", "parse_period", "quote", "schedule_report"]

MAX_TEXT = 2000  # longer text is not a command; also bounds the work an error can cost
_T = TypeVar("_T")
_REPAIR_STEPS = 3  # how many follow-up fixes a suggestion may need before it parses


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
        return render_command((*self.words[:start], *new, *self.words[stop:]))

    def fail(self, message: str, *candidates: str | None) -> NoReturn:
        options = [c for c in (*candidates, *self.examples) if c]
        raise CommandError(message, _choose(options, self.today, self.verify))

    def end(self, i: int) -> None:
        """Nothing may come after word i-1."""
        word = self.word(i)
        if word is not None:
            self.fail(
                f"Unexpected {code(word)} after {code(self.head(i))}.",
                self.splice(i, len(self.words)),
            )

    def name(self, i: int, what: str) -> str:
        """Word i as a project name, ID or type, taken as typed."""
        word = self.word(i)
        if word is None:
            self.fail(f"{code(self.head(i))} needs a {what}.")
        problem = name_problem(word)
        if problem is not None:
            reason, fix = problem
            self.fail(
                f"{code(word)} is not a valid {what}: {reason}.",
                self.splice(i, i + 1, fix) if fix else None,
            )
        return word

    def rest(self, i: int, what: str) -> str:
        """Words i.. as one name: payment-method display names may contain spaces."""
        for j in range(i, max(i + 1, len(self.words))):
            self.name(j, what)
        return " ".join(self.words[i:])

    def spoken(self, i: int) -> Spoken | None:
        """The range named at word i (`yesterday`, `last week`, `march 2026`, `q1`), if any."""
        try:
            return spoken_at(self.words, i, self.today)
        except BadWord as bad:
            self.fail(bad.message, self.splice(i, i + 1, bad.fix) if bad.fix else None)

    def names_a_range(self, i: int) -> bool:
        """Word i starts a range, well written or not: a named one, or digits."""
        try:
            named = spoken_at(self.words, i, self.today) is not None
        except BadWord:
            named = True
        return named or bool(DIGIT_START.match(self.low(i)))

    def parsed(
        self, i: int, part: str, parse: Callable[[str], _T], rebuild: Callable[[str], str] = str
    ) -> _T:
        """parse(part), `part` being (a piece of) word i; a fix goes back in through rebuild."""
        try:
            return parse(part)
        except BadWord as bad:
            self.fail(bad.message, self.splice(i, i + 1, rebuild(bad.fix)) if bad.fix else None)

    def unknown(self, i: int, choices: Sequence[str]) -> NoReturn:
        word = self.words[i]
        wanted = " or ".join(f"`{c}`" for c in choices)
        message = f"Unknown word {code(word)} after {code(self.head(i))}: expected {wanted}."
        fixes = [self.splice(i, i + 1, match) for match in close_matches(word, choices)]
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
    "`YYYY-MM-DD..YYYY-MM-DD`, two dates, `YYYY-MM`, a month (`march`, `march 2026`), `q1`, "
    "`YYYY`, `yesterday`, `this-week`, `last-week`, `this-month` or `last-month`"
)
_RANGE_SEPARATORS = ("to", "until", "till", "-")
_RANGE_WORDS = (*RELATIVE, *MONTH_NAMES)


def _year(word: str) -> int:
    if len(word) != 4:
        raise BadWord(f"{code(word)} is not a year: write it as YYYY, like `2026`.")
    check_year(word, int(word))
    return int(word)


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
        ctx.fail(f"The range {code(word)} needs a date on each side of `..`.")
    start = ctx.parsed(i, left, read_date, lambda fix: f"{fix}..{right}")
    end = ctx.parsed(i, right, read_date, lambda fix: f"{left}..{fix}")
    return _span(ctx, i, i + 1, start, end)


def _two_date_range(ctx: _Ctx, i: int) -> tuple[DateRange, int]:
    start = ctx.parsed(i, ctx.words[i], read_date)
    second = ctx.word(i + 1)
    if second is not None and _DATEISH.fullmatch(second):
        return _span(ctx, i, i + 2, start, ctx.parsed(i + 1, second, read_date)), i + 2
    if ctx.low(i + 1) in _RANGE_SEPARATORS and _DATEISH.fullmatch(ctx.low(i + 2)):
        ctx.fail(
            f"Write the range without {code(ctx.words[i + 1])}: the two dates, or `..` between "
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
    spoken = ctx.spoken(i)
    if spoken is not None:
        return spoken.range, i + spoken.width
    if ".." in word:
        return _dotted_range(ctx, i), i + 1
    dashed = _DASHED_RANGE.fullmatch(word)
    if dashed is not None:
        ctx.fail(
            f"Write the range {code(word)} with `..` between the dates (the end is exclusive).",
            ctx.splice(i, i + 1, f"{dashed[1]}..{dashed[2]}"),
        )
    if _DATEISH.fullmatch(word):
        return _two_date_range(ctx, i)
    if _PERIODISH.fullmatch(word):
        return ctx.parsed(i, word, read_period).range, i + 1
    if _YEARISH.fullmatch(word):
        year = ctx.parsed(i, word, _year)
        return DateRange(date(year, 1, 1), date(year + 1, 1, 1), str(year)), i + 1
    fixes = [ctx.splice(i, i + 1, m) for m in close_matches(word, _RANGE_WORDS)]
    if word.lower() in _REPORT_OPTIONS:
        fixes.append(ctx.splice(i, i, "this-month"))
    ctx.fail(f"{code(word)} is not a date range: use {_RANGE_FORMS}.", *fixes, *extra)


def _period_at(ctx: _Ctx, i: int) -> tuple[Period, int]:
    """The billing period at word i (`YYYY-MM`, `march`, `2026/03`, `this-month`,
    `last-month`), and its length."""
    spoken = ctx.spoken(i)
    if spoken is None:
        return ctx.parsed(i, ctx.words[i], read_period), 1
    if spoken.range.label in ("this-month", "last-month"):
        return Period.containing(spoken.range.start), spoken.width
    if spoken.period is None:
        month = Period.containing(spoken.range.start)
        ctx.fail(
            f"{code(' '.join(ctx.words[i : i + spoken.width]))} is not a month: Contro counts "
            "by calendar month, `YYYY-MM`, `march` or `last-month`.",
            ctx.splice(i, i + spoken.width, str(month)),
        )
    return spoken.period, spoken.width


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
    granularity = GRANULARITIES.get(word.lower())
    if granularity is None:
        fixes = [ctx.splice(i, i + 1, GRANULARITIES[m]) for m in close_matches(word, GRANULARITIES)]
        ctx.fail(
            f"{code(word)} is not a granularity: use {_GRANULARITY_WORDS}.",
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
    items = dedupe(part.strip() for part in ",".join(ctx.words[i:stop]).split(","))
    if not items:
        ctx.fail(
            f"`{option}` needs one or more {what}s, separated by commas: `{option} a,b`.",
            ctx.splice(i - 1, stop),
        )
    for item in items:
        problem = name_problem(item)
        if problem is not None:
            reason, fix = problem
            kept = [k for k in (fix if other == item else other for other in items) if k]
            ctx.fail(
                f"{code(item)} is not a valid {what}: {reason}.",
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
    fixes += [ctx.splice(i, i + 1, m) for m in close_matches(word, _REPORT_KEYWORDS, cutoff=0.75)]
    if word.lower() in _COMPARE_WORDS:  # "against 2026-02", "compared to 2026-02"
        joined = 2 if ctx.low(i + 1) in ("to", "with") else 1
        fixes.append(ctx.splice(i, i + joined, "vs"))
    granularity = GRANULARITIES.get(word.lower())
    if granularity is not None and options.granularity is None:
        fixes.append(ctx.splice(i, i + 1, "by", granularity))
    if options.list_at is not None and options.list_at[1] == i:  # "project a b": "a,b"?
        start = options.list_at[0]
        stop = i + 1
        while stop < len(ctx.words) and ctx.low(stop) not in _REPORT_OPTIONS:
            stop += 1
        if options.payment_methods and slug(" ".join(ctx.words[start:stop])):
            # a display name with spaces, "Azure Marketplace (Contoso)": one word, as its slug
            fixes.append(ctx.splice(start, stop, slug(" ".join(ctx.words[start:stop]))))
        names = (*options.projects, *options.payment_methods, word)
        fixes.append(ctx.splice(start, i + 1, ",".join(names)))
    fixes.append(ctx.splice(i, i + 1))
    ctx.fail(
        f"Unknown word {code(word)} in `report`: after the range come `by <granularity>`, "
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


def _range_first(ctx: _Ctx, i: int) -> _Ctx:
    """The words with the report's range moved to word i: `report csv last-month` reads as
    `report last-month csv`. The range is the first word from i on that is neither an option
    nor an option's value; the options keep their order, and so does every suggestion."""
    j = i
    while j < len(ctx.words) and (key := _REPORT_OPTIONS.get(ctx.low(j))) is not None:
        j += _option_width(ctx, key, j)
    if j == i or j >= len(ctx.words):
        return ctx
    if not ctx.names_a_range(j) and not close_matches(ctx.low(j), _RANGE_WORDS, cutoff=0.75):
        return ctx  # not a range, even misspelt ("lastmonth" is one)
    spoken = ctx.spoken(j)
    stop = j + spoken.width if spoken is not None else _range_end(ctx, j)
    words = ctx.words
    return dataclasses.replace(ctx, words=(*words[:i], *words[j:stop], *words[i:j], *words[stop:]))


def _parse_report(ctx: _Ctx) -> Report:
    ctx = _range_first(ctx, 1)
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
_SCHEDULE_WORDS = "`monthly`, `weekly` or `daily`"


def _default_range(frequency: Frequency, today: date) -> DateRange:
    """What a schedule reports on when its words give no range, for a run on `today`."""
    if frequency is Frequency.MONTHLY:
        return relative_range("last-month", today)
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
    shown = code(" ".join(ctx.words[start:stop]))
    ctx.fail(
        f"A schedule reports on dates that move with each run, so {shown} cannot be used: "
        f"leave it out (a {frequency} schedule reports on {_COVERS[frequency]}), or use "
        "`yesterday`, `last-week`, `last-month` (or `today`, `this-week`, `this-month`).",
        *fixes,
    )


def _schedule_range(ctx: _Ctx, i: int, frequency: Frequency) -> tuple[DateRange, int]:
    """The range of a schedule's words from word i: this-month, last-month or the default."""
    low = ctx.low(i)
    if low in ("", *_REPORT_OPTIONS):
        return _default_range(frequency, ctx.today), i
    spoken = ctx.spoken(i)
    if spoken is not None and spoken.moving:
        return spoken.range, i + spoken.width
    if spoken is not None:  # "march", "this-year": dates that do not move
        stop = i + spoken.width
        _moving_only(
            ctx, frequency, i, stop, ctx.splice(i, stop), ctx.splice(i, stop, "last-month")
        )
    if not DIGIT_START.match(low):
        moving = [ctx.splice(i, i + 1, m) for m in close_matches(low, MOVING)]
        _unknown_report_word(ctx, i, _ReportOptions(), moving)
    stop = _range_end(ctx, i)
    _moving_only(ctx, frequency, i, stop, ctx.splice(i, stop), ctx.splice(i, stop, "last-month"))


def _scheduled(ctx: _Ctx, i: int, frequency: Frequency) -> Report:
    """The report of a schedule's words from word i, as a run on `ctx.today` would make it."""
    span, j = _schedule_range(ctx, i, frequency)
    options = _report_options(ctx, j, span, moving=True)
    if options.versus is not None and options.vs_at and options.versus.label not in MOVING:
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
    problem = name_problem(word)
    if problem is not None:
        reason, fix = problem
        ctx.fail(
            f"{code(word)} is not a schedule ID: {reason}.",
            ctx.splice(2, 3, fix) if fix else None,
            listing,
        )
    ctx.end(3)
    return word.lower()


def _unknown_frequency(ctx: _Ctx) -> NoReturn:
    word = ctx.words[1]
    low = word.lower()
    fixes = [ctx.splice(1, 2, _SCHEDULE_FIXES[low])] if low in _SCHEDULE_FIXES else []
    fixes += [ctx.splice(1, 2, m) for m in close_matches(low, (*_FREQUENCIES, "list", "cancel"))]
    if low == "report" or low in _REPORT_OPTIONS or ctx.names_a_range(1):
        fixes.append(ctx.splice(1, 1, "monthly"))
    if low in _NOT_OFFERED:
        ctx.fail(
            f"Reports can be scheduled {_SCHEDULE_WORDS}, not {code(word)}.",
            *fixes,
            ctx.splice(1, 2, "monthly"),
        )
    ctx.fail(
        f"Unknown word {code(word)} after `schedule`: say how often ({_SCHEDULE_WORDS}) and "
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
    ctx = _range_first(ctx, i)
    report = _scheduled(ctx, i, frequency)
    return ScheduleReport(frequency, " ".join(ctx.words[i:]), report)


def schedule_report(frequency: Frequency, report_words: str, today: date) -> Report:
    """The report a schedule's words ask for, read for a run on `today` (UTC): `last-month`
    and the default ranges move with it. Raises CommandError if the words no longer parse."""
    command = parse(f"schedule {frequency} {report_words}", today)
    if not isinstance(command, ScheduleReport):  # only "list" or "cancel" could get here
        raise CommandError(f"{code(report_words)} are not the words of a report.", HELP_COMMAND)
    return command.report


# --- budget ---------------------------------------------------------------------------------

_AMOUNTISH = re.compile(r"[-+$.,0-9]")
_ZERO = re.compile(r"\$?[0,.]*0[0,.]*(?:usd|\$)?")
_OTHER_CURRENCIES = frozenset(
    {"eur", "gbp", "jpy", "chf", "cad", "aud", "nzd", "sek", "nok", "dkk", "pln", "inr", "cny"}
    | {"€", "£", "¥", "euro", "euros", "pound", "pounds", "yen"}
)
_USD_WORDS = frozenset({"usd", "us$", "$", "dollar", "dollars"})
MAX_PERCENT = 1000  # a threshold past 10× the budget is no threshold
_SCALED = re.compile(r"([0-9]+(?:\.[0-9]+)?)([km])")  # "5k", "1.5m"
_EXAMPLE_AMOUNT = "5000"


def _amount_at(ctx: _Ctx, i: int) -> tuple[Decimal, int]:
    """The amount at word i, with an optional `USD` after it; and the index after them."""
    word = ctx.word(i)
    listing = f"{PREFIX} budget list"
    if word is None:
        ctx.fail(
            f"{code(ctx.head(i))} needs the monthly amount in {BUDGET_CURRENCY}, {AMOUNT_EXAMPLE}.",
            ctx.splice(i, i, _EXAMPLE_AMOUNT),
            listing,
        )
    low = word.lower()
    if low in _USD_WORDS and _AMOUNTISH.match(ctx.low(i + 1)):  # "USD 5000"
        ctx.fail(
            f"Put {code(word)} after the amount, or leave it out.",
            ctx.splice(i, i + 2, ctx.words[i + 1], BUDGET_CURRENCY),
            ctx.splice(i, i + 1),
        )
    glued = low.lstrip("$+-.,0123456789")  # "500eur"
    if {low, glued, ctx.low(i + 1), low[:1]} & _OTHER_CURRENCIES:
        if low in _OTHER_CURRENCIES:  # "EUR 5000"
            fix = ctx.splice(i, i + 2, ctx.words[i + 1]) if ctx.word(i + 1) else None
        elif ctx.low(i + 1) in _OTHER_CURRENCIES:  # "5000 EUR"
            fix = ctx.splice(i, i + 2, word)
        elif low[:1] in _OTHER_CURRENCIES:  # "€5000"
            fix = ctx.splice(i, i + 1, word[1:])
        else:  # "5000eur"
            fix = ctx.splice(i, i + 1, word[: len(word) - len(glued)])
        ctx.fail(
            f"Budgets are in {BUDGET_CURRENCY}: give the amount in {BUDGET_CURRENCY}, "
            f"{AMOUNT_EXAMPLE}.",
            fix,
            listing,
        )
    scaled = _SCALED.fullmatch(low)
    if scaled is not None:
        factor = 1000 if scaled[2] == "k" else 1_000_000
        full = format((Decimal(scaled[1]) * factor).normalize(), "f")
        ctx.fail(f"Write {code(word)} in full: `{full}`.", ctx.splice(i, i + 1, full))
    if not _AMOUNTISH.match(low):
        ctx.fail(
            f"{code(word)} is not an amount: a budget is in {BUDGET_CURRENCY}, {AMOUNT_EXAMPLE}.",
            listing,
        )
    if _ZERO.fullmatch(low):
        ctx.fail(
            f"A budget of {code(word)} is no budget: give an amount more than 0, or remove "
            "the budget to stop its alerts.",
            render_command(("budget", "remove", *ctx.words[1:i])),
        )
    amount = ctx.parsed(i, word, read_amount)
    return amount, i + 2 if ctx.low(i + 1) in _USD_WORDS else i + 1


_ORGANIZATION_WORDS = frozenset({"organization", "organisation", "org"})
_PAYMENT_METHOD_WORDS = frozenset({"payment-method", "payment-methods", "method"})
_MENTION = re.compile(r"<@([UW][A-Z0-9_]{2,})(?:\|[^>]*)?>")
_PERCENT = re.compile(r"[0-9]{1,4}")
_OPTION_WORDS = frozenset({"at", "notify"})


def _budget_scope(ctx: _Ctx, i: int) -> tuple[BudgetScope, int]:
    """The scope named from word i (see `BudgetScope.words`), and the index after it."""
    low = ctx.low(i)
    if low in _ORGANIZATION_WORDS:
        return BudgetScope(ScopeKind.ORGANIZATION), i + 1
    if low in _PAYMENT_METHOD_WORDS:
        return BudgetScope(ScopeKind.PAYMENT_METHOD, ctx.name(i + 1, "payment method")), i + 2
    if low == "contro":
        return BudgetScope(ScopeKind.CONTRO_TYPE, ctx.name(i + 1, "Contro usage type")), i + 2
    project = ctx.name(i, "project name")
    if ctx.low(i + 1) == "meter":
        return BudgetScope(ScopeKind.METER, project, ctx.name(i + 2, "meter name")), i + 3
    return BudgetScope(ScopeKind.PROJECT, project), i + 1


def _option_end(ctx: _Ctx, i: int) -> int:
    """Where the option whose words start at i ends: at the next option word, or the end."""
    while ctx.word(i) is not None and ctx.low(i) not in _OPTION_WORDS:
        i += 1
    return i


def _thresholds_at(ctx: _Ctx, i: int) -> tuple[tuple[int, ...], int]:
    """`at 50,80,100` (or `at 50 80 100%`) at word i; the percentages and the index after."""
    stop = _option_end(ctx, i + 1)
    parts = [p for w in ctx.words[i + 1 : stop] for p in w.split(",") if p]
    example = "`at 50,80,100`"
    without = ctx.splice(i, stop)
    if not parts:
        ctx.fail(f"`at` needs the percentages of the budget to alert at, {example}.", without)
    values: set[int] = set()
    for part in parts:
        digits = part.removesuffix("%")
        if not _PERCENT.fullmatch(digits) or not 1 <= int(digits) <= MAX_PERCENT:
            ctx.fail(
                f"{code(part)} is not a threshold: give whole percentages of the budget from 1 "
                f"to {MAX_PERCENT:,}, {example}.",
                without,
            )
        values.add(int(digits))
    if len(values) > MAX_THRESHOLDS:
        kept = ",".join(str(v) for v in sorted(values)[:MAX_THRESHOLDS])
        ctx.fail(
            f"A budget takes at most {MAX_THRESHOLDS} thresholds; {len(values)} were given.",
            ctx.splice(i + 1, stop, kept),
        )
    return tuple(sorted(values)), stop


def _notify_at(ctx: _Ctx, i: int) -> tuple[tuple[str, ...], int]:
    """`notify @a @b` at word i (Slack sends mentions as `<@U123|name>`): the user IDs."""
    stop = _option_end(ctx, i + 1)
    without = ctx.splice(i, stop)
    users: list[str] = []
    for word in ctx.words[i + 1 : stop]:
        match = _MENTION.fullmatch(word)
        if match is None:
            ctx.fail(
                f"{code(word)} is not a mention: after `notify`, @-mention each person (pick "
                "them from Slack's list) so that I get their user ID.",
                without,
            )
        users.append(match.group(1))
    if not users:
        ctx.fail("`notify` needs the people to tell by direct message: @-mention them.", without)
    unique = tuple(dedupe(users))
    if len(unique) > MAX_WATCHERS:
        ctx.fail(f"At most {MAX_WATCHERS} people can be notified of a budget.", without)
    return unique, stop


def _parse_budget(ctx: _Ctx) -> SetBudget | ListBudgets | RemoveBudget:
    word = ctx.word(1)
    listing = f"{PREFIX} budget list"
    if word is None:
        ctx.fail(
            f"`budget` needs a project (or `organization`, `payment-method <id>`, "
            f"`contro <type>`) and its monthly amount in {BUDGET_CURRENCY} "
            "(`budget my-project 5000`); or `list`, or `remove <scope>`.",
            listing,
        )
    low = word.lower()
    if low == "list":
        ctx.end(2)
        return ListBudgets()
    if low == "remove":
        if ctx.word(2) is None:
            ctx.fail(
                "`budget remove` needs what the budget is for: a project, `organization`, …",
                listing,
            )
        scope, stop = _budget_scope(ctx, 2)
        ctx.end(stop)
        return RemoveBudget(scope)
    if low in ("delete", "cancel", "clear", "unset", "rm", "drop", "stop"):
        ctx.fail(
            "To stop a project's budget alerts, `remove` its budget.", ctx.splice(1, 2, "remove")
        )
    if _AMOUNTISH.match(low) or low in _USD_WORDS:  # "budget 5000 my-project"
        after = ctx.word(2)
        swapped = ctx.splice(1, 3, after, word) if after is not None else None
        ctx.fail("Name the project first, then the amount: `budget <project> <amount>`.", swapped)
    scope, i = _budget_scope(ctx, 1)
    if ctx.low(i) in ("remove", "delete", "cancel", "clear", "unset", "rm", "drop", "stop"):
        ctx.fail(
            "Say `remove` before what the budget is for: `budget remove <scope>`.",
            render_command(("budget", "remove", *ctx.words[1:i])),
        )
    amount, i = _amount_at(ctx, i)
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    notify: tuple[str, ...] = ()
    seen: set[str] = set()
    while (option := ctx.low(i)) in _OPTION_WORDS and option not in seen:
        seen.add(option)
        if option == "at":
            thresholds, i = _thresholds_at(ctx, i)
        else:
            notify, i = _notify_at(ctx, i)
    ctx.end(i)
    return SetBudget(scope, amount, thresholds, notify)


# --- anomalies ------------------------------------------------------------------------------

_ANOMALY_WORDS = {"on": AnomalyAlerts(on=True), "off": AnomalyAlerts(on=False)}
_ANOMALY_FIXES = {
    "enable": "on",
    "start": "on",
    "yes": "on",
    "disable": "off",
    "stop": "off",
    "no": "off",
    "list": "",
    "show": "",
    "open": "",
    "run": "check",
    "now": "check",
}


def _parse_anomalies(ctx: _Ctx) -> ListAnomalies | AnomalyAlerts | CheckAnomalies:
    word = ctx.low(1)
    if not word:
        return ListAnomalies()
    command: ListAnomalies | AnomalyAlerts | CheckAnomalies | None = _ANOMALY_WORDS.get(word)
    if command is None and word == "check":
        command = CheckAnomalies()
    if command is None:
        fix = _ANOMALY_FIXES.get(word)
        fixes = [ctx.splice(1, 2, fix) if fix else ctx.splice(1, 2)] if fix is not None else []
        fixes += [ctx.splice(1, 2, m) for m in close_matches(word, ("on", "off", "check"))]
        ctx.fail(
            f"Unknown word {code(ctx.words[1])} after `anomalies`: use `on`, `off` or `check`, "
            "or nothing to list the open ones.",
            *fixes,
        )
    ctx.end(2)
    return command


# --- The other commands ---------------------------------------------------------------------


def _parse_help(ctx: _Ctx) -> Help:
    if len(ctx.words) == 1:
        return Help()
    topic = " ".join(ctx.words[1:]).lower()
    topic = HELP_ALIASES.get(topic.removeprefix("/billing "), topic)
    if topic in HELP_TOPICS:
        return Help(topic)
    fixes = [
        render_command(("help", *match.split())) for match in close_matches(topic, HELP_TOPICS)
    ]
    ctx.fail(f"There is no help on {code(' '.join(ctx.words[1:]))}.", *fixes, HELP_COMMAND)


def _parse_usage(ctx: _Ctx) -> Usage:
    project = ctx.name(1, "project name")
    ctx.end(2)
    return Usage(project)


def _parse_payment_methods(ctx: _Ctx) -> PaymentMethods:
    ctx.end(1)
    return PaymentMethods()


def _parse_allow_external_channel(ctx: _Ctx) -> AllowExternalChannel:
    if ctx.low(1) == "off":
        ctx.end(2)
        return AllowExternalChannel(allow=False)
    ctx.end(1)
    return AllowExternalChannel()


def _parse_ratecard(ctx: _Ctx) -> RateCard:
    return RateCard(ctx.rest(1, "payment method ID or name"))


def _parse_payment_method(ctx: _Ctx) -> ShowPaymentMethod | SetPaymentMethod:
    if ctx.low(1) == "set" and len(ctx.words) >= 3:
        ctx.fail(
            "Name the project before `set`: `payment-method <project> set <id>`.",
            ctx.splice(1, 3, ctx.words[2], "set") if len(ctx.words) > 3 else None,
        )
    project = ctx.name(1, "project name")
    if ctx.word(2) is None:
        return ShowPaymentMethod(project)
    if ctx.low(2) != "set":
        method = ctx.words[2]  # "payment-method my-project <method>": `set` left out
        if name_problem(method) is None and not close_matches(method, ("set",)):
            ctx.fail(
                f"To assign {code(' '.join(ctx.words[2:]))} to {code(project)}, say `set` "
                "before it (admins; I ask you to confirm first).",
                ctx.splice(2, 2, "set"),
            )
        ctx.unknown(2, ("set",))
    if ctx.word(3) is None:
        ctx.fail(
            f"{code(ctx.head(3))} needs the ID of the payment method to assign; "
            f"`{PREFIX} payment-methods` lists them.",
            f"{PREFIX} payment-methods",
        )
    return SetPaymentMethod(project, ctx.rest(3, "payment method ID or name"))


def _parse_metrics(ctx: _Ctx) -> ShowMetrics | EnableMetrics:
    project = ctx.name(1, "project name")
    if ctx.word(2) is None:
        return ShowMetrics(project)
    if ctx.low(2) in ("disable", "off", "stop"):
        ctx.fail(
            "Metrics export can only be turned on from here (after a confirmation); it is "
            "turned off in MK.IO itself, not from Slack.",
            ctx.splice(2, len(ctx.words)),
        )
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
        word, spoken = ctx.words[i], ctx.spoken(i)
        key = "period" if spoken or DIGIT_START.match(word) else word.lower()
        width = {"period": spoken.width if spoken else 1, "type": 2, "csv": 1}.get(key)
        if width is None:
            fixes = [ctx.splice(i, i + 1, m) for m in close_matches(word, ("type", "csv"))]
            if name_problem(word) is None:
                fixes.append(ctx.splice(i, i + 1, "type", word))
            ctx.fail(
                f"Unknown word {code(word)} in `contro records`: it takes a period `YYYY-MM`, "
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
        fixes = [ctx.splice(1, 2, m) for m in close_matches(word, _CONTRO)]
        if ctx.names_a_range(1):
            fixes.insert(0, ctx.splice(1, 1, "summary"))
        ctx.fail(f"Unknown word {code(word)} after `contro`: use `summary` or `records`.", *fixes)
    return parser(ctx)


# --- reconcile ------------------------------------------------------------------------------


def _parse_reconcile(ctx: _Ctx) -> Reconcile:
    if ctx.word(1) is None or ctx.low(1) == "project":
        ctx.fail(
            "`reconcile` needs a month first: `YYYY-MM`, `this-month` or `last-month`.",
            ctx.splice(1, 1, "last-month"),
        )
    period, length = _period_at(ctx, 1)
    if period > Period.containing(ctx.today):
        ctx.fail(
            f"`{period}` has not begun yet: only a month that has begun can be reconciled.",
            ctx.splice(1, 1 + length, "this-month"),
        )
    i = 1 + length
    if ctx.word(i) is None:
        return Reconcile(period)
    if ctx.low(i) != "project":
        ctx.unknown(i, ("project",))
    if ctx.word(i + 1) is None:
        ctx.fail("`project` needs a project name: `project my-project`.", ctx.splice(i, i + 1))
    project = ctx.name(i + 1, "project name")
    ctx.end(i + 2)
    return Reconcile(period, project)


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
    "reconcile": _parse_reconcile,
    "anomalies": _parse_anomalies,
    "allow-external-channel": _parse_allow_external_channel,
}

# every word a command can start with, and also the later words of two-word commands
# ("summary" -> "contro summary"), for "did you mean"
_COMMAND_WORDS: dict[str, str] = {s.word: s.word for s in COMMANDS} | {
    s.name.split()[-1]: s.name for s in COMMANDS if " " in s.name
}


# where a command that changes things went wrong beyond repair, reading comes first (as it
# does in COMMANDS, whose order also ranks the topics `phrases` suggests)
_LAST_RESORT = {
    "ratecard": (f"{PREFIX} payment-methods",),  # the examples' method is not the org's
    "schedule": (f"{PREFIX} schedule list",),
    "budget": (f"{PREFIX} budget list",),
    "anomalies": (f"{PREFIX} anomalies",),
}


def _examples(word: str) -> tuple[str, ...]:
    return tuple(example for s in COMMANDS if s.word == word for example in s.examples)


def _unknown_command(ctx: _Ctx) -> NoReturn:
    word, rest = ctx.words[0], ctx.words[1:]
    fixes: list[str] = []
    if rest:  # "payment methods", "rate card"
        for joined in (f"{word}-{rest[0]}".lower(), f"{word}{rest[0]}".lower()):
            if joined in _COMMAND_WORDS:
                fixes.append(render_command((*_COMMAND_WORDS[joined].split(), *rest[1:])))
    matches = [_COMMAND_WORDS[m] for m in close_matches(word, _COMMAND_WORDS)]
    fixes += [render_command((*match.split(), *rest)) for match in matches]
    if ctx.names_a_range(0):  # "/billing 2026-03", "/billing march"
        fixes.append(render_command(("report", *ctx.words)))
    for at, later in enumerate(rest, start=1):  # "my-project usage": the command word first
        if later.lower() in _PARSERS:
            fixes.append(render_command((later, *ctx.words[:at], *ctx.words[at + 1 :])))
            break
    fixes += [example for match in matches for example in _examples(match.split()[0])]
    ctx.fail(f"Unknown command {code(word)}.", *fixes, HELP_COMMAND)


def parse(text: str, today: date) -> Command:
    """The command `text` asks for, `today` (UTC) anchoring this-month, last-month and defaults.

    Raises CommandError, and only that, when the text is not a valid command.
    """
    return _parse(text, today, verify=True)


def _parse(text: str, today: date, *, verify: bool) -> Command:
    if len(text) > MAX_TEXT:
        raise CommandError("That is too long to be a billing command.", HELP_COMMAND)
    words = split_words(text)
    if not words:
        return Help()
    first = words[0].lower()
    ctx = _Ctx(words, today, verify, (*_LAST_RESORT.get(first, ()), *_examples(first)))
    parser = _PARSERS.get(first)
    if parser is None:
        _unknown_command(ctx)
    return parser(ctx)


def parse_period(word: str) -> Period:
    """`YYYY-MM` to a Period; a CommandError (suggesting the corrected period) otherwise."""
    try:
        return read_period(word.strip())
    except BadWord as bad:
        suggestion = f"{PREFIX} contro summary {bad.fix}" if bad.fix else None
        raise CommandError(bad.message, suggestion) from None
