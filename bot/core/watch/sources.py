"""Where the anomaly check's series come from, with as few upstream requests as possible.

- MK.IO: ONE organization-wide `POST /organization/reports/usage`, granularity `day`, from
  `Rules.new_lookback_days` before the first day to judge to the last (end exclusive the next
  day: one day's check asks for 36 days, a check that catches up on missed days more), streamed
  and folded into one series per project, meter name, SKU and currency. Its `cost` is the
  money; its `price` is the project's rate-card price, which says what the change means in
  units; a row with an entitlement marks its day as covered.
- Contro: the records of the months the same days fall in (`limit=100` pages), added up per
  usage type and UTC day of `createdAt`, in USD.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from bot.apis.contro.client import ControClient
from bot.apis.contro.models import CURRENCY as CONTRO_CURRENCY
from bot.apis.mkio.client import MkioClient
from bot.apis.mkio.models import Granularity, ReportQuery, ReportRow
from bot.clock import as_utc, next_month_start
from bot.core.watch.anomalies import Day, Rules, Series, SeriesKey, Source
from bot.money import exact

__all__ = ["contro_series", "mkio_series"]


@dataclass
class _Sums:
    cost: Decimal = Decimal(0)
    quantity: Decimal = Decimal(0)
    count: int = 0
    covered: bool = False


@dataclass
class _Fold:
    days: defaultdict[date, _Sums] = field(default_factory=lambda: defaultdict(_Sums))
    unit: str | None = None
    price: Decimal | None = None
    solution: str | None = None
    latest: date | None = None


def _first_day(day: date, rules: Rules) -> date:
    return day - timedelta(days=rules.new_lookback_days)


async def mkio_series(
    mkio: MkioClient, day: date, rules: Rules, *, max_rows: int, first: date | None = None
) -> list[Series]:
    """The series to judge the days from `first` (by default `day`) to `day`."""
    since = _first_day(first or day, rules)
    query = ReportQuery(
        start_date=since, end_date=day + timedelta(days=1), granularity=Granularity.DAY
    )
    # by (project, meter, SKU, currency): a tuple hashes faster than a SeriesKey, per row
    folds: defaultdict[tuple[str, str, str, str], _Fold] = defaultdict(_Fold)

    def on_rows(rows: Sequence[ReportRow]) -> None:
        with exact():  # once per batch: a context per row costs more than the row
            for row in rows:
                fold = folds[row.project or "", row.meter_name, row.meter_sku or "", row.currency]
                when = as_utc(row.date).date()
                sums = fold.days[when]
                sums.cost += row.cost
                sums.quantity += row.quantity
                sums.covered = sums.covered or row.entitlement is not None
                if fold.latest is None or when >= fold.latest:  # the latest price and names win
                    fold.latest = when
                    fold.unit, fold.solution = row.unit, row.solution
                    fold.price = row.price if row.price is not None else fold.price

    await mkio.usage_report_rows(query, on_rows, max_rows=max_rows)
    return [
        Series(
            SeriesKey(Source.MKIO, *key),
            {d: Day(s.cost, s.quantity, covered=s.covered) for d, s in fold.days.items()},
            since,
            unit=fold.unit or "",
            unit_price=fold.price,
            solution=fold.solution if key[2] else None,
        )
        for key, fold in folds.items()
    ]


def _months(first: date, last: date) -> list[str]:
    months: list[str] = []
    current = first.replace(day=1)
    while current <= last:
        months.append(f"{current:%Y-%m}")
        current = next_month_start(current)
    return months


async def contro_series(
    contro: ControClient, day: date, rules: Rules, *, first: date | None = None
) -> list[Series]:
    """The series to judge the days from `first` (by default `day`) to `day`."""
    since = _first_day(first or day, rules)
    folds: defaultdict[str, _Fold] = defaultdict(_Fold)
    for period in _months(since, day):
        async for page in contro.iter_pages(period):
            for record in page.records:
                if record.created_at is None:
                    continue
                when = as_utc(record.created_at).date()
                if not since <= when <= day:
                    continue
                sums = folds[record.type].days[when]
                with exact():
                    sums.cost += record.amount
                sums.count += 1
    return [
        Series(
            SeriesKey(Source.CONTRO, "", kind, currency=CONTRO_CURRENCY),
            {d: Day(s.cost, count=s.count) for d, s in fold.days.items()},
            since,
        )
        for kind, fold in folds.items()
    ]
