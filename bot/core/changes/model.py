"""Billing changes, made like a payments system: previewed, stored server-side under an
unguessable ID, confirmed once by the admin who asked, within ten minutes, then acted on
exactly once after re-reading the current state.

Slack-free: `ChangeService` takes user IDs and returns outcomes; `bot.slack.handlers.changes`
renders.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from bot.apis.mkio.models import MetricsEndpoint, PaymentMethod, RateCard, RatePrice
from bot.errors import CommandError
from bot.money import Totals

CONFIRMATION_TTL = timedelta(minutes=10)
# How long a confirmed change may take to be made (the re-read and MK.IO's answer). Past it, a
# change still recorded as "confirmed" was cut off (the bot died, or its store failed): its
# outcome is read back from MK.IO instead of waiting for the replica that was making it.
MAKING_DEADLINE = timedelta(minutes=2)


class ChangeKind(StrEnum):
    PAYMENT_METHOD = "payment-method"
    METRICS = "metrics"


class ChangeStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"  # claimed by its confirmation: being made (the write-ahead record)
    DONE = "done"
    FAILED = "failed"
    STALE = "stale"  # the state changed between preview and confirmation: nothing was made
    CANCELLED = "cancelled"


class MethodRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str | None  # None: MK.IO did not say which method it is (a project's current one)
    name: str
    type: str | None = None

    @classmethod
    def of(cls, method: PaymentMethod) -> MethodRef:
        return cls(id=method.id, name=method.name, type=method.spec.type)


class PendingChange(BaseModel):
    """One requested change and, once decided, what became of it. JSON-serialisable so a
    shared store (Redis) can hold it for several replicas."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: ChangeKind
    project: str
    requested_by: str
    channel: str
    requested_at: datetime
    expires_at: datetime
    # payment method: the assigned method before (None: none yet) and the new one;
    # metrics: whether export was on before (always False: enabling is the only change)
    before_method: MethodRef | None = None
    after_method: MethodRef | None = None
    metrics_enabled_before: bool | None = None
    status: ChangeStatus = ChangeStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    error: str | None = None
    ref: str | None = None
    # set when the outcome was read back from MK.IO after the change was cut off
    recovered_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def cut_off(self, now: datetime) -> bool:
        """Confirmed, and past the time its making may take: nobody is making it any more."""
        return (
            self.status is ChangeStatus.CONFIRMED
            and self.decided_at is not None
            and now >= self.decided_at + MAKING_DEADLINE
        )


@dataclass(frozen=True)
class Claim:
    """The result of trying to decide a change: `won` only for the one click that may act."""

    won: bool
    change: PendingChange | None  # None: no such change (a tampered or forgotten ID)
    reason: str | None = None  # why not: "unknown", "not-yours", "expired", "decided"


class PendingStore(Protocol):
    async def add(self, change: PendingChange) -> None: ...

    async def get(self, change_id: str) -> PendingChange | None: ...

    async def claim(
        self, change_id: str, *, user: str, now: datetime, status: ChangeStatus
    ) -> Claim:
        """Atomically move a PENDING, unexpired change asked for by `user` to `status`."""

    async def save(self, change: PendingChange) -> None:
        """Record the final state of a claimed change."""

    async def unsettled(self) -> list[PendingChange]:
        """Every change still recorded as CONFIRMED: being made, or cut off."""

    async def settle(self, change: PendingChange) -> bool:
        """Atomically record `change`'s final state only if the stored one is still CONFIRMED:
        of several replicas recovering one cut-off change, one records (and audits) it."""


class MemoryPendingStore:
    """In-process store; the lock makes check-and-set one step for every coroutine."""

    def __init__(self) -> None:
        self._changes: dict[str, PendingChange] = {}
        self._lock = asyncio.Lock()

    async def add(self, change: PendingChange) -> None:
        async with self._lock:
            self._changes[change.id] = change

    async def get(self, change_id: str) -> PendingChange | None:
        return self._changes.get(change_id)

    async def claim(
        self, change_id: str, *, user: str, now: datetime, status: ChangeStatus
    ) -> Claim:
        async with self._lock:
            claim, claimed = claim_step(
                self._changes.get(change_id), user=user, now=now, status=status
            )
            if claimed is not None:
                self._changes[change_id] = claimed
            return claim

    async def save(self, change: PendingChange) -> None:
        async with self._lock:
            self._changes[change.id] = change

    async def unsettled(self) -> list[PendingChange]:
        return [c for c in self._changes.values() if c.status is ChangeStatus.CONFIRMED]

    async def settle(self, change: PendingChange) -> bool:
        async with self._lock:
            settled, replacement = settle_step(self._changes.get(change.id), change)
            if replacement is not None:
                self._changes[change.id] = replacement
            return settled


def refuse(change: PendingChange | None, *, user: str, now: datetime) -> str | None:
    """Why `user` may not decide `change` now; None when they may. Shared by every store."""
    if change is None:
        return "unknown"
    if change.status is not ChangeStatus.PENDING:
        return "decided"
    if change.requested_by != user:
        return "not-yours"
    if change.expired(now):
        return "expired"
    return None


def claim_step(
    change: PendingChange | None, *, user: str, now: datetime, status: ChangeStatus
) -> tuple[Claim, PendingChange | None]:
    """A claim of the stored `change`, and what to store instead (None: nothing). Every store
    runs this inside its own atomic step."""
    refusal = refuse(change, user=user, now=now)
    if refusal is not None or change is None:
        return Claim(won=False, change=change, reason=refusal), None
    claimed = change.model_copy(update={"status": status, "decided_by": user, "decided_at": now})
    return Claim(won=True, change=claimed), claimed


def settle_step(
    stored: PendingChange | None, change: PendingChange
) -> tuple[bool, PendingChange | None]:
    """Whether `change` may replace `stored` (still CONFIRMED), and what to store."""
    if stored is None or stored.status is not ChangeStatus.CONFIRMED:
        return False, None
    return True, change


def new_change_id() -> str:
    return secrets.token_urlsafe(18)


# -- what a payment-method switch means in money --------------------------------------------


@dataclass(frozen=True)
class MeterPrices:
    meter: str
    sku: str | None
    quantity: Decimal
    unit: str | None
    current_price: Decimal | None  # None: no price on the current card
    new_price: Decimal | None
    label: str | None = None  # the cards' display name of its price ("Advanced SD")

    @property
    def current_cost(self) -> Decimal | None:
        return None if self.current_price is None else self.quantity * self.current_price

    @property
    def new_cost(self) -> Decimal | None:
        return None if self.new_price is None else self.quantity * self.new_price


@dataclass(frozen=True)
class PriceComparison:
    """This month's usage priced with the current and the new method's rate cards."""

    start: date
    end: date  # exclusive
    meters: list[MeterPrices]
    current_currency: str
    new_currency: str
    billed_so_far: Totals  # the report's authoritative cost this month, per currency

    @property
    def current_total(self) -> Decimal:
        return sum((m.current_cost for m in self.meters if m.current_cost is not None), Decimal(0))

    @property
    def new_total(self) -> Decimal:
        return sum((m.new_cost for m in self.meters if m.new_cost is not None), Decimal(0))

    @property
    def comparable(self) -> tuple[Decimal, Decimal, int]:
        """(cost now, cost new) over the meters priced on both cards, and how many they are:
        a meter missing from one card must not count as a saving."""
        both = [m for m in self.meters if m.current_cost is not None and m.new_cost is not None]
        now = sum((m.current_cost or Decimal(0) for m in both), Decimal(0))
        new = sum((m.new_cost or Decimal(0) for m in both), Decimal(0))
        return now, new, len(both)

    @property
    def unpriced_current(self) -> list[str]:
        return [m.meter for m in self.meters if m.current_price is None]

    @property
    def unpriced_new(self) -> list[str]:
        return [m.meter for m in self.meters if m.new_price is None]


@dataclass(frozen=True)
class PaymentMethodPreview:
    change: PendingChange
    current: PaymentMethod | None
    new: PaymentMethod
    prices: PriceComparison


@dataclass(frozen=True)
class MetricsPricing:
    """What the project's rate card says about metrics export: the prices of its meters
    named for metrics (none: the card names no such meter, so it is billed as the card
    says)."""

    method: str  # the project's payment method, by name
    currency: str
    prices: tuple[RatePrice, ...]


@dataclass(frozen=True)
class MetricsPreview:
    change: PendingChange
    pricing: MetricsPricing | None = None  # None: no rate card could be read for the project


def metrics_prices(card: RateCard) -> tuple[RatePrice, ...]:
    """The card's prices whose name, display name or family speaks of metrics."""
    return tuple(
        price
        for entry in card.spec.rate_card
        for price in entry.prices
        if any(
            "metric" in (text or "").lower()
            for text in (price.name, price.display_name, entry.family)
        )
    )


@dataclass(frozen=True)
class Outcome:
    """What a click did. `change` is None only for an unknown (tampered or forgotten) ID;
    `refused` says why nothing was done; `endpoint` carries the metrics connection details
    after enabling, for the admin's eyes only."""

    change: PendingChange | None
    refused: str | None = None  # also "not-admin": the clicker is no longer a billing admin
    endpoint: MetricsEndpoint | None = None


def compare_prices(
    rows: list[tuple[str, str | None, Decimal, str | None]],
    current: RateCard | None,
    new: RateCard,
    *,
    start: date,
    end: date,
    billed_so_far: Totals,
) -> PriceComparison:
    """`rows` are (meter, sku, quantity, unit) report rows; one line per (meter, sku)."""
    quantities: dict[tuple[str, str | None], Decimal] = defaultdict(Decimal)
    units: dict[tuple[str, str | None], str | None] = {}
    for meter, sku, quantity, unit in rows:
        quantities[(meter, sku)] += quantity
        units.setdefault((meter, sku), unit)
    meters = []
    for (meter, sku), quantity in sorted(quantities.items(), key=lambda kv: kv[0][0]):
        current_price = current.price_for(meter, sku) if current else None
        new_price = new.price_for(meter, sku)
        meters.append(
            MeterPrices(
                meter=meter,
                sku=sku,
                quantity=quantity,
                unit=units[(meter, sku)],
                current_price=current_price.price if current_price else None,
                new_price=new_price.price if new_price else None,
                label=next(
                    (p.display_name for p in (new_price, current_price) if p and p.display_name),
                    None,
                ),
            )
        )
    return PriceComparison(
        start=start,
        end=end,
        meters=meters,
        current_currency=current.spec.currency if current else new.spec.currency,
        new_currency=new.spec.currency,
        billed_so_far=billed_so_far,
    )


def already_assigned(project: str, method: PaymentMethod) -> CommandError:
    return CommandError(
        f"`{project}` already uses {method.name}: there is nothing to change.",
        suggestion=f"/billing payment-method {project}",
    )
