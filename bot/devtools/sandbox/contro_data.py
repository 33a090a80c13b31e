"""Contro partner usage: records per billing period and their summaries.

Amounts are integer cents. Two kinds of period:
- generated: a few hundred realistic records per month for the six months up to the current
  one, made on first use and kept (a few thousand in all);
- synthetic (`set_records`): exactly `count` records computed from their index alone, with
  closed-form counts and sums, so a million records cost no memory and the summary is exact.
"""

from __future__ import annotations

import random
import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.devtools.sandbox.ids import stable_int

GENERATED_MONTHS = 6
"""Generated data covers this many periods, ending with the clock's current month."""
TYPE_ORDER = (
    "card_issuance",
    "transaction",
    "transaction_processing",
    "api_call",
    "kyc",
    "dispute_fee",
    "monthly_fee",
)
"""Summary order. `transaction_processing` and `dispute_fee` are not in Contro's documented
list of types: clients must treat `type` as an open string."""
_WEIGHTS = {
    "transaction": 40,
    "api_call": 25,
    "card_issuance": 12,
    "transaction_processing": 10,
    "kyc": 8,
    "dispute_fee": 2,
}
_REFERENCE_PREFIX = {
    "card_issuance": "card_",
    "transaction": "txn_",
    "transaction_processing": "txn_",
    "api_call": "req_",
    "kyc": "chl_",
    "dispute_fee": "dsp_",
    "monthly_fee": "inv_",
}
_SYNTHETIC_PATTERN = (
    "transaction",
    "api_call",
    "transaction",
    "card_issuance",
    "transaction",
    "api_call",
    "kyc",
    "transaction_processing",
)
_SYNTHETIC_BASE = {
    "transaction": 25,
    "api_call": 1,
    "card_issuance": 500,
    "kyc": 300,
    "transaction_processing": 75,
}
_PERIOD = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


@dataclass(frozen=True, slots=True)
class UsageRecord:
    id: str
    type: str
    amount: int
    """Cents."""
    reference_id: str
    period: str
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "amount": self.amount / 100,
            "referenceId": self.reference_id,
            "billingPeriod": self.period,
            "createdAt": self.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


@dataclass(frozen=True, slots=True)
class RecordFilter:
    type: str | None = None
    start: datetime | None = None
    """Inclusive, on createdAt."""
    end: datetime | None = None
    """Inclusive, on createdAt."""


@dataclass(frozen=True, slots=True)
class SummaryItem:
    type: str
    total: int
    """Cents."""
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "total": self.total / 100, "count": self.count}


class Selection(Protocol):
    """The records matching a filter, in createdAt order, addressable by position."""

    def __len__(self) -> int: ...

    def page(self, offset: int, limit: int) -> list[UsageRecord]: ...


class PeriodData(Protocol):
    def select(self, record_filter: RecordFilter) -> Selection: ...

    def summary(self) -> list[SummaryItem]: ...


def is_period(text: str) -> bool:
    return _PERIOD.fullmatch(text) is not None


def period_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """(first instant, first instant of the next period), UTC."""
    year, month = int(period[:4]), int(period[5:7])
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def _months_between(earlier: str, later: str) -> int:
    return (int(later[:4]) - int(earlier[:4])) * 12 + int(later[5:7]) - int(earlier[5:7])


class ListSelection:
    def __init__(self, records: Sequence[UsageRecord]) -> None:
        self._records = records

    def __len__(self) -> int:
        return len(self._records)

    def page(self, offset: int, limit: int) -> list[UsageRecord]:
        return list(self._records[offset : offset + limit])


class GeneratedPeriod:
    """A period's records as a list (a few hundred)."""

    def __init__(self, records: Sequence[UsageRecord]) -> None:
        self._records = records

    def select(self, record_filter: RecordFilter) -> Selection:
        return ListSelection(
            [
                record
                for record in self._records
                if (record_filter.type is None or record.type == record_filter.type)
                and (record_filter.start is None or record.created_at >= record_filter.start)
                and (record_filter.end is None or record.created_at <= record_filter.end)
            ]
        )

    def summary(self) -> list[SummaryItem]:
        totals: dict[str, list[int]] = {}
        for record in self._records:
            total = totals.setdefault(record.type, [0, 0])
            total[0] += record.amount
            total[1] += 1
        return [SummaryItem(kind, *totals[kind]) for kind in _ordered(totals)]


def _ordered(types: Sequence[str] | dict[str, Any]) -> list[str]:
    known = [kind for kind in TYPE_ORDER if kind in types]
    return known + sorted(kind for kind in types if kind not in TYPE_ORDER)


def generate_period(seed: int, period: str) -> list[UsageRecord]:
    """A realistic month: one monthly fee, then a few hundred records at random times."""
    rng = random.Random(stable_int(seed, "contro", period))
    start, end = period_bounds(period)
    seconds = int((end - start).total_seconds())
    count = 450 + rng.randrange(350)
    moments = sorted(rng.randrange(1, seconds) for _ in range(count - 1))
    types = rng.choices(list(_WEIGHTS), weights=list(_WEIGHTS.values()), k=count - 1)
    records = [_generated_record(rng, period, 0, "monthly_fee", start)]
    for index, (offset, kind) in enumerate(zip(moments, types, strict=True), start=1):
        records.append(
            _generated_record(rng, period, index, kind, start + timedelta(seconds=offset))
        )
    return records


def _generated_record(
    rng: random.Random, period: str, index: int, kind: str, moment: datetime
) -> UsageRecord:
    amount = {
        "monthly_fee": 5000,
        "card_issuance": 500,
        "kyc": 300,
        "dispute_fee": 1500,
        "api_call": 1,
    }.get(kind)
    if amount is None:
        amount = rng.randrange(5, 61) if kind == "transaction" else rng.randrange(20, 151)
    return UsageRecord(
        id=f"usage_{rng.getrandbits(40):010x}{index:04x}",
        type=kind,
        amount=amount,
        reference_id=_REFERENCE_PREFIX[kind] + f"{rng.getrandbits(48):012x}",
        period=period,
        created_at=moment,
    )


class SyntheticPeriod:
    """Exactly `count` records; record i is computed from i alone.

    Types repeat with a fixed pattern, amounts are `base + (i // len(pattern)) % 10` cents and
    createdAt spreads evenly (non-decreasing) over the month, so counts, sums and time ranges
    all have closed forms.
    """

    def __init__(self, period: str, count: int) -> None:
        self.period = period
        self.count = count
        self.start, end = period_bounds(period)
        self.seconds = int((end - self.start).total_seconds())

    def record(self, index: int) -> UsageRecord:
        kind = _SYNTHETIC_PATTERN[index % len(_SYNTHETIC_PATTERN)]
        amount = _SYNTHETIC_BASE[kind] + (index // len(_SYNTHETIC_PATTERN)) % 10
        offset = index * self.seconds // self.count
        return UsageRecord(
            id=f"usage_{self.period.replace('-', '')}{index:08d}",
            type=kind,
            amount=amount,
            reference_id=f"{_REFERENCE_PREFIX[kind]}{self.period.replace('-', '')}{index:08d}",
            period=self.period,
            created_at=self.start + timedelta(seconds=offset),
        )

    def _first_at_or_after(self, moment: datetime) -> int:
        delta = moment - self.start
        second = delta.days * 86_400 + delta.seconds + (1 if delta.microseconds else 0)
        second = max(second, 0)
        return min(-(-second * self.count // self.seconds), self.count)

    def _end_at_or_before(self, moment: datetime) -> int:
        delta = moment - self.start
        second = delta.days * 86_400 + delta.seconds
        if second < 0:
            return 0
        return min(-(-(second + 1) * self.count // self.seconds), self.count)

    def select(self, record_filter: RecordFilter) -> Selection:
        low = 0 if record_filter.start is None else self._first_at_or_after(record_filter.start)
        high = (
            self.count if record_filter.end is None else self._end_at_or_before(record_filter.end)
        )
        positions = tuple(
            position
            for position, kind in enumerate(_SYNTHETIC_PATTERN)
            if record_filter.type is None or kind == record_filter.type
        )
        return SyntheticSelection(self, positions, low, max(low, high))

    def summary(self) -> list[SummaryItem]:
        pattern = len(_SYNTHETIC_PATTERN)
        totals: dict[str, list[int]] = {}
        for position, kind in enumerate(_SYNTHETIC_PATTERN):
            cycles = max(0, -(-(self.count - position) // pattern))
            full, rest = divmod(cycles, 10)
            total = totals.setdefault(kind, [0, 0])
            total[0] += _SYNTHETIC_BASE[kind] * cycles + 45 * full + rest * (rest - 1) // 2
            total[1] += cycles
        return [SummaryItem(kind, *totals[kind]) for kind in _ordered(totals) if totals[kind][1]]


class SyntheticSelection:
    """Indices in [low, high) whose position in the type pattern is in `positions`."""

    def __init__(
        self, period: SyntheticPeriod, positions: tuple[int, ...], low: int, high: int
    ) -> None:
        self._period = period
        self._positions = positions
        self._before = self._count_below(low)
        self._length = self._count_below(high) - self._before

    def _count_below(self, index: int) -> int:
        cycles, rest = divmod(index, len(_SYNTHETIC_PATTERN))
        return cycles * len(self._positions) + bisect_left(self._positions, rest)

    def __len__(self) -> int:
        return self._length

    def page(self, offset: int, limit: int) -> list[UsageRecord]:
        records = []
        for rank in range(max(offset, 0), min(offset + limit, self._length)):
            cycle, position = divmod(self._before + rank, len(self._positions))
            index = cycle * len(_SYNTHETIC_PATTERN) + self._positions[position]
            records.append(self._period.record(index))
        return records


class ControData:
    """All periods of one sandbox: generated ones on demand, synthetic ones when set."""

    def __init__(self, seed: int, extra: Sequence[UsageRecord] = ()) -> None:
        self._seed = seed
        self._extra = extra  # records added to the generated ones (`sandbox.anomalies`)
        self._generated: dict[str, list[UsageRecord]] = {}
        self._synthetic: dict[str, SyntheticPeriod] = {}

    def set_records(self, period: str, count: int) -> None:
        if not is_period(period):
            raise ValueError(f"period must be YYYY-MM, not {period!r}")
        if count < 0:
            raise ValueError("count must not be negative")
        self._synthetic[period] = SyntheticPeriod(period, count)

    def period(self, period: str, now: datetime) -> PeriodData:
        """The period as seen at `now`: generated records after `now` do not exist yet."""
        synthetic = self._synthetic.get(period)
        if synthetic is not None:
            return synthetic
        age = _months_between(period, period_of(now))
        if not 0 <= age < GENERATED_MONTHS:
            return GeneratedPeriod([])
        records = self._generated.get(period)
        if records is None:
            records = generate_period(self._seed, period)
            added = [record for record in self._extra if record.period == period]
            if added:
                records = sorted([*records, *added], key=lambda record: record.created_at)
            self._generated[period] = records
        if age == 0:
            return GeneratedPeriod([record for record in records if record.created_at <= now])
        return GeneratedPeriod(records)
