from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.apis.contro.models import RecordsPage, UsageSummary
from bot.core.answers import ControRecordsAnswer, ControSummaryAnswer, RecordsPageRef
from bot.slack.ids import ActionId, BlockId
from bot.slack.render.contro import render_contro_records, render_contro_summary
from tests.unit.test_render_common import code_lines, dump, texts, visible

AT = datetime(2026, 4, 2, 9, 0, 0, tzinfo=UTC)


def _summary(items: list[dict[str, Any]], period: str = "2026-03") -> ControSummaryAnswer:
    return ControSummaryAnswer(UsageSummary.model_validate({"period": period, "items": items}), AT)


def test_summary_table_total_and_period() -> None:
    message = render_contro_summary(
        _summary(
            [
                {"type": "kyc_verification", "total": Decimal("12.5"), "count": 5},
                {"type": "card_issuance", "total": Decimal("1500.255"), "count": 1200},
                {"type": "brand_new_type", "total": Decimal("0.1"), "count": 1},
            ]
        )
    )
    lines = code_lines(message)
    assert lines[0].split() == ["Type", "Count", "Total"]
    assert [ln.split() for ln in lines[2:]] == [
        ["card_issuance", "1,200", "1,500.26", "USD"],
        ["kyc_verification", "5", "12.50", "USD"],
        ["brand_new_type", "1", "0.10", "USD"],  # unknown types shown as they come
    ]
    shown = visible(message)
    assert "*Total: 1,512.86 USD* (1,206 records)" in shown  # 1500.255 + 12.5 + 0.1 = 1512.855
    assert "Period: 2026-03-01 → 2026-04-01 (UTC, end exclusive)" in shown
    assert "Fetched 2026-04-02 09:00:00 UTC" in shown
    assert texts(message)[0] == "Contro usage — 2026-03"
    assert message.text == "Contro usage for 2026-03: 1,512.86 USD (1,206 records)"


def test_empty_summary() -> None:
    message = render_contro_summary(_summary([], period="2026-12"))
    shown = visible(message)
    assert "No Contro usage in 2026-12." in shown
    assert "Period: 2026-12-01 → 2027-01-01 (UTC, end exclusive)" in shown


def _records(
    page: dict[str, Any], *, page_number: int = 1, type_: str | None = None
) -> ControRecordsAnswer:
    return ControRecordsAnswer(
        period="2026-03",
        type=type_,
        page=RecordsPage.model_validate(page),
        page_number=page_number,
        token=None,
        fetched_at=AT,
    )


RECORDS = [
    {
        "id": "rec_001",
        "type": "transaction",
        "amount": Decimal("1234.5"),
        "referenceId": "txn_9",
        "billingPeriod": "2026-03",
        "createdAt": "2026-03-05T14:02:03+01:00",
    },
    {
        "id": "rec_002",
        "type": "kyc",
        "amount": Decimal("0.255"),
        "referenceId": None,
        "billingPeriod": "2026-03",
        "createdAt": "2026-03-31T23:59:59Z",
    },
]


def test_records_table_subtotal_and_next_button_round_trip() -> None:
    answer = _records(
        {"records": RECORDS, "next_token": "cursor:abc/123", "total": 57, "page": 2, "pages": 3},
        page_number=2,
        type_="kyc",
    )
    message = render_contro_records(answer)
    lines = code_lines(message)  # the time wraps under its date: the table fits a phone
    assert lines[0].split() == ["ID", "Type", "Amount", "Reference", "Created", "(UTC)"]
    assert lines[2].split() == [
        "rec_001",
        "transaction",
        "1,234.50",
        "USD",
        "txn_9",
        "2026-03-05",
    ]
    assert lines[3].split() == ["13:02:03"]
    assert lines[4].split() == ["rec_002", "kyc", "0.26", "USD", "2026-03-31"]
    shown = visible(message)
    assert "*Page subtotal: 1,234.76 USD* · 2 of 57 records · page 2 of 3" in shown  # 1234.755
    assert "Period: 2026-03-01 → 2026-04-01 (UTC, end exclusive)" in shown

    payload = message.to_slack()
    (nav,) = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert nav["block_id"] == BlockId.CONTRO_RECORDS_NAV
    (button,) = nav["elements"]
    assert button["action_id"] == ActionId.CONTRO_RECORDS_PAGE
    assert button["text"]["text"] == "Next page"
    ref = RecordsPageRef.decode(button["value"])
    assert ref == RecordsPageRef(
        period="2026-03", type="kyc", token="cursor:abc/123", page_number=3, back=(None,)
    )


def test_previous_goes_back_through_cursor_pages_and_next_keeps_the_way_back() -> None:
    page_two = RecordsPageRef(period="2026-03", page_number=1).next("c:2")
    page_three = page_two.next("c:3")
    assert page_three.back == (None, "c:2")
    assert page_three.previous() == page_two
    assert page_two.previous() == RecordsPageRef(period="2026-03", page_number=1)
    answer = _records({"records": RECORDS, "next_token": "c:4"}, page_number=3, type_=None)
    answer = dataclasses.replace(answer, token="c:3", back=(None, "c:2"))
    nav = next(
        b for b in render_contro_records(answer).to_slack()["blocks"] if b["type"] == "actions"
    )
    previous, following = nav["elements"]
    assert previous["action_id"] == ActionId.CONTRO_RECORDS_PREVIOUS
    assert RecordsPageRef.decode(previous["value"]) == page_two
    assert RecordsPageRef.decode(following["value"]).back == (None, "c:2", "c:3")
    assert "page 3, more after this" in visible(render_contro_records(answer))


def test_last_page_has_no_button_and_unknown_page_count() -> None:
    message = render_contro_records(
        _records({"records": RECORDS[:1], "next_token": None}, page_number=4)
    )
    payload = message.to_slack()
    assert all(b["type"] != "actions" for b in payload["blocks"])
    shown = visible(message)
    assert "· 1 record · page 4" in shown
    assert "page 4 of" not in shown
    assert message.text == "Contro records for 2026-03, page 4: 1 record, 1,234.50 USD"


def test_no_records() -> None:
    shown = visible(render_contro_records(_records({"records": []}, type_="kyc")))
    assert "No Contro records of type `kyc` in 2026-03." in shown
    assert "```" not in shown


def test_record_fields_cannot_mention_or_break_the_table() -> None:
    record = dict(RECORDS[0], id="<!channel>", referenceId="a```b\n<@U1>")
    out = dump(render_contro_records(_records({"records": [record]})))
    assert "<!channel>" not in out
    assert "<@U1>" not in out
    assert out.count("```") == 2
