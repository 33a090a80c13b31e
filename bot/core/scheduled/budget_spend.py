"""Each budget's month so far, from what one check fetches once for all of them.

Pure and Slack-free. A check reads this month's org-wide report by day once (`SpendRow`s: the
1st to tomorrow, UTC) for every MK.IO scope, and Contro's summary of the month once for every
Contro type, then `BudgetMonth.spend(budget)` picks each budget's rows:

- a project: its rows; one meter of a project: that project's rows of that meter;
- a payment method: the rows billed to it (a report row names the method it was billed to,
  so a project that moved mid-month counts for the days it was assigned);
- the organization: every row;
- a Contro usage type: the summary's total for that type; its forecast from the month's
  records (their `createdAt` gives the days), read once for every Contro type when the
  summary counts at most `CONTRO_FORECAST_MAX_RECORDS` of them (one request per 100 records
  every hour is the price); past that, no forecast, and the budget says why.

The forecast is `bot.core.reports.estimate` on the picked daily costs, one per currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Final, TypeVar

from bot.apis.contro.models import CURRENCY as CONTRO_CURRENCY
from bot.apis.contro.models import UsageRecord, UsageSummary
from bot.apis.mkio.models import ReportRow
from bot.clock import as_utc
from bot.core.language.commands import ScopeKind
from bot.core.reports.estimate import DailyCost, estimate_month_end
from bot.core.scheduled.budgets import Budget, Forecast, MonthSpend
from bot.errors import CommandError
from bot.money import Money, Totals, exact, exact_sum

__all__ = [
    "CONTRO_FORECAST_MAX_RECORDS",
    "BudgetMonth",
    "SpendRow",
    "contro_spend_rows",
    "spend_rows",
]

K = TypeVar("K", bound=Hashable)

# Contro's records of the month so far are read (to make a forecast) up to this many: 10
# requests of 100 each hour. The summary's counts say how many there are before any is read.
CONTRO_FORECAST_MAX_RECORDS: Final = 1_000

MKIO_SCOPES = frozenset(
    {ScopeKind.PROJECT, ScopeKind.METER, ScopeKind.PAYMENT_METHOD, ScopeKind.ORGANIZATION}
)


@dataclass(frozen=True, slots=True)
class SpendRow:
    """One report row reduced to what a budget needs."""

    day: date  # UTC
    project: str | None
    meter: str
    payment_method: str | None  # its ID
    cost: Decimal
    currency: str


def spend_rows(rows: Iterable[ReportRow]) -> list[SpendRow]:
    return [
        SpendRow(
            as_utc(r.date).date(), r.project, r.meter_name, r.payment_method, r.cost, r.currency
        )
        for r in rows
    ]


def contro_spend_rows(records: Iterable[UsageRecord], types: frozenset[str]) -> list[SpendRow]:
    """The records of `types` added up per type and UTC day of `createdAt` (one row each)."""
    days: defaultdict[tuple[str, date], Decimal] = defaultdict(Decimal)
    with exact():
        for record in records:
            if record.type in types and record.created_at is not None:
                days[record.type, as_utc(record.created_at).date()] += record.amount
    return [
        SpendRow(day, None, kind, None, cost, CONTRO_CURRENCY)
        for (kind, day), cost in sorted(days.items())
    ]


@dataclass(frozen=True)
class BudgetMonth:
    """What one check fetched: this month's rows by day (None: not fetched, no MK.IO scope),
    the projects MK.IO has, and Contro's summary (None: not fetched); or why a source could
    not be read (the budgets that need it fail their check with that error)."""

    today: date  # UTC
    rows: Sequence[SpendRow] | None = None
    projects: frozenset[str] | None = None
    contro: UsageSummary | None = None
    # the Contro types' days (from the month's records), or why they were not read
    contro_days: Sequence[SpendRow] | None = None
    contro_no_forecast: str | None = None
    mkio_error: Exception | None = None  # why the MK.IO sources could not be read
    contro_error: Exception | None = None
    _cache: dict[str, MonthSpend] = field(default_factory=dict, compare=False, repr=False)

    def spend(self, budget: Budget) -> MonthSpend:
        """The budget's month so far. A budget whose project MK.IO no longer has raises
        CommandError (its check fails, and its channel is told)."""
        if budget.scope is ScopeKind.CONTRO_TYPE:
            if self.contro_error is not None:
                raise self.contro_error
            return self._contro(budget.name)
        if self.mkio_error is not None:
            raise self.mkio_error
        project = budget.project
        if project is not None and self.projects is not None and project not in self.projects:
            raise CommandError(
                f"MK.IO has no project `{project}` any more.",
                suggestion="/billing budget list",
            )
        if budget.key not in self._cache:
            self._cache[budget.key] = self._mkio(budget)
        return self._cache[budget.key]

    def _mkio(self, budget: Budget) -> MonthSpend:
        if self.rows is None:
            raise RuntimeError("this check did not fetch MK.IO's report")
        match budget.scope:
            case ScopeKind.PROJECT:
                rows = self._by_project.get(budget.name, [])
            case ScopeKind.METER:
                rows = self._by_meter.get((budget.name, budget.meter or ""), [])
            case ScopeKind.PAYMENT_METHOD:
                rows = self._by_method.get(budget.name, [])
            case _:
                rows = list(self.rows)
        return month_spend(rows, self.today)

    @cached_property
    def _by_project(self) -> dict[str | None, list[SpendRow]]:
        return _grouped(self.rows or (), lambda r: r.project)

    @cached_property
    def _by_meter(self) -> dict[tuple[str | None, str], list[SpendRow]]:
        return _grouped(self.rows or (), lambda r: (r.project, r.meter))

    @cached_property
    def _by_method(self) -> dict[str | None, list[SpendRow]]:
        return _grouped(self.rows or (), lambda r: r.payment_method)

    def _contro(self, usage_type: str) -> MonthSpend:
        if self.contro is None:
            raise RuntimeError("this check did not fetch Contro's summary")
        total = exact_sum(i.total for i in self.contro.items if i.type == usage_type)
        totals = Totals.of([Money(total, CONTRO_CURRENCY)])
        if self.contro_days is None:
            return MonthSpend(totals, no_forecast=self.contro_no_forecast)
        days = [row for row in self.contro_days if row.meter == usage_type]
        # the summary's total is the month so far; the records give the days to go on from
        return MonthSpend(totals, month_spend(days, self.today).forecasts)


def _grouped(rows: Iterable[SpendRow], key: Callable[[SpendRow], K]) -> dict[K, list[SpendRow]]:
    """The rows by `key`: each budget then reads only its own (a check has one of these per
    scope kind, not one pass over every row per budget)."""
    out: dict[K, list[SpendRow]] = defaultdict(list)
    for row in rows:
        out[key(row)].append(row)
    return dict(out)


def month_spend(rows: Sequence[SpendRow], today: date) -> MonthSpend:
    """The rows' totals per currency, and each currency's forecast (none on the 1st and 2nd)."""
    by_currency: dict[str, list[DailyCost]] = defaultdict(list)
    for row in rows:
        by_currency[row.currency].append(DailyCost(row.day, row.meter, row.cost))
    totals = Totals.of(Money(r.cost, r.currency) for r in rows)
    forecasts = []
    for currency in totals.currencies:
        estimate = estimate_month_end(by_currency[currency], today, currency)
        if estimate is None:
            continue
        total = estimate.total
        averages = (total.month_average, total.recent_average)
        forecasts.append(
            Forecast(
                currency=currency,
                low=total.low,
                high=total.high,
                daily_low=min(averages),
                daily_high=max(averages),
                today=estimate.today,
                month_end=estimate.month_end,
            )
        )
    return MonthSpend(totals, tuple(forecasts))
