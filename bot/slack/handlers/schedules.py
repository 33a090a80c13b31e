"""Scheduled reports: the admin commands (budgets: `bot.slack.handlers.budgets`)."""

from __future__ import annotations

from bot.core.language import commands as c
from bot.core.scheduled.schedules import Schedule, new_schedule_id, next_run_at
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.render.common import Message
from bot.slack.render.schedules import (
    render_schedule_cancelled,
    render_schedule_created,
    render_schedules,
)

Scheduling = c.ScheduleReport | c.ListSchedules | c.CancelSchedule


async def run(command: Scheduling, asker: Asker, deps: Deps) -> Message:
    now = deps.clock()
    match command:
        case c.ScheduleReport():
            schedule = Schedule(
                id=new_schedule_id(),
                frequency=command.frequency,
                report_words=command.report_words,
                channel=asker.channel_id,
                created_by=asker.user_id,
                created_at=now,
            )
            await deps.schedules.add(schedule)
            return render_schedule_created(schedule, next_run_at(command.frequency, now))
        case c.ListSchedules():
            return render_schedules(await deps.schedules.list(), now)
        case c.CancelSchedule():
            return render_schedule_cancelled(command.id, await deps.schedules.remove(command.id))
