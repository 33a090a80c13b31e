"""`/billing report`: rules checked before any call, the channel summary, the CSV upload."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Mapping
from decimal import Decimal

import pytest

from bot.devtools.fakeslack import SlackCall
from bot.slack.inflight import wait_for_answers
from tests.e2e.stack import PATIENCE, Stack, close_stack, json_body, make_stack, seen, upload_named

MARCH = {"startDate": "2026-03-01", "endDate": "2026-04-01", "granularity": "day"}
FEBRUARY = {**MARCH, "startDate": "2026-02-01", "endDate": "2026-03-01"}  # compared with


def money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):,} USD"


def report_requests(stack: Stack) -> list[dict[str, object]]:
    return [json_body(r) for r in stack.sandbox.requests if r.path.endswith("/reports/usage")]


def asked(stack: Stack) -> list[dict[str, object]]:
    """The report requests in a stable order (a report and its comparison go out together)."""
    return sorted(report_requests(stack), key=str)


def both(*bodies: Mapping[str, object]) -> list[Mapping[str, object]]:
    return sorted(bodies, key=str)


async def channel_messages(stack: Stack, count: int = 1) -> list[SlackCall]:
    """chat.update calls that turned the "preparing" message into its final state."""
    return await stack.slack.wait_for(
        lambda c: c.method == "chat.update" and "Preparing" not in str(c.body.get("text")),
        count=count,
    )


async def test_report_posts_a_summary_whose_total_is_the_sum_of_the_rows(stack: Stack) -> None:
    sent = await stack.sender.command("report 2026-03", channel_id="C_FINANCE")
    assert sent.status == 200
    [summary] = await channel_messages(stack)

    rows = stack.sandbox.report_rows(MARCH)
    total = sum((Decimal(str(r["cost"])) for r in rows), Decimal(0))
    text = seen(summary)
    assert f"Total: {money(total)}" in text
    for project in {r["project"] for r in rows}:
        project_total = sum(
            (Decimal(str(r["cost"])) for r in rows if r["project"] == project), Decimal(0)
        )
        line = next(line for line in text.splitlines() if line.strip().startswith(project))
        assert money(project_total) in line
    assert "2026-03-01 → 2026-04-01 (UTC, end exclusive)" in text

    [preparing] = stack.slack.api_calls("chat.postMessage")
    assert preparing.body["channel"] == "C_FINANCE"
    assert summary.body["ts"] == preparing.ts, "the summary replaces the preparing message"
    assert not preparing.ephemeral
    assert asked(stack) == both(MARCH, FEBRUARY)


async def test_report_csv_uploads_the_file_in_the_summary_thread(stack: Stack) -> None:
    await stack.sender.command("report 2026-03 csv", channel_id="C_FINANCE")
    [summary] = await channel_messages(stack)
    [complete] = await stack.slack.wait_for(upload_named(stack, ".csv"))
    assert complete.body["channel_id"] == "C_FINANCE"
    assert complete.body["thread_ts"] == summary.body["ts"]
    [file_entry] = complete.body["files"]
    name = stack.slack.upload(file_entry["id"])["name"]
    assert name.startswith("mkio-usage_2026-03-01_to_2026-04-01")
    assert name.endswith(".csv")

    data = stack.slack.files[file_entry["id"]].decode()
    parsed = list(csv.DictReader(io.StringIO(data)))
    rows = stack.sandbox.report_rows(MARCH)
    assert len(parsed) == len(rows)
    file_total = sum((Decimal(r["cost"]) for r in parsed), Decimal(0))
    assert money(file_total) in seen(summary)

    requests = report_requests(stack)
    assert MARCH in requests
    assert {**MARCH, "format": "csv", "download": True} in requests


async def test_payment_method_filter_by_unique_display_name_sends_its_id(stack: Stack) -> None:
    name, method_id = next(iter(stack.sandbox.payment_method_ids().items()))
    slug = "-".join("".join(ch if ch.isalnum() else " " for ch in name.lower()).split())
    await stack.sender.command(f"report 2026-03 by month payment-method {slug}")
    await channel_messages(stack)
    filters = {"granularity": "month", "paymentMethodIds": [method_id]}
    assert asked(stack) == both({**MARCH, **filters}, {**FEBRUARY, **filters})
    # The "preparing" message names the method as the summary does, not by its ID.
    [preparing] = stack.slack.api_calls("chat.postMessage")
    assert f"payment methods `{name}`" in seen(preparing)
    assert method_id not in seen(preparing)


async def test_an_unknown_payment_method_filter_reports_nothing(stack: Stack) -> None:
    name = next(iter(stack.sandbox.payment_method_ids()))
    _, reply = await stack.ask(f"report 2026-03 payment-method {name.split()[0]}")
    assert "no payment method with that ID or name" in seen(reply)
    assert report_requests(stack) == []
    assert not stack.slack.api_calls("chat.postMessage")


async def test_this_month_ends_tomorrow_and_reported_sets_the_flag(stack: Stack) -> None:
    await stack.sender.command("report this-month by week project my-project,archive reported")
    [summary] = await channel_messages(stack)
    this_month = {
        "startDate": "2026-11-01",
        "endDate": "2026-11-22",
        "granularity": "week",
        "projectNames": ["my-project", "archive"],
        "filterOnReportedDate": True,
    }
    # compared like for like: the same days of the month before
    before = {**this_month, "startDate": "2026-10-01", "endDate": "2026-10-22"}
    assert asked(stack) == both(this_month, before)
    text = seen(summary)
    assert "the same days of the month before (2026-10-01 → 2026-10-22" in text
    assert "Not like for like: this period is not over: it runs to 2026-11-21" in text


@pytest.mark.parametrize(
    ("words", "says", "instead"),
    [
        (
            "report 2026-01-01 2026-03-15 by hour",
            "31 days",
            "/billing report 2026-01-01 2026-03-15 by day",
        ),
        (
            "report 2024-01-01..2026-01-01 by day",
            "366 days",
            "/billing report 2024-01-01..2026-01-01 by week",
        ),
        ("report 2026-03 project a payment-method b", "not both", "/billing report 2026-03"),
        ("report 2026-03-10 2026-03-01", "before", "/billing report"),
        ("report 2026-02-30 2026-03-10", "not a real date", "/billing report"),
        ("report 2026-13", "2026-13", "/billing report"),
    ],
)
async def test_each_rule_is_checked_before_any_call(
    stack: Stack, words: str, says: str, instead: str
) -> None:
    _, reply = await stack.ask(words)
    text = seen(reply)
    assert says in text
    assert "Try: `" + instead in text
    assert stack.sandbox.requests == []
    assert not stack.slack.api_calls("chat.postMessage")
    assert reply.body.get("response_type", "ephemeral") == "ephemeral"


async def test_a_failing_report_replaces_the_preparing_message_with_the_reason(
    stack: Stack,
) -> None:
    stack.sandbox.add_fault(path="/organization/reports/usage", status=503, times=10)
    await stack.sender.command("report 2026-03")
    [failed] = await channel_messages(stack)
    text = seen(failed)
    assert "Could not prepare" in text
    assert "503" in text
    assert "Traceback" not in text


async def test_the_bot_joins_a_public_channel_it_is_not_in(stack: Stack) -> None:
    stack.slack.fail_next("chat.postMessage", error="not_in_channel", status=200, retry_after=None)
    await stack.sender.command("report 2026-03", channel_id="C_PUBLIC")
    await channel_messages(stack)
    [join] = stack.slack.api_calls("conversations.join")
    assert join.body["channel"] == "C_PUBLIC"


def not_a_member_of_a_private_channel(stack: Stack) -> None:
    stack.slack.fail_next(
        "chat.postMessage", error="channel_not_found", status=200, retry_after=None
    )
    stack.slack.fail_next(
        "conversations.join",
        error="method_not_supported_for_channel_type",
        status=200,
        retry_after=None,
    )


async def test_a_private_channel_gets_the_summary_through_the_response_url(
    stack: Stack,
) -> None:
    not_a_member_of_a_private_channel(stack)
    sent = await stack.sender.command("report 2026-03 by week csv", channel_id="G_PRIVATE")
    url = sent.response_url

    [summary] = await stack.slack.wait_for(
        lambda c: c.kind == "response" and url.endswith(c.method) and "Total: " in seen(c)
    )
    assert summary.body["response_type"] == "in_channel", "everyone in the channel sees it"
    assert summary.body["replace_original"] is True, "it replaces its preparing message"
    [note] = await stack.slack.wait_for(
        lambda c: c.kind == "response" and "/invite @billing" in seen(c)
    )
    assert note.body["response_type"] == "ephemeral"
    assert "files" in seen(note)
    assert await wait_for_answers(PATIENCE) == 0
    posts = stack.slack.responses(url, include_failed=True)
    assert len(posts) <= 5, "Slack takes at most five posts to one response_url"
    assert [p.body["response_type"] for p in posts] == ["in_channel", "in_channel", "ephemeral"]
    assert "Preparing" in seen(posts[0])
    assert stack.slack.api_calls("files.completeUploadExternal") == []
    assert report_requests(stack), "the summary was asked for"
    assert all("format" not in body for body in report_requests(stack)), (
        "no CSV is fetched for a file that cannot be attached"
    )


async def test_a_private_channel_report_without_files_needs_no_invitation(stack: Stack) -> None:
    not_a_member_of_a_private_channel(stack)
    sent = await stack.sender.command("report 2026-03 by month", channel_id="G_PRIVATE")
    await stack.slack.wait_for(lambda c: c.kind == "response" and "Total: " in seen(c))
    assert await wait_for_answers(PATIENCE) == 0
    posts = stack.slack.responses(sent.response_url, include_failed=True)
    assert [p.body["response_type"] for p in posts] == ["in_channel", "in_channel"]
    assert not any("/invite" in seen(p) for p in posts)


async def test_a_contro_export_in_a_private_channel_asks_for_an_invitation(stack: Stack) -> None:
    """Its answer is the file itself: nothing is fetched until the bot can attach it."""
    not_a_member_of_a_private_channel(stack)
    sent = await stack.sender.command("contro records 2026-10 csv", channel_id="G_PRIVATE")
    reply = await stack.final_response(sent.response_url)
    assert "/invite @billing" in seen(reply)
    assert reply.body.get("response_type", "ephemeral") == "ephemeral"
    assert stack.billing_requests("/partner/usage") == []


async def test_a_report_with_several_periods_gets_a_png_chart_in_its_thread(
    stack: Stack,
) -> None:
    await stack.sender.command("report 2026-03 by week", channel_id="C_FINANCE")
    [summary] = await channel_messages(stack)
    [upload] = await stack.slack.wait_for(upload_named(stack, ".png"))
    assert upload.body["thread_ts"] == summary.body["ts"]
    [entry] = upload.body["files"]
    data = stack.slack.files[entry["id"]]
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert stack.slack.upload(entry["id"])["name"].endswith(".png")


async def test_a_single_period_report_has_no_chart(stack: Stack) -> None:
    await stack.sender.command("report 2026-03 by month", channel_id="C_FINANCE")
    await channel_messages(stack)
    await asyncio.sleep(0.3)
    assert stack.slack.api_calls("files.completeUploadExternal") == []


async def test_a_report_over_the_row_cap_says_what_to_ask_for_instead() -> None:
    """REPORT_MAX_ROWS: the bot stops reading a report past it and says how to ask for less."""
    stack = await make_stack(report_max_rows=10)
    try:
        assert len(stack.sandbox.report_rows(MARCH)) > 10
        await stack.sender.command("report 2026-03", channel_id="C_FINANCE")
        [answer] = await channel_messages(stack)
        text = " ".join(seen(answer).split())
        assert "more than 10 rows" in text
        assert "coarser granularity" in text
        assert "narrower filter" in text
        assert "Total:" not in text
    finally:
        await close_stack(stack)
