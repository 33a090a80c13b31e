"""`AnomalyStore` in SQLite (the schedules' file, `SQLITE_PATH`)."""

from __future__ import annotations

import builtins
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.clock import Clock, utc_now
from bot.core.watch.lifecycle import Anomaly, Update
from bot.store.sqlite import SqliteDatabase, write

if TYPE_CHECKING:
    import sqlite3

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS anomaly_channels (channel TEXT PRIMARY KEY)",
    """CREATE TABLE IF NOT EXISTS anomalies (
        id TEXT PRIMARY KEY,
        series TEXT NOT NULL,
        day TEXT NOT NULL,
        open INTEGER NOT NULL,
        data TEXT NOT NULL
    )""",
    # at most one open anomaly per series: the claim that lets one process post it
    "CREATE UNIQUE INDEX IF NOT EXISTS anomalies_open ON anomalies (series) WHERE open = 1",
    "CREATE INDEX IF NOT EXISTS anomalies_series ON anomalies (series, day)",
    """CREATE TABLE IF NOT EXISTS anomaly_events (
        id TEXT NOT NULL,
        event TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (id, event)
    )""",
    # the latest day a check judged: one row
    """CREATE TABLE IF NOT EXISTS anomaly_judged (
        only INTEGER PRIMARY KEY CHECK (only = 1),
        day TEXT NOT NULL
    )""",
)


def _read(row: tuple[str] | None) -> Anomaly | None:
    return None if row is None else Anomaly.model_validate_json(row[0])


class SqliteAnomalyStore:
    """`AnomalyStore` in one SQLite file, which several processes may share. A new anomaly is
    claimed by inserting it under the partial UNIQUE index on open anomalies per series; a
    change by inserting (id, event) under its primary key, in the same write transaction as
    the change: exactly one of them lands."""

    def __init__(self, path: str | Path, *, clock: Clock = utc_now, timeout: float = 30.0) -> None:
        self._db = SqliteDatabase(path, _SCHEMA, timeout=timeout)
        self._clock = clock

    async def channels(self) -> builtins.list[str]:
        def select(connection: sqlite3.Connection) -> builtins.list[str]:
            rows = connection.execute("SELECT channel FROM anomaly_channels ORDER BY channel")
            return [channel for (channel,) in rows.fetchall()]

        return await self._db.run(select)

    async def set_channel(self, channel: str, on: bool) -> bool:
        def apply(connection: sqlite3.Connection) -> bool:
            with write(connection):
                if on:
                    done = connection.execute(
                        "INSERT OR IGNORE INTO anomaly_channels (channel) VALUES (?)", (channel,)
                    )
                else:
                    done = connection.execute(
                        "DELETE FROM anomaly_channels WHERE channel = ?", (channel,)
                    )
                return done.rowcount > 0

        return await self._db.run(apply)

    async def open(self, anomaly: Anomaly) -> bool:
        def insert(connection: sqlite3.Connection) -> bool:
            with write(connection):
                done = connection.execute(
                    "INSERT OR IGNORE INTO anomalies (id, series, day, open, data) "
                    "VALUES (?, ?, ?, 1, ?)",
                    (
                        anomaly.id,
                        anomaly.series,
                        anomaly.day.isoformat(),
                        anomaly.model_dump_json(),
                    ),
                )
                return done.rowcount == 1

        return await self._db.run(insert)

    async def get(self, anomaly_id: str) -> Anomaly | None:
        def select(connection: sqlite3.Connection) -> Anomaly | None:
            row = connection.execute("SELECT data FROM anomalies WHERE id = ?", (anomaly_id,))
            return _read(row.fetchone())

        return await self._db.run(select)

    async def latest(self, series: str) -> Anomaly | None:
        def select(connection: sqlite3.Connection) -> Anomaly | None:
            row = connection.execute(
                "SELECT data FROM anomalies WHERE series = ? ORDER BY day DESC LIMIT 1", (series,)
            )
            return _read(row.fetchone())

        return await self._db.run(select)

    async def list_open(self) -> builtins.list[Anomaly]:
        def select(connection: sqlite3.Connection) -> builtins.list[Anomaly]:
            rows = connection.execute("SELECT data FROM anomalies WHERE open = 1 ORDER BY day, id")
            return [Anomaly.model_validate_json(data) for (data,) in rows.fetchall()]

        return await self._db.run(select)

    async def open_count(self) -> int:
        def count(connection: sqlite3.Connection) -> int:
            (found,) = connection.execute(
                "SELECT COUNT(*) FROM anomalies WHERE open = 1"
            ).fetchone()
            return int(found)

        return await self._db.run(count)

    async def change(self, anomaly_id: str, event: str, update: Update) -> Anomaly | None:
        at: datetime = self._clock()

        def apply(connection: sqlite3.Connection) -> Anomaly | None:
            with write(connection):
                current = _read(
                    connection.execute(
                        "SELECT data FROM anomalies WHERE id = ?", (anomaly_id,)
                    ).fetchone()
                )
                if current is None:
                    return None
                seen = connection.execute(
                    "SELECT 1 FROM anomaly_events WHERE id = ? AND event = ?", (anomaly_id, event)
                ).fetchone()
                if seen is not None:
                    return None
                new = update(current)
                if new is None:
                    return None
                connection.execute(
                    "INSERT INTO anomaly_events (id, event, at) VALUES (?, ?, ?)",
                    (anomaly_id, event, at.isoformat()),
                )
                connection.execute(
                    "UPDATE anomalies SET data = ?, open = ? WHERE id = ?",
                    (new.model_dump_json(), int(new.open), anomaly_id),
                )
                return new

        return await self._db.run(apply)

    async def judged(self) -> date | None:
        def select(connection: sqlite3.Connection) -> date | None:
            row = connection.execute("SELECT day FROM anomaly_judged").fetchone()
            return None if row is None else date.fromisoformat(row[0])

        return await self._db.run(select)

    async def set_judged(self, day: date) -> None:
        def upsert(connection: sqlite3.Connection) -> None:
            with write(connection):  # ISO dates compare as text
                connection.execute(
                    "INSERT INTO anomaly_judged (only, day) VALUES (1, ?) ON CONFLICT (only) "
                    "DO UPDATE SET day = max(day, excluded.day)",
                    (day.isoformat(),),
                )

        await self._db.run(upsert)

    async def ping(self) -> bool:
        return await self._db.ping()

    async def aclose(self) -> None:
        await self._db.aclose()
