"""`BudgetStore` in SQLite (the schedules' file, `SQLITE_PATH`)."""

from __future__ import annotations

import builtins
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from bot.clock import Clock, utc_now
from bot.core.scheduled.budgets import Budget, Threshold
from bot.store.sqlite import SqliteDatabase, write

if TYPE_CHECKING:
    import sqlite3

_BUDGET_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS budgets (
        project TEXT PRIMARY KEY,
        amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        channel TEXT NOT NULL,
        set_by TEXT NOT NULL,
        set_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS budget_alerts (
        project TEXT NOT NULL,
        month TEXT NOT NULL,
        threshold TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        UNIQUE (project, month, threshold)
    )""",
)
_BUDGET_COLUMNS = "project, amount, currency, channel, set_by, set_at"


def _budget_row(row: tuple[str, ...]) -> Budget:
    project, amount, currency, channel, set_by, set_at = row
    return Budget(
        project=project,
        amount=Decimal(amount),
        currency=currency,
        channel=channel,
        set_by=set_by,
        set_at=datetime.fromisoformat(set_at),
    )


class SqliteBudgetStore:
    """`BudgetStore` in one SQLite file (the schedules' file will do), which several
    processes may share. An alert is claimed by inserting (project, month, threshold) under
    its UNIQUE constraint: exactly one insert lands."""

    def __init__(self, path: str | Path, *, clock: Clock = utc_now, timeout: float = 30.0) -> None:
        self._db = SqliteDatabase(path, _BUDGET_SCHEMA, timeout=timeout)
        self._clock = clock

    async def set(self, budget: Budget) -> None:
        def upsert(connection: sqlite3.Connection) -> None:
            with write(connection):
                connection.execute(
                    f"INSERT OR REPLACE INTO budgets ({_BUDGET_COLUMNS}) "  # noqa: S608 - constant columns
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        budget.project,
                        str(budget.amount),
                        budget.currency,
                        budget.channel,
                        budget.set_by,
                        budget.set_at.isoformat(),
                    ),
                )
                connection.execute("DELETE FROM budget_alerts WHERE project = ?", (budget.project,))

        await self._db.run(upsert)

    async def get(self, project: str) -> Budget | None:
        def select(connection: sqlite3.Connection) -> Budget | None:
            row = connection.execute(
                f"SELECT {_BUDGET_COLUMNS} FROM budgets WHERE project = ?",  # noqa: S608 - constant columns
                (project,),
            ).fetchone()
            return None if row is None else _budget_row(row)

        return await self._db.run(select)

    async def list(self) -> builtins.list[Budget]:
        def select(connection: sqlite3.Connection) -> builtins.list[Budget]:
            rows = connection.execute(
                f"SELECT {_BUDGET_COLUMNS} FROM budgets ORDER BY project"  # noqa: S608 - constant columns
            ).fetchall()
            return [_budget_row(row) for row in rows]

        return await self._db.run(select)

    async def remove(self, project: str) -> bool:
        def delete(connection: sqlite3.Connection) -> bool:
            with write(connection):
                removed = connection.execute("DELETE FROM budgets WHERE project = ?", (project,))
                connection.execute("DELETE FROM budget_alerts WHERE project = ?", (project,))
                return removed.rowcount > 0

        return await self._db.run(delete)

    async def sent(self, project: str, month: str) -> builtins.set[str]:
        def select(connection: sqlite3.Connection) -> builtins.set[str]:
            rows = connection.execute(
                "SELECT threshold FROM budget_alerts WHERE project = ? AND month = ?",
                (project, month),
            ).fetchall()
            return {threshold for (threshold,) in rows}

        return await self._db.run(select)

    async def claim_alert(self, project: str, month: str, threshold: Threshold) -> bool:
        sent_at = self._clock().isoformat()

        def claim(connection: sqlite3.Connection) -> bool:
            with write(connection):
                inserted = connection.execute(
                    "INSERT OR IGNORE INTO budget_alerts (project, month, threshold, sent_at) "
                    "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM budgets WHERE project = ?1)",
                    (project, month, threshold.value, sent_at),
                )
                if inserted.rowcount != 1:
                    return False
                connection.execute(
                    "DELETE FROM budget_alerts WHERE project = ? AND month <> ?", (project, month)
                )
                return True

        return await self._db.run(claim)

    async def ping(self) -> bool:
        return await self._db.ping()

    async def aclose(self) -> None:
        await self._db.aclose()
