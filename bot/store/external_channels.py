"""The channels shared with another organization (Slack Connect) that a billing admin allowed
billing data in (`/billing allow-external-channel`): in this process, in SQLite
(`SQLITE_PATH`, the schedules' file) or in Redis (`REDIS_URL`, in
`bot.store.redis_external_channels`), like the other settings."""

from __future__ import annotations

import builtins
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from bot.store.sqlite import SqliteDatabase, write


class AllowedChannel(BaseModel):
    """Who allowed billing data in `channel`, and when (UTC)."""

    channel: str
    allowed_by: str
    allowed_at: datetime


class ExternalChannelStore(Protocol):
    async def allow(self, entry: AllowedChannel) -> None: ...
    async def revoke(self, channel: str) -> bool:
        """False when the channel was not allowed."""

    async def get(self, channel: str) -> AllowedChannel | None: ...
    async def list(self) -> builtins.list[AllowedChannel]: ...


class MemoryExternalChannelStore:
    def __init__(self) -> None:
        self._allowed: dict[str, AllowedChannel] = {}

    async def allow(self, entry: AllowedChannel) -> None:
        self._allowed[entry.channel] = entry

    async def revoke(self, channel: str) -> bool:
        return self._allowed.pop(channel, None) is not None

    async def get(self, channel: str) -> AllowedChannel | None:
        return self._allowed.get(channel)

    async def list(self) -> builtins.list[AllowedChannel]:
        return sorted(self._allowed.values(), key=lambda e: e.channel)


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS external_channels (
        channel TEXT PRIMARY KEY,
        allowed_by TEXT NOT NULL,
        allowed_at TEXT NOT NULL
    )""",
)


def _entry(row: tuple[str, str, str]) -> AllowedChannel:
    channel, by, at = row
    return AllowedChannel(channel=channel, allowed_by=by, allowed_at=datetime.fromisoformat(at))


class SqliteExternalChannelStore:
    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        self._db = SqliteDatabase(path, _SCHEMA, timeout=timeout)

    async def allow(self, entry: AllowedChannel) -> None:
        def upsert(connection: sqlite3.Connection) -> None:
            with write(connection):
                connection.execute(
                    "INSERT OR REPLACE INTO external_channels (channel, allowed_by, allowed_at) "
                    "VALUES (?, ?, ?)",
                    (entry.channel, entry.allowed_by, entry.allowed_at.isoformat()),
                )

        await self._db.run(upsert)

    async def revoke(self, channel: str) -> bool:
        def delete(connection: sqlite3.Connection) -> bool:
            with write(connection):
                cursor = connection.execute(
                    "DELETE FROM external_channels WHERE channel = ?", (channel,)
                )
            return cursor.rowcount > 0

        return await self._db.run(delete)

    async def get(self, channel: str) -> AllowedChannel | None:
        def select(connection: sqlite3.Connection) -> AllowedChannel | None:
            row = connection.execute(
                "SELECT channel, allowed_by, allowed_at FROM external_channels WHERE channel = ?",
                (channel,),
            ).fetchone()
            return None if row is None else _entry(row)

        return await self._db.run(select)

    async def list(self) -> builtins.list[AllowedChannel]:
        def select(connection: sqlite3.Connection) -> builtins.list[AllowedChannel]:
            rows = connection.execute(
                "SELECT channel, allowed_by, allowed_at FROM external_channels ORDER BY channel"
            ).fetchall()
            return [_entry(row) for row in rows]

        return await self._db.run(select)

    async def ping(self) -> bool:
        return await self._db.ping()

    async def aclose(self) -> None:
        await self._db.aclose()
