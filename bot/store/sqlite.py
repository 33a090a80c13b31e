"""One SQLite file shared by asyncio code and by several processes (the schedule and budget
stores' `SQLITE_PATH`)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final, TypeVar

T = TypeVar("T")

# A local file that takes longer than this to read is a stuck disk: unhealthy.
HEALTH_TIMEOUT_SECONDS: Final = 5.0


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

    async def ping(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Whether the file can be opened (its schema made) and read within `timeout` (default
        HEALTH_TIMEOUT_SECONDS, read now)."""

        def read(connection: sqlite3.Connection) -> None:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()

        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS if timeout is None else timeout):
                await self.run(read)
        except (sqlite3.Error, OSError, RuntimeError, TimeoutError):
            return False
        return True

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
