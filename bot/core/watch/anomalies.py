"""Is a day's cost unusual? The pure rule, on exact Decimal data.

A `Series` is the daily cost of one MK.IO meter of one project (by meter name and SKU, in one
currency) or of one Contro usage type. `examine(series, day)` compares one complete UTC day
with its baseline: the days of the `Rules.window_days` before it (not the day itself), a
missing day counting as no usage, and days an entitlement paid for (`Day.covered`) left out.

- The baseline is the median of those days and their median absolute deviation (MAD), once
  there are `min_history_days` of them with usage on at least `min_active_share` of them: a
  series that is usually zero (a monthly fee) has no daily baseline. Weekends are compared
  with the weekends of the window, weekdays with its weekdays (spend often has a weekly
  rhythm), when the window has `min_same_kind_days` of them.
- The day is a spike (or a drop) when it is further from the median than the band:
  `mads` scaled MADs, and at least `min_share` of the median, and at least `min_change` in
  money, so that noise, small series and cents never alert.
- A series with usage on the day and none in the `new_lookback_days` before it (at least a
  month, so that monthly charges are not new every month) is new, once it costs `min_change`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from statistics import median
from typing import Final

from bot.clock import next_month_start
from bot.money import exact

__all__ = [
    "MAD_SCALE",
    "Baseline",
    "Day",
    "Finding",
    "Kind",
    "Rules",
    "Series",
    "SeriesKey",
    "Source",
    "baseline",
    "examine",
]

# The MAD of normally distributed data times this estimates its standard deviation.
MAD_SCALE: Final = Decimal("1.4826")
_HUNDRED: Final = Decimal(100)


class Source(StrEnum):
    MKIO = "mkio"
    CONTRO = "contro"


class Kind(StrEnum):
    SPIKE = "spike"
    DROP = "drop"
    NEW = "new"


@dataclass(frozen=True, order=True)
class SeriesKey:
    source: Source
    project: str  # "" for Contro: its usage is the partner's, not a project's
    name: str  # the meter name, or the Contro usage type
    sku: str = ""  # MK.IO: meters that share a name (SD and HD encoding) differ by SKU
    currency: str = "USD"

    @property
    def id(self) -> str:
        return "\x1f".join((self.source, self.project, self.name, self.sku, self.currency))


@dataclass(frozen=True)
class Day:
    cost: Decimal
    quantity: Decimal | None = None  # MK.IO: in the meter's unit
    count: int | None = None  # Contro: the number of records
    covered: bool = False  # an entitlement paid for some of it: neither judged nor a baseline

    @property
    def used(self) -> bool:
        return bool(self.cost) or bool(self.quantity) or bool(self.count)


NO_USAGE: Final = Day(Decimal(0))


@dataclass(frozen=True)
class Series:
    key: SeriesKey
    days: Mapping[date, Day]  # the days with usage; any other day fetched had none
    since: date  # the first day fetched: nothing is known before it
    unit: str | None = None
    unit_price: Decimal | None = None  # the project's rate card price, as the report gave it
    solution: str | None = None  # MK.IO: what the SKU is ("VOD Encoding HD")

    def on(self, day: date) -> Day:
        return self.days.get(day, NO_USAGE)


@dataclass(frozen=True)
class Rules:
    window_days: int = 28
    min_history_days: int = 14
    new_lookback_days: int = 35
    mads: Decimal = Decimal(4)
    min_share: Decimal = Decimal("0.5")
    min_change: Decimal = Decimal(50)
    min_active_share: Decimal = Decimal("0.5")
    min_same_kind_days: int = 6

    def __post_init__(self) -> None:
        if not 0 < self.min_history_days <= self.window_days <= self.new_lookback_days:
            raise ValueError("need 0 < min_history_days <= window_days <= new_lookback_days")


@dataclass(frozen=True)
class Baseline:
    median: Decimal
    mad: Decimal
    days: int  # how many days it was made of
    band: Decimal  # a day further than this from the median is unusual
    median_quantity: Decimal | None = None
    median_count: Decimal | None = None

    @property
    def low(self) -> Decimal:
        return max(self.median - self.band, Decimal(0))

    @property
    def high(self) -> Decimal:
        return self.median + self.band


@dataclass(frozen=True)
class Finding:
    series: Series
    day: date
    kind: Kind
    baseline: Baseline | None  # None for a new series

    @property
    def point(self) -> Day:
        return self.series.on(self.day)

    @property
    def change(self) -> Decimal:
        """The day's cost minus the baseline's median (all of it for a new series)."""
        with exact():
            return self.point.cost - (self.baseline.median if self.baseline else Decimal(0))

    @property
    def percent(self) -> Decimal | None:
        """The change as a percentage of the median; None without one."""
        if self.baseline is None or not self.baseline.median:
            return None
        with exact(rounds=True):
            return self.change * _HUNDRED / self.baseline.median

    @property
    def quantity_change(self) -> Decimal | None:
        quantity = self.point.quantity
        if quantity is None:
            return None
        with exact():
            typical = self.baseline.median_quantity if self.baseline else Decimal(0)
            return quantity - (typical or Decimal(0))

    @property
    def days_left_in_month(self) -> int:
        """The days after `day` to the end of its month: what the change costs if it stays."""
        return (next_month_start(self.day) - self.day).days - 1

    @property
    def rest_of_month(self) -> Decimal:
        with exact():
            return self.change * self.days_left_in_month


def _median(values: list[Decimal]) -> Decimal:
    with exact():
        return Decimal(median(values))


def _window(day: date, days: int, since: date) -> list[date]:
    first = max(day - timedelta(days=days), since)
    return [first + timedelta(days=n) for n in range((day - first).days)]


def _weekend(day: date) -> bool:
    return day.weekday() >= 5


def baseline(series: Series, day: date, rules: Rules = Rules()) -> Baseline | None:
    """The day's baseline, or None when there is not enough usual usage to make one."""
    points = [
        point
        for d in _window(day, rules.window_days, series.since)
        if not (point := series.on(d)).covered
    ]
    if len(points) < rules.min_history_days:
        return None
    weekend = _weekend(day)
    same_kind = [
        point
        for d in _window(day, rules.window_days, series.since)
        if _weekend(d) == weekend and not (point := series.on(d)).covered
    ]
    if len(same_kind) >= rules.min_same_kind_days:
        points = same_kind
    active = sum(1 for point in points if point.used)
    with exact(rounds=True):
        if active < rules.min_active_share * len(points):
            return None
    costs = [point.cost for point in points]
    middle = _median(costs)
    with exact():
        mad = _median([abs(cost - middle) for cost in costs])
        band = max(rules.mads * MAD_SCALE * mad, rules.min_share * middle, rules.min_change)
    quantities = [p.quantity if p.quantity is not None else Decimal(0) for p in points]
    counts = [Decimal(p.count if p.count is not None else 0) for p in points]
    return Baseline(
        median=middle,
        mad=mad,
        days=len(points),
        band=band,
        median_quantity=_median(quantities) if series.unit is not None else None,
        median_count=_median(counts) if any(p.count is not None for p in points) else None,
    )


def is_new(series: Series, day: date, rules: Rules = Rules()) -> bool:
    """Usage on `day`, none in the lookback before it, and the whole lookback was fetched."""
    if series.since > day - timedelta(days=rules.new_lookback_days):
        return False
    if not series.on(day).used:
        return False
    return not any(series.on(d).used for d in _window(day, rules.new_lookback_days, series.since))


def examine(series: Series, day: date, rules: Rules = Rules()) -> Finding | None:
    """What is unusual about `day` in `series`, if anything."""
    point = series.on(day)
    if point.covered:
        return None
    if is_new(series, day, rules):
        return Finding(series, day, Kind.NEW, None) if point.cost >= rules.min_change else None
    base = baseline(series, day, rules)
    if base is None:
        return None
    with exact():
        deviation = point.cost - base.median
    if abs(deviation) <= base.band:
        return None
    return Finding(series, day, Kind.SPIKE if deviation > 0 else Kind.DROP, base)
