"""Scheduled reports: what is scheduled, when each run is due, and who gets to post it.

Slack-free. A `Schedule` is the words of a `report` (see `commands.ScheduleReport`) posted in
a channel `monthly`, `weekly` or `daily`, every run at 08:00 UTC:

- monthly: on the 1st, for the month just ended; its period key is that month, "2026-11";
- weekly: on Mondays, for the ISO week just ended (Monday to Sunday), "2026-W47";
- daily: every day, for the day before, "2026-11-21".

A run's period key names what it reports on, so keys of one schedule sort in time order.
`due_run(schedule, now)` gives the key of the latest run that is due at `now` and not yet done
(and not older than the schedule): a run missed while the bot was down is still due when it
comes back, but only the latest one: never a backlog.

With several replicas every one of them ticks; `ScheduleStore.claim_run` lets exactly one
win each run (SQLite: a row under UNIQUE(schedule_id, period); Redis: `SET NX`), and the
winner records it with `mark_run`. A run is posted at most once: one that fails after its
claim is not retried.

Stores: `MemoryScheduleStore` here (one process; tests and the demo); the SQLite and Redis
ones are in `bot.store` (`sqlite_schedules`, `redis_schedules`).
"""

from __future__ import annotations

import builtins
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Final, Protocol

from pydantic import BaseModel, ConfigDict, field_validator

from bot.clock import as_utc, aware_utc, month_start, next_month_start
from bot.core.language.commands import Frequency, Report, schedule_report

__all__ = [
    "RUN_TIME",
    "Frequency",
    "MemoryScheduleStore",
    "Schedule",
    "ScheduleStore",
    "describe",
    "due_run",
    "is_later",
    "latest_ended_run",
    "latest_run",
    "new_schedule_id",
    "next_run_at",
    "report_for",
    "run_day",
]

RUN_TIME: Final = clock_time(8, 0)  # UTC
# Schedule IDs: typed back by people (`schedule cancel <id>`), so lower case without look-alikes
# (no 0/o, 1/l/i); 10 of these 31 characters are about 49 bits: not guessable.
ID_ALPHABET: Final = "23456789abcdefghjkmnpqrstuvwxyz"
ID_LENGTH: Final = 10

_WEEK_KEY = re.compile(r"([0-9]{4})-W([0-9]{2})")
_MONTH_KEY = re.compile(r"([0-9]{4})-([0-9]{2})")


class Schedule(BaseModel):
    """One scheduled report. JSON-serialisable so that Redis can hold it."""

    model_config = ConfigDict(frozen=True)

    id: str
    frequency: Frequency
    report_words: str  # as `commands.ScheduleReport.report_words`: read again for each run
    channel: str
    created_by: str
    created_at: datetime
    last_run_period: str | None = None  # the key of the latest run posted (or claimed and failed)

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return as_utc(value)


def new_schedule_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


# -- when runs are due ----------------------------------------------------------------------


def _at_run_time(day: date) -> datetime:
    return datetime.combine(day, RUN_TIME, tzinfo=UTC)


def _previous_run_day(frequency: Frequency, day: date) -> date:
    match frequency:
        case Frequency.DAILY:
            return day - timedelta(days=1)
        case Frequency.WEEKLY:
            return day - timedelta(days=7)
        case Frequency.MONTHLY:
            return month_start(day - timedelta(days=1))


def _next_run_day(frequency: Frequency, day: date) -> date:
    match frequency:
        case Frequency.DAILY:
            return day + timedelta(days=1)
        case Frequency.WEEKLY:
            return day + timedelta(days=7)
        case Frequency.MONTHLY:
            return next_month_start(day)


def _run_day_at_or_before(frequency: Frequency, today: date) -> date:
    match frequency:
        case Frequency.DAILY:
            return today
        case Frequency.WEEKLY:
            return today - timedelta(days=today.weekday())
        case Frequency.MONTHLY:
            return month_start(today)


def _period_of(frequency: Frequency, day: date) -> str:
    """The key of the run made on `day`: the period just ended."""
    match frequency:
        case Frequency.DAILY:
            return (day - timedelta(days=1)).isoformat()
        case Frequency.WEEKLY:
            year, week, _ = (day - timedelta(days=7)).isocalendar()
            return f"{year:04d}-W{week:02d}"
        case Frequency.MONTHLY:
            return f"{day - timedelta(days=1):%Y-%m}"


def run_day(frequency: Frequency, period: str) -> date:
    """The day (UTC) of the run with key `period`: its report is read as on that day."""
    try:
        match frequency:
            case Frequency.DAILY:
                return date.fromisoformat(period) + timedelta(days=1)
            case Frequency.WEEKLY:
                week = _WEEK_KEY.fullmatch(period)
                if week is not None:
                    monday = date.fromisocalendar(int(week[1]), int(week[2]), 1)
                    return monday + timedelta(days=7)
            case Frequency.MONTHLY:
                month = _MONTH_KEY.fullmatch(period)
                if month is not None:
                    return next_month_start(date(int(month[1]), int(month[2]), 1))
    except ValueError:
        pass
    raise ValueError(f"{period!r} is not the key of a {frequency} run")


def latest_run(frequency: Frequency, now: datetime) -> tuple[str, datetime]:
    """The key and the time of the latest run at or before `now`."""
    now = aware_utc(now)
    day = _run_day_at_or_before(frequency, now.date())
    if now < _at_run_time(day):
        day = _previous_run_day(frequency, day)
    return _period_of(frequency, day), _at_run_time(day)


def latest_ended_run(frequency: Frequency, now: datetime) -> str:
    """The key of the run due on the latest run day at or before `now`, whether or not its
    hour has come: the run whose period is the latest that has ended (yesterday for a daily
    schedule at any hour)."""
    return _period_of(frequency, _run_day_at_or_before(frequency, aware_utc(now).date()))


def next_run_at(frequency: Frequency, now: datetime) -> datetime:
    """The time of the first run after `now`."""
    _, at = latest_run(frequency, now)
    return _at_run_time(_next_run_day(frequency, at.date()))


def due_run(schedule: Schedule, now: datetime) -> str | None:
    """The key of the run `schedule` should make at `now`, or None.

    That is the latest run at or before `now`, unless it was made already or it was due
    before the schedule existed. After downtime it is the latest missed run, once: the runs
    missed before it are never made.
    """
    period, at = latest_run(schedule.frequency, now)
    if at < schedule.created_at:
        return None
    done = schedule.last_run_period
    if done is not None and period <= done:  # keys of one frequency sort in time order
        return None
    return period


def report_for(schedule: Schedule, period: str) -> Report:
    """The report of the run `period`: the schedule's words read as on that run's day, so that
    a run made up late still covers the period it was due for. Raises CommandError if the
    words no longer parse."""
    return schedule_report(
        schedule.frequency, schedule.report_words, run_day(schedule.frequency, period)
    )


def describe(frequency: Frequency) -> str:
    """When a schedule posts, and what its report covers when its words give no range."""
    match frequency:
        case Frequency.MONTHLY:
            return "on the 1st of each month at 08:00 UTC (by default for the month just ended)"
        case Frequency.WEEKLY:
            return (
                "every Monday at 08:00 UTC (by default for the week just ended, Monday to Sunday)"
            )
        case Frequency.DAILY:
            return "every day at 08:00 UTC (by default for the day before)"


# -- stores ---------------------------------------------------------------------------------


class ScheduleStore(Protocol):
    async def add(self, schedule: Schedule) -> None: ...

    async def list(self, channel: str | None = None) -> builtins.list[Schedule]:
        """Every schedule (or those of `channel`), oldest first."""

    async def get(self, schedule_id: str) -> Schedule | None: ...

    async def remove(self, schedule_id: str) -> bool:
        """False when there was no such schedule."""

    async def mark_run(self, schedule_id: str, period: str) -> None:
        """Record that the run `period` was made (never moves `last_run_period` back)."""

    async def claim_run(self, schedule_id: str, period: str, owner: str) -> bool:
        """True for exactly one caller per (schedule, period), across every process sharing
        the store; False for the others, and for a schedule that no longer exists."""

    async def aclose(self) -> None: ...


def is_later(current: str | None, period: str) -> bool:
    """Whether `period` is a later run than `current` (`mark_run` never moves back)."""
    return current is None or period > current


class MemoryScheduleStore:
    """In-process store: no await between a check and its update, so each is atomic."""

    def __init__(self) -> None:
        self._schedules: dict[str, Schedule] = {}
        self._claims: dict[tuple[str, str], str] = {}

    async def add(self, schedule: Schedule) -> None:
        self._schedules[schedule.id] = schedule

    async def list(self, channel: str | None = None) -> builtins.list[Schedule]:
        found = [s for s in self._schedules.values() if channel is None or s.channel == channel]
        return sorted(found, key=lambda s: (s.created_at, s.id))

    async def get(self, schedule_id: str) -> Schedule | None:
        return self._schedules.get(schedule_id)

    async def remove(self, schedule_id: str) -> bool:
        return self._schedules.pop(schedule_id, None) is not None

    async def mark_run(self, schedule_id: str, period: str) -> None:
        schedule = self._schedules.get(schedule_id)
        if schedule is not None and is_later(schedule.last_run_period, period):
            self._schedules[schedule_id] = schedule.model_copy(update={"last_run_period": period})

    async def claim_run(self, schedule_id: str, period: str, owner: str) -> bool:
        if schedule_id not in self._schedules or (schedule_id, period) in self._claims:
            return False
        self._claims[(schedule_id, period)] = owner
        return True

    async def aclose(self) -> None:
        pass
