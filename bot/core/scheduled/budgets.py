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

Stores: `MemoryBudgetStore` here; the SQLite and Redis ones are in `bot.store`
(`sqlite_budgets`, `redis_budgets`).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final, Protocol

from pydantic import BaseModel, ConfigDict, field_validator

from bot.clock import as_utc, aware_utc
from bot.core.language.commands import BUDGET_CURRENCY
from bot.money import Money, Totals

__all__ = [
    "Budget",
    "BudgetFigures",
    "BudgetStore",
    "MemoryBudgetStore",
    "MonthSpend",
    "Threshold",
    "crossed",
    "month_key",
    "worth_posting",
]

WARNING_SHARE: Final = Decimal("0.8")


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
        return as_utc(value)


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
    return f"{aware_utc(now):%Y-%m}"


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
