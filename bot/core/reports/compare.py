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

from datetime import date, timedelta
from decimal import Decimal

from bot.apis.mkio.models import Granularity, ReportQuery
from bot.clock import as_utc
from bot.core.language.vocabulary import DAY_MAX_DAYS, DateRange
from bot.core.reports.comparison import Baseline, BaselineKind, Change, Comparison
from bot.core.reports.summary import CostLine, ReportSummary
from bot.money import exact_sum

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
    if period.label == "this-week":  # Monday to today against Monday to that day a week ago
        start = period.start - timedelta(days=7)
        end = start + timedelta(days=period.days)
        return Baseline(start, end, BaselineKind.SAME_WEEKDAYS, period.days)
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
    today = as_utc(fetched).date()
    days = (current.query.end_date - current.query.start_date).days
    base_days = (baseline.end - baseline.start).days
    said: list[str] = []
    if current.query.start_date > today:
        said.append(
            f"this period has not begun: it starts after today ({today.isoformat()}, UTC), "
            "so it holds no usage yet"
        )
    elif current.query.end_date > today:
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
        exact_sum(c.cost for c in rest),
        exact_sum(c.previous for c in rest),
    )
    return [*ranked[:keep], folded]
