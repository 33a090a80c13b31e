"""Insights over HTTP: the month-end estimate in `usage`, the comparison in `report`.

Every expected figure is worked out here from the sandbox's own report rows
(`stack.sandbox.report_rows`), not by the bot's code."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from bot.devtools.fakeslack import SlackCall
from bot.money import to_cents
from tests.e2e.stack import Stack, row_of, seen

TODAY = date(2026, 11, 21)  # the stack's clock: 2026-11-21 15:30 UTC
USAGE_DAYS = {
    "startDate": "2026-11-01",
    "endDate": "2026-11-22",
    "granularity": "day",
    "projectNames": ["my-project"],
}
USAGE_MONTH = {**USAGE_DAYS, "granularity": "month"}
OCTOBER = {"startDate": "2026-10-01", "endDate": "2026-11-01", "granularity": "day"}
SEPTEMBER = {"startDate": "2026-09-01", "endDate": "2026-10-01", "granularity": "day"}
OCTOBER_2025 = {"startDate": "2025-10-01", "endDate": "2025-11-01", "granularity": "day"}


def cents(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


def money(amount: Decimal) -> str:
    return f"{cents(amount)} USD"


def signed(amount: Decimal) -> str:
    rounded = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if rounded.is_zero():
        return "0.00"
    return f"+{rounded:,}" if rounded > 0 else f"{rounded:,}"


def percent(now: Decimal, before: Decimal) -> str:
    if before.is_zero():
        return "—" if now.is_zero() else "new"
    with localcontext() as ctx:
        ctx.prec = 60
        value = ((now - before) * 100 / abs(before)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    if value.is_zero():
        return "0.0%"
    return f"+{value:,}%" if value > 0 else f"{value:,}%"


def report_requests(stack: Stack) -> list[dict[str, Any]]:
    return [
        r.json
        for r in stack.sandbox.requests
        if r.path.endswith("/reports/usage") and isinstance(r.json, dict)
    ]


def amount(cell: str) -> Decimal:
    return Decimal(cell.replace(",", ""))


def line_of(text: str, first: str) -> str:
    return row_of(text, first)


# -- the month-end estimate -----------------------------------------------------------------


def expected_ranges(rows: list[dict[str, Any]], today: date) -> dict[str, tuple[Decimal, Decimal]]:
    """Per meter and "Total": month-to-date + remaining days × the lower / higher of the
    7-day and month-to-date daily averages over complete days (the 1st to yesterday)."""
    daily: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        day = datetime.fromisoformat(row["date"].replace("Z", "+00:00")).date()
        cost = Decimal(row["cost"])
        daily[row["meterName"]][day] += cost
        daily["Total"][day] += cost
    first = today.replace(day=1)
    complete = [first + timedelta(days=n) for n in range((today - first).days)]
    next_month = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    remaining = (next_month - today).days - 1
    out = {}
    with localcontext() as ctx:
        ctx.prec = 60
        for name, costs in daily.items():
            to_date = sum(costs.values(), Decimal(0))
            month = sum((costs[d] for d in complete), Decimal(0)) / len(complete)
            recent_days = complete[-7:]
            recent = sum((costs[d] for d in recent_days), Decimal(0)) / len(recent_days)
            out[name] = (
                to_date + remaining * min(month, recent),
                to_date + remaining * max(month, recent),
            )
    return out


def shown_range(low: Decimal, high: Decimal) -> str:
    return cents(low) if cents(low) == cents(high) else f"{cents(low)}–{cents(high)}"


async def test_usage_shows_a_month_end_range_per_meter_and_in_total_and_says_how(
    stack: Stack,
) -> None:
    _, reply = await stack.ask("usage my-project")
    text = seen(reply)

    ranges = expected_ranges(stack.sandbox.report_rows(USAGE_DAYS), TODAY)
    assert len(ranges) >= 4  # several meters and the total
    assert any(cents(low) != cents(high) for low, high in ranges.values()), "a real range"
    assert "Month-end (est.)" in text
    for meter, (low, high) in ranges.items():
        if meter != "Total":
            assert line_of(text, meter).endswith(f"{shown_range(low, high)} USD"), meter
    low, high = ranges["Total"]
    assert f"Month-end estimate: {shown_range(low, high)} USD" in text
    assert (
        "Estimate: month-to-date + the 9 days left (UTC) at the lower and higher of the "
        "7-day and month-to-date daily averages."
    ) in text

    # the month report is still asked for; the daily one runs beside it
    assert sorted((r.method, r.path) for r in stack.sandbox.requests) == [
        ("GET", "/api/v1/projects/my-project/usage"),
        ("POST", "/api/v1/organization/reports/usage"),
        ("POST", "/api/v1/organization/reports/usage"),
    ]
    assert sorted(report_requests(stack), key=str) == sorted([USAGE_MONTH, USAGE_DAYS], key=str)

    # cached like the rest of the answer
    await stack.ask("usage my-project")
    assert len(stack.sandbox.requests) == 3


async def test_no_estimate_on_the_2nd_of_a_month_nor_its_daily_report(stack: Stack) -> None:
    stack.clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    _, reply = await stack.ask("usage my-project")
    text = seen(reply)
    assert "Total month to date" in text
    assert "Month-end" not in text
    assert "Estimate" not in text
    assert report_requests(stack) == [
        {**USAGE_MONTH, "startDate": "2026-12-01", "endDate": "2026-12-03"}
    ]


async def test_on_the_3rd_the_estimate_extends_the_first_two_days(stack: Stack) -> None:
    stack.clock.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    _, reply = await stack.ask("usage my-project")
    text = seen(reply)
    days = {**USAGE_DAYS, "startDate": "2026-12-01", "endDate": "2026-12-04"}
    ranges = expected_ranges(stack.sandbox.report_rows(days), date(2026, 12, 3))
    low, high = ranges["Total"]
    assert cents(low) == cents(high)  # both averages cover the same two days
    assert f"Month-end estimate: {cents(low)} USD" in text
    assert "the 28 days left (UTC) at the daily average of the 2 complete days so far." in text


# -- the comparison -------------------------------------------------------------------------


def sums(rows: list[dict[str, Any]], key: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        out[row[key] or "(no project)"] += Decimal(row["cost"])
    return out


async def channel_summary(stack: Stack) -> SlackCall:
    [summary] = await stack.slack.wait_for(
        lambda c: c.method == "chat.update" and "Preparing" not in str(c.body.get("text"))
    )
    return summary


def assert_compared(
    text: str, now_rows: list[dict[str, Any]], before_rows: list[dict[str, Any]], label: str
) -> None:
    now_total = sum((Decimal(r["cost"]) for r in now_rows), Decimal(0))
    before_total = sum((Decimal(r["cost"]) for r in before_rows), Decimal(0))
    assert not now_total.is_zero()
    assert not before_total.is_zero()
    assert f"Total: {money(now_total)}" in text
    # the change shown is the totals shown subtracted, to the cent
    change = to_cents(now_total) - to_cents(before_total)
    assert (
        f"vs {label}: {money(before_total)} · change {signed(change)} USD "
        f"({percent(now_total, before_total)})"
    ) in text
    for key in ("project", "meterName"):
        now, before = sums(now_rows, key), sums(before_rows, key)
        assert len(now) > 1
        shown_now, shown_before = Decimal(0), Decimal(0)
        for name in now.keys() | before.keys():
            cost, previous = now.get(name, Decimal(0)), before.get(name, Decimal(0))
            cells = line_of(text, name).split()
            assert cells[2] == "USD", (name, cells)
            row_cost, row_previous = amount(cells[1]), amount(cells[-3])
            # rows are rounded to add up to the total: each within a cent of its exact amount
            assert abs(row_cost - cost) < Decimal("0.01"), (name, cells)
            assert abs(row_previous - previous) < Decimal("0.01"), (name, cells)
            assert cells[-2:] == [signed(row_cost - row_previous), percent(cost, previous)]
            shown_now += row_cost
            shown_before += row_previous
        assert shown_now == to_cents(now_total)
        assert shown_before == to_cents(before_total)


async def test_report_last_month_shows_the_change_against_the_month_before(stack: Stack) -> None:
    await stack.sender.command("report last-month", channel_id="C_FINANCE")
    text = seen(await channel_summary(stack))

    october = stack.sandbox.report_rows(OCTOBER)
    september = stack.sandbox.report_rows(SEPTEMBER)
    assert_compared(text, october, september, "2026-09")
    assert "Compared with 2026-09, the month before (2026-09-01 → 2026-10-01" in text
    # both months were asked for, at the same time, with the same filters
    assert sorted(report_requests(stack), key=str) == sorted([OCTOBER, SEPTEMBER], key=str)


async def test_report_vs_compares_with_the_range_asked_for(stack: Stack) -> None:
    await stack.sender.command("report 2026-10 vs 2025-10", channel_id="C_FINANCE")
    text = seen(await channel_summary(stack))

    october = stack.sandbox.report_rows(OCTOBER)
    last_year = stack.sandbox.report_rows(OCTOBER_2025)
    assert_compared(text, october, last_year, "2025-10")
    assert "Compared with 2025-10, the range asked for (2025-10-01 → 2025-11-01" in text
    assert sorted(report_requests(stack), key=str) == sorted([OCTOBER, OCTOBER_2025], key=str)
