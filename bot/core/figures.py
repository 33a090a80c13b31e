"""The business figures an answer shows, handed to the metrics as it is made (or read from
the cache): a scrape reads them from there and never asks MK.IO (`bot.observe.figures`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from bot.core.answers import UsageAnswer
from bot.core.reports.summary import ReportSummary
from bot.core.scheduled.budget_spend import SpendRow
from bot.money import exact
from bot.observe.metrics import Metrics


def known_usage(metrics: Metrics, answer: UsageAnswer) -> None:
    """A project's month-to-date cost and month-end estimate, per currency."""
    month = f"{answer.start:%Y-%m}"
    estimates = {e.currency: e.total for e in answer.estimates}
    for money in answer.totals:
        line = estimates.get(money.currency)
        metrics.figures.cost(
            answer.project,
            money.currency,
            month,
            money.amount,
            answer.fetched_at,
            low=line.low if line else None,
            high=line.high if line else None,
        )


def known_month(metrics: Metrics, summary: ReportSummary) -> None:
    """Every project's month-to-date cost in the report's main currency (the Home tab's)."""
    month = f"{summary.query.start_date:%Y-%m}"
    for line in summary.by_project:
        metrics.figures.cost(line.name, summary.currency, month, line.cost, summary.fetched_at)


def known_rows(metrics: Metrics, rows: Iterable[SpendRow], month: str, at: datetime) -> None:
    """Every project's month-to-date cost per currency, from a budget check's rows."""
    totals: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    with exact():
        for row in rows:
            if row.project is not None:
                totals[row.project, row.currency] += row.cost
    for (project, currency), cost in totals.items():
        metrics.figures.cost(project, currency, month, cost, at)
