"""`/billing reconcile`: the sandbox's mispriced meter named with its exact variance, a clean
month all matched, Contro's summary against its records, bad input refused before any call,
and exactly what reached MK.IO and Contro."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from bot.devtools.fakeslack import SlackCall
from bot.money import to_cents
from tests.e2e.stack import Stack, json_body, row_of, seen

JULY = {"startDate": "2026-07-01", "endDate": "2026-08-01", "granularity": "day"}


async def posted(stack: Stack, words: str) -> str:
    """Ask in a channel and wait for the "preparing" message to become the reconciliation."""
    sent = await stack.sender.command(words, channel_id="C_FINANCE")
    assert sent.status == 200

    def final(call: SlackCall) -> bool:
        return call.method == "chat.update" and "Preparing" not in str(call.body.get("text"))

    [message] = await stack.slack.wait_for(final)
    return seen(message)


def method_id_of(stack: Stack, project: str) -> str:
    method = stack.sandbox.project_payment_method(project)
    assert method is not None
    return str(method["metadata"]["id"])


def card_price(stack: Stack, method_id: str, sku: str) -> Decimal:
    card = stack.sandbox.rate_card(method_id)
    [price] = [
        p["price"] for entry in card["spec"]["rateCard"] for p in entry["prices"] if p["sku"] == sku
    ]
    return Decimal(repr(price))


def sums(rows: list[dict[str, object]], project: str, meter: str) -> tuple[Decimal, Decimal, str]:
    """The exact quantity and cost of one project's meter in the rows, and its SKU."""
    mine = [r for r in rows if r["project"] == project and r["meterName"] == meter]
    [sku] = {str(r["meterSku"]) for r in mine}
    quantity = sum((Decimal(repr(r["quantity"])) for r in mine), Decimal(0))
    cost = sum((Decimal(str(r["cost"])) for r in mine), Decimal(0))
    return quantity, cost, sku


async def test_the_mispriced_meter_is_named_with_its_exact_variance(stack: Stack) -> None:
    text = await posted(stack, "reconcile 2026-07")

    rows = stack.sandbox.report_rows(JULY)
    quantity, cost, sku = sums(rows, "archive", "storage")
    variance = cost - quantity * card_price(stack, method_id_of(stack, "archive"), sku)
    assert variance > Decimal(20)  # billed at list price, not the private offer's 90%
    assert f"variance *+{to_cents(variance)} USD*" in text
    assert f"exactly +{variance.normalize():f} USD" in text
    assert "`archive` · `storage`: reported" in text
    mismatched = [line for line in text.splitlines() if line.startswith(":x: `")]
    assert len(mismatched) == 1  # the only one: every other priced meter matches
    # the AWS card has no DRM price: live-events' DRM is listed apart, not as a mismatch
    assert "`live-events` · `drm_licenses`" in text
    assert "not on the rate card" in text

    # what reached MK.IO: the month by usage date and by reported date, each rate card once
    reports = sorted(
        (json_body(r) for r in stack.sandbox.requests if r.path.endswith("/reports/usage")),
        key=str,
    )
    assert reports == sorted([JULY, {**JULY, "filterOnReportedDate": True}], key=str)
    cards = sorted(r.path for r in stack.sandbox.requests if r.path.endswith("/rateCard"))
    assert cards == sorted(
        f"/api/v1/organization/paymentMethods/{method_id}/rateCard"
        for method_id in stack.sandbox.payment_method_ids().values()
    )
    assert all(r.method in ("GET", "POST") for r in stack.sandbox.requests)
    assert not [r for r in stack.sandbox.requests if r.path.endswith("/paymentMethod")]


async def test_a_clean_month_reports_all_matched(stack: Stack) -> None:
    text = await posted(stack, "reconcile 2026-10 project my-project")
    rows = stack.sandbox.report_rows({**JULY, "startDate": "2026-10-01", "endDate": "2026-11-01"})
    meters = {(r["meterName"], r["meterSku"]) for r in rows if r["project"] == "my-project"}
    assert f":white_check_mark: *All {len(meters)} priced meters match* the rate card." in text
    assert "Mismatched" not in text
    assert "Not compared" not in text
    assert "Contro has no projects" in text
    assert "Provisional" not in text
    requests = stack.sandbox.requests
    assert [r.path for r in requests if r.method == "GET" and "/projects" in r.path] == [
        "/api/v1/projects"
    ]  # the project exists; its rows name their payment method, so nothing more is asked
    assert {tuple(json_body(r)["projectNames"]) for r in requests if r.method == "POST"} == {
        ("my-project",)
    }
    assert not [r for r in requests if r.path.startswith("/v1/")]  # Contro is not asked


async def test_contro_summary_is_checked_against_the_sum_of_its_records(stack: Stack) -> None:
    text = await posted(stack, "reconcile 2026-10")
    assert "Contro 2026-10: the summary matches the sum of its records" in text
    records = stack.sandbox.contro_records("2026-10")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for record in records:
        totals[str(record["type"])] += Decimal(repr(record["amount"]))
    for kind, total in totals.items():
        line = row_of(text, kind)
        assert line.count(f"{to_cents(total):,} USD") == 2  # summary and records
        assert line.rstrip().endswith("ok")
    contro = [r for r in stack.sandbox.requests if r.path.startswith("/v1/")]
    assert [r.query for r in contro if r.path.endswith("/summary")] == [{"period": "2026-10"}]
    pages = [r.query for r in contro if r.path.endswith("/records")]
    assert pages
    assert all(q["period"] == "2026-10" and q["limit"] == "100" for q in pages)
    assert ":white_check_mark: *All" in text  # October has no mispriced meter


async def test_this_month_marks_its_provisional_days(stack: Stack) -> None:
    text = await posted(stack, "reconcile this-month project my-project")
    assert "Provisional: usage not charged yet on 2026-11-2" in text
    assert "2026-11-21 to 2026-11-30 not over" in text
    [usage] = [
        json_body(r)
        for r in stack.sandbox.requests
        if r.path.endswith("/reports/usage") and "filterOnReportedDate" not in json_body(r)
    ]
    assert usage["endDate"] == "2026-11-22"  # up to tomorrow: days to come have no usage


async def test_bad_input_is_refused_before_any_call(stack: Stack) -> None:
    _, reply = await stack.ask("reconcile 2026-12")
    assert "`2026-12` has not begun yet" in seen(reply)
    assert "Try: `/billing reconcile this-month`" in seen(reply)
    _, reply = await stack.ask("reconcile 2026-7")
    assert "Try: `/billing reconcile 2026-07`" in seen(reply)
    assert stack.sandbox.requests == []

    _, reply = await stack.ask("reconcile 2026-07 project no-such-project")
    assert "MK.IO has no project `no-such-project`" in seen(reply)
    assert [r.path for r in stack.sandbox.requests] == ["/api/v1/projects"]
    assert not stack.slack.api_calls("chat.postMessage")  # nothing in the channel


async def test_a_failing_report_replaces_the_preparing_message_with_the_reason(
    stack: Stack,
) -> None:
    stack.sandbox.add_fault(path="/organization/reports/usage", status=503, times=100)
    text = await posted(stack, "reconcile 2026-07")
    assert "Could not reconcile 2026-07" in text
    assert "503" in text
    assert "Traceback" not in text


async def test_a_missing_rate_card_or_contro_failing_leaves_the_rest_standing(
    stack: Stack,
) -> None:
    aws = method_id_of(stack, "live-events")
    stack.sandbox.add_fault(
        path=f"/organization/paymentMethods/{aws}/rateCard", status=404, times=100
    )
    stack.sandbox.add_fault(path="/partner/usage/records", status=500, times=100)
    text = await posted(stack, "reconcile 2026-07")
    assert "`live-events` · `live_encoding`:" in text
    assert "rate card unavailable (MK.IO answered 404" in text
    assert "`archive` · `storage`: reported" in text  # still found: its card answered
    assert "Contro could not be checked:" in text


async def test_a_mention_posts_the_reconciliation_in_its_thread(stack: Stack) -> None:
    await stack.sender.mention("reconcile 2026-07", channel_id="C_FINANCE", ts="1700000000.000100")

    def final(call: SlackCall) -> bool:
        return call.method == "chat.update" and "Preparing" not in str(call.body.get("text"))

    [message] = await stack.slack.wait_for(final)
    assert "`archive` · `storage`: reported" in seen(message)
    [preparing] = stack.slack.api_calls("chat.postMessage")
    assert preparing.body["thread_ts"] == "1700000000.000100"
