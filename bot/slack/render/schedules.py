"""Scheduled reports: confirmations and lists (budgets: `bot.slack.render.budgets`)."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.core.scheduled.schedules import Schedule, describe, next_run_at
from bot.slack.render.common import (
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

SCHEDULE_COLUMNS = (
    Column("ID"),
    Column("Every"),
    Column("Channel"),
    Column("Next run (UTC)"),
    Column("Report", max_width=50),
)


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
