"""Scheduled reports and budgets: confirmations, lists and budget alerts."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.core.scheduled.budgets import Budget, BudgetFigures, Threshold
from bot.core.scheduled.schedules import Schedule, describe, next_run_at
from bot.errors import BillingBotError
from bot.money import currency_label, format_money
from bot.slack.render.common import (
    Align,
    Column,
    Message,
    code,
    context,
    escape,
    fetched_text,
    finish,
    header,
    local_time,
    section,
    table,
)
from bot.slack.render.errors import render_error

SCHEDULE_COLUMNS = (
    Column("ID"),
    Column("Every"),
    Column("Channel"),
    Column("Next run (UTC)"),
    Column("Report", max_width=50),
)
BUDGET_COLUMNS = (Column("Project"), Column("Monthly budget", Align.RIGHT), Column("Channel"))


def _at(moment: datetime) -> str:
    return local_time(moment)


def render_schedule_created(schedule: Schedule, next_run: datetime) -> Message:
    what = f"`report {escape(schedule.report_words)}`" if schedule.report_words else "a report"
    text = (
        f":calendar: Scheduled {what} in <#{schedule.channel}> "
        f"{describe(schedule.frequency)}. First run: {_at(next_run)}. "
        f"ID {code(schedule.id)}: `/billing schedule cancel {schedule.id}` stops it."
    )
    return finish(f"Scheduled report {schedule.id} created", [section(text)])


def render_schedules(schedules: list[Schedule], now: datetime) -> Message:
    if not schedules:
        return finish(
            "No scheduled reports.",
            [
                section(
                    "No scheduled reports. `/billing schedule monthly` posts last month's "
                    "report here on the 1st of each month."
                )
            ],
        )
    rows = [
        [
            s.id,
            s.frequency.value,
            f"#{s.channel}",
            f"{next_run_at(s.frequency, now):%Y-%m-%d %H:%M}",
            s.report_words or "-",
        ]
        for s in schedules
    ]
    blocks: list[Block] = [header("Scheduled reports"), *table(SCHEDULE_COLUMNS, rows)]
    blocks.append(context(fetched_text(now)))
    return finish(f"{len(schedules)} scheduled reports", blocks)


def render_schedule_cancelled(schedule_id: str, found: bool) -> Message:
    if found:
        return finish(
            f"Scheduled report {schedule_id} cancelled",
            [section(f"Cancelled the scheduled report {code(schedule_id)}.")],
        )
    return finish(
        "No such scheduled report",
        [
            section(
                f"There is no scheduled report {code(schedule_id)}: "
                "`/billing schedule list` shows them."
            )
        ],
    )


def render_budget_set(budget: Budget, replaced: Budget | None = None) -> Message:
    """The confirmation of a budget, saying which one it replaced (if any)."""
    amount = format_money(budget.amount, budget.currency)
    if replaced is None:
        what = f"Budget for {code(budget.project)}: {amount} a month."
        summary = f"Budget for {budget.project}: {amount}"
    else:
        old = format_money(replaced.amount, replaced.currency)
        what = f"Budget for {code(budget.project)} changed from {old} to {amount} a month."
        summary = f"Budget for {budget.project} changed from {old} to {amount}"
    moved = (
        f" (instead of <#{replaced.channel}>)"
        if replaced is not None and replaced.channel != budget.channel
        else ""
    )
    text = (
        f":moneybag: {what} I check every hour and post in <#{budget.channel}>{moved} when "
        "this month's cost passes 80% and 100%, and when the month-end estimate passes 100%: "
        "each at most once a month."
    )
    return finish(summary, [section(text)])


def render_budgets(budgets: list[Budget]) -> Message:
    if not budgets:
        return finish("No budgets.", [section("No budgets: `/billing budget <project> <amount>`.")])
    rows = [[b.project, format_money(b.amount, b.currency), f"#{b.channel}"] for b in budgets]
    return finish(
        f"{len(budgets)} budgets", [header("Monthly budgets"), *table(BUDGET_COLUMNS, rows)]
    )


def render_budget_removed(project: str, found: bool) -> Message:
    said = (
        f"Removed the budget of {code(project)}."
        if found
        else f"{code(project)} has no budget: `/billing budget list` shows them."
    )
    return finish(said, [section(said)])


_ALERTS = {
    Threshold.SPENT_80: ":large_yellow_circle: has used {share} of its {amount} budget",
    Threshold.SPENT_100: ":red_circle: is over its {amount} budget ({share})",
    Threshold.ESTIMATE_100: ":chart_with_upwards_trend: is on course to pass its {amount} budget",
}


def render_budget_alert(budget: Budget, threshold: Threshold, figures: BudgetFigures) -> Message:
    amount = format_money(figures.amount, figures.currency)
    share = f"{figures.share * 100:.0f}%"
    what = _ALERTS[threshold].format(amount=amount, share=share)
    lines = [
        f"{code(budget.project)} {what} for {figures.month}.",
        f"Month to date: *{format_money(figures.month_to_date, figures.currency)}*",
    ]
    if figures.estimate_high is not None:
        high = format_money(figures.estimate_high, figures.currency)
        lines.append(f"Month-end estimate, high end: {high}")
    if figures.other_currencies:
        others = " + ".join(str(m) for m in figures.other_currencies)
        lines.append(
            f":warning: Also {others} this month in other currencies: not counted against "
            f"this {currency_label(figures.currency)} budget (amounts in different currencies "
            "are never added)."
        )
    blocks: list[Block] = [
        section("\n".join(lines)),
        context(f"Budget set by <@{budget.set_by}> · `/billing usage {budget.project}`"),
    ]
    return finish(f"Budget alert for {budget.project}: {what}", blocks)


def render_budget_check_failed(budget: Budget, error: Exception) -> Message:
    """Said once a month in the budget's channel: its check fails, and why (no internals)."""
    said = f"The budget of {code(budget.project)} could not be checked this month."
    blocks: list[Block] = [section(f":warning: {said}")]
    if isinstance(error, BillingBotError):
        blocks.extend(render_error(error).blocks)
    blocks.append(
        context(
            "The check runs every hour; this notice is not repeated this month. "
            f"To stop it: {code(f'/billing budget remove {budget.project}')}"
        )
    )
    return finish(f"The budget of {budget.project} could not be checked this month.", blocks)
