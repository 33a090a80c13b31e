"""Every read-only /billing command, driven over HTTP exactly as Slack would drive it."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from decimal import Decimal

from tests.e2e.stack import ADMIN, MEMBER, Stack, close_stack, make_stack, row_of, seen

MONTH_TO_DATE = {
    "startDate": "2026-11-01",
    "endDate": "2026-11-22",
    "granularity": "month",
    "projectNames": ["my-project"],
}


def money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):,} USD"


async def test_help_lists_every_command_without_calling_the_apis(stack: Stack) -> None:
    _, reply = await stack.ask("")
    text = seen(reply)
    for word in ("usage", "report", "payment-methods", "ratecard", "metrics", "contro summary"):
        assert f"/billing {word}" in text
    assert stack.sandbox.requests == []


async def test_usage_shows_each_meter_with_quantity_unit_and_cost_and_the_total(
    stack: Stack,
) -> None:
    _, reply = await stack.ask("usage my-project")
    text = seen(reply)

    rows = stack.sandbox.report_rows(MONTH_TO_DATE)
    costs: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        costs[row["meterName"]] += Decimal(str(row["cost"]))
    quantities: dict[str, Decimal] = defaultdict(Decimal)
    units = {}
    for row in stack.sandbox.project_usage("my-project")["value"]:
        quantities[row["meterName"]] += Decimal(repr(row["quantity"]))
        units[row["meterName"]] = row["unit"]
    assert set(costs) == set(quantities)
    assert len(costs) >= 3

    shown = Decimal(0)
    for meter, cost in costs.items():
        line = row_of(text, meter)
        # the cost cell: within a cent of the exact cost, rounded so the rows add up to the total
        cell = Decimal(line.split(" USD")[0].split()[-1].replace(",", ""))
        assert abs(cell - cost) < Decimal("0.01"), (meter, line)
        shown += cell
        assert units[meter] in line
        whole = f"{int(quantities[meter]):,}"
        assert whole in line, (meter, whole, line)
    assert f"Total month to date: {money(sum(costs.values(), Decimal(0)))}" in text
    assert money(shown) == money(sum(costs.values(), Decimal(0)))
    assert "2026-11-01 → 2026-11-22 (UTC, end exclusive)" in text
    assert "Fetched 2026-11-21" in text
    assert reply.body.get("response_type", "ephemeral") == "ephemeral"

    reached = sorted((r.method, r.path) for r in stack.sandbox.requests)
    assert reached == [
        ("GET", "/api/v1/projects/my-project/usage"),
        ("POST", "/api/v1/organization/reports/usage"),
        ("POST", "/api/v1/organization/reports/usage"),  # daily costs, for the estimate
    ]
    reports = [r.json for r in stack.sandbox.requests if r.method == "POST"]
    assert sorted(reports, key=str) == sorted(
        [MONTH_TO_DATE, {**MONTH_TO_DATE, "granularity": "day"}], key=str
    )


async def test_payment_methods_lists_every_method_with_its_id(stack: Stack) -> None:
    _, reply = await stack.ask("payment-methods")
    text = seen(reply)
    for name, method_id in stack.sandbox.payment_method_ids().items():
        assert name in text
        assert method_id in text
    assert [r.path for r in stack.sandbox.requests] == ["/api/v1/organization/paymentMethods"]


async def test_ratecard_by_id_and_by_unique_display_name(stack: Stack) -> None:
    name, method_id = next(iter(stack.sandbox.payment_method_ids().items()))
    card = stack.sandbox.rate_card(method_id)
    price = card["spec"]["rateCard"][0]["prices"][0]

    _, by_id = await stack.ask(f"ratecard {method_id}")
    _, by_name = await stack.ask(f"ratecard {name.upper()}")
    for reply in (by_id, by_name):
        text = seen(reply)
        assert price["name"] in text
        assert f"{Decimal(repr(price['price']))} USD" in text or str(price["price"]) in text
    rate_card_calls = [r for r in stack.sandbox.requests if r.path.endswith("/rateCard")]
    assert [r.path for r in rate_card_calls] == [
        f"/api/v1/organization/paymentMethods/{method_id}/rateCard"
    ], "the second question is answered from the cache"


async def test_ratecard_of_an_unknown_method_says_so_without_calling_the_rate_card(
    stack: Stack,
) -> None:
    _, reply = await stack.ask("ratecard no-such-method")
    assert "no payment method with that ID or name: `no-such-method`" in seen(reply)
    assert not [r for r in stack.sandbox.requests if r.path.endswith("/rateCard")]


async def test_project_payment_method(stack: Stack) -> None:
    _, reply = await stack.ask("payment-method my-project")
    expected = stack.sandbox.project_payment_method("my-project")
    assert expected is not None
    text = seen(reply)
    assert expected["metadata"]["displayName"] in text
    assert expected["metadata"]["id"] in text


async def test_metrics_shows_connection_details_to_admins_only(stack: Stack) -> None:
    status = stack.sandbox.metrics_endpoint("video-platform")["status"]
    _, member_reply = await stack.ask("metrics video-platform", user_id=MEMBER)
    _, admin_reply = await stack.ask("metrics video-platform", user_id=ADMIN)

    member_text = seen(member_reply)
    assert "on" in member_text.lower()
    assert status["password"] not in str(member_reply.body)
    assert status["username"] not in str(member_reply.body)

    admin_text = seen(admin_reply)
    assert status["password"] in admin_text
    assert status["url"] in admin_text
    assert admin_reply.body.get("response_type", "ephemeral") == "ephemeral"
    assert status["password"] not in admin_reply.body["text"], "not in the notification text"


async def test_contro_summary_totals_per_type(stack: Stack) -> None:
    _, reply = await stack.ask("contro summary 2026-10")
    text = seen(reply)
    summary = stack.sandbox.contro_summary("2026-10")
    lines = text.splitlines()
    for item in summary["items"]:
        line = next(line for line in lines if line.strip().startswith(item["type"] + " "))
        assert money(Decimal(repr(item["total"]))) in line
        assert f"{item['count']:,}" in line
    grand = sum((Decimal(repr(i["total"])) for i in summary["items"]), Decimal(0))
    assert money(grand) in text
    assert "2026-10-01 → 2026-11-01" in text
    [request] = stack.sandbox.requests
    assert request.path == "/v1/partner/usage/summary"
    assert request.query == {"period": "2026-10"}


async def test_contro_records_first_page_then_next_page_in_place(stack: Stack) -> None:
    _, first = await stack.ask("contro records 2026-10")
    records = stack.sandbox.contro_records("2026-10", None)
    text = seen(first)
    assert records[0]["id"] in text
    assert records[19]["id"] in text
    assert records[20]["id"] not in text

    click = await stack.sender.click(first.body, "contro_records_page")
    assert click.status == 200
    second = await stack.final_response(click.response_url)
    assert second.body.get("replace_original") is True
    text = seen(second)
    assert records[20]["id"] in text
    assert records[39]["id"] in text
    assert records[0]["id"] not in text
    assert "page 2" in text.lower()
    record_calls = [r for r in stack.sandbox.requests if r.path.endswith("/records")]
    assert len(record_calls) == 2

    back = await stack.sender.click(second.body, "contro_records_previous")
    first_again = await stack.final_response(back.response_url)
    assert first_again.body.get("replace_original") is True
    assert records[0]["id"] in seen(first_again)
    assert "page 1" in seen(first_again).lower()
    assert record_calls[0].query.get("period") == "2026-10"


async def test_a_tampered_page_button_is_refused(stack: Stack) -> None:
    _, first = await stack.ask("contro records 2026-10")
    before = len(stack.sandbox.requests)
    click = await stack.sender.click(first.body, "contro_records_page", value='{"period":"x"}')
    reply = await stack.final_response(click.response_url)
    assert "no longer valid" in seen(reply)
    assert len(stack.sandbox.requests) == before


async def test_unknown_command_names_the_word_and_the_nearest_command(stack: Stack) -> None:
    _, reply = await stack.ask("usgae my-project")
    text = seen(reply)
    assert "`usgae`" in text
    assert "/billing usage my-project" in text
    assert stack.sandbox.requests == []


async def test_unknown_project_gets_a_clear_reply(stack: Stack) -> None:
    _, reply = await stack.ask("usage no-such-project")
    text = seen(reply)
    assert "no-such-project" in text
    assert "Traceback" not in text


async def test_a_bad_signature_is_refused_before_any_work(stack: Stack) -> None:
    body = b"command=%2Fbilling&text=usage+my-project&user_id=U1&channel_id=C1&response_url=x"
    headers = stack.sender.signed_headers(body)
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    response = await stack.sender.raw(body, headers)
    assert response.status_code == 401
    await asyncio.sleep(0.2)
    assert stack.sandbox.requests == []
    assert not [c for c in stack.slack.calls if c.visible]


async def test_an_old_signature_is_refused(stack: Stack) -> None:
    import time

    body = b"command=%2Fbilling&text=help&user_id=U1&channel_id=C1&response_url=x"
    headers = stack.sender.signed_headers(body, timestamp=int(time.time()) - 60 * 10)
    response = await stack.sender.raw(body, headers)
    assert response.status_code == 401


async def test_the_health_endpoint_answers(stack: Stack) -> None:
    import httpx

    url = stack.bot_url + "/healthz"
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200


async def test_where_the_workspace_shows_table_blocks_usage_is_one() -> None:
    stack = await make_stack(slack_table_blocks=True)
    try:
        _, reply = await stack.ask("usage my-project")
    finally:
        await close_stack(stack)
    [table_block] = [b for b in reply.body["blocks"] if b["type"] == "table"]
    heading = [cell["text"] for cell in table_block["rows"][0]]
    assert heading[:4] == ["Meter", "Quantity", "Unit", "Cost"]
    meters = [row[0]["text"] for row in table_block["rows"][1:]]
    assert "video_encoding_ondemand" in meters
    assert "```" not in str(reply.body["blocks"]), "no monospace copy of it"
    assert "video_encoding_ondemand" in seen(reply)
