"""`ExpiryClaims` in SQLite (the schedules' file, `SQLITE_PATH`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.clock import Clock, utc_now
from bot.store.sqlite import SqliteDatabase, write

if TYPE_CHECKING:
    import sqlite3

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS claims (
        key TEXT PRIMARY KEY,
        until TEXT NOT NULL
    )""",
)


class SqliteClaims:
    """Once-only claims in one SQLite file that several processes may share: a claim is an
    insert under the key's PRIMARY KEY, so exactly one lands; lapsed ones are deleted first."""

    def __init__(self, path: str | Path, *, clock: Clock = utc_now, timeout: float = 30.0) -> None:
        self._db = SqliteDatabase(path, _SCHEMA, timeout=timeout)
        self._clock = clock

    async def claim(self, key: str, keep: timedelta) -> bool:
        now = self._clock()

        def insert(connection: sqlite3.Connection) -> bool:
            with write(connection):
                connection.execute("DELETE FROM claims WHERE until <= ?", (now.isoformat(),))
                inserted = connection.execute(
                    "INSERT OR IGNORE INTO claims (key, until) VALUES (?, ?)",
                    (key, (now + keep).isoformat()),
                )
                return inserted.rowcount == 1

        return await self._db.run(insert)

    async def aclose(self) -> None:
        await self._db.aclose()
