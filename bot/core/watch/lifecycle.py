"""An anomaly once found: what is stored of it, and what people and later checks do to it.

Slack-free. An `Anomaly` is one unusual stretch of one series, named by the series and the day
it started (`anomaly_id`). While it is open no other anomaly of its series is opened: a series
that stays unusual is the same anomaly, continued (`continued`), until a later day is back
within its baseline (`closed`). People act on it from its message:

- `acknowledge`: someone has seen it; the daily "still unusual" notes stop;
- `expect`: it is expected until a date: no note and no new alert of its series until then;
- `snooze`: no note until a time; if it is still unusual after that, the notes resume.

Every change goes through `AnomalyStore.change(id, event, update)`, which applies `update` at
most once per `event` (a click, a day, the recovery), atomically, whichever replica asks:
exactly one state change per click and one note per event. `AnomalyStore.open` claims the
series, so exactly one process posts a new anomaly.

Stores: `MemoryAnomalyStore` here; the SQLite and Redis ones are in `bot.store`
(`sqlite_anomalies`, `redis_anomalies`).
"""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, field_validator

from bot.clock import as_utc
from bot.core.watch.anomalies import Finding, Kind, Source

__all__ = [
    "Anomaly",
    "AnomalyStore",
    "MemoryAnomalyStore",
    "Posted",
    "PriceFrom",
    "Update",
    "anomaly_id",
    "click_event",
]


def anomaly_id(series: str, day: date) -> str:
    """Short and fixed-length: it travels in buttons and keys."""
    return hashlib.sha256(f"{series}\x1e{day.isoformat()}".encode()).hexdigest()[:20]


class PriceFrom(StrEnum):
    """Where an MK.IO anomaly's unit price came from."""

    RATE_CARD = "rate-card"  # the rate card of the payment method assigned to the project
    REPORT = "report"  # the usage report's price: the card could not price it


class Posted(BaseModel):
    """Where an anomaly's message is: edited in place, its notes in its thread."""

    model_config = ConfigDict(frozen=True)

    channel: str
    ts: str


class Anomaly(BaseModel):
    """JSON-serialisable so that Redis and SQLite can hold it."""

    model_config = ConfigDict(frozen=True)

    id: str
    series: str
    source: Source
    project: str
    name: str
    sku: str = ""
    solution: str | None = None
    currency: str
    kind: Kind
    day: date  # the first unusual day
    last_day: date  # the latest day it was still unusual
    days: int = 1  # how many days it has been unusual
    cost: Decimal  # the first day's cost
    change: Decimal  # against the median (all of the cost for a new series)
    percent: Decimal | None = None
    median: Decimal | None = None
    low: Decimal | None = None  # the band around the median: back within it is recovered
    high: Decimal | None = None
    baseline_days: int = 0
    unit: str | None = None
    quantity: Decimal | None = None
    quantity_change: Decimal | None = None
    unit_price: Decimal | None = None
    price_from: PriceFrom | None = None  # None: not priced by a card (or stored before)
    rate_card: str | None = None  # the payment method whose rate card priced it
    price_note: str | None = None  # why the rate card did not price it
    count: int | None = None
    median_count: Decimal | None = None
    days_left_in_month: int = 0
    rest_of_month: Decimal = Decimal(0)
    daily: tuple[tuple[date, Decimal], ...] = ()  # the baseline's days and the first day
    found_at: datetime
    messages: tuple[Posted, ...] = ()
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    expected_until: date | None = None
    expected_by: str | None = None
    expected_at: datetime | None = None
    snoozed_until: datetime | None = None
    snoozed_by: str | None = None
    snoozed_at: datetime | None = None
    recovered_on: date | None = None  # the day found back within the baseline
    closed_at: datetime | None = None

    @field_validator(
        "found_at", "acknowledged_at", "expected_at", "snoozed_until", "snoozed_at", "closed_at"
    )
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)

    @property
    def open(self) -> bool:
        return self.closed_at is None

    @property
    def label(self) -> str:
        """What moved, in words (not escaped: renderers escape it)."""
        if self.source is Source.CONTRO:
            return f"Contro {self.name}"
        what = f"{self.name} ({self.solution})" if self.solution else self.name
        return f"{self.project} · {what}"

    @classmethod
    def of(cls, finding: Finding, found_at: datetime, *, window_days: int) -> Anomaly:
        series, base, point = finding.series, finding.baseline, finding.point
        key = series.key
        first = finding.day - timedelta(days=window_days)
        daily = tuple(
            (first + timedelta(days=n), series.on(first + timedelta(days=n)).cost)
            for n in range(window_days + 1)
            if first + timedelta(days=n) >= series.since
        )
        return cls(
            id=anomaly_id(key.id, finding.day),
            series=key.id,
            source=key.source,
            project=key.project,
            name=key.name,
            sku=key.sku,
            solution=series.solution,
            currency=key.currency,
            kind=finding.kind,
            day=finding.day,
            last_day=finding.day,
            cost=point.cost,
            change=finding.change,
            percent=finding.percent,
            median=base.median if base else None,
            low=base.low if base else None,
            high=base.high if base else None,
            baseline_days=base.days if base else 0,
            unit=series.unit,
            quantity=point.quantity,
            quantity_change=finding.quantity_change,
            unit_price=series.unit_price,
            count=point.count,
            median_count=base.median_count if base else None,
            days_left_in_month=finding.days_left_in_month,
            rest_of_month=finding.rest_of_month,
            daily=daily,
            found_at=found_at,
        )

    # -- what people do --------------------------------------------------------------------

    def acknowledge(self, user: str, at: datetime) -> Anomaly | None:
        if self.acknowledged_by is not None:
            return None
        return self.model_copy(update={"acknowledged_by": user, "acknowledged_at": at})

    def expect(self, user: str, at: datetime, until: date) -> Anomaly | None:
        if until == self.expected_until:
            return None
        return self.model_copy(
            update={"expected_until": until, "expected_by": user, "expected_at": at}
        )

    def snooze(self, user: str, at: datetime, until: datetime) -> Anomaly | None:
        return self.model_copy(
            update={"snoozed_until": until, "snoozed_by": user, "snoozed_at": at}
        )

    # -- what later checks do ---------------------------------------------------------------

    def continued(self, day: date) -> Anomaly | None:
        if day <= self.last_day or not self.open:
            return None
        return self.model_copy(update={"last_day": day, "days": self.days + 1})

    def closed(self, day: date, at: datetime) -> Anomaly | None:
        if not self.open:
            return None
        return self.model_copy(update={"recovered_on": day, "closed_at": at})

    def with_messages(self, posted: tuple[Posted, ...]) -> Anomaly | None:
        return self.model_copy(update={"messages": (*self.messages, *posted)}) if posted else None

    def quiet(self, day: date, now: datetime) -> bool:
        """No "still unusual" note for `day`: seen, expected or snoozed."""
        return (
            self.acknowledged_by is not None
            or (self.expected_until is not None and day <= self.expected_until)
            or (self.snoozed_until is not None and now < self.snoozed_until)
        )

    def suppresses(self, day: date) -> bool:
        """A new anomaly of the series on `day` is expected: no alert."""
        return self.expected_until is not None and day <= self.expected_until


Update = Callable[[Anomaly], Anomaly | None]


class AnomalyStore(Protocol):
    async def channels(self) -> builtins.list[str]:
        """The channels that hear of anomalies."""

    async def set_channel(self, channel: str, on: bool) -> bool:
        """True when that changed something."""

    async def open(self, anomaly: Anomaly) -> bool:
        """Store a new anomaly: True for exactly one caller, across every process sharing the
        store, and only while no other anomaly of its series is open and its id is new."""

    async def get(self, anomaly_id: str) -> Anomaly | None: ...

    async def latest(self, series: str) -> Anomaly | None:
        """The series' most recent anomaly, open or closed."""

    async def list_open(self) -> builtins.list[Anomaly]:
        """The open anomalies, oldest first."""

    async def open_count(self) -> int: ...

    async def change(self, anomaly_id: str, event: str, update: Update) -> Anomaly | None:
        """Apply `update` once per (anomaly, event), atomically: the new anomaly, or None when
        the event was applied before, the anomaly is unknown, or `update` changes nothing.
        An anomaly given a `closed_at` stops being open."""

    async def judged(self) -> date | None:
        """The latest day a check judged with every source read (None before the first)."""

    async def set_judged(self, day: date) -> None:
        """Record that `day` was judged; an earlier day than the one recorded changes nothing."""

    async def aclose(self) -> None: ...


class MemoryAnomalyStore:
    """In-process store: no await between a check and its update, so each is atomic."""

    def __init__(self) -> None:
        self._channels: builtins.set[str] = builtins.set()
        self._anomalies: dict[str, Anomaly] = {}
        self._open: dict[str, str] = {}  # series -> the open anomaly's id
        self._latest: dict[str, str] = {}  # series -> its latest anomaly's id
        self._events: builtins.set[tuple[str, str]] = builtins.set()
        self._judged: date | None = None

    async def channels(self) -> builtins.list[str]:
        return sorted(self._channels)

    async def set_channel(self, channel: str, on: bool) -> bool:
        if (channel in self._channels) == on:
            return False
        if on:
            self._channels.add(channel)
        else:
            self._channels.discard(channel)
        return True

    async def open(self, anomaly: Anomaly) -> bool:
        if anomaly.id in self._anomalies or anomaly.series in self._open:
            return False
        self._anomalies[anomaly.id] = anomaly
        self._open[anomaly.series] = anomaly.id
        self._latest[anomaly.series] = anomaly.id
        return True

    async def get(self, anomaly_id: str) -> Anomaly | None:
        return self._anomalies.get(anomaly_id)

    async def latest(self, series: str) -> Anomaly | None:
        found = self._latest.get(series)
        return None if found is None else self._anomalies[found]

    async def list_open(self) -> builtins.list[Anomaly]:
        return sorted(
            (self._anomalies[i] for i in self._open.values()), key=lambda a: (a.day, a.id)
        )

    async def open_count(self) -> int:
        return len(self._open)

    async def change(self, anomaly_id: str, event: str, update: Update) -> Anomaly | None:
        current = self._anomalies.get(anomaly_id)
        if current is None or (anomaly_id, event) in self._events:
            return None
        new = update(current)
        if new is None:
            return None
        self._events.add((anomaly_id, event))
        self._anomalies[anomaly_id] = new
        if not new.open and self._open.get(new.series) == anomaly_id:
            del self._open[new.series]
        return new

    async def judged(self) -> date | None:
        return self._judged

    async def set_judged(self, day: date) -> None:
        if self._judged is None or day > self._judged:
            self._judged = day

    async def aclose(self) -> None:
        pass


def click_event(action: str, user: str, action_ts: str) -> str:
    """One click, whichever replica (or Slack retry) brings it."""
    return f"click:{action}:{user}:{action_ts}"
