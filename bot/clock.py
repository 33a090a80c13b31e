"""Time in one place, so tests can move it."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_to_date(today: date) -> tuple[date, date]:
    """The 1st of today's month and tomorrow: the month so far, today included, end exclusive
    as MK.IO reports take it."""
    return month_start(today), today + timedelta(days=1)


def next_month_start(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def as_utc(at: datetime) -> datetime:
    """`at` in UTC. A naive time is taken as UTC (the APIs' and the stores' times are UTC),
    never as the machine's local time."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def aware_utc(now: datetime) -> datetime:
    """A clock's reading in UTC; a time without a time zone is refused, not guessed: what is
    due when depends on it (`as_utc` is for stored and API times, which are UTC)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("a time without a time zone: use an aware datetime (UTC)")
    return now.astimezone(UTC)
