"""MK.IO usage facts: what each project consumed per meter per day (or hour).

A day's quantity and cost are a pure function of (seed, project, day), so any range can be
computed on its own. Hours are an exact split of the day (integer shares, remainder on the
last hour), so every coarser figure is an exact sum of finer ones: no rounding ever appears
between granularities.

Units: quantity in milli-units of the meter's unit, cost and price in micro-dollars.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.devtools.sandbox import catalog
from bot.devtools.sandbox.anomalies import UsageEvent
from bot.devtools.sandbox.ids import stable_bytes
from bot.devtools.sandbox.state import MkioState

MAX_LAG_DAYS = 3
"""Usage is charged one day after it happens, a few days late now and then."""
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_WEIGHT_TOTAL = sum(catalog.HOUR_WEIGHTS)


@dataclass(frozen=True, slots=True)
class Fact:
    """Usage of one meter by one project in one day or hour."""

    start: datetime
    project: int
    meter: int
    method: str
    """Payment method key."""
    quantity: int
    cost: int
    price: int
    processed: datetime | None
    """When it was charged (same resolution as `start`); None: not yet charged."""
    entitlement: str | None


@dataclass(frozen=True, slots=True)
class _Day:
    quantities: tuple[int, ...]
    """Milli-units per meter (index into catalog.METERS) for the whole day."""
    lag: int


class UsageEngine:
    """Computes usage facts on demand; remembers per-day quantities it has computed."""

    def __init__(self, seed: int, state: MkioState, events: tuple[UsageEvent, ...] = ()) -> None:
        self._seed = seed
        self._state = state
        self._events = events  # the anomalies to find, if any (`sandbox.anomalies`)
        self._days: dict[tuple[int, int], _Day] = {}

    def _day(self, project: int, day: date) -> _Day:
        key = (project, day.toordinal())
        cached = self._days.get(key)
        if cached is None:
            cached = self._days[key] = self._compute_day(project, day)
        return cached

    def _compute_day(self, project: int, day: date) -> _Day:
        definition = catalog.PROJECTS[project]
        size = 2 * len(catalog.METERS) + 1  # two bytes of jitter per meter, one for the lag
        noise = stable_bytes(self._seed, "usage", definition.name, day.isoformat(), size=size)
        weekday = definition.weekend_percent if day.weekday() >= 5 else 100
        elapsed = (day - catalog.DATA_START).days
        trend_num, trend_den = (365 + elapsed, 365) if definition.growth else (1, 1)
        quantities = []
        for index, meter in enumerate(catalog.METERS):
            units = definition.daily_units.get(meter.key, 0)
            for event in self._events:
                if event.applies(definition.name, meter.key, day):
                    units = event.daily_units(units)
            jitter = 800 + int.from_bytes(noise[2 * index : 2 * index + 2], "big") % 401
            milli = units * trend_num * weekday * jitter // (trend_den * 100)  # jitter: 0.8..1.2
            quantities.append(milli - milli % meter.quantity_step)
        lag = MAX_LAG_DAYS if noise[-1] % 25 == 0 else 1
        return _Day(tuple(quantities), lag)

    def facts(self, first: date, last: date, now: datetime, *, hourly: bool) -> Iterator[Fact]:
        """Facts for usage days first..last inclusive, in (time, project, meter) order.

        Only usage up to `now` exists; today holds its completed hours only.
        """
        today = now.date()
        day = max(first, catalog.DATA_START)
        while day <= last and day <= today:
            yield from self.day_facts(day, now, hourly=hourly)
            day += _DAY

    def day_facts(self, day: date, now: datetime, *, hourly: bool) -> Iterator[Fact]:
        today = now.date()
        completed_hours = 24 if day < today else (now.hour if day == today else 0)
        midnight = datetime.combine(day, time(), UTC)
        for project, definition in enumerate(catalog.PROJECTS):
            if not definition.daily_units:
                continue
            method_key = self._state.method_on(project, day)
            if method_key is None:
                continue
            method = self._state.methods[method_key]
            usage = self._day(project, day)
            processed_day = day + timedelta(days=usage.lag)
            charged = processed_day < today
            processed_midnight = datetime.combine(processed_day, time(), UTC)
            entitled = definition.entitlement_meter is not None and day.day <= (
                catalog.ENTITLEMENT_DAYS
            )
            for index, meter in enumerate(catalog.METERS):
                quantity = usage.quantities[index]
                if quantity == 0:
                    continue
                price = catalog.billed_price(method, meter, definition.name, day)
                entitlement = (
                    self._state.entitlement_ids[definition.name]
                    if entitled and meter.key == definition.entitlement_meter
                    else None
                )
                cost = 0 if entitlement else (quantity * price + 500) // 1000
                hours: list[tuple[int, int]] = []
                if hourly or completed_hours < 24:
                    hours = split_day(quantity, meter.quantity_step, cost)[:completed_hours]
                if hourly:
                    for hour, (hour_quantity, hour_cost) in enumerate(hours):
                        if hour_quantity == 0 and hour_cost == 0:
                            continue
                        yield Fact(
                            midnight + hour * _HOUR,
                            project,
                            index,
                            method_key,
                            hour_quantity,
                            hour_cost,
                            price,
                            processed_midnight + hour * _HOUR if charged else None,
                            entitlement,
                        )
                else:
                    if completed_hours < 24:
                        quantity = sum(q for q, _ in hours)
                        cost = sum(c for _, c in hours)
                        if quantity == 0 and cost == 0:
                            continue
                    yield Fact(
                        midnight,
                        project,
                        index,
                        method_key,
                        quantity,
                        cost,
                        price,
                        processed_midnight if charged else None,
                        entitlement,
                    )


def split_day(quantity: int, step: int, cost: int) -> list[tuple[int, int]]:
    """Split a day's (quantity, cost) over 24 hours exactly: the last hour takes the remainder."""
    hours: list[tuple[int, int]] = []
    quantity_left, cost_left = quantity, cost
    for weight in catalog.HOUR_WEIGHTS[:-1]:
        hour_quantity = quantity * weight // _WEIGHT_TOTAL
        hour_quantity -= hour_quantity % step
        hour_cost = cost * weight // _WEIGHT_TOTAL
        hours.append((hour_quantity, hour_cost))
        quantity_left -= hour_quantity
        cost_left -= hour_cost
    hours.append((quantity_left, cost_left))
    return hours
