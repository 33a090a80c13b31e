"""A usage report summed as its rows stream in: the same `ReportSummary` (and chart series) as
`bot.core.reports.summary.summarize` and `bot.core.reports.charts.chart_series` give for the
whole report, without ever holding the rows.

Every currency is summed on its own, since which one is the summary's main currency (the one
with the most rows) is known only at the end. What is kept grows with the distinct projects,
meters and periods, never with the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from bot.apis.mkio.models import Granularity, ReportQuery, ReportRow
from bot.clock import as_utc
from bot.core.reports.charts import series_of
from bot.core.reports.summary import (
    DEFAULT_CURRENCY,
    NO_PROJECT,
    CurrencyTotal,
    ReportSummary,
    _ranked,
    period_start,
)
from bot.money import exact

_ZERO = Decimal(0)


class _CurrencySums:
    """Everything the summary and the chart need of one currency's rows."""

    __slots__ = (
        "by_meter",
        "by_period",
        "by_project",
        "cells",
        "rows",
        "total",
        "uncharged_cost",
        "uncharged_rows",
    )

    def __init__(self) -> None:
        self.rows = self.uncharged_rows = 0
        self.total = self.uncharged_cost = _ZERO
        self.by_project: dict[str, Decimal] = {}
        self.by_meter: dict[str, Decimal] = {}
        self.by_period: dict[datetime, Decimal] = {}
        self.cells: dict[str, dict[datetime, Decimal]] = {}  # project → chart period → cost


class ReportFold:
    """Give it the rows in batches (`add`), then ask for the `summary`.

    `granularity` is the chart's: the report's own, as `BillingService` charts it.
    """

    def __init__(self, granularity: Granularity) -> None:
        self._granularity = granularity
        self._sums: dict[str, _CurrencySums] = {}
        # a row's date → (its UTC time, its chart period): a report has few distinct dates
        self._dates: dict[datetime, tuple[datetime, datetime]] = {}

    def add(self, rows: Iterable[ReportRow]) -> None:
        sums_of = self._sums
        dates = self._dates
        with exact():
            for row in rows:
                sums = sums_of.get(row.currency)
                if sums is None:
                    sums = sums_of[row.currency] = _CurrencySums()
                cost = row.cost
                when = dates.get(row.date)
                if when is None:
                    when = dates[row.date] = (
                        as_utc(row.date),
                        period_start(row.date, self._granularity),
                    )
                at, period = when
                project = row.project or NO_PROJECT
                sums.rows += 1
                sums.total += cost
                sums.by_project[project] = sums.by_project.get(project, _ZERO) + cost
                sums.by_meter[row.meter_name] = sums.by_meter.get(row.meter_name, _ZERO) + cost
                sums.by_period[at] = sums.by_period.get(at, _ZERO) + cost
                cell = sums.cells.get(project)
                if cell is None:
                    cell = sums.cells[project] = {}
                cell[period] = cell.get(period, _ZERO) + cost
                if row.date_processed is None:
                    sums.uncharged_rows += 1
                    sums.uncharged_cost += cost

    @property
    def currency(self) -> str:
        """The main currency: the most rows, ties to the alphabetically first code."""
        if not self._sums:
            return DEFAULT_CURRENCY
        return min(self._sums, key=lambda code: (-self._sums[code].rows, code))

    def summary(
        self,
        query: ReportQuery,
        *,
        filter_names: tuple[str, ...],
        fetched_at: datetime,
        max_projects: int = 8,
    ) -> ReportSummary:
        """The summary of every row added, with its chart series (None under 2 periods)."""
        currency = self.currency
        main = self._sums.get(currency, _CurrencySums())
        return ReportSummary(
            query=query,
            filter_names=filter_names,
            currency=currency,
            total=main.total,
            by_project=_ranked(main.by_project),
            by_meter=_ranked(main.by_meter),
            by_period=sorted(main.by_period.items()),
            rows=main.rows,
            uncharged_rows=main.uncharged_rows,
            uncharged_cost=main.uncharged_cost,
            fetched_at=fetched_at,
            other_currencies=tuple(
                CurrencyTotal(code, sums.total, sums.rows)
                for code, sums in sorted(self._sums.items())
                if code != currency
            ),
            chart=series_of(main.cells, currency, self._granularity, max_projects=max_projects),
        )
