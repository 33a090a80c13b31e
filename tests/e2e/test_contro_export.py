"""`/billing contro records <period> csv`: every record, the fewest requests, in the channel."""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from decimal import Decimal

import pytest

from bot.devtools.fakeslack import SlackCall
from bot.slack import delivery
from tests.e2e.stack import Stack, close_stack, make_stack, seen


def money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):,} USD"


async def exported_file(stack: Stack) -> tuple[SlackCall, list[dict[str, str]]]:
    [complete] = await stack.slack.wait_for(lambda c: c.method == "files.completeUploadExternal")
    [entry] = complete.body["files"]
    data = stack.slack.files[entry["id"]].decode()
    return complete, list(csv.DictReader(io.StringIO(data)))


def record_requests(stack: Stack) -> list[dict[str, str]]:
    return [r.query for r in stack.sandbox.requests if r.path.endswith("/records")]


@pytest.mark.parametrize("pagination", ["cursor", "page"])
async def test_every_record_of_the_period_one_chain_per_type_of_ceil_n_over_100_requests(
    pagination: str,
) -> None:
    stack = await make_stack(contro_pagination=pagination)
    try:
        stack.sandbox.set_contro_records("2026-10", 1234)
        await stack.sender.command("contro records 2026-10 csv", channel_id="C_FINANCE")
        complete, rows = await exported_file(stack)

        assert len(rows) == 1234
        assert len({r["id"] for r in rows}) == 1234
        total = sum((Decimal(r["amount"]) for r in rows), Decimal(0))
        summary = stack.sandbox.contro_summary("2026-10")
        assert total == sum(Decimal(repr(i["total"])) for i in summary["items"])

        # one chain of pages per type of the summary, each of ceil(count / 100) requests
        requests = record_requests(stack)
        by_type = {i["type"]: math.ceil(i["count"] / 100) for i in summary["items"]}
        assert len(by_type) > 1
        assert Counter(q["type"] for q in requests) == by_type
        assert all(q["limit"] == "100" and q["period"] == "2026-10" for q in requests)
        # the file holds the types in sorted order, each in Contro's order
        assert [r["type"] for r in rows] == sorted(r["type"] for r in rows)

        [result] = await stack.slack.wait_for(
            lambda c: c.method == "chat.update" and "Preparing" not in str(c.body.get("text"))
        )
        text = seen(result)
        assert f"1,234 records, total {money(total)}" in text
        assert "Matches Contro's summary" in text
        assert complete.body["thread_ts"] == result.body["ts"]
        assert complete.body["channel_id"] == "C_FINANCE"
    finally:
        await close_stack(stack)


async def test_a_type_filter_exports_that_type_and_reconciles_with_its_total(
    stack: Stack,
) -> None:
    await stack.sender.command("contro records 2026-10 type kyc csv")
    _, rows = await exported_file(stack)
    assert rows
    assert {r["type"] for r in rows} == {"kyc"}
    kyc = next(i for i in stack.sandbox.contro_summary("2026-10")["items"] if i["type"] == "kyc")
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal(repr(kyc["total"]))
    assert len(rows) == kyc["count"]
    assert all(q.get("type") == "kyc" for q in record_requests(stack))


async def test_large_files_are_streamed_to_slack_not_read_into_memory(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "STREAM_UPLOADS_OVER_BYTES", 1024)
    stack.sandbox.set_contro_records("2026-10", 500)
    await stack.sender.command("contro records 2026-10 csv")
    complete, rows = await exported_file(stack)
    assert len(rows) == 500
    [ticket] = stack.slack.api_calls("files.getUploadURLExternal")
    [entry] = complete.body["files"]
    assert int(ticket.body["length"]) == len(stack.slack.files[entry["id"]])


async def test_a_failure_midway_replaces_the_progress_message_with_the_reason(
    stack: Stack,
) -> None:
    stack.sandbox.set_contro_records("2026-10", 450)
    stack.sandbox.add_fault(path="/partner/usage/records", status=503, times=50)
    await stack.sender.command("contro records 2026-10 csv")
    [failed] = await stack.slack.wait_for(
        lambda c: c.method == "chat.update" and "Could not export" in str(c.body.get("text"))
    )
    assert "503" in seen(failed)
    assert not stack.slack.api_calls("files.completeUploadExternal")


async def test_a_long_export_shows_its_progress_in_place(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "PROGRESS_INTERVAL_SECONDS", 0.0)
    stack.sandbox.set_contro_records("2026-10", 1500)
    stack.sandbox.delay = 0.02
    await stack.sender.command("contro records 2026-10 csv")
    await exported_file(stack)
    [preparing] = stack.slack.api_calls("chat.postMessage")
    updates = [c for c in stack.slack.api_calls("chat.update") if c.body["ts"] == preparing.ts]
    progress = [
        re.search(r"([\d,]+) pages? fetched, ([\d,]+) records written", seen(c)) for c in updates
    ]
    counts = [(int(m[1].replace(",", "")), int(m[2].replace(",", ""))) for m in progress if m]
    assert len(counts) >= 2
    assert counts == sorted(counts)
    assert counts[0][1] > 0
    assert counts[-1][1] < 1500
    assert "1,500 records, total" in seen(updates[-1])


async def test_a_period_without_records_says_so_and_uploads_no_file(stack: Stack) -> None:
    stack.sandbox.set_contro_records("2026-10", 0)
    await stack.sender.command("contro records 2026-10 csv", channel_id="C_FINANCE")
    [result] = await stack.slack.wait_for(
        lambda c: c.method == "chat.update" and "Preparing" not in str(c.body.get("text"))
    )
    assert "No records for 2026-10" in seen(result)
    assert "the CSV file is in the thread" not in seen(result)
    assert not stack.slack.api_calls("files.getUploadURLExternal")
    assert not stack.slack.api_calls("files.completeUploadExternal")
