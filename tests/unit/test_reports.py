"""`bot.core.reports.summary`: exact sums of report rows, folding, coarser periods and the CSV file
name."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.apis.mkio.models import Granularity, ReportQuery, UsageReport
from bot.core.reports.summary import (
    MAX_FILENAME,
    NO_PROJECT,
    CostLine,
    CurrencyTotal,
    FilterKind,
    ReportSummary,
    coarsen,
    filters_of,
    fold,
    period_start,
    report_filename,
    summarize,
)
from bot.money import exact_sum

AT = datetime(2026, 4, 2, 9, 30, tzinfo=UTC)
MARCH = ReportQuery(start_date=date(2026, 3, 1), end_date=date(2026, 4, 1))


def row(
    cost: str,
    *,
    project: str | None = "alpha",
    meter: str = "video_encoding_ondemand",
    day: str = "2026-03-01T00:00:00Z",
    currency: str = "USD",
    charged: bool = True,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "date": day,
        "dateProcessed": "2026-04-01T02:00:00Z" if charged else None,
        "meterName": meter,
        "family": "video",
        "solution": "encoding",
        "unit": "minutes",
        "quantity": 1,
        "price": 0.01,
        "cost": cost,
        "currency": currency,
        "paymentMethod": "6f1c2a9e-3b4d-4c8e-9a7f-2d5b8e0c1f34",
    }
    if project is not None:
        out["project"] = project
    return out


def report(*rows: dict[str, Any]) -> UsageReport:
    return UsageReport.model_validate({"supplemental": {"records": len(rows)}, "value": rows})


def summary(*rows: dict[str, Any], query: ReportQuery = MARCH) -> ReportSummary:
    return summarize(report(*rows), query, filter_names=(), fetched_at=AT)


def assert_sums_agree(s: ReportSummary, expected: Decimal) -> None:
    assert s.total == expected
    assert exact_sum(line.cost for line in s.by_project) == expected
    assert exact_sum(line.cost for line in s.by_meter) == expected
    assert exact_sum(cost for _, cost in s.by_period) == expected
    for keep in (0, 1, 3, 10):
        assert exact_sum(line.cost for line in fold(s.by_project, keep)) == expected
        assert exact_sum(line.cost for line in fold(s.by_meter, keep)) == expected


# -- summarize ------------------------------------------------------------------------------


def test_costs_are_summed_exactly_from_their_strings() -> None:
    s = summary(row("0.1"), row("0.2", project="beta"))
    assert s.total == Decimal("0.3")  # 0.1 + 0.2 as floats is 0.30000000000000004
    assert str(s.total) == "0.3"
    assert_sums_agree(s, Decimal("0.3"))


def test_sums_never_round_even_past_28_digits() -> None:
    # Python's default decimal context keeps 28 digits and would round this sum.
    big, tiny = "1234567890123.000000000000000001", "0.000000000000000000000000001"
    s = summary(row(big), row(tiny, meter="storage"), row("-0.5", project="beta"))
    expected = Decimal("1234567890122.500000000000000001000000001")
    assert s.total == expected
    assert_sums_agree(s, expected)


def test_invariants_hold_for_many_random_rows() -> None:
    rng = random.Random(3)
    rows = [
        row(
            f"{rng.randint(-500, 100_000)}.{rng.randint(0, 10**9):09d}",
            project=rng.choice(["alpha", "beta", "gamma", None]),
            meter=f"meter-{rng.randint(0, 40)}",
            day=f"2026-03-{rng.randint(1, 31):02d}T{rng.randint(0, 23):02d}:00:00Z",
            charged=rng.random() > 0.2,
        )
        for _ in range(2_000)
    ]
    expected = exact_sum(Decimal(r["cost"]) for r in rows)
    s = summary(*rows)
    assert s.rows == 2_000
    assert_sums_agree(s, expected)
    uncharged = [Decimal(r["cost"]) for r in rows if r["dateProcessed"] is None]
    assert s.uncharged_rows == len(uncharged)
    assert s.uncharged_cost == exact_sum(uncharged)


def test_lines_are_largest_first_with_ties_by_name() -> None:
    s = summary(
        row("1", project="zulu", meter="b"),
        row("5", project="alpha", meter="a"),
        row("1", project="mike", meter="c"),
        row("2", project="zulu", meter="c"),
    )
    assert s.by_project == [
        CostLine("alpha", Decimal("5")),
        CostLine("zulu", Decimal("3")),
        CostLine("mike", Decimal("1")),
    ]
    assert s.by_meter == [
        CostLine("a", Decimal("5")),
        CostLine("c", Decimal("3")),
        CostLine("b", Decimal("1")),
    ]


def test_ties_are_ordered_by_name_not_by_arrival() -> None:
    s = summary(row("2", project="charlie"), row("2", project="alpha"), row("2", project="bravo"))
    assert [line.name for line in s.by_project] == ["alpha", "bravo", "charlie"]


def test_periods_are_chronological_one_per_instant_in_utc() -> None:
    s = summary(
        row("1", day="2026-03-03T00:00:00Z"),
        row("2", day="2026-03-01T00:00:00Z"),
        row("4", day="2026-03-01T01:00:00+01:00"),  # the same instant as the row above
        row("8", day="2026-03-02T00:00:00"),  # naive: taken as UTC
    )
    assert s.by_period == [
        (datetime(2026, 3, 1, tzinfo=UTC), Decimal("6")),
        (datetime(2026, 3, 2, tzinfo=UTC), Decimal("8")),
        (datetime(2026, 3, 3, tzinfo=UTC), Decimal("1")),
    ]


def test_uncharged_rows_are_counted_and_summed() -> None:
    s = summary(row("1.25", charged=False), row("2"), row("0.05", charged=False))
    assert (s.uncharged_rows, s.uncharged_cost) == (2, Decimal("1.30"))
    assert (s.rows, s.total) == (3, Decimal("3.30"))


def test_rows_without_a_project_get_a_line_of_their_own() -> None:
    s = summary(row("1", project=None), row("2"))
    assert CostLine(NO_PROJECT, Decimal("1")) in s.by_project


def test_an_empty_report_sums_to_zero() -> None:
    s = summary()
    assert s.total == Decimal(0)
    assert (s.by_project, s.by_meter, s.by_period) == ([], [], [])
    assert (s.rows, s.uncharged_rows, s.uncharged_cost) == (0, 0, Decimal(0))
    assert s.currency == "USD"
    assert s.other_currencies == ()
    assert s.fetched_at == AT
    assert s.query == MARCH


def test_the_rows_currency_is_the_summarys() -> None:
    assert summary(row("1", currency="EUR")).currency == "EUR"


def test_other_currencies_are_never_added_to_the_main_one() -> None:
    s = summary(
        row("1", currency="USD"),
        row("2", currency="USD"),
        row("0.125", currency="USD", charged=False),
        row("100", currency="EUR"),
        row("0.5", currency="GBP"),
        row("0.25", currency="EUR", charged=False),
    )
    assert s.currency == "USD"  # the most rows
    assert (s.total, s.rows) == (Decimal("3.125"), 3)
    assert (s.uncharged_rows, s.uncharged_cost) == (1, Decimal("0.125"))
    assert_sums_agree(s, Decimal("3.125"))
    assert s.other_currencies == (
        CurrencyTotal("EUR", Decimal("100.25"), 2),
        CurrencyTotal("GBP", Decimal("0.5"), 1),
    )


def test_a_currency_tie_goes_to_the_first_code() -> None:
    assert summary(row("1", currency="USD"), row("1", currency="EUR")).currency == "EUR"


def test_the_query_and_filter_names_are_kept() -> None:
    query = ReportQuery(
        start_date=date(2026, 3, 1),
        end_date=date(2026, 3, 15),
        payment_method_ids=("6f1c2a9e-3b4d-4c8e-9a7f-2d5b8e0c1f34",),
        filter_on_reported_date=True,
    )
    s = summarize(report(row("1")), query, filter_names=("Main Azure",), fetched_at=AT)
    assert s.query is query
    assert s.filter_names == ("Main Azure",)
    assert s.filters == (FilterKind.PAYMENT_METHODS, ("Main Azure",))


# -- fold -----------------------------------------------------------------------------------


LINES = [
    CostLine("e", Decimal("0.001")),
    CostLine("a", Decimal("10")),
    CostLine("c", Decimal("2.5")),
    CostLine("b", Decimal("2.5")),
    CostLine("d", Decimal("0.0049")),
]


def test_fold_keeps_the_largest_and_sums_the_rest_exactly() -> None:
    assert fold(LINES, 2) == [
        CostLine("a", Decimal("10")),
        CostLine("b", Decimal("2.5")),
        CostLine("others (3)", Decimal("2.5059")),
    ]


def test_fold_takes_a_label() -> None:
    assert fold(LINES, 1, label="other meters")[-1] == CostLine(
        "other meters (4)", Decimal("5.0059")
    )


def test_fold_everything_into_one_line() -> None:
    assert fold(LINES, 0) == [CostLine("others (5)", Decimal("15.0059"))]


def test_fold_never_folds_a_single_line() -> None:
    assert [line.name for line in fold(LINES, 4)] == ["a", "b", "c", "d", "e"]
    assert [line.name for line in fold(LINES, 9)] == ["a", "b", "c", "d", "e"]
    assert fold([], 3) == []


def test_fold_refuses_a_negative_keep() -> None:
    with pytest.raises(ValueError, match="keep"):
        fold(LINES, -1)


# -- coarser periods ------------------------------------------------------------------------


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("granularity", "at", "start"),
    [
        (Granularity.HOUR, "2026-03-04T13:45:10", "2026-03-04T13:00:00"),
        (Granularity.DAY, "2026-03-04T13:45:10", "2026-03-04T00:00:00"),
        (Granularity.WEEK, "2026-03-04T13:45:10", "2026-03-02T00:00:00"),  # a Wednesday
        (Granularity.WEEK, "2026-03-01T10:00:00", "2026-02-23T00:00:00"),  # a Sunday
        (Granularity.MONTH, "2026-03-04T13:45:10", "2026-03-01T00:00:00"),
        (Granularity.YEAR, "2026-03-04T13:45:10", "2026-01-01T00:00:00"),
    ],
)
def test_period_start(granularity: Granularity, at: str, start: str) -> None:
    assert period_start(_at(at), granularity) == _at(start)


def _hours(days: int) -> list[tuple[datetime, Decimal]]:
    return [
        (datetime(2026, 3, 1 + d, h, tzinfo=UTC), Decimal("0.01") * (h + 1))
        for d in range(days)
        for h in range(24)
    ]


def test_periods_that_fit_are_left_alone() -> None:
    periods = _hours(1)
    assert coarsen(periods, Granularity.HOUR, max_periods=24) == (Granularity.HOUR, periods)


def test_too_many_hours_are_summed_per_day() -> None:
    shown, periods = coarsen(_hours(31), Granularity.HOUR, max_periods=31)
    assert shown is Granularity.DAY
    assert len(periods) == 31
    assert periods[0] == (datetime(2026, 3, 1, tzinfo=UTC), Decimal("3.00"))
    assert exact_sum(cost for _, cost in periods) == Decimal("93.00")


def test_too_many_days_are_summed_per_month() -> None:
    days = [
        (datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=d), Decimal("1.1")) for d in range(365)
    ]
    shown, periods = coarsen(days, Granularity.DAY, max_periods=31)
    assert shown is Granularity.MONTH
    assert [cost for _, cost in periods][:2] == [Decimal("34.1"), Decimal("30.8")]
    assert exact_sum(cost for _, cost in periods) == Decimal("401.5")


def test_weeks_count_in_the_month_they_start() -> None:
    weeks = [(_at("2026-03-30T00:00:00"), Decimal(1))] + [
        (_at(f"2026-04-{d:02d}T00:00:00"), Decimal(2)) for d in (6, 13, 20, 27)
    ]
    shown, periods = coarsen(weeks, Granularity.WEEK, max_periods=2)
    assert shown is Granularity.MONTH
    assert periods == [(_at("2026-03-01T00:00:00"), Decimal(1)), (_at("2026-04-01"), Decimal(8))]


def test_years_are_the_coarsest() -> None:
    years = [(datetime(2000 + y, 1, 1, tzinfo=UTC), Decimal(y)) for y in range(40)]
    assert coarsen(years, Granularity.YEAR, max_periods=31) == (Granularity.YEAR, years)


# -- filters and the file name --------------------------------------------------------------


def _query(**kwargs: Any) -> ReportQuery:
    return ReportQuery(start_date=date(2026, 3, 1), end_date=date(2026, 4, 1), **kwargs)


def test_filters_fall_back_to_the_querys_own_values() -> None:
    assert filters_of(_query(), ()) == (None, ())
    assert filters_of(_query(project_names=("a", "b")), ()) == (FilterKind.PROJECTS, ("a", "b"))
    ids = ("6f1c2a9e-3b4d-4c8e-9a7f-2d5b8e0c1f34",)
    assert filters_of(_query(payment_method_ids=ids), ()) == (FilterKind.PAYMENT_METHODS, ids)
    named = filters_of(_query(payment_method_ids=ids), ("Main Azure",))
    assert named == (FilterKind.PAYMENT_METHODS, ("Main Azure",))


def test_filename_describes_the_report() -> None:
    assert (
        report_filename(_query(project_names=("my-project",)), ("my-project",))
        == "mkio-usage_2026-03-01_to_2026-04-01-excl_by-day_projects-my-project.csv"
    )
    assert (
        report_filename(_query(granularity=Granularity.WEEK, filter_on_reported_date=True), ())
        == "mkio-usage_2026-03-01_to_2026-04-01-excl_by-week_reported-date.csv"
    )
    assert (
        report_filename(_query(payment_method_ids=("id-1", "id-2")), ("Main Azure", "AWS/EU"))
        == "mkio-usage_2026-03-01_to_2026-04-01-excl_by-day_payment-methods-Main-Azure_AWS-EU.csv"
    )


SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.csv")


@pytest.mark.parametrize(
    "names",
    [
        ("<!channel>", "../../etc/passwd", ".hidden", "a b\tc\nd", "プロジェクト", "x;rm -rf ~"),
        tuple(f"project-number-{i}" for i in range(40)),
        ("p" * 500,),
    ],
)
def test_filename_is_safe_and_short(names: tuple[str, ...]) -> None:
    name = report_filename(_query(project_names=names, filter_on_reported_date=True), names)
    assert SAFE.fullmatch(name), name
    assert len(name) <= MAX_FILENAME
    assert name.startswith("mkio-usage_2026-03-01_to_2026-04-01-excl_by-day_reported-date_")


def test_filename_names_are_cleaned_not_dropped() -> None:
    names = ("../Ops team/", ".hidden", "プロジェクト")
    assert report_filename(_query(project_names=names), names) == (
        "mkio-usage_2026-03-01_to_2026-04-01-excl_by-day_projects-Ops-team_hidden_unnamed.csv"
    )


def test_cut_filenames_stay_distinct() -> None:
    many = tuple(f"project-number-{i}" for i in range(40))
    one = report_filename(_query(project_names=many), many)
    other = report_filename(_query(project_names=(*many[:-1], "x")), (*many[:-1], "x"))
    assert len(one) == len(other) == MAX_FILENAME
    assert re.search(r"-etc-[0-9a-f]{8}\.csv$", one)
    assert one != other


def test_filename_names_meter_filters() -> None:
    name = report_filename(_query(meter_names=("storage_gb",)), ())
    assert name == "mkio-usage_2026-03-01_to_2026-04-01-excl_by-day_meters-storage_gb.csv"
