"""Usage reports reduced to what a manager reads: totals per project, meter and period.

Pure and Slack-free: `summarize` turns the rows of `POST /organization/reports/usage` into a
`ReportSummary`; `fold` keeps a list of costs short without losing a cent; `coarsen` rolls
too many periods up into fewer, coarser ones; `report_filename` names the CSV file.

Money is summed exactly: every figure is a `Decimal` sum of the rows' `cost` strings, under
a context wide enough that no addition rounds (an amount that would need rounding raises
`decimal.Inexact` instead of being silently changed).

Currencies: MK.IO bills an organization in one currency, so a report normally has one. If its
rows ever mix currencies, amounts in different currencies are never added together: the
summary's figures cover the *main* currency (the one with the most rows; ties go to the
alphabetically first code), and `other_currencies` gives the total and row count of each
other currency, which the renderer shows as a warning. With a single currency (the normal
case) `other_currencies` is empty and every figure covers every row.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from bot.apis.mkio.models import Granularity, MeterData, ReportQuery, UsageReport
from bot.clock import as_utc
from bot.core.reports.comparison import Comparison
from bot.money import Money, Totals, exact, exact_sum

__all__ = [
    "DEFAULT_CURRENCY",
    "MAX_FILENAME",
    "NO_PROJECT",
    "CostLine",
    "CurrencyTotal",
    "FilterKind",
    "ReportSummary",
    "coarsen",
    "filters_of",
    "fold",
    "period_start",
    "report_filename",
    "summarize",
]

DEFAULT_CURRENCY = "USD"  # what an empty report is counted in
NO_PROJECT = "(no project)"  # the line for rows without a project name
MAX_FILENAME = 120


@dataclass(frozen=True)
class CostLine:
    name: str
    cost: Decimal


@dataclass(frozen=True)
class CurrencyTotal:
    """Rows in a currency other than the summary's main one, kept out of its figures."""

    currency: str
    cost: Decimal
    rows: int

    @property
    def cost_money(self) -> Money:
        return Money(self.cost, self.currency)


class FilterKind(StrEnum):
    PROJECTS = "projects"
    PAYMENT_METHODS = "payment-methods"


@dataclass(frozen=True)
class ChartSeries:
    """Cost per period and project, ready to draw. Every cost is an exact `Decimal` sum of
    report rows in `currency`; `costs[project][i]` is that project's cost in `periods[i]`
    (zero when it had none). `projects` are largest first, "others (N)" last when folded."""

    granularity: Granularity
    periods: list[datetime]  # chronological, consecutive period starts (UTC)
    projects: list[str]
    costs: dict[str, list[Decimal]]
    currency: str
    others: str | None = None  # the folded projects' label, when some were folded

    @property
    def totals(self) -> list[Decimal]:
        """The exact total of each period, all projects together."""
        return [
            exact_sum(self.costs[project][i] for project in self.projects)
            for i in range(len(self.periods))
        ]


@dataclass(frozen=True)
class ReportSummary:
    """A usage report, summed. Every money figure is in `currency`; see the module docstring
    for the (abnormal) case of rows in several currencies."""

    query: ReportQuery  # what was asked: dates, granularity, filters, by reported date
    filter_names: tuple[str, ...]  # display names of query.payment_method_ids, or project names
    currency: str  # the rows' currency; DEFAULT_CURRENCY when there are no rows
    total: Decimal  # exact sum of the rows' costs
    by_project: list[CostLine]  # largest first, ties by name
    by_meter: list[CostLine]  # largest first, ties by name
    by_period: list[tuple[datetime, Decimal]]  # chronological, one per distinct row `date`, UTC
    rows: int
    uncharged_rows: int  # rows whose dateProcessed is null: not charged yet
    uncharged_cost: Decimal
    fetched_at: datetime
    other_currencies: tuple[CurrencyTotal, ...] = ()  # rows left out: not in `currency`
    # against another period (`BillingService.report(…, compare_to=…)`); never cached with it
    comparison: Comparison | None = None
    # cost per period and project, for a chart: set by `BillingService` when there are several
    chart: ChartSeries | None = None

    @property
    def totals(self) -> Totals:
        """Every currency's total: `total` in `currency` first, then the others'."""
        return Totals(
            (Money(self.total, self.currency), *(o.cost_money for o in self.other_currencies))
        )

    @property
    def filters(self) -> tuple[FilterKind | None, tuple[str, ...]]:
        return filters_of(self.query, self.filter_names)


# -- exact sums -----------------------------------------------------------------------------


def _ranked(totals: dict[str, Decimal]) -> list[CostLine]:
    """Largest cost first, ties by name."""
    return [CostLine(name, cost) for name, cost in sorted(totals.items(), key=_rank_key)]


def _rank_key(item: tuple[str, Decimal]) -> tuple[Decimal, str]:
    name, cost = item
    return -cost, name


def _main_currency(rows: list[MeterData]) -> str:
    counts = Counter(row.currency for row in rows)
    if not counts:
        return DEFAULT_CURRENCY
    return min(counts, key=lambda currency: (-counts[currency], currency))


def summarize(
    report: UsageReport,
    query: ReportQuery,
    *,
    filter_names: tuple[str, ...],
    fetched_at: datetime,
) -> ReportSummary:
    """The report's rows summed per project, meter and period, exactly."""
    rows = list(report.value)
    currency = _main_currency(rows)
    by_project: dict[str, Decimal] = {}
    by_meter: dict[str, Decimal] = {}
    by_period: dict[datetime, Decimal] = {}
    others: dict[str, list[Decimal]] = {}
    total = uncharged_cost = Decimal(0)
    counted = uncharged_rows = 0
    with exact():
        for row in rows:
            if row.currency != currency:
                others.setdefault(row.currency, []).append(row.cost)
                continue
            counted += 1
            total += row.cost
            project = row.project or NO_PROJECT
            by_project[project] = by_project.get(project, Decimal(0)) + row.cost
            by_meter[row.meter_name] = by_meter.get(row.meter_name, Decimal(0)) + row.cost
            at = as_utc(row.date)
            by_period[at] = by_period.get(at, Decimal(0)) + row.cost
            if not row.charged:
                uncharged_rows += 1
                uncharged_cost += row.cost
    return ReportSummary(
        query=query,
        filter_names=filter_names,
        currency=currency,
        total=total,
        by_project=_ranked(by_project),
        by_meter=_ranked(by_meter),
        by_period=sorted(by_period.items()),
        rows=counted,
        uncharged_rows=uncharged_rows,
        uncharged_cost=uncharged_cost,
        fetched_at=fetched_at,
        other_currencies=tuple(
            CurrencyTotal(code, exact_sum(costs), len(costs))
            for code, costs in sorted(others.items())
        ),
    )


# -- keeping lists short --------------------------------------------------------------------


def fold(lines: list[CostLine], keep: int, *, label: str = "others") -> list[CostLine]:
    """The `keep` largest lines (largest first, ties by name), then one line "others (N)"
    holding the exact sum of the N others. Folding a single line would save nothing, so a
    list of at most `keep + 1` lines comes back whole (sorted)."""
    if keep < 0:
        raise ValueError("keep must be 0 or more")
    ranked = sorted(lines, key=lambda line: (-line.cost, line.name))
    if len(ranked) <= keep + 1:
        return ranked
    rest = ranked[keep:]
    folded = CostLine(f"{label} ({len(rest):,})", exact_sum(line.cost for line in rest))
    return [*ranked[:keep], folded]


_COARSER: dict[Granularity, Granularity] = {
    Granularity.HOUR: Granularity.DAY,
    Granularity.DAY: Granularity.MONTH,
    Granularity.WEEK: Granularity.MONTH,  # a week counts in the month it starts in
    Granularity.MONTH: Granularity.YEAR,
}


def period_start(at: datetime, granularity: Granularity) -> datetime:
    """The start of the period of `granularity` that holds `at` (weeks start on Monday)."""
    at = as_utc(at)
    if granularity is Granularity.HOUR:
        return at.replace(minute=0, second=0, microsecond=0)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if granularity is Granularity.DAY:
        return day
    if granularity is Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    if granularity is Granularity.MONTH:
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def week_days(at: datetime, start: date, end: date) -> tuple[date, date]:
    """The first and last day (inclusive) of the week (Monday to Sunday) holding `at` that
    lie in the range [start, end): a week that began before the range starts with it."""
    monday = period_start(at, Granularity.WEEK).date()
    return max(monday, start), min(monday + timedelta(days=7), end) - timedelta(days=1)


def coarsen(
    periods: list[tuple[datetime, Decimal]], granularity: Granularity, *, max_periods: int
) -> tuple[Granularity, list[tuple[datetime, Decimal]]]:
    """`periods` with at most `max_periods` lines when possible: each step sums them into the
    next coarser granularity (hour → day, day and week → month, month → year) until they fit.
    Returns the granularity reached (`granularity` itself when they already fit) and the
    periods, chronological; sums are exact. Years are the coarsest: past that it gives up."""
    current = sorted(periods)
    while len(current) > max_periods and granularity in _COARSER:
        granularity = _COARSER[granularity]
        sums: dict[datetime, list[Decimal]] = {}
        for at, cost in current:
            sums.setdefault(period_start(at, granularity), []).append(cost)
        current = [(at, exact_sum(costs)) for at, costs in sorted(sums.items())]
    return granularity, current


# -- filters and the CSV file name ----------------------------------------------------------


def filters_of(
    query: ReportQuery, filter_names: tuple[str, ...]
) -> tuple[FilterKind | None, tuple[str, ...]]:
    """Which filter the query uses and the names to show for it: `filter_names` when given,
    else the query's own project names or payment-method IDs. (None, ()) without a filter."""
    if query.payment_method_ids:
        return FilterKind.PAYMENT_METHODS, filter_names or query.payment_method_ids
    if query.project_names:
        return FilterKind.PROJECTS, filter_names or query.project_names
    return None, ()


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe(name: str) -> str:
    """`name` with only [A-Za-z0-9._-]: other runs become "-"; never empty, never hidden."""
    return _UNSAFE.sub("-", name).strip("-._") or "unnamed"


def report_filename(query: ReportQuery, filter_names: tuple[str, ...]) -> str:
    """A descriptive CSV file name, safe on any file system and in Slack, at most 120
    characters: "mkio-usage_2026-03-01_to_2026-04-01-excl_by-day_projects-alpha_beta.csv".

    When the filters would make it longer, their names are cut and end in "-etc-" and a short
    hash of all of them, so two different filters still give two different names."""
    parts = [
        "mkio-usage",
        f"{query.start_date.isoformat()}_to_{query.end_date.isoformat()}-excl",
        f"by-{query.granularity.value}",
    ]
    if query.filter_on_reported_date:
        parts.append("reported-date")
    base = "_".join(parts)
    kind, names = filters_of(query, filter_names)
    described: list[str] = []
    if kind is not None:
        described.append(f"{kind.value}-" + "_".join(_safe(n) for n in names))
    if query.meter_names:
        described.append("meters-" + "_".join(_safe(n) for n in query.meter_names))
    suffix = ".csv"
    if not described:
        return base + suffix
    tail = "_".join(described)
    name = f"{base}_{tail}{suffix}"
    if len(name) <= MAX_FILENAME:
        return name
    everything = "\n".join([*names, "", *query.meter_names])
    digest = hashlib.sha256(everything.encode()).hexdigest()[:8]
    etc = f"-etc-{digest}"
    room = MAX_FILENAME - len(base) - 1 - len(etc) - len(suffix)
    cut = tail[: max(room, 0)].rstrip("-._")
    return f"{base}_{cut}{etc}{suffix}" if cut else f"{base}{etc}{suffix}"
