"""`bot.slack.render.home`: the App Home tab's figures, its error view, and Slack's 100-block
limit."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.apis.mkio.models import Granularity, IdentifiedPaymentMethod, ReportQuery, UsageReport
from bot.core.answers import PaymentMethodsAnswer
from bot.core.language import commands as c
from bot.core.reports.summary import ReportSummary, summarize
from bot.devtools.fakeslack.reading import local_dates
from bot.errors import NotConfigured, UpstreamError
from bot.money import format_money
from bot.slack.ids import ActionId, BlockId
from bot.slack.render.common import FENCE, MAX_BLOCKS, Message, escape, section
from bot.slack.render.errors import render_error
from bot.slack.render.home import (
    EXAMPLES,
    HOME_PROJECTS,
    MAX_VIEW_BLOCKS,
    home_period,
    render_dm_failed,
    render_home,
    render_rate_card_picker,
)
from tests.unit.test_render_common import visible

NOW = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
FETCHED = datetime(2026, 11, 21, 15, 29, 58, tzinfo=UTC)
USER = "U_MEMBER"
QUERY = ReportQuery(
    start_date=date(2026, 11, 1), end_date=date(2026, 11, 22), granularity=Granularity.MONTH
)


def _row(project: str, cost: str, meter: str = "storage_gb", **over: Any) -> dict[str, Any]:
    row = {
        "date": "2026-11-01T00:00:00Z",
        "dateProcessed": "2026-11-21T02:00:00Z",
        "meterName": meter,
        "quantity": 1,
        "price": 0.1,
        "cost": cost,
        "currency": "USD",
        "project": project,
    }
    return row | over


def _summary(rows: list[dict[str, Any]]) -> ReportSummary:
    report = UsageReport.model_validate({"supplemental": {"records": len(rows)}, "value": rows})
    return summarize(report, QUERY, filter_names=(), fetched_at=FETCHED)


def _home(
    summary: ReportSummary | None, error: Message | None = None, **over: Any
) -> dict[str, Any]:
    view = render_home(summary, user_id=USER, error=error, now=NOW, **over)
    assert isinstance(view, View)
    data = view.to_dict()  # slack-sdk validates the view here (type, at most 100 blocks)
    assert data["type"] == "home"
    assert 0 < len(data["blocks"]) <= MAX_VIEW_BLOCKS
    return data


def _text(view: dict[str, Any]) -> str:
    """Everything a person sees in the view, in order."""
    return local_dates("\n".join(_strings(view["blocks"])))


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["text"]] if isinstance(node.get("text"), str) else []
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                out += _strings(value)
        return out
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def _table_rows(view: dict[str, Any]) -> dict[str, list[str]]:
    """The project table's rows by project name: [cost, currency, share]."""
    out: dict[str, list[str]] = {}
    for text in _strings(view["blocks"]):
        for inside in text.split(FENCE)[1::2]:
            for line in inside.split("\n"):
                cells = line.split()
                if len(cells) >= 4 and cells[-2] == "USD":
                    out[" ".join(cells[:-3])] = cells[-3:]
    return out


def _buttons(view: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (block["block_id"], element["action_id"], element["text"]["text"])
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


EXPECTED_BUTTONS = [
    (BlockId.HOME_ACTIONS.value, ActionId.HOME_REFRESH.value, "Refresh"),
    (BlockId.HOME_ACTIONS.value, ActionId.HOME_LAST_MONTH_REPORT.value, "Last month's report"),
    (BlockId.HOME_ACTIONS.value, ActionId.HOME_RATE_CARDS.value, "Rate cards"),
]


# -- figures --------------------------------------------------------------------------------


def test_home_shows_each_projects_cost_largest_first_with_share_and_total() -> None:
    s = _summary(
        [
            _row("alpha", "10.10"),
            _row("alpha", "5.05", "video_encoding_ondemand"),
            _row("beta", "80"),
            _row("gamma", "4.85"),
        ]
    )
    view = _home(s)
    text = _text(view)
    assert "Billing — this month so far" in text
    assert "*Organization total: 100.00 USD* (3 projects)" in text
    rows = _table_rows(view)
    assert list(rows) == ["beta", "alpha", "gamma"], "largest first"
    assert rows["beta"] == ["80.00", "USD", "80.0%"]
    assert rows["alpha"] == ["15.15", "USD", "15.2%"]
    assert rows["gamma"] == ["4.85", "USD", "4.9%"]
    assert "Period: 2026-11-01 → 2026-11-22 (UTC, end exclusive)" in text
    assert "Fetched 2026-11-21 15:29:58 UTC" in text
    assert "<@U_MEMBER>" in text


def test_total_shown_is_the_exact_sum_of_the_project_lines() -> None:
    costs = ["0.001", "0.004", "1234.5678", "0.3333", "99.999"]
    s = _summary([_row(f"p{i}", cost) for i, cost in enumerate(costs)])
    total = sum((Decimal(cost) for cost in costs), Decimal(0))
    assert s.total == total == sum((line.cost for line in s.by_project), Decimal(0))
    view = _home(s)
    assert f"*Organization total: {format_money(total, 'USD')}*" in _text(view)
    assert len(_table_rows(view)) == len(costs)


def test_no_usage_this_month_says_so() -> None:
    text = _text(_home(_summary([])))
    assert "*Organization total: 0.00 USD* (0 projects)" in text
    assert "No usage so far this month." in text
    assert "Period: 2026-11-01 → 2026-11-22" in text


def test_uncharged_and_other_currency_rows_are_noted() -> None:
    s = _summary(
        [
            _row("alpha", "10"),
            _row("alpha", "2", dateProcessed=None),
            _row("beta", "1", currency="EUR"),
        ]
    )
    text = _text(_home(s))
    assert "*Organization total: 12.00 USD + 1.00 EUR*" in text  # each, never added
    assert "2.00 USD not charged yet" in text
    assert "1.00 EUR in other currencies" in text
    # One note a line (Slack flows a context's elements into one line).
    [notes] = [b["elements"] for b in _home(s)["blocks"] if "not charged yet" in str(b)]
    assert len(notes) == 1
    assert "figures may still change.\n" in notes[0]["text"]


def test_project_names_cannot_mention_or_break_out() -> None:
    s = _summary([_row("<!channel> `x`", "1")])
    dumped = json.dumps(_home(s))
    assert "<!channel>" not in dumped
    assert "&lt;!channel&gt;" in dumped


# -- buttons and how to ask -----------------------------------------------------------------


@pytest.mark.parametrize("state", ["figures", "error", "loading"])
def test_buttons_and_how_to_ask_are_always_there(state: str) -> None:
    summary = _summary([_row("alpha", "1")]) if state == "figures" else None
    error = render_error(NotConfigured("MK.IO", "MKIO_TOKEN")) if state == "error" else None
    view = _home(summary, error)
    assert _buttons(view) == EXPECTED_BUTTONS
    text = _text(view)
    assert "*How to ask*" in text
    for command, _ in EXAMPLES:
        assert f"`{escape(command)}`" in text
    assert "<project>" not in text, "placeholders are escaped: Slack reads <…> as a link"


@pytest.mark.parametrize("command", [command for command, _ in EXAMPLES])
def test_example_commands_are_valid(command: str) -> None:
    words = command.removeprefix("/billing").replace("<project>", "acme-prod")
    words = words.replace("<payment-method-id>", "3fa85f64-5717-4562-b3fc-2c963f66afa6")
    assert c.parse(words, today=NOW.date()) is not None


# -- errors ---------------------------------------------------------------------------------


def test_not_configured_shows_the_reason_instead_of_figures() -> None:
    error = render_error(NotConfigured("MK.IO", "MKIO_TOKEN"))
    view = _home(None, error)
    text = _text(view)
    assert "not available" in text
    assert "MKIO_TOKEN" in text
    assert "Organization total" not in text
    assert _table_rows(view) == {}
    assert "Period: 2026-11-01 → 2026-11-22 (UTC, end exclusive)" in text
    assert "Tried 2026-11-21 15:30:00 UTC" in text


def test_an_upstream_failure_shows_its_words_even_with_a_summary() -> None:
    error = render_error(UpstreamError("MK.IO", "MK.IO is unavailable.", ref="abc-123"))
    text = _text(_home(_summary([_row("alpha", "1")]), error))
    assert "MK.IO is unavailable." in text
    assert "abc-123" in text
    assert "Organization total" not in text


def test_without_figures_or_error_the_figures_are_being_fetched() -> None:
    text = _text(_home(None))
    assert "Fetching this month's figures" in text


def test_a_notice_is_shown_above_the_figures() -> None:
    notice = render_dm_failed("the rate cards", "/billing payment-methods")
    text = _text(_home(_summary([_row("alpha", "1")]), notice=notice))
    assert text.index("couldn't send you the rate cards") < text.index("Organization total")
    assert "`/billing payment-methods`" in text


def test_home_period_is_the_first_of_the_month_to_tomorrow_utc() -> None:
    assert home_period(NOW) == (date(2026, 11, 1), date(2026, 11, 22))
    assert home_period(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == (
        date(2026, 12, 1),
        date(2027, 1, 1),
    )


# -- Slack's 100-block limit ----------------------------------------------------------------


def test_500_projects_fold_and_stay_within_100_blocks() -> None:
    rows = [_row(f"project-{i:03d}-{'x' * 30}", f"{i}.{i % 100:02d}") for i in range(1, 501)]
    s = _summary(rows)
    view = _home(s)
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    table = _table_rows(view)
    assert len(table) == HOME_PROJECTS + 1
    others = next(name for name in table if name.startswith("other projects"))
    assert others == f"other projects ({500 - HOME_PROJECTS})"
    shown = sum((Decimal(cost.replace(",", "")) for cost, _, _ in table.values()), Decimal(0))
    assert shown == s.total.quantize(Decimal("0.01")), "folding loses no cent"
    assert f"*Organization total: {format_money(s.total, 'USD')}* (500 projects)" in _text(view)
    assert _buttons(view) == EXPECTED_BUTTONS


def test_an_error_too_long_for_the_view_is_cut_and_the_buttons_stay() -> None:
    huge = Message(text="many", blocks=[section(f"line {i}") for i in range(300)])
    view = _home(None, huge)
    assert len(view["blocks"]) == MAX_VIEW_BLOCKS
    assert "more not shown" in _text(view)
    assert _buttons(view) == EXPECTED_BUTTONS


# -- the rate-card DM -----------------------------------------------------------------------


def _method(id_: str, name: str) -> IdentifiedPaymentMethod:
    return IdentifiedPaymentMethod.model_validate(
        {
            "metadata": {"id": id_, "displayName": name, "organizationId": "org-1"},
            "spec": {"type": "azure"},
            "status": {"isActive": True, "termsAndConditionsAccepted": True},
            "related": {"projects": ["acme-prod"]},
        }
    )


def test_rate_card_dm_offers_a_button_per_method_and_commands_past_the_limit() -> None:
    a = PaymentMethodsAnswer([_method("pm-1", "Acme <Azure>"), _method("pm-2", "Direct")], NOW)
    message = render_rate_card_picker(a)
    payload = message.to_slack()
    [picker] = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert [(b["text"]["text"], b["value"], b["action_id"]) for b in picker["elements"]] == [
        ("Acme <Azure>", "pm-1", ActionId.HOME_RATE_CARD.value),  # plain text: not escaped
        ("Direct", "pm-2", ActionId.HOME_RATE_CARD.value),
    ]
    shown = visible(message)
    assert "press a payment method to see its rate card" in shown
    assert "/billing ratecard" not in shown  # no command to type
    assert shown.rstrip().endswith("Fetched 2026-11-21 15:30:00 UTC")

    many = [_method(f"pm-{i}", "x" * 80 if i == 0 else f"Method {i}") for i in range(30)]
    payload = render_rate_card_picker(PaymentMethodsAnswer(many, NOW)).to_slack()
    [picker] = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert len(picker["elements"]) == 25  # Slack's limit for an actions block
    assert len(picker["elements"][0]["text"]["text"]) == 75
    assert "`/billing ratecard pm-29`" in str(payload)
    assert len(payload["blocks"]) <= MAX_BLOCKS


def test_rate_card_dm_without_methods_says_so() -> None:
    shown = visible(render_rate_card_picker(PaymentMethodsAnswer([], NOW)))
    assert "no payment methods" in shown
    assert "ratecard pm" not in shown
