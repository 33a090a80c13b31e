"""The jobs the scheduler runs: post a scheduled report in its channel, check a budget."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.language import commands as c
from bot.core.scheduled.budgets import Budget, BudgetAlert, BudgetFigures, MonthSpend
from bot.core.scheduled.scheduler import Scheduler
from bot.core.scheduled.schedules import Schedule
from bot.slack.delivery import ChannelMessage, ExternalChannel, ExternalPerson, Logged, Posting
from bot.slack.handlers import routes
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.render.budgets import render_budget_alert, render_budget_check_failed
from bot.slack.render.common import Message

log = logging.getLogger(__name__)


def make_scheduler(client: AsyncWebClient, deps: Deps) -> Scheduler:
    """The scheduler with its jobs: post a report in a channel, check a project's month."""

    async def run_report(schedule: Schedule, report: c.Report) -> None:
        asker = Asker(schedule.created_by, schedule.channel, private=False)
        note = Logged(f"scheduled report {schedule.id}")  # nobody to answer privately
        posting = Posting(client, deps.guard, note=note, fallback=None, scheduled=True)
        await routes.post(report, asker, deps, posting)

    async def month_to_date(budgets: Sequence[Budget]) -> Callable[[Budget], MonthSpend]:
        return (await deps.billing.budget_month(budgets)).spend

    async def post_unasked(channel: str, message: Message, about: str) -> None:
        """Nobody asked: where the guard refuses the channel, it is logged and skipped."""
        try:
            await ChannelMessage(client, channel, guard=deps.guard).post(message)
        except ExternalChannel:
            log.warning("%s: not posted in %s, shared with another organization", about, channel)

    async def alert(budget: Budget, alert: BudgetAlert, figures: BudgetFigures) -> None:
        """In the budget's channel; then to each person it names, by DM (one failing DM is
        logged and does not stop the others; a person of another organization is skipped)."""
        message = render_budget_alert(budget, alert, figures)
        await post_unasked(budget.channel, message, f"budget alert of {budget.key}")
        for user in budget.notify:
            try:
                await deps.guard.people.check(user)
                await client.chat_postMessage(channel=user, **message.to_slack())
            except ExternalPerson:
                log.warning(
                    "budget %s: no %s alert DM to %s, not of this organization",
                    budget.key,
                    alert,
                    user,
                )
            except Exception:
                log.exception("budget %s: the %s alert could not be sent by DM", budget.key, alert)

    async def check_failed(budget: Budget, error: Exception) -> None:
        message = render_budget_check_failed(budget, error)
        await post_unasked(budget.channel, message, f"budget check of {budget.key}")

    return Scheduler(
        deps.schedules,
        deps.budgets,
        run_report=run_report,
        month_to_date=month_to_date,
        alert=alert,
        check_failed=check_failed,
        metrics=deps.metrics,
        check_anomalies=deps.watch.hourly,
    )
