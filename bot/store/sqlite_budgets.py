"""`BudgetStore` in SQLite (the schedules' file, `SQLITE_PATH`), with the migration of
version-1 rows."""

from __future__ import annotations

import builtins
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from bot.clock import Clock, utc_now
from bot.core.language.commands import ScopeKind
from bot.core.scheduled.budgets import Budget
from bot.store.sqlite import SqliteDatabase, write

if TYPE_CHECKING:
    import sqlite3

# Version 1 kept one project's budget per row of `budgets`; version 2 rows (`budgets_v2`) are
# keyed by `Budget.key`, which is the project name for a project's budget. Each open moves
# any version-1 row over (the same key, so the alerts claimed under it still count) and
# empties the old table, in the schema's one write transaction.
_BUDGET_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS budgets (
        project TEXT PRIMARY KEY,
        amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        channel TEXT NOT NULL,
        set_by TEXT NOT NULL,
        set_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS budgets_v2 (
        key TEXT PRIMARY KEY,
        scope TEXT NOT NULL,
        name TEXT NOT NULL,
        meter TEXT,
        label TEXT,
        amount TEXT NOT NULL,
        currency TEXT NOT NULL,
        thresholds TEXT NOT NULL,
        notify TEXT NOT NULL,
        channel TEXT NOT NULL,
        set_by TEXT NOT NULL,
        set_at TEXT NOT NULL
    )""",
    """INSERT OR IGNORE INTO budgets_v2
        SELECT project, 'project', project, NULL, NULL, amount, currency, '80,100', '',
               channel, set_by, set_at
        FROM budgets""",
    "DELETE FROM budgets",
    # `project` holds the budget's key (a project's name for a project's budget)
    """CREATE TABLE IF NOT EXISTS budget_alerts (
        project TEXT NOT NULL,
        month TEXT NOT NULL,
        threshold TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        UNIQUE (project, month, threshold)
    )""",
)
_BUDGET_COLUMNS = (
    "key, scope, name, meter, label, amount, currency, thresholds, notify, channel, set_by, set_at"
)


def _budget_row(row: tuple[str, ...]) -> Budget:
    (
        _,
        scope,
        name,
        meter,
        label,
        amount,
        currency,
        thresholds,
        notify,
        channel,
        set_by,
        set_at,
    ) = row
    return Budget(
        scope=ScopeKind(scope),
        name=name,
        meter=meter,
        label=label,
        amount=Decimal(amount),
        currency=currency,
        thresholds=tuple(int(p) for p in thresholds.split(",")),
        notify=tuple(u for u in notify.split(",") if u),
        channel=channel,
        set_by=set_by,
        set_at=datetime.fromisoformat(set_at),
    )


def _values(budget: Budget) -> tuple[str | None, ...]:
    return (
        budget.key,
        budget.scope.value,
        budget.name,
        budget.meter,
        budget.label,
        str(budget.amount),
        budget.currency,
        ",".join(map(str, budget.thresholds)),
        ",".join(budget.notify),
        budget.channel,
        budget.set_by,
        budget.set_at.isoformat(),
    )


class SqliteBudgetStore:
    """`BudgetStore` in one SQLite file (the schedules' file will do), which several
    processes may share. An alert is claimed by inserting (key, month, claim) under its UNIQUE
    constraint: exactly one insert lands."""

    def __init__(self, path: str | Path, *, clock: Clock = utc_now, timeout: float = 30.0) -> None:
        self._db = SqliteDatabase(path, _BUDGET_SCHEMA, timeout=timeout)
        self._clock = clock

    async def set(self, budget: Budget) -> None:
        def upsert(connection: sqlite3.Connection) -> None:
            with write(connection):
                connection.execute(
                    f"INSERT OR REPLACE INTO budgets_v2 ({_BUDGET_COLUMNS}) "  # noqa: S608 - constant columns
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _values(budget),
                )
                connection.execute("DELETE FROM budget_alerts WHERE project = ?", (budget.key,))

        await self._db.run(upsert)

    async def get(self, key: str) -> Budget | None:
        def select(connection: sqlite3.Connection) -> Budget | None:
            row = connection.execute(
                f"SELECT {_BUDGET_COLUMNS} FROM budgets_v2 WHERE key = ?",  # noqa: S608 - constant columns
                (key,),
            ).fetchone()
            return None if row is None else _budget_row(row)

        return await self._db.run(select)

    async def list(self) -> builtins.list[Budget]:
        def select(connection: sqlite3.Connection) -> builtins.list[Budget]:
            rows = connection.execute(
                f"SELECT {_BUDGET_COLUMNS} FROM budgets_v2 ORDER BY key"  # noqa: S608 - constant columns
            ).fetchall()
            return [_budget_row(row) for row in rows]

        return await self._db.run(select)

    async def remove(self, key: str) -> bool:
        def delete(connection: sqlite3.Connection) -> bool:
            with write(connection):
                removed = connection.execute("DELETE FROM budgets_v2 WHERE key = ?", (key,))
                connection.execute("DELETE FROM budget_alerts WHERE project = ?", (key,))
                return removed.rowcount > 0

        return await self._db.run(delete)

    async def sent(self, key: str, month: str) -> builtins.set[str]:
        def select(connection: sqlite3.Connection) -> builtins.set[str]:
            rows = connection.execute(
                "SELECT threshold FROM budget_alerts WHERE project = ? AND month = ?",
                (key, month),
            ).fetchall()
            return {threshold for (threshold,) in rows}

        return await self._db.run(select)

    async def claim_alert(self, key: str, month: str, claim: str) -> bool:
        sent_at = self._clock().isoformat()

        def insert(connection: sqlite3.Connection) -> bool:
            with write(connection):
                inserted = connection.execute(
                    "INSERT OR IGNORE INTO budget_alerts (project, month, threshold, sent_at) "
                    "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM budgets_v2 WHERE key = ?1)",
                    (key, month, claim, sent_at),
                )
                if inserted.rowcount != 1:
                    return False
                connection.execute(
                    "DELETE FROM budget_alerts WHERE project = ? AND month <> ?", (key, month)
                )
                return True

        return await self._db.run(insert)

    async def ping(self) -> bool:
        return await self._db.ping()

    async def aclose(self) -> None:
        await self._db.aclose()
