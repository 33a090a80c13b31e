"""The business figures an answer shows, handed to the metrics as it is made (or read from
the cache): a scrape reads them from there and never asks MK.IO (`bot.observe.figures`)."""

from __future__ import annotations

from bot.core.answers import UsageAnswer
from bot.core.reports.summary import ReportSummary
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
