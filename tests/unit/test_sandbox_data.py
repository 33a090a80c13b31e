"""The sandbox's data, without HTTP: determinism, exact roll-ups, Contro sums.

How fast the sandbox is built and answers is measured by `bench/sandbox_speed.py`, not here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.devtools.sandbox import ApiError, Sandbox
from bot.devtools.sandbox.contro_data import RecordFilter, SyntheticPeriod

NOW = datetime(2026, 3, 15, 12, 30, tzinfo=UTC)


def make_sandbox(**kwargs: Any) -> Sandbox:
    return Sandbox(clock=lambda: NOW, **kwargs)


def exact(rows: Iterable[dict[str, Any]], *key_fields: str) -> dict[tuple[Any, ...], Decimal]:
    """Exact cost per key, from the `cost` strings."""
    totals: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[tuple(row[field] for field in key_fields)] += Decimal(row["cost"])
    return dict(totals)


def quantities(rows: Iterable[dict[str, Any]], *key_fields: str) -> dict[tuple[Any, ...], Decimal]:
    """Exact quantity per key: a JSON float's repr is the exact decimal the sandbox meant."""
    totals: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[tuple(row[field] for field in key_fields)] += Decimal(repr(row["quantity"]))
    return dict(totals)


LINE = ("project", "meterSku", "paymentMethod", "entitlement")


def test_same_seed_same_data_other_seed_other_ids() -> None:
    body = {"startDate": "2026-02-01", "endDate": "2026-02-08"}
    first, second, other = make_sandbox(), make_sandbox(), make_sandbox(seed=8)
    assert first.report_rows(body) == second.report_rows(body)
    assert first.payment_method_ids() == second.payment_method_ids()
    assert first.payment_method_ids() != other.payment_method_ids()
    assert first.contro_records("2026-02") == second.contro_records("2026-02")


def test_month_equals_days_equals_hours_exactly() -> None:
    sandbox = make_sandbox()
    window = {"startDate": "2026-02-10", "endDate": "2026-03-13"}  # 31 days, hour-capable
    hours = sandbox.report_rows({**window, "granularity": "hour"})
    days = sandbox.report_rows({**window, "granularity": "day"})
    weeks = sandbox.report_rows({**window, "granularity": "week"})
    months = sandbox.report_rows({**window, "granularity": "month"})
    years = sandbox.report_rows({**window, "granularity": "year"})
    assert hours
    assert days
    for coarser in (days, weeks, months, years):
        assert exact(coarser, *LINE) == exact(hours, *LINE)
        assert quantities(coarser, *LINE) == quantities(hours, *LINE)
    # and per bucket: every day row is the sum of that day's hour rows
    by_day = exact(({**row, "date": row["date"][:10]} for row in hours), "date", *LINE)
    assert exact(({**row, "date": row["date"][:10]} for row in days), "date", *LINE) == by_day
    by_month = exact(({**row, "date": row["date"][:7]} for row in days), "date", *LINE)
    assert exact(({**row, "date": row["date"][:7]} for row in months), "date", *LINE) == by_month


def test_year_and_month_rollups_over_all_history() -> None:
    sandbox = make_sandbox()
    window = {"startDate": "2025-01-01", "endDate": "2026-03-16"}
    months = sandbox.report_rows({**window, "granularity": "month"})
    years = sandbox.report_rows({**window, "granularity": "year"})
    days_2025 = sandbox.report_rows({"startDate": "2025-01-01", "endDate": "2026-01-01"})
    days_2026 = sandbox.report_rows({"startDate": "2026-01-01", "endDate": "2026-03-16"})
    assert exact(months, *LINE) == exact(years, *LINE) == exact(days_2025 + days_2026, *LINE)
    assert {row["date"] for row in years} == {"2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"}


def test_today_holds_completed_hours_only() -> None:
    sandbox = make_sandbox()
    window = {"startDate": "2026-03-15", "endDate": "2026-03-17"}
    hours = sandbox.report_rows({**window, "granularity": "hour"})
    assert {row["date"][:13] for row in hours} == {f"2026-03-15T{h:02d}" for h in range(12)}
    days = sandbox.report_rows(window)
    assert exact(days, *LINE) == exact(hours, *LINE)


def test_cost_is_quantity_times_price_except_under_entitlement() -> None:
    rows = make_sandbox().report_rows({"startDate": "2026-02-01", "endDate": "2026-02-08"})
    entitled = [row for row in rows if row["entitlement"]]
    assert entitled
    assert len(entitled) < len(rows) / 10
    for row in rows:
        expected = Decimal(repr(row["quantity"])) * Decimal(repr(row["price"]))
        if row["entitlement"]:
            assert row["entitlementType"] == "license"
            assert Decimal(row["cost"]) < expected
        else:
            assert abs(Decimal(row["cost"]) - expected) <= Decimal("0.0000005")
            assert row["entitlementType"] is None
        assert len(row["cost"].split(".")[1]) == 6


def test_processing_lag_and_reported_date_filter() -> None:
    sandbox = make_sandbox()
    rows = sandbox.report_rows({"startDate": "2026-03-01", "endDate": "2026-03-16"})
    unprocessed = {row["date"][:10] for row in rows if row["dateProcessed"] is None}
    assert {"2026-03-14", "2026-03-15"} <= unprocessed
    assert min(unprocessed) >= "2026-03-11"  # roughly the last two days, a few late ones
    reported = sandbox.report_rows(
        {"startDate": "2026-02-01", "endDate": "2026-03-01", "filterOnReportedDate": True}
    )
    assert all("2026-02-01" <= row["dateProcessed"][:10] < "2026-03-01" for row in reported)
    assert any(row["date"] < "2026-02-01" for row in reported)  # January usage charged in Feb
    usage_dated = sandbox.report_rows({"startDate": "2026-02-01", "endDate": "2026-03-01"})
    assert exact(reported, "project") != exact(usage_dated, "project")


def test_growth_and_variation() -> None:
    sandbox = make_sandbox()
    monthly = {
        period: exact(
            sandbox.report_rows(
                {"startDate": start, "endDate": end, "granularity": "month"}
                | {"projectNames": ["video-platform"]}
            ),
            "project",
        )[("video-platform",)]
        for period, start, end in (
            ("2025-02", "2025-02-01", "2025-03-01"),
            ("2026-02", "2026-02-01", "2026-03-01"),
        )
    }
    assert monthly["2026-02"] > monthly["2025-02"] * Decimal("1.7")
    days = sandbox.report_rows(
        {"startDate": "2026-02-01", "endDate": "2026-02-15", "projectNames": ["my-project"]}
        | {"meterNames": ["streaming_egress"]}
    )
    assert len(days) == 14
    assert len({row["quantity"] for row in days}) >= 12


def test_usage_endpoint_agrees_with_month_to_date_report() -> None:
    sandbox = make_sandbox()
    for project in sandbox.project_names():
        usage = sandbox.project_usage(project)
        report = sandbox.report_rows(
            {"startDate": "2026-03-01", "endDate": "2026-03-16", "granularity": "month"}
            | {"projectNames": [project]}
        )
        assert quantities(usage["value"], "meterName") == quantities(report, "meterName")
    names = [row["meterName"] for row in sandbox.project_usage("my-project")["value"]]
    assert names.count("video_encoding_ondemand") == 2
    assert sandbox.project_usage("staging")["value"] == []


def test_report_validation_mirrors_the_api() -> None:
    sandbox = make_sandbox()
    cases: list[tuple[dict[str, Any], int]] = [
        ({"startDate": "2026-01-01", "endDate": "2026-02-02", "granularity": "hour"}, 400),
        ({"startDate": "2025-01-01", "endDate": "2026-01-03", "granularity": "day"}, 409),
        ({"startDate": "2026-02-30", "endDate": "2026-03-01"}, 400),
        ({"startDate": "2026-03-01", "endDate": "2026-03-01"}, 400),
        ({"startDate": "2026-03-01"}, 400),
        ({"startDate": "2026-01-01", "endDate": "2026-02-01", "granularity": "minute"}, 400),
        ({"startDate": "2026-01-01", "endDate": "2026-02-01", "projectNames": ["nope"]}, 404),
        ({"startDate": "2026-01-01", "endDate": "2026-02-01", "paymentMethodIds": ["x"]}, 400),
    ]
    for body, status in cases:
        with pytest.raises(ApiError) as caught:
            sandbox.report_rows(body)
        assert caught.value.status == status, body
    both = {
        "projectNames": ["archive"],
        "paymentMethodIds": list(sandbox.payment_method_ids().values()),
    }
    with pytest.raises(ApiError):
        sandbox.report_rows({"startDate": "2026-01-01", "endDate": "2026-02-01"} | both)
    assert sandbox.report_rows(
        {"startDate": "2026-01-01", "endDate": "2026-02-01", "granularity": "hour"}
        | {"projectNames": ["archive"]}
    )
    assert sandbox.report_rows({"startDate": "2025-01-01", "endDate": "2026-01-02"})
    assert sandbox.report_rows(
        {"startDate": "2020-01-01", "endDate": "2030-01-01", "granularity": "week"}
    )


def test_payment_method_change_applies_from_today() -> None:
    sandbox = make_sandbox()
    aws = sandbox.payment_method_ids()["AWS Marketplace (Contoso Media)"]
    sandbox.state.assign("my-project", aws, NOW.date())
    sandbox.state.assign("staging", aws, NOW.date())
    rows = sandbox.report_rows(
        {"startDate": "2026-03-13", "endDate": "2026-03-16", "projectNames": ["my-project"]}
    )
    methods = {row["date"][:10]: row["paymentMethod"] for row in rows}
    assert methods["2026-03-14"] != aws
    assert methods["2026-03-15"] == aws
    aws_projects = next(
        method["related"]["projects"]
        for method in sandbox.payment_methods()
        if method["metadata"]["id"] == aws
    )
    assert aws_projects == ["my-project", "live-events", "staging"]
    assert all(project["spec"]["isActive"] for project in sandbox.projects())


def test_generated_contro_periods_sum_exactly() -> None:
    sandbox = make_sandbox()
    months = ["2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
    total = 0
    types: set[str] = set()
    for period in months:
        records = json.loads(json.dumps(sandbox.contro_records(period)), parse_float=Decimal)
        summary = json.loads(json.dumps(sandbox.contro_summary(period)), parse_float=Decimal)
        sums: dict[str, list[Any]] = {}
        for record in records:
            entry = sums.setdefault(record["type"], [Decimal(0), 0])
            entry[0] += record["amount"]
            entry[1] += 1
            assert record["billingPeriod"] == period
            assert record["amount"] == record["amount"].quantize(Decimal("0.01"))
        assert {item["type"]: [item["total"], item["count"]] for item in summary["items"]} == sums
        total += len(records)
        types |= set(sums)
        if period == "2025-09":
            assert records == []
    assert total > 2500
    assert {"card_issuance", "transaction", "monthly_fee", "api_call", "kyc"} <= types
    assert "transaction_processing" in types
    current = sandbox.contro_records("2026-03")
    assert max(record["createdAt"] for record in current) <= "2026-03-15T12:30:00Z"


@pytest.mark.parametrize("count", [0, 1, 7, 8, 9, 79, 80, 81, 1003])
def test_synthetic_summary_matches_brute_force(count: int) -> None:
    period = SyntheticPeriod("2026-02", count)
    records = [period.record(index) for index in range(count)]
    expected: dict[str, list[int]] = {}
    for record in records:
        entry = expected.setdefault(record.type, [0, 0])
        entry[0] += record.amount
        entry[1] += 1
    assert {item.type: [item.total, item.count] for item in period.summary()} == expected
    assert [record.created_at for record in records] == sorted(r.created_at for r in records)
    assert all(record.created_at.strftime("%Y-%m") == "2026-02" for record in records)


def test_synthetic_selection_matches_brute_force() -> None:
    period = SyntheticPeriod("2026-02", 997)
    everything = [period.record(index) for index in range(997)]
    start = datetime(2026, 2, 1, tzinfo=UTC)
    bounds = [None, start - timedelta(days=3), start, start + timedelta(days=9, seconds=1)]
    bounds += [everything[500].created_at, datetime(2026, 3, 1, tzinfo=UTC)]
    bounds += [start + timedelta(days=20, microseconds=5)]
    for kind in (None, "transaction", "kyc", "monthly_fee"):
        for low in bounds:
            for high in bounds:
                chosen = RecordFilter(kind, low, high)
                expected = [
                    record
                    for record in everything
                    if (kind is None or record.type == kind)
                    and (low is None or record.created_at >= low)
                    and (high is None or record.created_at <= high)
                ]
                selection = period.select(chosen)
                assert len(selection) == len(expected)
                assert selection.page(0, 10_000) == expected
                assert selection.page(3, 5) == expected[3:8]


def test_synthetic_million_costs_no_memory() -> None:
    sandbox = make_sandbox()
    sandbox.set_contro_records("2026-10", 1_000_000)
    summary = sandbox.contro_summary("2026-10")
    assert sum(item["count"] for item in summary["items"]) == 1_000_000
    with pytest.raises(ValueError, match="YYYY-MM"):
        sandbox.set_contro_records("2026-13", 5)


def test_a_year_report_holds_the_same_rows_as_its_months() -> None:
    sandbox = make_sandbox()
    year = sandbox.report_rows({"startDate": "2025-03-01", "endDate": "2026-03-01"})
    assert year
    assert all("2025-03-01" <= row["date"][:10] < "2026-03-01" for row in year)
    for start, end in (("2025-03-01", "2025-04-01"), ("2026-02-01", "2026-03-01")):
        month = sandbox.report_rows({"startDate": start, "endDate": end})
        assert month
        assert [row for row in year if start <= row["date"][:10] < end] == month


def test_dates_are_utc_and_truncated() -> None:
    sandbox = make_sandbox()
    for granularity, expected in (("week", date(2026, 2, 2)), ("month", date(2026, 2, 1))):
        rows = sandbox.report_rows(
            {"startDate": "2026-02-04", "endDate": "2026-02-06", "granularity": granularity}
        )
        assert {row["date"] for row in rows} == {f"{expected.isoformat()}T00:00:00Z"}
