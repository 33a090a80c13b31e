"""`bot.core.reports.estimate`: the month-end range from known daily costs, and how `usage` shows
it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.apis.mkio.models import UsageReport
from bot.core.answers import MeterUsage, UsageAnswer
from bot.core.reports.estimate import (
    DailyCost,
    EstimateLine,
    MonthEndEstimate,
    daily_costs,
    estimate_month_end,
    has_estimate,
    method_line,
)
from bot.money import EXACT_DIGITS, Money, Totals, to_cents
from bot.slack.render.usage import estimate_range, render_usage
from tests.unit.test_render_common import code_lines, visible

NOV = date(2026, 11, 1)


def _days(meter: str, first: date, last: date, cost: str) -> list[DailyCost]:
    """`cost` every day from `first` to `last`, inclusive."""
    out = []
    day = first
    while day <= last:
        out.append(DailyCost(day, meter, Decimal(cost)))
        day += timedelta(days=1)
    return out


def _on(day: int) -> date:
    return NOV.replace(day=day)


def _estimate(costs: list[DailyCost], today: date) -> MonthEndEstimate:
    e = estimate_month_end(costs, today, "USD")
    assert e is not None
    return e


def _meter(e: MonthEndEstimate, name: str) -> EstimateLine:
    return next(line for line in e.by_meter if line.name == name)


# -- the arithmetic -------------------------------------------------------------------------


def test_low_and_high_use_the_lower_and_higher_average_per_meter_and_in_total() -> None:
    # The 21st of November (30 days): 20 complete days, 9 days after today.
    costs = [
        *_days("encoding", _on(1), _on(13), "10"),
        *_days("encoding", _on(14), _on(20), "20"),  # the last 7 complete days: higher
        DailyCost(_on(21), "encoding", Decimal("5")),  # today so far
        *_days("storage", _on(1), _on(21), "3"),
    ]
    e = _estimate(costs, _on(21))
    assert (e.remaining_days, e.complete_days, e.window_days) == (9, 20, 7)
    assert e.month_end == date(2026, 12, 1)

    enc = _meter(e, "encoding")
    assert enc.month_to_date == Decimal("275")  # 130 + 140 + 5: today counts here
    assert enc.month_average == Decimal("13.5")  # 270 / 20: today does not count here
    assert enc.recent_average == Decimal("20")  # 140 / 7
    assert enc.low == Decimal("275") + 9 * Decimal("13.5")  # 396.5
    assert enc.high == Decimal("275") + 9 * Decimal("20")  # 455

    sto = _meter(e, "storage")
    assert sto.month_to_date == Decimal("63")
    assert sto.low == sto.high == Decimal("63") + 9 * 3

    assert e.total.month_to_date == Decimal("338")
    assert e.total.month_average == Decimal("16.5")  # 330 / 20
    assert e.total.recent_average == Decimal("23")  # 161 / 7
    assert e.total.low == Decimal("338") + 9 * Decimal("16.5")
    assert e.total.high == Decimal("338") + 9 * Decimal("23")
    assert [line.name for line in e.by_meter] == ["encoding", "storage"]  # highest first


def test_a_falling_recent_average_gives_the_low_end() -> None:
    costs = [*_days("m", _on(1), _on(10), "30"), *_days("m", _on(11), _on(20), "2")]
    line = _meter(_estimate(costs, _on(21)), "m")
    assert line.recent_average == Decimal(2)
    assert line.month_average == Decimal(16)  # (300 + 20) / 20
    assert line.low == Decimal(320) + 9 * 2
    assert line.high == Decimal(320) + 9 * 16


def test_the_totals_range_comes_from_total_daily_costs_not_the_sum_of_meter_ranges() -> None:
    # One meter rises while the other falls: each meter's low uses a different average.
    costs = [
        *_days("rising", _on(1), _on(13), "1"),
        *_days("rising", _on(14), _on(20), "11"),
        *_days("falling", _on(1), _on(13), "11"),
        *_days("falling", _on(14), _on(20), "1"),
    ]
    e = _estimate(costs, _on(21))
    meters_low = sum((line.low for line in e.by_meter), Decimal(0))
    # Every day totals 12: both total averages are 12, so the total is a single figure.
    assert e.total.low == e.total.high == Decimal(240) + 9 * 12
    assert meters_low < e.total.low
    assert sum((line.high for line in e.by_meter), Decimal(0)) > e.total.high


def test_days_without_rows_count_as_days_without_cost() -> None:
    costs = [DailyCost(_on(1), "m", Decimal("140"))]  # nothing since
    line = _meter(_estimate(costs, _on(21)), "m")
    assert line.recent_average == 0
    assert line.month_average == Decimal(7)  # 140 / 20, not 140 / 1
    assert line.low == Decimal(140)
    assert line.high == Decimal(140) + 9 * 7


def test_figures_are_exact_decimals_rounded_only_when_shown() -> None:
    costs = [*_days("m", _on(1), _on(13), "0"), *_days("m", _on(14), _on(20), "1.43")]
    line = _meter(_estimate(costs, _on(21)), "m")
    # 10.01 over 20 days, 9 remaining: 10.01 + 9 × 0.5005 = 14.5145 (exactly)
    assert line.low == Decimal("14.5145")
    assert to_cents(line.low) == Decimal("14.51")
    assert line.high == Decimal("10.01") + 9 * Decimal("1.43")
    # 0.10 over 21 complete days is not a terminating decimal: kept to EXACT_DIGITS, no float
    odd = _meter(_estimate([DailyCost(_on(1), "m", Decimal("0.1"))], _on(22)), "m")
    assert isinstance(odd.high, Decimal)
    assert str(odd.month_average).startswith("0.00476190476190476190476190")
    assert len(odd.month_average.as_tuple().digits) == EXACT_DIGITS
    assert to_cents(odd.high) == Decimal("0.14")  # 0.1 + 8 × 0.1 / 21 = 0.138…


def test_rows_outside_the_1st_to_today_and_in_other_currencies_are_left_out() -> None:
    costs = [
        DailyCost(date(2026, 10, 31), "m", Decimal(1000)),  # last month
        DailyCost(_on(22), "m", Decimal(1000)),  # tomorrow: not possible, never counted
        *_days("m", _on(1), _on(20), "1"),
    ]
    line = _meter(_estimate(costs, _on(21)), "m")
    assert line.month_to_date == Decimal(20)
    report = UsageReport.model_validate(
        {
            "value": [
                _row("2026-11-03T00:00:00Z", "1.5", "USD"),
                _row("2026-11-03T00:00:00", "2", "USD"),  # naive: UTC
                _row("2026-11-04T00:00:00Z", "9", "EUR"),
            ]
        }
    )
    assert daily_costs(report, "USD") == [
        DailyCost(_on(3), "enc", Decimal("1.5")),
        DailyCost(_on(3), "enc", Decimal("2")),
    ]


def _row(at: str, cost: str, currency: str) -> dict[str, Any]:
    return {"date": at, "meterName": "enc", "quantity": 1, "cost": cost, "currency": currency}


# -- when: the first two days, the window, month ends ---------------------------------------


@pytest.mark.parametrize("day", [date(2026, 11, 1), date(2026, 11, 2), date(2027, 1, 2)])
def test_no_estimate_in_the_first_two_days_of_a_month(day: date) -> None:
    assert not has_estimate(day)
    assert estimate_month_end(_days("m", NOV, day, "5"), day, "USD") is None


def test_the_third_day_extends_the_first_two_complete_days() -> None:
    costs = [*_days("m", _on(1), _on(2), "4"), DailyCost(_on(3), "m", Decimal("1"))]
    e = _estimate(costs, _on(3))
    assert (e.complete_days, e.window_days, e.remaining_days) == (2, 2, 27)
    line = _meter(e, "m")
    assert line.low == line.high == Decimal(9) + 27 * 4


def test_the_7_day_window_never_reaches_before_the_1st() -> None:
    # On the 8th there are 7 complete days: the window is exactly them, both averages agree.
    costs = [*_days("m", _on(1), _on(3), "50"), *_days("m", _on(4), _on(7), "1")]
    e = _estimate(costs, _on(8))
    assert (e.complete_days, e.window_days) == (7, 7)
    line = _meter(e, "m")
    assert line.recent_average == line.month_average == Decimal(154) / 7
    assert line.low == line.high
    # On the 9th the window is the 2nd to the 8th: the 1st drops out of it.
    costs.append(DailyCost(_on(8), "m", Decimal(1)))
    e = _estimate(costs, _on(9))
    assert (e.complete_days, e.window_days) == (8, 7)
    line = _meter(e, "m")
    assert line.recent_average == Decimal(105) / 7  # 2×50 + 5×1
    assert line.month_average == Decimal(155) / 8
    assert line.low < line.high


@pytest.mark.parametrize(
    ("today", "remaining", "month_end"),
    [
        (date(2026, 11, 21), 9, date(2026, 12, 1)),
        (date(2026, 12, 21), 10, date(2027, 1, 1)),  # the year ends
        (date(2026, 2, 27), 1, date(2026, 3, 1)),
        (date(2028, 2, 27), 2, date(2028, 3, 1)),  # leap year: the 29th remains too
        (date(2028, 2, 29), 0, date(2028, 3, 1)),
        (date(2026, 12, 31), 0, date(2027, 1, 1)),
    ],
)
def test_remaining_days_are_the_days_of_the_month_after_today(
    today: date, remaining: int, month_end: date
) -> None:
    first = today.replace(day=1)
    e = _estimate(_days("m", first, today, "2"), today)
    assert (e.remaining_days, e.month_end) == (remaining, month_end)
    assert e.complete_days == today.day - 1
    line = _meter(e, "m")
    assert line.low == line.high == 2 * today.day + 2 * remaining


def test_on_the_last_day_the_estimate_is_the_month_to_date() -> None:
    costs = [*_days("m", _on(1), _on(29), "3"), DailyCost(_on(30), "m", Decimal("1"))]
    line = _meter(_estimate(costs, _on(30)), "m")
    assert line.low == line.high == line.month_to_date == Decimal(88)


# -- saying how -----------------------------------------------------------------------------


def test_the_method_line_names_the_remaining_days_and_both_averages_briefly() -> None:
    e = _estimate(_days("m", _on(1), _on(21), "1"), _on(21))
    assert method_line(e) == (
        "Estimate: month-to-date + the 9 days left (UTC) at the lower and higher of the "
        "7-day and month-to-date daily averages."
    )


def test_the_method_line_early_in_the_month_and_on_its_last_days() -> None:
    early = method_line(_estimate(_days("m", _on(1), _on(5), "1"), _on(5)))
    assert early == (
        "Estimate: month-to-date + the 25 days left (UTC) at the daily average of the "
        "4 complete days so far."
    )
    one = method_line(_estimate(_days("m", _on(1), _on(29), "1"), _on(29)))
    assert "the 1 day left (UTC)" in one
    last = method_line(_estimate(_days("m", _on(1), _on(30), "1"), _on(30)))
    assert last == "Estimate: the month-to-date, as no day of the month is left after today (UTC)."


# -- shown in `usage` -----------------------------------------------------------------------

AT = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)


def _usd(amount: str) -> Totals:
    return Totals.of([Money(Decimal(amount), "USD")])


def _answer(estimate: MonthEndEstimate | None) -> UsageAnswer:
    return UsageAnswer(
        project="acme-prod",
        start=NOV,
        end=_on(22),
        meters=[
            MeterUsage("encoding", Decimal(100), "minutes", _usd("275")),
            MeterUsage("storage", Decimal(80), "GB", _usd("63")),
            MeterUsage("egress", Decimal(1), "GB", None),
        ],
        totals=_usd("338"),
        uncharged=False,
        fetched_at=AT,
        estimates=() if estimate is None else (estimate,),
    )


def _known() -> MonthEndEstimate:
    return _estimate(
        [
            *_days("encoding", _on(1), _on(13), "10"),
            *_days("encoding", _on(14), _on(20), "20"),
            DailyCost(_on(21), "encoding", Decimal("5")),
            *_days("storage", _on(1), _on(21), "3"),
        ],
        _on(21),
    )


def test_usage_shows_the_month_end_range_per_meter_in_total_and_how() -> None:
    message = render_usage(_answer(_known()))
    lines = code_lines(message)
    assert lines[0].split() == ["Meter", "Quantity", "Unit", "Cost", "Month-end", "(est.)"]
    # each month-end cell says its currency, as the cost cells do
    assert lines[2].split() == [
        *("encoding", "100", "minutes", "275.00", "USD", "396.50–455.00", "USD")
    ]
    assert lines[3].split() == ["storage", "80", "GB", "63.00", "USD", "90.00", "USD"]
    assert lines[4].split() == ["egress", "1", "GB", "—", "—"]
    shown = visible(message)
    assert "*Total month to date: 338.00 USD*" in shown
    assert "*Month-end estimate: 486.50–545.00 USD*" in shown
    assert method_line(_known()) in shown
    assert message.text.endswith(
        "338.00 USD month to date, 486.50–545.00 USD by month-end (estimate)"
    )


def test_usage_without_an_estimate_has_no_estimate_column_nor_line() -> None:
    message = render_usage(_answer(None))
    assert code_lines(message)[0].split() == ["Meter", "Quantity", "Unit", "Cost"]
    assert "estimate" not in visible(message).lower()


def test_estimate_range_rounds_each_end_to_cents() -> None:
    line = EstimateLine("m", Decimal(0), Decimal(0), Decimal(0), Decimal("1.004"), Decimal("1.005"))
    assert estimate_range(line) == "1.00–1.01"
    same = EstimateLine("m", Decimal(0), Decimal(0), Decimal(0), Decimal("1.001"), Decimal("1.004"))
    assert estimate_range(same) == "1.00"
