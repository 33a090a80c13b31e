"""`ScheduleStore` in SQLite (the default, `SQLITE_PATH`; safe for several processes on one
file)."""

from __future__ import annotations

import builtins
import sqlite3
from datetime import datetime
from pathlib import Path

from bot.clock import Clock, utc_now
from bot.core.language.commands import Frequency
from bot.core.scheduled.schedules import Schedule
from bot.store.sqlite import SqliteDatabase, write

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

    async def ping(self) -> bool:
        return await self._db.ping()

    async def aclose(self) -> None:
        await self._db.aclose()
