"""The anomaly rule (`bot.core.watch.anomalies`) on exact Decimal data."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.watch.anomalies import (
    Day,
    Kind,
    Rules,
    Series,
    SeriesKey,
    Source,
    baseline,
    examine,
    is_new,
)

DAY = date(2026, 11, 18)  # a Wednesday
KEY = SeriesKey(Source.MKIO, "web", "streaming_egress", "AAS1030101", "USD")
RULES = Rules()


def series(
    values: dict[date, str], *, since: date | None = None, covered: frozenset[date] = frozenset()
) -> Series:
    return Series(
        KEY,
        {d: Day(Decimal(v), Decimal(v) * 10, covered=d in covered) for d, v in values.items()},
        since or DAY - timedelta(days=RULES.new_lookback_days),
        unit="GB",
        unit_price=Decimal("0.1"),
    )


def steady(cost: str = "100.00", *, days: int = 35, weekend: str | None = None) -> dict[date, str]:
    out: dict[date, str] = {}
    for n in range(1, days + 1):
        d = DAY - timedelta(days=n)
        out[d] = weekend if weekend is not None and d.weekday() >= 5 else cost
    return out


def test_a_steady_series_is_not_unusual() -> None:
    assert examine(series({**steady(), DAY: "100.00"}), DAY) is None


def test_a_spike_says_how_much_in_money_and_percent_against_what() -> None:
    found = examine(series({**steady(), DAY: "412.34"}), DAY)
    assert found is not None
    assert found.kind is Kind.SPIKE
    assert found.change == Decimal("312.34")
    assert found.percent == Decimal("312.34")
    assert found.baseline is not None
    assert (found.baseline.median, found.baseline.mad) == (Decimal("100.00"), Decimal("0.00"))
    assert found.baseline.band == Decimal("50")  # 50% of the median and 50 in money
    assert found.quantity_change == Decimal("3123.4")  # priced at 0.1: the change again
    assert found.days_left_in_month == 12  # 19..30 November
    assert found.rest_of_month == Decimal("3748.08")


def test_a_drop() -> None:
    found = examine(series({**steady(), DAY: "20"}), DAY)
    assert found is not None
    assert found.kind is Kind.DROP
    assert found.change == Decimal("-80.00")
    assert found.percent == Decimal("-80")


def test_a_day_without_usage_is_a_drop_to_zero() -> None:
    found = examine(series(steady()), DAY)
    assert found is not None
    assert found.kind is Kind.DROP
    assert found.point.cost == 0


def test_the_band_edges_exactly() -> None:
    assert examine(series({**steady(), DAY: "150.00"}), DAY) is None  # 50% is within
    found = examine(series({**steady(), DAY: "150.01"}), DAY)
    assert found is not None
    assert found.kind is Kind.SPIKE


def test_cents_never_alert() -> None:
    """A series of a few dollars may triple: under 50 in money, it says nothing."""
    assert examine(series({**steady("5.00"), DAY: "54.99"}), DAY) is None
    assert examine(series({**steady("5.00"), DAY: "55.01"}), DAY) is not None


def test_the_band_widens_with_the_noise() -> None:
    noisy = {d: ("200", "300", "400")[n % 3] for n, d in enumerate(sorted(steady()))}
    base = baseline(series(noisy), DAY)
    assert base is not None
    assert base.mad > 0
    assert base.band == base.mad * Decimal("4") * Decimal("1.4826") > base.median / 2
    assert examine(series({**noisy, DAY: str(base.median + base.band)}), DAY) is None
    found = examine(series({**noisy, DAY: str(base.median + base.band + 1)}), DAY)
    assert found is not None
    assert found.kind is Kind.SPIKE


def test_weekends_are_compared_with_weekends() -> None:
    saturday = DAY + timedelta(days=3)
    values = {d: ("30" if d.weekday() >= 5 else "300") for d in _days_before(saturday, 35)}
    quiet = series({**values, saturday: "31"}, since=saturday - timedelta(days=35))
    assert examine(quiet, saturday) is None
    loud = series({**values, saturday: "300"}, since=saturday - timedelta(days=35))
    found = examine(loud, saturday)
    assert found is not None
    assert found.kind is Kind.SPIKE
    assert found.baseline is not None
    assert found.baseline.median == Decimal(30)


def _days_before(day: date, count: int) -> list[date]:
    return [day - timedelta(days=n) for n in range(1, count + 1)]


def test_a_new_meter() -> None:
    found = examine(series({DAY: "75.50"}), DAY)
    assert found is not None
    assert found.kind is Kind.NEW
    assert found.change == Decimal("75.50")
    assert found.percent is None


def test_a_new_meter_under_the_minimum_is_not_said() -> None:
    assert examine(series({DAY: "49.99"}), DAY) is None


def test_new_needs_the_whole_lookback() -> None:
    """Fetched from less far back, a series may have been used just before: not new."""
    assert not is_new(series({DAY: "75"}, since=DAY - timedelta(days=10)), DAY)


def test_a_monthly_charge_is_not_new_every_month() -> None:
    monthly = {DAY - timedelta(days=30): "500", DAY: "500"}
    assert examine(series(monthly), DAY) is None  # seen 30 days ago; too sparse for a baseline


def test_covered_days_are_neither_judged_nor_a_baseline() -> None:
    values = steady()
    free = frozenset(d for d in values if d.day <= 3)
    for d in free:
        values[d] = "0"
    assert examine(series({**values, DAY: "100"}, covered=free), DAY) is None
    assert examine(series({**steady(), DAY: "0"}, covered=frozenset({DAY})), DAY) is None


def test_too_little_history_has_no_baseline() -> None:
    short = {DAY - timedelta(days=n): "100" for n in range(1, 14)}
    assert baseline(series(short, since=DAY - timedelta(days=13)), DAY) is None


# -- property ---------------------------------------------------------------------------------

# Noise under the threshold: every day within ±r of a level, r < min_share / (2 + min_share) (a
# day and the median both move by up to r), so no day is further than min_share of the median.
# per mille, under ±20%; the extremes often, so that the median sits at one edge and a day at
# the other (the worst case the threshold must allow for)
NOISE = st.one_of(st.integers(min_value=-199, max_value=199), st.sampled_from([-199, 199]))


@settings(max_examples=200)
@given(
    level=st.integers(min_value=1, max_value=10**9),
    cents=st.integers(min_value=0, max_value=99),
    noise=st.lists(NOISE, min_size=36, max_size=36),
    weekend_share=st.sampled_from([None, 40, 140]),
)
def test_a_steady_series_with_noise_under_the_threshold_raises_nothing(
    level: int, cents: int, noise: list[int], weekend_share: int | None
) -> None:
    base = Decimal(level) + Decimal(cents) / 100
    values: dict[date, Day] = {}
    for n, wiggle in enumerate(noise):
        d = DAY - timedelta(days=35 - n)
        usual = base
        if weekend_share is not None and d.weekday() >= 5:
            usual = base * weekend_share / 100
        values[d] = Day(usual * (1000 + wiggle) / 1000)
    steady_series = Series(KEY, values, DAY - timedelta(days=35))
    assert examine(steady_series, DAY) is None
    for earlier in range(1, 8):  # and no day of the last week either
        assert examine(steady_series, DAY - timedelta(days=earlier)) is None
