"""A report against another period: the previous one of the same length, or one asked for.

Pure and Slack-free.

- `baseline_for(range, versus)` picks the period to compare with: `versus` when the command
  has one (`report … vs <range>`); else, for whole calendar months (one month, a quarter, a
  year…), the same number of calendar months just before (2026-03 → 2026-02, 2025 → 2024,
  leap years included); else the same number of days just before (2026-03-10..2026-03-20 →
  2026-02-28..2026-03-10). `this-month` is compared like for like with the same days of the
  month before (2026-03-01..2026-03-23 → 2026-02-01..2026-02-23); a comparison whose current
  period is not over, or whose periods differ in length, says so (`Comparison.partial`).
- `baseline_query(query, baseline)` is the report query for it: the same filters, the same
  granularity when the API allows it for that length (`hour` is asked by `day`, whose totals
  are the same and whose rows are 24 times fewer; `day` past 366 days by `month`).
- `compare(current, previous, baseline)` gives, per project, per meter and in total, the
  previous cost and the change, exactly (`Decimal`, never rounded here).

Percent rule: the change ÷ |previous| × 100, so a rise is positive even from a negative
(credit) base; no percent when the previous cost is 0 (`Change.is_new` when there is a cost
now: the renderer says "new"). Names only in the previous period are listed with a cost of 0
now (a project that stopped costing is news too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, Inexact, localcontext
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.apis.mkio.models import Granularity, ReportQuery
from bot.core.language.commands import DAY_MAX_DAYS

if TYPE_CHECKING:  # bot.core.reports.summary holds a Comparison: only the type is needed here
    from bot.core.language.commands import DateRange
    from bot.core.reports.summary import CostLine, ReportSummary

__all__ = [
    "Baseline",
    "BaselineKind",
    "Change",
    "Comparison",
    "baseline_for",
    "baseline_query",
    "compare",
    "fold_changes",
    "previous_period",
    "unavailable",
]

_PRECISION = 100  # digits: sums never round, percents are exact far below 0.1%


class BaselineKind(StrEnum):
    PREVIOUS_MONTHS = "previous-months"  # the same number of calendar months before
    PREVIOUS_DAYS = "previous-days"  # the same number of days before
    VERSUS = "versus"  # the range the command asked for
    SAME_DAYS = "same-days"  # `this-month`: the same days of the month before


@dataclass(frozen=True)
class Baseline:
    """The period compared with: UTC dates, `start` inclusive, `end` exclusive."""

    start: date
    end: date
    kind: BaselineKind
    length: int  # months for PREVIOUS_MONTHS, days otherwise

    @property
    def how(self) -> str:
        """ "the month before", "the 3 months before", "the 21 days before", or "the range
        asked for" (`vs`)."""
        if self.kind is BaselineKind.VERSUS:
            return "the range asked for"
        if self.kind is BaselineKind.SAME_DAYS:
            return "the same days of the month before"
        unit = "month" if self.kind is BaselineKind.PREVIOUS_MONTHS else "day"
        if self.length == 1:
            return f"the {unit} before"
        return f"the {self.length:,} {unit}s before"


@dataclass(frozen=True)
class Change:
    """A cost now and in the baseline period, in the report's currency."""

    name: str
    cost: Decimal
    previous: Decimal

    @property
    def change(self) -> Decimal:
        return _exact_sum((self.cost, -self.previous))

    @property
    def percent(self) -> Decimal | None:
        """change ÷ |previous| × 100, unrounded; None when the previous cost is 0."""
        if self.previous.is_zero():
            return None
        with localcontext() as ctx:
            ctx.prec = _PRECISION
            return self.change * 100 / abs(self.previous)

    @property
    def is_new(self) -> bool:
        """A cost now where there was none before (the renderer says "new")."""
        return self.previous.is_zero() and not self.cost.is_zero()


@dataclass(frozen=True)
class Comparison:
    """A report's figures against the baseline period's. When the baseline could not be
    compared (`unavailable` says why, in the bot's words) the lists are empty and `total`
    holds only the current total."""

    baseline: Baseline
    currency: str
    total: Change
    by_project: list[Change]  # largest cost now first, then largest before, then by name
    by_meter: list[Change]  # the same order
    previous_rows: int
    previous_uncharged_rows: int
    previous_fetched_at: datetime | None
    unavailable: str | None = None
    # why the two periods are not like for like (the current one is not over, or the lengths
    # differ), in the bot's words; None when they are
    partial: str | None = None


# -- which period -------------------------------------------------------------------------------


def _months_between(start: date, end: date) -> int | None:
    """How many calendar months [start, end) is, when it is whole months; else None."""
    if start.day != 1 or end.day != 1:
        return None
    return (end.year - start.year) * 12 + end.month - start.month


def _months_back(day: date, months: int) -> date:
    """The 1st of the month `months` before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def previous_period(start: date, end: date) -> Baseline:
    """The period of the same length just before [start, end): the same number of calendar
    months for whole months, else the same number of days."""
    months = _months_between(start, end)
    if months:
        return Baseline(_months_back(start, months), start, BaselineKind.PREVIOUS_MONTHS, months)
    days = (end - start).days
    return Baseline(start - timedelta(days=days), start, BaselineKind.PREVIOUS_DAYS, days)


def baseline_for(period: DateRange, versus: DateRange | None = None) -> Baseline:
    """What a `report` command is compared with: `versus` when given, else the period of
    the same length just before `period` (its range)."""
    if versus is not None:
        return Baseline(versus.start, versus.end, BaselineKind.VERSUS, versus.days)
    if period.label == "this-month":
        # like for like: the 1st to the same day of the month before (never past its end)
        start = _months_back(period.start, 1)
        end = min(start + timedelta(days=period.days), period.start)
        return Baseline(start, end, BaselineKind.SAME_DAYS, (end - start).days)
    return previous_period(period.start, period.end)


def baseline_query(query: ReportQuery, baseline: Baseline) -> ReportQuery:
    """`query` for the baseline's dates, with a granularity the API takes for that length."""
    days = (baseline.end - baseline.start).days
    granularity = query.granularity
    if granularity is Granularity.HOUR:
        granularity = Granularity.DAY  # the same totals, 24 times fewer rows
    if granularity is Granularity.DAY and days > DAY_MAX_DAYS:
        granularity = Granularity.MONTH
    return query.model_copy(
        update={
            "start_date": baseline.start,
            "end_date": baseline.end,
            "granularity": granularity,
        }
    )


# -- the figures --------------------------------------------------------------------------------


def _exact_sum(amounts: Iterable[Decimal]) -> Decimal:
    total = Decimal(0)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        ctx.traps[Inexact] = True
        for amount in amounts:
            total += amount
    return total


def _changes(now: list[CostLine], before: list[CostLine]) -> list[Change]:
    previous = {line.name: line.cost for line in before}
    current = {line.name: line.cost for line in now}
    names = current.keys() | previous.keys()
    changes = [
        Change(name, current.get(name, Decimal(0)), previous.get(name, Decimal(0)))
        for name in names
    ]
    return sorted(changes, key=_rank)


def _rank(change: Change) -> tuple[Decimal, Decimal, str]:
    """Largest cost now first; then largest cost before (what stopped costing); then name."""
    return -change.cost, -change.previous, change.name


def _currency_problem(current: ReportSummary, previous: ReportSummary) -> str | None:
    if previous.rows and current.rows and previous.currency != current.currency:
        return (
            f"its costs are in {previous.currency} and these in {current.currency}: "
            "amounts in different currencies are never compared"
        )
    return None


def partial_note(current: ReportSummary, baseline: Baseline) -> str | None:
    """Why `current` and the baseline are not like for like, said plainly; None when they are.

    The current period is not over when it ends after the day its report was fetched (UTC):
    its last day holds only the usage so far. Periods of different lengths are named too."""
    fetched = current.fetched_at
    today = (
        fetched.replace(tzinfo=UTC) if fetched.tzinfo is None else fetched.astimezone(UTC)
    ).date()
    days = (current.query.end_date - current.query.start_date).days
    base_days = (baseline.end - baseline.start).days
    said: list[str] = []
    if current.query.end_date > today:
        said.append(
            f"this period is not over: it runs to {today.isoformat()} and that day holds only "
            "the usage so far (UTC)"
        )
    months = _months_between(current.query.start_date, current.query.end_date)
    same_months = months is not None and months == _months_between(baseline.start, baseline.end)
    if days != base_days and not same_months:  # a month against a month is like for like
        said.append(f"the periods are not the same length ({days:,} days against {base_days:,})")
    return "; ".join(said) if said else None


def compare(current: ReportSummary, previous: ReportSummary, baseline: Baseline) -> Comparison:
    """`current` against `previous` (the baseline period's summary, same filters)."""
    problem = _currency_problem(current, previous)
    if problem is not None:
        return unavailable(current, baseline, problem, previous=previous)
    return Comparison(
        partial=partial_note(current, baseline),
        baseline=baseline,
        currency=current.currency,
        total=Change("Total", current.total, previous.total),
        by_project=_changes(current.by_project, previous.by_project),
        by_meter=_changes(current.by_meter, previous.by_meter),
        previous_rows=previous.rows,
        previous_uncharged_rows=previous.uncharged_rows,
        previous_fetched_at=previous.fetched_at,
    )


def unavailable(
    current: ReportSummary,
    baseline: Baseline,
    reason: str,
    *,
    previous: ReportSummary | None = None,
) -> Comparison:
    """A comparison that could not be made (`reason`, the bot's words): no figures."""
    return Comparison(
        baseline=baseline,
        currency=current.currency,
        total=Change("Total", current.total, Decimal(0)),
        by_project=[],
        by_meter=[],
        previous_rows=previous.rows if previous else 0,
        previous_uncharged_rows=previous.uncharged_rows if previous else 0,
        previous_fetched_at=previous.fetched_at if previous else None,
        unavailable=reason,
    )


def fold_changes(changes: list[Change], keep: int, *, label: str = "others") -> list[Change]:
    """Like `bot.core.reports.summary.fold`: the `keep` largest (ranked as `compare` ranks), then
    one line
    "others (N)" with the exact sums of the N others, now and before; a list of at most
    `keep + 1` comes back whole (sorted)."""
    if keep < 0:
        raise ValueError("keep must be 0 or more")
    ranked = sorted(changes, key=_rank)
    if len(ranked) <= keep + 1:
        return ranked
    rest = ranked[keep:]
    folded = Change(
        f"{label} ({len(rest):,})",
        _exact_sum(c.cost for c in rest),
        _exact_sum(c.previous for c in rest),
    )
    return [*ranked[:keep], folded]
