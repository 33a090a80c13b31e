"""What the billing APIs send is bounded where it enters (audit F4, F6, F9), end to end:
numbers, body size, time per call, and formulas in the CSV files the bot uploads."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

import bot.devtools.sandbox.reports
from bot.devtools.sandbox.reports import Row
from bot.devtools.sandbox.state import MkioState
from tests.e2e.stack import Stack, close_stack, make_stack, seen, upload_named


def method_id(stack: Stack) -> str:
    return next(iter(stack.sandbox.payment_method_ids().values()))


async def test_a_rate_card_price_with_a_huge_exponent_is_refused_clearly(stack: Stack) -> None:
    """F4: `1e-30000000` would be formatted into a 30-million-character price."""
    method = method_id(stack)
    card = stack.sandbox.rate_card(method)
    card["spec"]["rateCard"][0]["prices"][0]["price"] = "HOSTILE"
    body = json.dumps(card).replace('"HOSTILE"', "1e-30000000").encode()
    stack.sandbox.add_fault(
        path=f"/organization/paymentMethods/{method}/rateCard", status=200, body=body
    )

    _, reply = await stack.ask(f"ratecard {method}")
    text = seen(reply)
    assert "MK.IO sent an answer the bot could not read (HTTP 200)" in text
    assert "a number with more than 50 digits or an exponent beyond ±100" in text
    assert "Something went wrong" not in text

    _, again = await stack.ask(f"ratecard {method}")  # the fault is used up: the real card
    assert "Rate card" in seen(again)


async def test_an_answer_over_the_size_cap_is_refused_clearly() -> None:
    """F9: a body is read only up to UPSTREAM_MAX_JSON_BYTES (decompressed)."""
    stack = await make_stack(upstream_max_json_bytes=1000)
    try:
        _, reply = await stack.ask("payment-methods")
        assert "MK.IO's answer was larger than the bot accepts (1000 bytes)" in seen(reply)
    finally:
        await close_stack(stack)


async def test_a_dripped_body_ends_at_the_deadline() -> None:
    """F9: status and headers at once, then one byte every 0.5 s: each read is quick, the
    whole answer is not. The bot gives up at its deadline instead of waiting for it."""
    stack = await make_stack(upstream_deadline_seconds=1)
    try:
        stack.sandbox.add_fault(
            path="/organization/paymentMethods",
            kind="drip",
            status=200,
            body=b'{"value": []}',
            delay=0.5,
        )
        _, reply = await stack.ask("payment-methods")
        assert "MK.IO did not answer within 1 s — try again in a minute." in seen(reply)
    finally:
        await close_stack(stack)


HOSTILE = {
    4: '=HYPERLINK("https://evil.example/x","open")',  # payment method name
    5: "+cmd|' /C calc'!A0",  # meter name
    7: "@SUM(1+1)*cmd|' /C calc'!A0",  # family
    8: " \u00a0=1+1",  # solution, after spaces
    9: "\uff1d1+1",  # unit, fullwidth =
}
NUMBERS = {10: "-12.50", 11: "1e-5"}  # quantity, price: numbers, never quoted
FORMULA = re.compile(r"^[\s\u200b\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20]")


async def test_mkio_csv_report_reaches_slack_without_a_live_formula(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F6: MK.IO's own CSV is rewritten through the same neutraliser as Contro's export."""
    fields = bot.devtools.sandbox.reports.csv_fields

    def hostile_fields(row: Row, state: MkioState) -> list[str]:
        cells = fields(row, state)
        for index, value in {**HOSTILE, **NUMBERS}.items():
            cells[index] = value
        return cells

    monkeypatch.setattr(bot.devtools.sandbox.reports, "csv_fields", hostile_fields)
    await stack.sender.command("report this-month csv", channel_id="C_FINANCE")
    [complete] = await stack.slack.wait_for(upload_named(stack, ".csv"))
    [entry] = complete.body["files"]
    header, *rows = list(csv.reader(io.StringIO(stack.slack.files[entry["id"]].decode())))

    assert header == list(bot.devtools.sandbox.reports.CSV_COLUMNS)
    assert rows
    formulas = [
        cell
        for row in rows
        for index, cell in enumerate(row)
        if index not in NUMBERS and FORMULA.match(cell)
    ]
    assert formulas == []
    for row in rows:
        assert {i: row[i] for i in HOSTILE} == {i: "'" + v for i, v in HOSTILE.items()}
        assert {i: row[i] for i in NUMBERS} == NUMBERS
