"""Monthly budgets per project, and which of their alerts are due.

Slack-free. A `Budget` is an amount per calendar month (UTC) for one project, set in a channel
that hears its alerts. Three thresholds are watched (`Threshold`):

- "80%" and "100%": the month-to-date cost reaches 80% / 100% of the budget;
- "estimate-100%": the high end of the month-end estimate reaches the budget.

A budget is in one currency (`BUDGET_CURRENCY`): only the cost in that currency counts against
it (`MonthSpend.figures`); cost in any other currency is never added in, and the alert says it
exists.

Each is sent at most once per project, month and threshold, whichever replica checks: the
store claims it atomically (`BudgetStore.claim_alert`) before anyone posts. Setting a budget
again (a new amount) or removing it forgets what was sent, so a new budget starts afresh.
`crossed` is the pure rule; `bot.core.scheduled.scheduler` runs it every hour.
"""

from __future__ import annotations

import builtins
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bot.clock import Clock, utc_now
from bot.core.language.commands import BUDGET_CURRENCY
from bot.core.scheduled.schedules import SqliteDatabase, write
from bot.money import Money, Totals

if TYPE_CHECKING:
    import sqlite3

    from redis.asyncio import Redis

    from bot.store.redis_store import Signer

__all__ = [
    "Budget",
    "BudgetFigures",
    "BudgetStore",
    "MemoryBudgetStore",
    "MonthSpend",
    "RedisBudgetStore",
    "SqliteBudgetStore",
    "Threshold",
    "crossed",
    "month_key",
    "worth_posting",
]

log = logging.getLogger(__name__)

WARNING_SHARE: Final = Decimal("0.8")
# Redis forgets a project's sent alerts this long after the last one: longer than a month.
ALERT_MEMORY: Final = timedelta(days=40)


class Threshold(StrEnum):
    SPENT_80 = "80%"
    SPENT_100 = "100%"
    ESTIMATE_100 = "estimate-100%"
    # Not a threshold: the claim that this month's failed check was reported in the channel.
    CHECK_FAILED = "check-failed"


class Budget(BaseModel):
    """A project's monthly budget. JSON-serialisable so that Redis can hold it."""

    model_config = ConfigDict(frozen=True)

    project: str
    amount: Decimal
    currency: str = BUDGET_CURRENCY
    channel: str  # where it was set: its alerts go there
    set_by: str
    set_at: datetime

    @field_validator("set_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class BudgetFigures:
    """What an alert says: the month, the cost so far, the estimate's high end, the budget."""

    month: str  # "2026-11"
    month_to_date: Decimal
    estimate_high: Decimal | None  # None: no estimate yet (the first days of a month)
    amount: Decimal
    currency: str
    # this month's cost in other currencies: never counted against the budget, only told
    other_currencies: tuple[Money, ...] = ()

    @property
    def share(self) -> Decimal:
        """Month-to-date cost as a fraction of the budget (1 = all of it)."""
        return self.month_to_date / self.amount


@dataclass(frozen=True)
class MonthSpend:
    """A project's month so far as the budget check reads it: the cost per currency, and the
    high end of each currency's month-end estimate (none in a month's first two days)."""

    totals: Totals
    estimate_highs: tuple[Money, ...] = ()

    def figures(self, budget: Budget, month: str) -> BudgetFigures:
        """The figures in the budget's currency only; the other currencies are listed apart."""
        high = next((m.amount for m in self.estimate_highs if m.currency == budget.currency), None)
        return BudgetFigures(
            month=month,
            month_to_date=self.totals.get(budget.currency).amount,
            estimate_high=high,
            amount=budget.amount,
            currency=budget.currency,
            other_currencies=self.totals.others(budget.currency),
        )


def month_key(now: datetime) -> str:
    """The month (UTC) a budget check at `now` is about: "2026-11"."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("a time without a time zone: use an aware datetime (UTC)")
    return f"{now.astimezone(UTC):%Y-%m}"


def crossed(
    budget: Budget,
    month_to_date: Decimal,
    estimate_high: Decimal | None,
    already_sent: set[str],
) -> list[Threshold]:
    """The thresholds the figures reach (`>=`) that were not sent yet this month, in the
    order 80%, 100%, estimate-100%."""
    reached: list[Threshold] = []
    if month_to_date >= budget.amount * WARNING_SHARE:
        reached.append(Threshold.SPENT_80)
    if month_to_date >= budget.amount:
        reached.append(Threshold.SPENT_100)
    if estimate_high is not None and estimate_high >= budget.amount:
        reached.append(Threshold.ESTIMATE_100)
    return [threshold for threshold in reached if threshold.value not in already_sent]


def worth_posting(threshold: Threshold, budget: Budget, month_to_date: Decimal) -> bool:
    """Once the month's cost has reached the budget, "80%" and the estimate are old news: they
    are claimed (so they never come later) but only "100%" is posted."""
    return threshold is Threshold.SPENT_100 or month_to_date < budget.amount


# -- stores ---------------------------------------------------------------------------------


class BudgetStore(Protocol):
    async def set(self, budget: Budget) -> None:
        """Add or replace the project's budget; forget the alerts sent for the old one."""

    async def get(self, project: str) -> Budget | None: ...

    async def list(self) -> builtins.list[Budget]:
        """Every budget, by project."""

    async def remove(self, project: str) -> bool:
        """False when the project had no budget."""

    async def sent(self, project: str, month: str) -> builtins.set[str]:
        """The thresholds already claimed for the project this month."""

    async def claim_alert(self, project: str, month: str, threshold: Threshold) -> bool:
        """True for exactly one caller per (project, month, threshold), across every process
        sharing the store; False for the others, and for a project without a budget."""

    async def aclose(self) -> None: ...


class MemoryBudgetStore:
    """In-process store: no await between a check and its update, so each is atomic."""

    def __init__(self) -> None:
        self._budgets: dict[str, Budget] = {}
        self._sent: dict[str, dict[str, builtins.set[str]]] = {}  # project -> month -> sent

    async def set(self, budget: Budget) -> None:
        self._budgets[budget.project] = budget
        self._sent.pop(budget.project, None)

    async def get(self, project: str) -> Budget | None:
        return self._budgets.get(project)

    async def list(self) -> builtins.list[Budget]:
        return [self._budgets[project] for project in sorted(self._budgets)]

    async def remove(self, project: str) -> bool:
        self._sent.pop(project, None)
        return self._budgets.pop(project, None) is not None

    async def sent(self, project: str, month: str) -> builtins.set[str]:
        return builtins.set(self._sent.get(project, {}).get(month, ()))

    async def claim_alert(self, project: str, month: str, threshold: Threshold) -> bool:
        if project not in self._budgets:
            return False
        months = self._sent.setdefault(project, {})
        sent = months.setdefault(month, builtins.set())
        if threshold.value in sent:
            return False
        sent.add(threshold.value)
        for other in [m for m in months if m != month]:
            del months[other]
        return True

    async def aclose(self) -> None:
        pass


# -- SQLite ---------------------------------------------------------------------------------

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

    async def aclose(self) -> None:
        await self._db.aclose()


# -- Redis ----------------------------------------------------------------------------------

# KEYS: budget, sent alerts (a hash "<month>:<threshold>" -> sent at).
# ARGV: field, month, sent at, memory (s). Only for an existing budget; older months go.
_CLAIM_ALERT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[3]) == 0 then return 0 end
local prefix = ARGV[2] .. ':'
for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
  if string.sub(field, 1, #prefix) ~= prefix then redis.call('HDEL', KEYS[2], field) end
end
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""


def _bytes(raw: bytes | str) -> bytes:
    return raw.encode() if isinstance(raw, str) else raw


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


class RedisBudgetStore:
    """`BudgetStore` shared by every replica on one Redis.

    Keys (under the namespace): `budget:<project>` holds the budget as signed JSON (a forged
    or edited value reads as absent), `budgets` the set of projects, and
    `budget-alerts:<project>` a hash of the alerts sent, `<month>:<threshold>`, claimed with
    HSETNX in a Lua step that also checks the budget exists.
    """

    def __init__(
        self,
        client: Redis,
        *,
        signer: Signer,
        namespace: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        if namespace is None:
            from bot.store.redis_store import NAMESPACE

            namespace = NAMESPACE
        self._client = client
        self._signer = signer
        self._prefix = f"{namespace}budget:"
        self._index = f"{namespace}budgets"
        self._alerts = f"{namespace}budget-alerts:"
        self._clock = clock
        self._memory = max(int(ALERT_MEMORY.total_seconds()), 1)
        self._claim = client.register_script(_CLAIM_ALERT)

    def _key(self, project: str) -> str:
        return self._prefix + project

    def _decode(self, key: str, raw: bytes | str | None) -> Budget | None:
        if raw is None:
            return None
        payload = self._signer.open(key, _bytes(raw))
        try:
            if payload is not None:
                return Budget.model_validate_json(payload)
        except ValidationError:
            pass
        log.warning("ignored a budget that is not signed by this bot or not valid")
        return None

    async def set(self, budget: Budget) -> None:
        key = self._key(budget.project)
        blob = self._signer.sign(key, budget.model_dump_json().encode())
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.set(key, blob)
            pipe.sadd(self._index, budget.project)
            pipe.delete(self._alerts + budget.project)
            await pipe.execute()

    async def get(self, project: str) -> Budget | None:
        key = self._key(project)
        return self._decode(key, await self._client.get(key))

    async def list(self) -> builtins.list[Budget]:
        projects = sorted(_text(member) for member in await self._client.smembers(self._index))
        if not projects:
            return []
        keys = [self._key(project) for project in projects]
        values = await self._client.mget(keys)
        return [
            budget
            for key, raw in zip(keys, values, strict=True)
            if (budget := self._decode(key, raw)) is not None
        ]

    async def remove(self, project: str) -> bool:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(project))
            pipe.srem(self._index, project)
            pipe.delete(self._alerts + project)
            deleted, _, _ = await pipe.execute()
        return bool(deleted)

    async def sent(self, project: str, month: str) -> builtins.set[str]:
        fields = await self._client.hkeys(self._alerts + project)
        prefix = f"{month}:"
        return {text.removeprefix(prefix) for text in map(_text, fields) if text.startswith(prefix)}

    async def claim_alert(self, project: str, month: str, threshold: Threshold) -> bool:
        won = await self._claim(
            keys=[self._key(project), self._alerts + project],
            args=[f"{month}:{threshold.value}", month, self._clock().isoformat(), self._memory],
        )
        return bool(won)

    async def aclose(self) -> None:
        """Nothing of its own to close: the client is closed by whoever made it."""
