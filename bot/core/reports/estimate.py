"""Where this month will land: a low–high range for a project's month-end cost.

Pure and Slack-free. `estimate_month_end` takes the daily costs of this month so far (a
`granularity` `day` report from the 1st to tomorrow, UTC) and, per meter and in total, gives

    low  = month-to-date + remaining days × the lower  of the two daily averages
    high = month-to-date + remaining days × the higher of the two daily averages

where, all dates UTC:

- *today* is the clock's date; its usage so far counts in the month-to-date, but today is not
  a complete day, so it is left out of both averages (a partial day would drag them down);
- *complete days* are the 1st up to yesterday;
- the *month-to-date daily average* is the cost of the complete days ÷ their number;
- the *7-day daily average* is the cost of the last 7 complete days (yesterday and the 6
  before) ÷ 7. The window never reaches before the 1st: the report starts there, and last
  month's pattern is not this month's. Until there are more than 7 complete days the window
  is every complete day, so both averages are the same and the range is a single figure;
- *remaining days* are the days of the month after today (0 on the month's last day).

No estimate in the first two days of a month (`FIRST_ESTIMATE_DAY`): one complete day or
none is too little to extrapolate from. The total's range comes from the total daily costs,
so it is not the sum of the meters' ranges (the lower average of a sum is not the sum of the
lower averages).

Decimal only: sums are exact, each bound is worked out with one division under a wide
context, and nothing is rounded here (rounding is the renderer's job).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from bot.apis.mkio.models import UsageReport
from bot.clock import as_utc, month_start, next_month_start
from bot.money import exact

__all__ = [
    "FIRST_ESTIMATE_DAY",
    "WINDOW_DAYS",
    "DailyCost",
    "EstimateLine",
    "MonthEndEstimate",
    "daily_costs",
    "estimate_month_end",
    "has_estimate",
    "method_line",
]

FIRST_ESTIMATE_DAY = 3  # the 1st and 2nd of a month get no estimate
WINDOW_DAYS = 7  # the recent average's window, in complete days


@dataclass(frozen=True)
class DailyCost:
    """One report row reduced to what the estimate needs."""

    day: date  # UTC
    meter: str
    cost: Decimal


@dataclass(frozen=True)
class EstimateLine:
    """One meter's (or the total's) month-end range and the figures it was made from."""

    name: str
    month_to_date: Decimal  # exact sum, today so far included
    month_average: Decimal  # per complete day, 1st to yesterday
    recent_average: Decimal  # per complete day, the last WINDOW_DAYS of them (or fewer)
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class MonthEndEstimate:
    today: date  # UTC
    month_end: date  # the first day of next month: the estimate is for [1st, month_end)
    remaining_days: int  # days of the month after today
    complete_days: int  # the 1st to yesterday: what the month-to-date average covers
    window_days: int  # complete days the recent average covers: min(7, complete_days)
    currency: str
    total: EstimateLine
    by_meter: list[EstimateLine]  # highest month-end first, ties by name


def daily_costs(report: UsageReport, currency: str) -> list[DailyCost]:
    """A day-granularity report's rows in `currency` (others are never added in)."""
    out = []
    for row in report.value:
        if row.currency != currency:
            continue
        out.append(DailyCost(as_utc(row.date).date(), row.meter_name, row.cost))
    return out


def has_estimate(today: date) -> bool:
    """Whether the month holding `today` (UTC) gets an estimate: not on the 1st and 2nd."""
    return today.day >= FIRST_ESTIMATE_DAY


def estimate_month_end(
    costs: Iterable[DailyCost], today: date, currency: str
) -> MonthEndEstimate | None:
    """The month-end range for the month holding `today`, from that month's daily costs;
    None in the first two days of a month. Costs dated outside the 1st..today are ignored."""
    if not has_estimate(today):
        return None
    first, month_end = month_start(today), next_month_start(today)
    complete_days = (today - first).days
    window_days = min(WINDOW_DAYS, complete_days)
    window_start = today - timedelta(days=window_days)
    remaining_days = (month_end - today).days - 1

    per_meter: dict[str, _Sums] = defaultdict(_Sums)
    total = _Sums()
    with exact(rounds=True):
        for cost in costs:
            if not first <= cost.day <= today:
                continue
            for sums in (per_meter[cost.meter], total):
                sums.add(cost, today=today, window_start=window_start)

        def line(name: str, sums: _Sums) -> EstimateLine:
            return sums.line(name, complete_days, window_days, remaining_days)

        meters = [line(name, sums) for name, sums in per_meter.items()]
        total_line = line("Total", total)
    meters.sort(key=lambda m: (-m.high, -m.low, m.name))
    return MonthEndEstimate(
        today=today,
        month_end=month_end,
        remaining_days=remaining_days,
        complete_days=complete_days,
        window_days=window_days,
        currency=currency,
        total=total_line,
        by_meter=meters,
    )


class _Sums:
    """Running exact sums for one meter or the total."""

    def __init__(self) -> None:
        self.month_to_date = Decimal(0)
        self.complete = Decimal(0)  # the 1st to yesterday
        self.window = Decimal(0)  # the recent window

    def add(self, cost: DailyCost, *, today: date, window_start: date) -> None:
        self.month_to_date += cost.cost
        if cost.day < today:
            self.complete += cost.cost
            if cost.day >= window_start:
                self.window += cost.cost

    def line(
        self, name: str, complete_days: int, window_days: int, remaining_days: int
    ) -> EstimateLine:
        # Compare the averages exactly (cross-multiplied), then divide once per bound.
        recent_is_lower = self.window * complete_days <= self.complete * window_days
        low_sum, low_days = (
            (self.window, window_days) if recent_is_lower else (self.complete, complete_days)
        )
        high_sum, high_days = (
            (self.complete, complete_days) if recent_is_lower else (self.window, window_days)
        )
        return EstimateLine(
            name=name,
            month_to_date=self.month_to_date,
            month_average=self.complete / complete_days,
            recent_average=self.window / window_days,
            low=self.month_to_date + low_sum * remaining_days / low_days,
            high=self.month_to_date + high_sum * remaining_days / high_days,
        )


def method_line(e: MonthEndEstimate) -> str:
    """How the estimate was made, in one short line (plain text, no user input in it); the
    README's "Month-end estimate" gives the details."""
    if e.remaining_days == 0:
        return "Estimate: the month-to-date, as no day of the month is left after today (UTC)."
    if e.window_days < e.complete_days:
        at = f"the lower and higher of the {e.window_days}-day and month-to-date daily averages"
    else:
        at = f"the daily average of the {_days(e.complete_days, 'complete day')} so far"
    return f"Estimate: month-to-date + the {_days(e.remaining_days, 'day')} left (UTC) at {at}."


def _days(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
