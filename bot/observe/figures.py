"""Business gauges from what the bot already knows: the month-to-date cost and month-end
estimate of each project it has answered about, and each budget's use at its last check.

Nothing here asks an API: figures are kept as answers are made (or served from the cache)
and read at each scrape. A figure belongs to its month ("2026-11"); once a figure of a later
month arrives, the older months' figures are dropped, so a scrape never shows last month's
cost as this month's. Labels are bounded (`bot.observe.labels`): at most `MAX_PROJECTS`
projects are kept, and a figure for a further one is left out (and counted).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from bot.observe import labels


@dataclass(frozen=True)
class ProjectFigures:
    month: str
    cost: Decimal
    fetched_at: datetime
    low: Decimal | None = None
    high: Decimal | None = None


@dataclass(frozen=True)
class BudgetUse:
    month: str
    spent: Decimal
    amount: Decimal


class KnownFigures:
    """The latest figures per (project, currency), and per budget."""

    def __init__(self, dropped: Callable[[str], None]) -> None:
        self._costs: dict[tuple[str, str], ProjectFigures] = {}
        self._budgets: dict[tuple[str, str], BudgetUse] = {}
        self._dropped = dropped
        self._lock = threading.Lock()  # a scrape may come from another thread (exporters)

    def cost(
        self,
        project: str,
        currency: str,
        month: str,
        cost: Decimal,
        fetched_at: datetime,
        *,
        low: Decimal | None = None,
        high: Decimal | None = None,
    ) -> None:
        """A project's month-to-date cost in one currency (and the estimate, if any)."""
        key = self._key(project, currency, self._costs, "month_to_date_cost")
        if key is not None:
            with self._lock:
                known = self._costs.get(key)
                if known is not None and known.month == month and known.fetched_at > fetched_at:
                    return  # an older answer (a cached one) never hides a newer one
                if low is None and known is not None and known.month == month:
                    low, high = known.low, known.high  # a report knows no estimate: keep it
                self._costs[key] = ProjectFigures(month, cost, fetched_at, low, high)
                _keep_latest_month(self._costs)

    def budgets(self, uses: Iterable[tuple[str, str, BudgetUse]]) -> None:
        """Every budget's use, at a check of them all: (project, currency, use). Budgets not
        among them (removed, or their check failed) are no longer shown."""
        table: dict[tuple[str, str], BudgetUse] = {}
        for project, currency, use in uses:
            key = self._key(project, currency, table, "budget_use_ratio")
            if key is not None:
                table[key] = use
        with self._lock:
            self._budgets = table

    def _key(
        self, project: str, currency: str, table: Mapping[tuple[str, str], object], metric: str
    ) -> tuple[str, str] | None:
        name, code = labels.project(project), labels.currency(currency)
        if name is None or code is None:
            self._dropped(metric)
            return None
        key = (name, code)
        projects = {p for p, _ in table}
        if name not in projects and len(projects) >= labels.MAX_PROJECTS:
            self._dropped(metric)
            return None
        return key

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            costs, budgets = dict(self._costs), dict(self._budgets)
        cost = GaugeMetricFamily(
            "billing_bot_month_to_date_cost",
            "A project's cost this month so far (UTC), per currency, as last answered; "
            "never fetched for a scrape.",
            labels=["project", "currency"],
        )
        estimate = GaugeMetricFamily(
            "billing_bot_month_end_estimate",
            "The low and high end of a project's month-end cost estimate, per currency, as "
            "last answered (none in a month's first two days).",
            labels=["project", "currency", "bound"],
        )
        fetched = GaugeMetricFamily(
            "billing_bot_month_to_date_fetched_timestamp_seconds",
            "When the figures of billing_bot_month_to_date_cost were fetched from MK.IO.",
            labels=["project", "currency"],
        )
        for (project, currency), figures in sorted(costs.items()):
            cost.add_metric([project, currency], float(figures.cost))
            fetched.add_metric([project, currency], figures.fetched_at.timestamp())
            if figures.low is not None and figures.high is not None:
                estimate.add_metric([project, currency, "low"], float(figures.low))
                estimate.add_metric([project, currency, "high"], float(figures.high))
        use = GaugeMetricFamily(
            "billing_bot_budget_use_ratio",
            "A budget's month-to-date cost over its amount at its last check (1 = all of it).",
            labels=["project", "currency"],
        )
        amount = GaugeMetricFamily(
            "billing_bot_budget_amount",
            "A budget's monthly amount.",
            labels=["project", "currency"],
        )
        for (project, currency), budget in sorted(budgets.items()):
            amount.add_metric([project, currency], float(budget.amount))
            if budget.amount:
                use.add_metric([project, currency], float(budget.spent / budget.amount))
        yield from (cost, estimate, fetched, use, amount)


def _keep_latest_month(
    table: dict[tuple[str, str], ProjectFigures] | dict[tuple[str, str], BudgetUse],
) -> None:
    latest = max(f.month for f in table.values())
    for key in [k for k, f in table.items() if f.month != latest]:
        del table[key]
