"""Monthly budgets, and which of their alerts are due.

Slack-free. A `Budget` is an amount per calendar month (UTC) over a scope (`ScopeKind`): a
project, one meter of a project, a payment method (the cost billed to it), the whole
organization, or one Contro usage type. It is set in a channel that hears its alerts, and
may name people who get each alert by direct message too. Its alerts (`BudgetAlert`):

- "spent": the month-to-date cost reaches one of the budget's thresholds (`thresholds`, in
  percent of the amount, 80% and 100% unless given);
- "forecast": the high end of the month-end estimate reaches the budget ("estimate-100%");
- "recovered": a forecast that had reached the budget falls back under it;
- "new-month": the first check of a month tells a budget that had alerts last month that it
  starts afresh.

A budget is in one currency (`BUDGET_CURRENCY`): only the cost in that currency counts against
it (`MonthSpend.figures`); cost in any other currency is never added in, and the alert says it
exists.

Each alert is sent at most once per budget, month and claim (`BudgetAlert.claim`), whichever
replica checks: the store claims it atomically (`BudgetStore.claim_alert`) before anyone
posts. A forecast that crosses, recovers and crosses again is claimed as rounds ("#2"), at most
`MAX_FORECAST_ROUNDS` a month. Setting a budget again or removing it forgets what was sent.
`due_alerts` is the pure rule; `bot.core.scheduled.scheduler` runs it every hour.

Stored budgets are versioned (`BUDGET_VERSION`): a version-1 budget (a project's, before
scopes and threshold lists) reads as a project budget at 80% and 100%, and keeps its key (the
project name), so its alerts already sent this month still count.

Stores: `MemoryBudgetStore` here; the SQLite and Redis ones are in `bot.store`
(`sqlite_budgets`, `redis_budgets`).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import Any, Final, Protocol

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from bot.clock import as_utc, aware_utc
from bot.core.language.commands import (
    BUDGET_CURRENCY,
    DEFAULT_THRESHOLDS,
    BudgetScope,
    ScopeKind,
)
from bot.money import Money, Totals, exact

__all__ = [
    "BUDGET_VERSION",
    "CHECK_FAILED",
    "MAX_FORECAST_ROUNDS",
    "AlertKind",
    "Budget",
    "BudgetAlert",
    "BudgetFigures",
    "BudgetStore",
    "DueAlert",
    "Forecast",
    "MemoryBudgetStore",
    "MonthSpend",
    "budget_key",
    "day_reached",
    "due_alerts",
    "had_alerts",
    "month_key",
    "previous_month",
]

BUDGET_VERSION: Final = 2
MAX_FORECAST_ROUNDS: Final = 3  # a forecast hovering at the budget alerts at most this often
# Not an alert: the claim that this month's failed check was reported in the channel.
CHECK_FAILED: Final = "check-failed"
_HUNDRED: Final = Decimal(100)


class AlertKind(StrEnum):
    SPENT = "spent"
    FORECAST = "forecast"
    RECOVERED = "recovered"
    NEW_MONTH = "new-month"


@dataclass(frozen=True, order=True)
class BudgetAlert:
    kind: AlertKind
    percent: int = 100  # SPENT: the threshold reached
    round: int = 1  # FORECAST / RECOVERED: the n-th this month

    @property
    def claim(self) -> str:
        """Its name in the store: "80%" and "estimate-100%" as before thresholds were lists."""
        suffix = "" if self.round == 1 else f"#{self.round}"
        match self.kind:
            case AlertKind.SPENT:
                return f"{self.percent}%"
            case AlertKind.FORECAST:
                return f"estimate-100%{suffix}"
            case AlertKind.RECOVERED:
                return f"recovered{suffix}"
            case AlertKind.NEW_MONTH:
                return "new-month"

    def __str__(self) -> str:
        return self.claim


class Budget(BaseModel):
    """A monthly budget. JSON-serialisable so that Redis can hold it."""

    model_config = ConfigDict(frozen=True)

    version: int = BUDGET_VERSION
    scope: ScopeKind = ScopeKind.PROJECT
    name: str  # the project (also of a meter), the payment method's ID, the Contro type; or ""
    meter: str | None = None
    label: str | None = None  # how to show `name` when it is an ID (a payment method's name)
    amount: Decimal
    currency: str = BUDGET_CURRENCY
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS  # % of the amount, ascending
    notify: tuple[str, ...] = ()  # Slack user IDs that get each alert by DM too
    channel: str  # where it was set: its alerts go there
    set_by: str
    set_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _migrate(cls, data: Any) -> Any:
        """Version 1 (`{"project": …}`, no version) is a project's budget at 80% and 100%."""
        if isinstance(data, dict) and "version" not in data and "project" in data:
            data = dict(data)
            data.update(name=data.pop("project"), scope=ScopeKind.PROJECT.value)
        return data

    @field_validator("set_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return as_utc(value)

    @field_validator("thresholds")
    @classmethod
    def _sorted(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(p < 1 for p in value):
            raise ValueError("thresholds are percentages from 1")
        return tuple(sorted(set(value)))

    @property
    def key(self) -> str:
        """One budget per key. A project's is its name (as in version 1); the others carry a
        prefix a project name cannot have (`:`)."""
        return budget_key(self.target)

    @property
    def target(self) -> BudgetScope:
        return BudgetScope(self.scope, self.name, self.meter)

    @property
    def project(self) -> str | None:
        """The project it is about (a project's or a meter's budget), else None."""
        return self.name if self.scope in (ScopeKind.PROJECT, ScopeKind.METER) else None


def budget_key(scope: BudgetScope) -> str:
    match scope.kind:
        case ScopeKind.PROJECT:
            return scope.name
        case ScopeKind.METER:
            return f"meter:{scope.name}:{scope.meter}"
        case ScopeKind.ORGANIZATION:
            return "organization:"
        case ScopeKind.PAYMENT_METHOD:
            return f"payment-method:{scope.name}"
        case ScopeKind.CONTRO_TYPE:
            return f"contro:{scope.name}"


@dataclass(frozen=True)
class Forecast:
    """One currency's month-end estimate (`bot.core.reports.estimate`) as a budget reads it:
    the range, and the lower and higher daily averages it was made at."""

    currency: str
    low: Decimal
    high: Decimal
    daily_low: Decimal
    daily_high: Decimal
    today: date  # UTC
    month_end: date  # the first day of next month


@dataclass(frozen=True)
class BudgetFigures:
    """What an alert says: the month, the cost so far, the estimate, the budget."""

    month: str  # "2026-11"
    month_to_date: Decimal
    forecast: Forecast | None  # None: no estimate (a month's first two days, or `no_forecast`)
    amount: Decimal
    currency: str
    # this month's cost in other currencies: never counted against the budget, only told
    other_currencies: tuple[Money, ...] = ()
    no_forecast: str | None = None  # why there is no estimate, beyond the first two days

    @property
    def estimate_high(self) -> Decimal | None:
        return None if self.forecast is None else self.forecast.high

    @property
    def share(self) -> Decimal:
        """Month-to-date cost as a fraction of the budget (1 = all of it)."""
        with exact(rounds=True):
            return self.month_to_date / self.amount

    def reached(self, percent: int = 100) -> tuple[date | None, date | None] | None:
        """When `percent` of the budget is reached at this pace: (at the higher daily
        average, at the lower); each None when not this month. None without a forecast."""
        f = self.forecast
        if f is None:
            return None
        with exact(rounds=True):
            target = self.amount * percent / _HUNDRED
        return (
            day_reached(self.month_to_date, target, f.daily_high, f.today, f.month_end),
            day_reached(self.month_to_date, target, f.daily_low, f.today, f.month_end),
        )


def day_reached(
    spent: Decimal, target: Decimal, per_day: Decimal, today: date, month_end: date
) -> date | None:
    """The day (UTC) the cost reaches `target` at `per_day` after today, as the estimate
    reckons (today's usage so far is in `spent`; each day after adds `per_day`): today if it
    has; None if not before `month_end`."""
    if spent >= target:
        return today
    if per_day <= 0:
        return None
    with exact(rounds=True):
        days = int(((target - spent) / per_day).to_integral_value(ROUND_CEILING))
    if days >= (month_end - today).days:
        return None
    return today + timedelta(days=days)


@dataclass(frozen=True)
class MonthSpend:
    """A budget's month so far as the check reads it: the cost per currency, and each
    currency's month-end forecast (none in a month's first two days)."""

    totals: Totals
    forecasts: tuple[Forecast, ...] = ()
    no_forecast: str | None = None  # why there is none, when not the month's first two days

    def figures(self, budget: Budget, month: str) -> BudgetFigures:
        """The figures in the budget's currency only; the other currencies are listed apart."""
        forecast = next((f for f in self.forecasts if f.currency == budget.currency), None)
        return BudgetFigures(
            month=month,
            month_to_date=self.totals.get(budget.currency).amount,
            forecast=forecast,
            amount=budget.amount,
            currency=budget.currency,
            other_currencies=self.totals.others(budget.currency),
            no_forecast=self.no_forecast,
        )


def month_key(now: datetime) -> str:
    """The month (UTC) a budget check at `now` is about: "2026-11"."""
    return f"{aware_utc(now):%Y-%m}"


def previous_month(month: str) -> str:
    year, number = map(int, month.split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


@dataclass(frozen=True)
class DueAlert:
    alert: BudgetAlert
    post: bool  # False: claimed only, as older news than another alert of the same check


def _rounds(sent: set[str], kind: AlertKind) -> int:
    return sum(
        1 for n in range(1, MAX_FORECAST_ROUNDS + 1) if BudgetAlert(kind, round=n).claim in sent
    )


def due_alerts(budget: Budget, figures: BudgetFigures, already_sent: set[str]) -> list[DueAlert]:
    """The alerts the figures call for that were not sent yet this month: thresholds reached
    (`>=`), lowest first, then the forecast's crossing or recovery.

    Of the thresholds reached at once only the highest is posted (the others are claimed, so
    they never come later); once the budget itself is spent, a forecast crossing is old news
    (claimed, not posted)."""
    spent = figures.month_to_date
    with exact(rounds=True):
        reached = [p for p in budget.thresholds if spent * _HUNDRED >= budget.amount * p]
    new = [p for p in reached if BudgetAlert(AlertKind.SPENT, p).claim not in already_sent]
    due = [DueAlert(BudgetAlert(AlertKind.SPENT, p), post=p == new[-1]) for p in new]
    high = figures.estimate_high
    if high is None:
        return due
    crossings, recoveries = (
        _rounds(already_sent, k) for k in (AlertKind.FORECAST, AlertKind.RECOVERED)
    )
    over = crossings > recoveries
    if high >= budget.amount and not over and crossings < MAX_FORECAST_ROUNDS:
        alert = BudgetAlert(AlertKind.FORECAST, round=crossings + 1)
        due.append(DueAlert(alert, post=spent < budget.amount))
    elif high < budget.amount and over:
        due.append(DueAlert(BudgetAlert(AlertKind.RECOVERED, round=recoveries + 1), post=True))
    return due


def had_alerts(sent: set[str]) -> bool:
    """Whether a month's claims hold an alert (not only a failed check's notice)."""
    return any(claim not in (CHECK_FAILED, "new-month") for claim in sent)


# -- stores ---------------------------------------------------------------------------------


class BudgetStore(Protocol):
    async def set(self, budget: Budget) -> None:
        """Add or replace the budget with its key; forget the alerts sent for the old one."""

    async def get(self, key: str) -> Budget | None: ...

    async def list(self) -> builtins.list[Budget]:
        """Every budget, by key."""

    async def remove(self, key: str) -> bool:
        """False when there was no budget with that key."""

    async def sent(self, key: str, month: str) -> builtins.set[str]:
        """The claims already made for the budget that month."""

    async def claim_alert(self, key: str, month: str, claim: str) -> bool:
        """True for exactly one caller per (key, month, claim), across every process sharing
        the store; False for the others, and for a key without a budget. A claim forgets
        the budget's claims of other months."""

    async def aclose(self) -> None: ...


class MemoryBudgetStore:
    """In-process store: no await between a check and its update, so each is atomic."""

    def __init__(self) -> None:
        self._budgets: dict[str, Budget] = {}
        self._sent: dict[str, dict[str, builtins.set[str]]] = {}  # key -> month -> sent

    async def set(self, budget: Budget) -> None:
        self._budgets[budget.key] = budget
        self._sent.pop(budget.key, None)

    async def get(self, key: str) -> Budget | None:
        return self._budgets.get(key)

    async def list(self) -> builtins.list[Budget]:
        return [self._budgets[key] for key in sorted(self._budgets)]

    async def remove(self, key: str) -> bool:
        self._sent.pop(key, None)
        return self._budgets.pop(key, None) is not None

    async def sent(self, key: str, month: str) -> builtins.set[str]:
        return builtins.set(self._sent.get(key, {}).get(month, ()))

    async def claim_alert(self, key: str, month: str, claim: str) -> bool:
        if key not in self._budgets:
            return False
        months = self._sent.setdefault(key, {})
        sent = months.setdefault(month, builtins.set())
        if claim in sent:
            return False
        sent.add(claim)
        for other in [m for m in months if m != month]:
            del months[other]
        return True

    async def aclose(self) -> None:
        pass
