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

Stores: `MemoryScheduleStore` (one process; tests and the demo), `SqliteScheduleStore` (the
default, `SQLITE_PATH`; safe for several processes on one file), `RedisScheduleStore` (with
`REDIS_URL`; values signed like every value the bot keeps in Redis).
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bot.clock import Clock, month_start, next_month_start, utc_now
from bot.core.language.commands import Frequency, Report, schedule_report

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.store.redis_store import Signer

__all__ = [
    "RUN_TIME",
    "Frequency",
    "MemoryScheduleStore",
    "RedisScheduleStore",
    "Schedule",
    "ScheduleStore",
    "SqliteDatabase",
    "SqliteScheduleStore",
    "describe",
    "due_run",
    "latest_run",
    "new_schedule_id",
    "next_run_at",
    "report_for",
    "run_day",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

RUN_TIME: Final = clock_time(8, 0)  # UTC
# Schedule IDs: typed back by people (`schedule cancel <id>`), so lower case without look-alikes
# (no 0/o, 1/l/i); 10 of these 31 characters are about 49 bits: not guessable.
ID_ALPHABET: Final = "23456789abcdefghjkmnpqrstuvwxyz"
ID_LENGTH: Final = 10
# How long Redis remembers a claimed run: longer than any period, so a late replica that still
# sees the run as due finds the claim; older runs are never due again once marked.
RUN_CLAIM_TTL: Final = timedelta(days=62)
_MARK_ATTEMPTS: Final = 50

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
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_schedule_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


# -- when runs are due ----------------------------------------------------------------------


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("a time without a time zone: use an aware datetime (UTC)")
    return now.astimezone(UTC)


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
    now = _utc(now)
    day = _run_day_at_or_before(frequency, now.date())
    if now < _at_run_time(day):
        day = _previous_run_day(frequency, day)
    return _period_of(frequency, day), _at_run_time(day)


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


def _later(current: str | None, period: str) -> bool:
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
        if schedule is not None and _later(schedule.last_run_period, period):
            self._schedules[schedule_id] = schedule.model_copy(update={"last_run_period": period})

    async def claim_run(self, schedule_id: str, period: str, owner: str) -> bool:
        if schedule_id not in self._schedules or (schedule_id, period) in self._claims:
            return False
        self._claims[(schedule_id, period)] = owner
        return True

    async def aclose(self) -> None:
        pass


# -- SQLite ---------------------------------------------------------------------------------


class SqliteDatabase:
    """One SQLite file for asyncio code: each call runs in a worker thread (`asyncio.to_thread`)
    on this object's connection, one call at a time.

    Several processes may share the file: it is put in WAL mode (readers never wait for the
    writer), every write takes the write lock up front (`BEGIN IMMEDIATE`, so a transaction
    never has to upgrade a read lock, which WAL may refuse), and a busy file is waited for up
    to `timeout` seconds. The schema (`CREATE … IF NOT EXISTS` statements) is created on
    first use, in one write transaction.
    """

    def __init__(self, path: str | Path, schema: tuple[str, ...], *, timeout: float = 30.0) -> None:
        self._path = str(path)
        self._schema = schema
        self._timeout = timeout
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._closed = False

    @property
    def path(self) -> str:
        return self._path

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self._run, work)

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"the SQLite database {self._path} is closed")
            if self._connection is None:
                self._connection = self._open()
            return work(self._connection)

    def _open(self) -> sqlite3.Connection:
        if self._path != ":memory:" and not self._path.startswith("file:"):
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self._path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._retry_locked(lambda: connection.execute("PRAGMA journal_mode=WAL").fetchone())
            connection.execute("PRAGMA synchronous=NORMAL")
            with write(connection):
                for statement in self._schema:
                    connection.execute(statement)
        except BaseException:
            connection.close()
            raise
        return connection

    def _retry_locked(self, step: Callable[[], object]) -> None:
        """Switching to WAL needs a moment alone with the file; another process may be in it."""
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                step()
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    async def aclose(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._lock:
            self._closed = True
            connection, self._connection = self._connection, None
            if connection is not None:
                connection.close()


@contextmanager
def write(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that holds the write lock from its start (autocommit connection)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


_SCHEDULE_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS schedules (
        id TEXT PRIMARY KEY,
        frequency TEXT NOT NULL,
        report_words TEXT NOT NULL,
        channel TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_run_period TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS schedule_runs (
        schedule_id TEXT NOT NULL,
        period TEXT NOT NULL,
        owner TEXT NOT NULL,
        claimed_at TEXT NOT NULL,
        UNIQUE (schedule_id, period)
    )""",
)
_SCHEDULE_COLUMNS = "id, frequency, report_words, channel, created_by, created_at, last_run_period"


def _schedule_row(row: tuple[str, ...]) -> Schedule:
    id_, frequency, words, channel, created_by, created_at, last = row
    return Schedule(
        id=id_,
        frequency=Frequency(frequency),
        report_words=words,
        channel=channel,
        created_by=created_by,
        created_at=datetime.fromisoformat(created_at),
        last_run_period=last,
    )


class SqliteScheduleStore:
    """`ScheduleStore` in one SQLite file, which several processes may share.

    A run is claimed by inserting (schedule, period) into `schedule_runs` under its UNIQUE
    constraint, in one statement that also checks that the schedule still exists: SQLite lets
    one writer at a time in, so exactly one insert lands and the others are ignored.
    """

    def __init__(self, path: str | Path, *, clock: Clock = utc_now, timeout: float = 30.0) -> None:
        self._db = SqliteDatabase(path, _SCHEDULE_SCHEMA, timeout=timeout)
        self._clock = clock

    async def add(self, schedule: Schedule) -> None:
        def add(connection: sqlite3.Connection) -> None:
            connection.execute(
                f"INSERT INTO schedules ({_SCHEDULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608 - constant columns
                (
                    schedule.id,
                    schedule.frequency.value,
                    schedule.report_words,
                    schedule.channel,
                    schedule.created_by,
                    schedule.created_at.isoformat(),
                    schedule.last_run_period,
                ),
            )

        await self._db.run(add)

    async def list(self, channel: str | None = None) -> builtins.list[Schedule]:
        def select(connection: sqlite3.Connection) -> builtins.list[Schedule]:
            rows = connection.execute(
                f"SELECT {_SCHEDULE_COLUMNS} FROM schedules "  # noqa: S608 - constant columns
                "WHERE ?1 IS NULL OR channel = ?1 ORDER BY created_at, id",
                (channel,),
            ).fetchall()
            return [_schedule_row(row) for row in rows]

        return await self._db.run(select)

    async def get(self, schedule_id: str) -> Schedule | None:
        def select(connection: sqlite3.Connection) -> Schedule | None:
            row = connection.execute(
                f"SELECT {_SCHEDULE_COLUMNS} FROM schedules WHERE id = ?",  # noqa: S608 - constant columns
                (schedule_id,),
            ).fetchone()
            return None if row is None else _schedule_row(row)

        return await self._db.run(select)

    async def remove(self, schedule_id: str) -> bool:
        def delete(connection: sqlite3.Connection) -> bool:
            with write(connection):
                removed = connection.execute("DELETE FROM schedules WHERE id = ?", (schedule_id,))
                connection.execute(
                    "DELETE FROM schedule_runs WHERE schedule_id = ?", (schedule_id,)
                )
                return removed.rowcount > 0

        return await self._db.run(delete)

    async def mark_run(self, schedule_id: str, period: str) -> None:
        def update(connection: sqlite3.Connection) -> None:
            with write(connection):
                connection.execute(
                    "UPDATE schedules SET last_run_period = ?1 "
                    "WHERE id = ?2 AND (last_run_period IS NULL OR last_run_period < ?1)",
                    (period, schedule_id),
                )
                # Claims of earlier runs are no longer needed: those runs are never due again.
                connection.execute(
                    "DELETE FROM schedule_runs WHERE schedule_id = ? AND period < ?",
                    (schedule_id, period),
                )

        await self._db.run(update)

    async def claim_run(self, schedule_id: str, period: str, owner: str) -> bool:
        claimed_at = self._clock().isoformat()

        def claim(connection: sqlite3.Connection) -> bool:
            with write(connection):
                inserted = connection.execute(
                    "INSERT OR IGNORE INTO schedule_runs (schedule_id, period, owner, claimed_at) "
                    "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM schedules WHERE id = ?1)",
                    (schedule_id, period, owner, claimed_at),
                )
                return inserted.rowcount == 1

        return await self._db.run(claim)

    async def aclose(self) -> None:
        await self._db.aclose()


# -- Redis ----------------------------------------------------------------------------------


def _bytes(raw: bytes | str) -> bytes:
    """The client is made without decode_responses (see `redis_backend.redis_client`)."""
    return raw.encode() if isinstance(raw, str) else raw


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


# KEYS: schedule, run claim. ARGV: owner, claim ttl (s). The schedule must still exist.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
return 0
"""


class RedisScheduleStore:
    """`ScheduleStore` shared by every replica on one Redis.

    Keys (under the namespace): `schedule:<id>` holds the schedule as signed JSON (see
    `bot.store.redis_store.Signer`: a forged or edited value reads as absent), `schedules` the set
    of IDs, and `schedule-run:<id>:<period>` the claim of one run (`SET NX`, after checking in
    the same Lua step that the schedule exists), which expires after RUN_CLAIM_TTL.
    """

    def __init__(
        self,
        client: Redis,
        *,
        signer: Signer,
        namespace: str | None = None,
        run_ttl: timedelta = RUN_CLAIM_TTL,
    ) -> None:
        if namespace is None:
            from bot.store.redis_store import NAMESPACE

            namespace = NAMESPACE
        self._client = client
        self._signer = signer
        self._prefix = f"{namespace}schedule:"
        self._index = f"{namespace}schedules"
        self._runs = f"{namespace}schedule-run:"
        self._run_ttl = max(int(run_ttl.total_seconds()), 1)
        self._claim = client.register_script(_CLAIM)

    def _key(self, schedule_id: str) -> str:
        return self._prefix + schedule_id

    def _encode(self, key: str, schedule: Schedule) -> bytes:
        return self._signer.sign(key, schedule.model_dump_json().encode())

    def _decode(self, key: str, raw: bytes | str | None) -> Schedule | None:
        if raw is None:
            return None
        payload = self._signer.open(key, _bytes(raw))
        try:
            if payload is not None:
                return Schedule.model_validate_json(payload)
        except ValidationError:
            pass
        log.warning("ignored a schedule that is not signed by this bot or not valid")
        return None

    async def add(self, schedule: Schedule) -> None:
        key = self._key(schedule.id)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.set(key, self._encode(key, schedule))
            pipe.sadd(self._index, schedule.id)
            await pipe.execute()

    async def list(self, channel: str | None = None) -> builtins.list[Schedule]:
        ids = sorted(_text(member) for member in await self._client.smembers(self._index))
        if not ids:
            return []
        keys = [self._key(schedule_id) for schedule_id in ids]
        values = await self._client.mget(keys)
        found = [
            schedule
            for key, raw in zip(keys, values, strict=True)
            if (schedule := self._decode(key, raw)) is not None
            and (channel is None or schedule.channel == channel)
        ]
        return sorted(found, key=lambda s: (s.created_at, s.id))

    async def get(self, schedule_id: str) -> Schedule | None:
        key = self._key(schedule_id)
        return self._decode(key, await self._client.get(key))

    async def remove(self, schedule_id: str) -> bool:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(schedule_id))
            pipe.srem(self._index, schedule_id)
            deleted, _ = await pipe.execute()
        return bool(deleted)

    async def mark_run(self, schedule_id: str, period: str) -> None:
        from redis.exceptions import WatchError

        key = self._key(schedule_id)
        for _ in range(_MARK_ATTEMPTS):
            async with self._client.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    schedule = self._decode(key, await pipe.get(key))
                    if schedule is None or not _later(schedule.last_run_period, period):
                        return
                    marked = schedule.model_copy(update={"last_run_period": period})
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(key, self._encode(key, marked))
                    await pipe.execute()
                    return
                except WatchError:
                    continue  # changed meanwhile (another mark, a removal): read it again
        raise RuntimeError(f"could not mark a run of schedule {schedule_id}: too much contention")

    async def claim_run(self, schedule_id: str, period: str, owner: str) -> bool:
        run_key = f"{self._runs}{schedule_id}:{period}"
        won = await self._claim(keys=[self._key(schedule_id), run_key], args=[owner, self._run_ttl])
        return bool(won)

    async def aclose(self) -> None:
        """Nothing of its own to close: the client is closed by whoever made it."""
