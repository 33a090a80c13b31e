"""Billing-change rendering: refusals, previews with Confirm/Cancel, outcomes, the metrics
connection details and the audit record, built from the real types."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.apis.mkio.models import MetricsEndpoint, PaymentMethod, RateCard
from bot.core.changes.model import (
    ChangeKind,
    ChangeStatus,
    MeterPrices,
    MethodRef,
    MetricsPreview,
    MetricsPricing,
    Outcome,
    PaymentMethodPreview,
    PendingChange,
    PriceComparison,
    metrics_prices,
)
from bot.devtools.fakeslack.reading import local_dates
from bot.money import Money, Totals
from bot.slack.ids import ActionId, BlockId
from bot.slack.render.changes import (
    audit_line,
    render_audit,
    render_metrics_credentials,
    render_metrics_preview,
    render_not_admin,
    render_outcome,
    render_payment_method_preview,
)
from bot.slack.render.common import Message
from tests.unit.test_render_common import code_lines, dump, joined_rows, visible

REQUESTED = datetime(2026, 11, 21, 20, 31, 0, tzinfo=UTC)
NOW = REQUESTED
DECIDED = datetime(2026, 11, 21, 20, 33, 0, tzinfo=UTC)
AZURE_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
DIRECT_ID = "0b5e7f3c-1c1d-4e7a-9a43-5f1d0d6b2a11"
CHANGE_ID = "Zq3v9-kT_xXw1bC2dE3fG4hI"
ADMIN = "U0ADMIN"
PASSWORD = "s3cr3t-*_P@ss`word"
USERNAME = "metrics-user-7f3a"
URL = "https://metrics.example.net/acme-prod/federate"
HOSTILE = "<!channel>"


def _method(id_: str, name: str, kind: str) -> PaymentMethod:
    return PaymentMethod.model_validate(
        {"metadata": {"id": id_, "displayName": name}, "spec": {"type": kind}}
    )


AZURE = _method(AZURE_ID, "Acme Azure", "azure")
DIRECT = _method(DIRECT_ID, "Acme Direct", "direct")


def _change(kind: ChangeKind = ChangeKind.PAYMENT_METHOD, **over: Any) -> PendingChange:
    data: dict[str, Any] = {
        "id": CHANGE_ID,
        "kind": kind,
        "project": "acme-prod",
        "requested_by": ADMIN,
        "channel": "C0BILLING",
        "requested_at": REQUESTED,
        "expires_at": REQUESTED + timedelta(minutes=10),
    }
    if kind is ChangeKind.PAYMENT_METHOD:
        data["before_method"] = MethodRef.of(AZURE)
        data["after_method"] = MethodRef.of(DIRECT)
    else:
        data["metrics_enabled_before"] = False
    data.update(over)
    return PendingChange(**data)


def _decided(
    status: ChangeStatus, kind: ChangeKind = ChangeKind.PAYMENT_METHOD, **over: Any
) -> PendingChange:
    return _change(kind, status=status, decided_by=ADMIN, decided_at=DECIDED, **over)


def _prices(**over: Any) -> PriceComparison:
    data: dict[str, Any] = {
        "start": date(2026, 11, 1),
        "end": date(2026, 11, 22),
        "meters": [
            MeterPrices(
                meter="Streaming",
                sku="STR-1",
                quantity=Decimal("1234.5"),
                unit="GB",
                current_price=Decimal("0.0035"),
                new_price=Decimal("0.003"),
            ),
            MeterPrices(
                meter="Encoding",
                sku=None,
                quantity=Decimal("10"),
                unit="min",
                current_price=None,
                new_price=Decimal("0.015"),
            ),
            MeterPrices(
                meter="Live",
                sku=None,
                quantity=Decimal("2"),
                unit="h",
                current_price=Decimal("1.25"),
                new_price=None,
            ),
        ],
        "current_currency": "USD",
        "new_currency": "USD",
        "billed_so_far": Totals.of([Money(Decimal("6.83"), "USD")]),
    }
    data.update(over)
    return PriceComparison(**data)


def _preview(
    current: PaymentMethod | None = AZURE, prices: PriceComparison | None = None, **over: Any
) -> PaymentMethodPreview:
    change = _change(before_method=MethodRef.of(current) if current else None, **over)
    return PaymentMethodPreview(
        change=change, current=current, new=DIRECT, prices=prices or _prices()
    )


def _endpoint(with_status: bool = True) -> MetricsEndpoint:
    data: dict[str, Any] = {"kind": "MetricsEndpoint", "spec": {"enabled": True}}
    if with_status:
        data["status"] = {"url": URL, "username": USERNAME, "password": PASSWORD}
    return MetricsEndpoint.model_validate(data)


def _blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = message.to_slack(ephemeral=True)["blocks"]
    return blocks


def _actions(message: Message) -> list[dict[str, Any]]:
    return [b for b in _blocks(message) if b["type"] == "actions"]


def _buttons(message: Message) -> dict[str, dict[str, Any]]:
    (actions,) = _actions(message)
    assert actions["block_id"] == BlockId.CHANGE_DECISION.value
    return {e["action_id"]: e for e in actions["elements"]}


# -- not an admin ---------------------------------------------------------------------------


def test_not_admin_names_the_admins_sorted() -> None:
    message = render_not_admin(frozenset({"U0ZED", "U0ABE"}))
    assert "Only billing admins can change billing settings: <@U0ABE>, <@U0ZED>." in visible(
        message
    )
    assert "<@U0ABE>, <@U0ZED>" in message.text
    assert not _actions(message)


def test_not_admin_without_admins_says_how_to_configure() -> None:
    message = render_not_admin(frozenset())
    assert "No billing admins are configured: an operator sets `BILLING_ADMINS`." in visible(
        message
    )
    assert "<@" not in dump(message)


def test_not_admin_never_mentions_a_malformed_id() -> None:
    out = dump(render_not_admin(frozenset({"<!channel>"})))
    assert "<!channel>" not in out
    assert "<@<!channel>>" not in out


# -- payment-method preview -----------------------------------------------------------------


def test_preview_shows_project_current_and_new_method() -> None:
    shown = visible(render_payment_method_preview(_preview(), now=NOW))
    assert "Switch the payment method of acme-prod?" in shown
    assert "*Project:* `acme-prod`" in shown
    assert f"*Current method:* *Acme Azure* (azure) `{AZURE_ID}`" in shown
    assert f"*New method:* *Acme Direct* (direct) `{DIRECT_ID}`" in shown


def test_preview_warns_replace_only_and_activation() -> None:
    shown = visible(render_payment_method_preview(_preview(), now=NOW))
    assert "can only be *replaced, never removed*" in shown
    assert "*activates the project* `acme-prod`" in shown


def _cells(row: str) -> list[str]:
    """A table row's cells: columns are separated by at least two spaces."""
    return re.split(r"\s{2,}", row.strip())


def test_preview_prices_each_meter_both_ways() -> None:
    rows = joined_rows(render_payment_method_preview(_preview(), now=NOW))
    assert _cells(rows[0]) == [
        "Meter",
        "Quantity",
        "Unit",
        "Price now",
        "Price new",
        "Cost now",
        "Cost new",
    ]
    by_meter = {_cells(r)[0]: _cells(r) for r in rows[2:]}
    # exact unit prices; costs rounded to cents: 1234.5 × 0.0035 = 4.32075, × 0.003 = 3.7035
    assert by_meter["Streaming"] == [
        "Streaming",
        "1,234.5",
        "GB",
        "0.0035 USD",
        "0.003 USD",
        "4.32 USD",
        "3.70 USD",
    ]
    assert by_meter["Encoding"] == [
        "Encoding",
        "10",
        "min",
        "no price",
        "0.015 USD",
        "no price",
        "0.15 USD",
    ]
    assert by_meter["Live"] == ["Live", "2", "h", "1.25 USD", "no price", "2.50 USD", "no price"]


def test_a_meter_priced_on_several_lines_says_which_line_each_is() -> None:
    encoding = "video_encoding_ondemand"
    meters = [
        MeterPrices(encoding, "SD", Decimal(10), "min", Decimal(1), Decimal(1), "Advanced SD"),
        MeterPrices(encoding, "HD", Decimal(10), "min", Decimal(2), Decimal(2), "Advanced HD"),
        MeterPrices(encoding, "4K", Decimal(10), "min", Decimal(3), Decimal(3)),
        MeterPrices("Streaming", None, Decimal(5), "GB", Decimal(1), Decimal(1), "Egress"),
    ]
    preview = _preview(prices=_prices(meters=meters))
    rows = code_lines(render_payment_method_preview(preview, now=NOW))
    first_table = rows[: [k for k, r in enumerate(rows) if r.startswith("Meter")][1]]
    assert [r.split()[0] for r in first_table if r.startswith(encoding)] == [encoding] * 3
    labels = re.findall(r"\((.+?)\)", "\n".join(first_table))
    assert labels == ["Advanced SD", "Advanced HD", "4K"], "each line labelled (or by SKU)"
    assert any(r.split()[0] == "Streaming" for r in first_table), "one line: its name alone"


def test_preview_totals_difference_and_billed() -> None:
    shown = visible(render_payment_method_preview(_preview(), now=NOW))
    # current: 4.32075 + 2.50 = 6.82075; new: 3.7035 + 0.15 = 3.8535
    assert "*Priced with the current card:* 6.82 USD" in shown
    assert "*Priced with the new card:* 3.85 USD" in shown
    # only Streaming is priced on both: 3.7035 − 4.32075 = −0.61725, −14.3 %
    assert (
        "*Difference (new − current, on the meters priced on both cards):* -0.62 USD (-14.3%)"
        in shown
    )
    assert "*Billed so far this month:* 6.83 USD" in shown
    assert "authoritative" in shown


def test_preview_difference_has_a_plus_sign_when_dearer() -> None:
    prices = _prices(
        meters=[MeterPrices("Streaming", None, Decimal("100"), "GB", Decimal("1"), Decimal("1.5"))]
    )
    shown = visible(render_payment_method_preview(_preview(prices=prices), now=NOW))
    assert "*Difference (new − current):* +50.00 USD (+50.0%)" in shown


def test_preview_difference_without_percent_when_current_cost_is_zero() -> None:
    prices = _prices(
        meters=[MeterPrices("Streaming", None, Decimal("100"), "GB", Decimal("0"), Decimal("1"))]
    )
    shown = visible(render_payment_method_preview(_preview(prices=prices), now=NOW))
    line = next(ln for ln in shown.split("\n") if ln.startswith("*Difference"))
    assert line == "*Difference (new − current):* +100.00 USD"


def test_preview_difference_needs_a_meter_priced_on_both_cards() -> None:
    prices = _prices(
        meters=[MeterPrices("Streaming", None, Decimal("100"), "GB", None, Decimal("1"))]
    )
    shown = visible(render_payment_method_preview(_preview(prices=prices), now=NOW))
    assert "not comparable: no meter is priced on both cards" in shown


def test_preview_different_currencies_are_not_subtracted() -> None:
    prices = _prices(new_currency="EUR")
    shown = visible(render_payment_method_preview(_preview(prices=prices), now=NOW))
    assert "*Priced with the new card:* 3.85 EUR" in shown
    assert "not comparable: the cards are in USD and EUR" in shown
    assert "(new − current)" not in shown


def test_preview_names_unpriced_meters_per_card() -> None:
    shown = visible(render_payment_method_preview(_preview(), now=NOW))
    assert "No price on the current card for: Encoding (not counted in its total)." in shown
    assert "No price on the new card for: Live (not counted in its total)." in shown


def test_preview_without_a_current_method() -> None:
    prices = _prices(
        meters=[MeterPrices("Streaming", None, Decimal("10"), "GB", None, Decimal("0.5"))]
    )
    message = render_payment_method_preview(_preview(current=None, prices=prices), now=NOW)
    shown = visible(message)
    assert "*Current method:* none assigned" in shown
    assert "*Priced with the current card:* no current payment method" in shown
    assert "Difference" not in shown
    assert "No price on the current card" not in shown  # no card at all: nothing to name
    assert "from none to Acme Direct (direct)" in message.text


def test_preview_without_usage_says_so() -> None:
    prices = _prices(meters=[], billed_so_far=Totals())
    shown = visible(render_payment_method_preview(_preview(prices=prices), now=NOW))
    assert "No usage this month for `acme-prod`: nothing to price." in shown
    assert "*Priced with the new card:* 0.00 USD" in shown


def test_preview_shows_period_and_expiry() -> None:
    shown = visible(render_payment_method_preview(_preview(), now=NOW)).split("\n")
    assert "Period: 2026-11-01 → 2026-11-22 (UTC, end exclusive)" in shown
    assert "Fetched 2026-11-21 20:31:00 UTC" in shown
    assert any(
        "Confirm by 2026-11-21 20:41 UTC — this request expires in 10 minutes" in s for s in shown
    )


def test_preview_expiry_counts_down_from_now() -> None:
    later = NOW + timedelta(minutes=9, seconds=30)
    shown = visible(render_payment_method_preview(_preview(), now=later))
    assert "this request expires in 1 minute" in shown
    assert "1 minutes" not in shown


def test_preview_buttons() -> None:
    buttons = _buttons(render_payment_method_preview(_preview(), now=NOW))
    assert set(buttons) == {ActionId.CHANGE_CONFIRM.value, ActionId.CHANGE_CANCEL.value}
    confirm = buttons[ActionId.CHANGE_CONFIRM.value]
    cancel = buttons[ActionId.CHANGE_CANCEL.value]
    assert confirm["text"]["text"] == "Confirm switch"
    assert confirm["style"] == "primary"
    assert confirm["value"] == CHANGE_ID
    assert cancel["text"]["text"] == "Cancel"
    assert cancel["value"] == CHANGE_ID
    assert "style" not in cancel
    assert "confirm" not in cancel
    dialog = confirm["confirm"]
    assert dialog["title"]["text"] == "Switch payment method?"
    assert dialog["confirm"]["text"] == "Switch"
    assert dialog["deny"]["text"] == "Keep current"
    assert "acme-prod" in dialog["text"]["text"]
    assert "Acme Direct" in dialog["text"]["text"]
    assert "cannot be undone" in dialog["text"]["text"]
    assert "never removed" in dialog["text"]["text"]


def test_preview_dialog_stays_within_slack_limits_with_long_names() -> None:
    long_method = _method(DIRECT_ID, "N" * 500, "direct")
    change = _change(project="p" * 300, after_method=MethodRef.of(long_method))
    preview = PaymentMethodPreview(change=change, current=AZURE, new=long_method, prices=_prices())
    dialog = _buttons(render_payment_method_preview(preview, now=NOW))[
        ActionId.CHANGE_CONFIRM.value
    ]["confirm"]
    assert len(dialog["text"]["text"]) <= 300
    assert dialog["text"]["text"].endswith("never removed.")


def test_preview_fallback_text_sums_up() -> None:
    text = local_dates(render_payment_method_preview(_preview(), now=NOW).text)
    assert "Switch the payment method of acme-prod from Acme Azure (azure) to Acme Direct" in text
    assert "6.82 USD now, 3.85 USD with the new card" in text
    assert "Confirm by 2026-11-21 20:41 UTC" in text


# -- metrics preview ------------------------------------------------------------------------


def test_metrics_preview_gives_the_price_of_a_metrics_meter_or_the_card_it_follows() -> None:
    card = RateCard.model_validate(
        {
            "spec": {
                "currency": "EUR",
                "rateCard": [
                    {"family": "Encoding", "prices": [{"name": "enc_hd", "price": "0.012"}]},
                    {
                        "family": "Observability",
                        "prices": [
                            {"name": "metrics_export", "unit": "hour", "price": "0.0035"},
                            {"name": "<!here>", "displayName": "Metrics storage", "price": "2"},
                        ],
                    },
                ],
            }
        }
    )
    prices = metrics_prices(card)
    assert [p.name for p in prices] == ["metrics_export", "<!here>"]
    priced = MetricsPricing("Acme <Azure>", "EUR", prices)
    change = _change(ChangeKind.METRICS)
    shown = visible(render_metrics_preview(MetricsPreview(change, priced), now=NOW))
    assert (
        "once on, `acme-prod` is charged for it at 0.0035 EUR per hour (`metrics_export`), "
        "2.00 EUR (`&lt;!here&gt;`) on the rate card of *Acme &lt;Azure&gt;*."
    ) in shown
    unpriced = MetricsPricing("Acme", "USD", ())
    shown = visible(render_metrics_preview(MetricsPreview(change, unpriced), now=NOW))
    assert (
        "charged for it, as the rate card of *Acme* bills it (it names no metrics meter)."
    ) in shown


def test_metrics_preview_warns_and_offers_buttons() -> None:
    message = render_metrics_preview(MetricsPreview(_change(ChangeKind.METRICS)), now=NOW)
    shown = visible(message)
    assert "Enable metrics export for acme-prod?" in shown
    assert "Metrics export is *billable*" in shown
    assert "(URL, username, password) will be shown *only to you, privately*" in shown
    assert "Confirm by 2026-11-21 20:41 UTC — this request expires in 10 minutes" in shown
    buttons = _buttons(message)
    confirm = buttons[ActionId.CHANGE_CONFIRM.value]
    assert confirm["text"]["text"] == "Enable export"
    assert confirm["style"] == "primary"
    assert confirm["value"] == CHANGE_ID
    assert confirm["confirm"]["title"]["text"] == "Enable metrics export?"
    assert "billable" in confirm["confirm"]["text"]["text"]
    assert buttons[ActionId.CHANGE_CANCEL.value]["value"] == CHANGE_ID
    assert "billable" in message.text


# -- outcomes -------------------------------------------------------------------------------


def test_unknown_change_is_refused() -> None:
    message = render_outcome(Outcome(change=None, refused="unknown"), now=NOW)
    assert (
        "This confirmation is not valid: it may have been tampered with or forgotten. Ask again."
        in visible(message)
    )
    assert not _actions(message)


def test_not_yours_is_short_and_names_who_asked() -> None:
    message = render_outcome(Outcome(change=_change(), refused="not-yours"), now=NOW)
    assert visible(message) == (
        f":no_entry: Only <@{ADMIN}> who asked can confirm or cancel this change."
    )


@pytest.mark.parametrize(
    ("kind", "command"),
    [
        (ChangeKind.PAYMENT_METHOD, f"`/billing payment-method acme-prod set {DIRECT_ID}`"),
        (ChangeKind.METRICS, "`/billing metrics acme-prod enable`"),
    ],
)
def test_expired_says_when_and_how_to_ask_again(kind: ChangeKind, command: str) -> None:
    later = NOW + timedelta(minutes=15)
    message = render_outcome(Outcome(change=_change(kind), refused="expired"), now=later)
    assert (
        "This confirmation expired at 2026-11-21 20:41 UTC; nothing was changed. Ask again: "
        + command
        in visible(message)
    )
    assert not _actions(message)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            ChangeStatus.DONE,
            f"Already done by <@{ADMIN}> at 2026-11-21 20:33 UTC: *Acme Azure* (azure) "
            f"`{AZURE_ID}` → *Acme Direct* (direct) `{DIRECT_ID}`.",
        ),
        (
            ChangeStatus.CANCELLED,
            f"Already cancelled by <@{ADMIN}> at 2026-11-21 20:33 UTC: nothing was changed.",
        ),
        (
            ChangeStatus.FAILED,
            f"Already failed (confirmed by <@{ADMIN}> at 2026-11-21 20:33 UTC): "
            "MK.IO refused; reference `req-42`.",
        ),
        (
            ChangeStatus.STALE,
            f"Already stopped (confirmed by <@{ADMIN}> at 2026-11-21 20:33 UTC): "
            "MK.IO refused; nothing was changed.",
        ),
        (
            ChangeStatus.CONFIRMED,
            f"Already confirmed by <@{ADMIN}> at 2026-11-21 20:33 UTC: the change is being made.",
        ),
    ],
)
def test_decided_says_what_became_of_it(status: ChangeStatus, expected: str) -> None:
    change = _decided(status, error="MK.IO refused", ref="req-42")
    message = render_outcome(Outcome(change=change, refused="decided"), now=NOW)
    shown = visible(message)
    assert expected in shown
    assert "will be" not in shown.lower()
    assert "retry" not in shown.lower()
    assert not _actions(message)


def test_done_payment_method() -> None:
    message = render_outcome(Outcome(change=_decided(ChangeStatus.DONE)), now=NOW)
    shown = visible(message)
    assert (
        ":white_check_mark: Done: `acme-prod` now uses *Acme Direct* (direct), "
        "was *Acme Azure* (azure)."
    ) in shown
    assert f"Decided by <@{ADMIN}> at 2026-11-21 20:33 UTC" in shown
    assert not _actions(message)
    assert message.text == (
        "Done: acme-prod now uses Acme Direct (direct), was Acme Azure (azure)."
    )


def test_done_payment_method_from_none() -> None:
    change = _decided(ChangeStatus.DONE, before_method=None)
    shown = visible(render_outcome(Outcome(change=change), now=NOW))
    assert "now uses *Acme Direct* (direct), was none." in shown


def test_done_metrics_never_shows_connection_details() -> None:
    change = _decided(ChangeStatus.DONE, ChangeKind.METRICS)
    message = render_outcome(Outcome(change=change, endpoint=_endpoint()), now=NOW)
    shown = visible(message)
    assert (
        "Metrics export is now on for `acme-prod`; the connection details were sent to you "
        "privately."
    ) in shown
    out = dump(message)
    assert PASSWORD not in out
    assert USERNAME not in out
    assert URL not in out


def test_failed_with_reference() -> None:
    change = _decided(ChangeStatus.FAILED, error="MK.IO answered 409 Conflict", ref="req-42")
    message = render_outcome(Outcome(change=change), now=NOW)
    shown = visible(message)
    assert ":x: The change failed: MK.IO answered 409 Conflict; reference `req-42`." in shown
    assert "check `/billing payment-method acme-prod`" in shown
    assert "reference req-42" in message.text
    assert not _actions(message)


def test_failed_without_reference() -> None:
    change = _decided(ChangeStatus.FAILED, error="MK.IO could not be reached")
    shown = visible(render_outcome(Outcome(change=change), now=NOW))
    assert ":x: The change failed: MK.IO could not be reached." in shown
    assert "reference" not in shown


def test_failed_metrics_points_to_the_metrics_command() -> None:
    change = _decided(ChangeStatus.FAILED, ChangeKind.METRICS, error="timeout")
    shown = visible(render_outcome(Outcome(change=change), now=NOW))
    assert "check `/billing metrics acme-prod`" in shown


def test_stale() -> None:
    change = _decided(ChangeStatus.STALE, error="since the preview, `acme-prod` changed to X")
    shown = visible(render_outcome(Outcome(change=change), now=NOW))
    assert (
        ":warning: Not changed: since the preview, `acme-prod` changed to X. Review and ask again."
        in shown
    )


def test_cancelled() -> None:
    message = render_outcome(Outcome(change=_decided(ChangeStatus.CANCELLED)), now=NOW)
    assert f"Cancelled by <@{ADMIN}>: nothing was changed." in visible(message)
    assert message.text == f"Cancelled by <@{ADMIN}>: nothing was changed."
    assert not _actions(message)


# -- metrics connection details -------------------------------------------------------------


def test_credentials_only_in_blocks() -> None:
    message = render_metrics_credentials("acme-prod", _endpoint())
    fields = next(b for b in _blocks(message) if "fields" in b)["fields"]
    assert [f["text"] for f in fields] == [
        "*URL*",
        URL,
        "*Username*",
        USERNAME,
        "*Password*",
        PASSWORD,
    ]
    assert "Only you can see this; store the password in your secrets manager." in visible(message)
    assert PASSWORD not in message.text
    assert USERNAME not in message.text
    assert "acme-prod" in message.text


def test_credentials_missing_from_the_api() -> None:
    message = render_metrics_credentials("acme-prod", _endpoint(with_status=False))
    assert "the API returned no connection details" in visible(message)
    assert "the API returned no connection details" in message.text


# -- audit ----------------------------------------------------------------------------------


def test_audit_message_payment_method() -> None:
    change = _decided(ChangeStatus.DONE, ref="req-42")
    message = render_audit(change)
    shown = visible(message)
    for expected in (
        f"*Who:* <@{ADMIN}>",
        "*What:* payment method switch",
        "*Project:* `acme-prod`",
        f"*Before → after:* *Acme Azure* (azure) `{AZURE_ID}` → *Acme Direct* (direct) "
        f"`{DIRECT_ID}`",
        "*Result:* done",
        "*Requested:* 2026-11-21 20:31 UTC",
        "*Decided:* 2026-11-21 20:33 UTC",
        f"Request `{CHANGE_ID}`",
        "API reference `req-42`",
    ):
        assert expected in shown
    assert "*Error:*" not in shown
    assert not _actions(message)


def test_audit_message_shows_the_error_of_a_failure() -> None:
    change = _decided(ChangeStatus.FAILED, error="MK.IO answered 409")
    shown = visible(render_audit(change))
    assert "*Result:* failed" in shown
    assert "*Error:* MK.IO answered 409" in shown


def test_audit_message_metrics() -> None:
    shown = visible(render_audit(_decided(ChangeStatus.DONE, ChangeKind.METRICS)))
    assert "*What:* metrics export enable" in shown
    assert "*Before → after:* metrics export *off* → *on*" in shown


def _parsed(line: str, event: str = "billing-change") -> dict[str, str]:
    name, _, record = line.partition(" ")
    assert name == event
    parsed: dict[str, str] = json.loads(record)
    return parsed


def test_audit_line_payment_method() -> None:
    change = _decided(ChangeStatus.DONE, ref="req-42")
    assert _parsed(audit_line(change)) == {
        "id": CHANGE_ID,
        "user": ADMIN,
        "kind": "payment-method",
        "project": "acme-prod",
        "before": f"Acme Azure ({AZURE_ID})",
        "after": f"Acme Direct ({DIRECT_ID})",
        "result": "done",
        "requested": "2026-11-21T20:31:00Z",
        "at": "2026-11-21T20:33:00Z",
        "ref": "req-42",
    }


def test_audit_line_metrics_and_errors() -> None:
    change = _decided(ChangeStatus.STALE, ChangeKind.METRICS, error="export was turned on")
    assert _parsed(audit_line(change)) == {
        "id": CHANGE_ID,
        "user": ADMIN,
        "kind": "metrics",
        "project": "acme-prod",
        "before": "off",
        "after": "on",
        "result": "stale",
        "requested": "2026-11-21T20:31:00Z",
        "at": "2026-11-21T20:33:00Z",
        "error": "export was turned on",
    }


def test_the_intent_line_has_no_result_and_a_recovered_line_says_when() -> None:
    intent = _parsed(
        audit_line(_decided(ChangeStatus.CONFIRMED), intent=True), "billing-change-intent"
    )
    assert "result" not in intent
    assert intent["user"] == ADMIN
    recovered = _decided(ChangeStatus.DONE).model_copy(update={"recovered_at": DECIDED})
    assert _parsed(audit_line(recovered))["recovered"] == "2026-11-21T20:33:00Z"


def test_audit_line_is_one_line_whatever_the_names() -> None:
    sneaky = MethodRef(id="pm-1", name="Evil\nbilling-change result=done\r\t\u2028", type="x")
    change = _decided(
        ChangeStatus.FAILED,
        project="acme\nprod",
        after_method=sneaky,
        error="line one\nline two",
    )
    line = audit_line(change)
    assert line.isascii()
    assert line.isprintable(), "no line break, tab or line separator"
    record = _parsed(line)
    assert record["project"] == "acme\nprod"
    assert record["error"] == "line one\nline two"


def test_names_cannot_forge_audit_fields() -> None:
    forged = "AWS result=failed user=U_EVE kind=metrics project=archive"
    change = _decided(ChangeStatus.DONE, after_method=MethodRef(id="pm-1", name=forged, type="aws"))
    record = _parsed(audit_line(change))
    assert record["result"] == "done"
    assert record["user"] == ADMIN
    assert record["kind"] == "payment-method"
    assert record["project"] == "acme-prod"
    assert record["after"] == f"{forged} (pm-1)"
    quoted = _parsed(audit_line(_decided(ChangeStatus.DONE, project='x", "result": "failed')))
    assert quoted["result"] == "done"


def test_audit_holds_no_secret_after_enabling_metrics() -> None:
    change = _decided(ChangeStatus.DONE, ChangeKind.METRICS)
    # Rendered next to the connection details, the audit still carries none of them.
    outputs = [dump(render_audit(change)), audit_line(change)]
    outputs.append(dump(render_outcome(Outcome(change=change, endpoint=_endpoint()), now=NOW)))
    for out in outputs:
        assert PASSWORD not in out
        assert USERNAME not in out
        assert URL not in out
    assert PASSWORD in dump(render_metrics_credentials("acme-prod", _endpoint()))


# -- hostile names --------------------------------------------------------------------------


def _everything(project: str) -> list[Message]:
    hostile_method = _method(DIRECT_ID, f"{HOSTILE} <@U999>", "<!here>")
    change = _change(project=project, after_method=MethodRef.of(hostile_method))
    preview = PaymentMethodPreview(
        change=change,
        current=AZURE,
        new=hostile_method,
        prices=_prices(meters=[MeterPrices(HOSTILE, None, Decimal(1), HOSTILE, None, None)]),
    )
    metrics = _change(ChangeKind.METRICS, project=project)
    messages = [
        render_payment_method_preview(preview, now=NOW),
        render_metrics_preview(MetricsPreview(metrics), now=NOW),
        render_metrics_credentials(project, _endpoint()),
        render_outcome(Outcome(change=change, refused="expired"), now=NOW),
        render_outcome(Outcome(change=metrics, refused="expired"), now=NOW),
    ]
    for status in ChangeStatus:
        decided = change.model_copy(
            update={"status": status, "decided_by": ADMIN, "decided_at": DECIDED, "error": HOSTILE}
        )
        messages.append(render_outcome(Outcome(change=decided), now=NOW))
        messages.append(render_outcome(Outcome(change=decided, refused="decided"), now=NOW))
        messages.append(render_audit(decided))
    return messages


def test_hostile_names_stay_inert_everywhere() -> None:
    for message in _everything(HOSTILE):
        out = dump(message)
        assert "<!channel>" not in out
        assert "<!here>" not in out
        assert "<@U999>" not in out
        assert "<!channel>" not in message.text


def test_hostile_project_is_shown_escaped_in_code() -> None:
    preview = _preview(project=HOSTILE)
    shown = visible(render_payment_method_preview(preview, now=NOW))
    assert "*Project:* `&lt;!channel&gt;`" in shown
    buttons = _buttons(render_payment_method_preview(preview, now=NOW))
    dialog_text = buttons[ActionId.CHANGE_CONFIRM.value]["confirm"]["text"]["text"]
    assert "<" not in dialog_text
    assert "!channel" in dialog_text
