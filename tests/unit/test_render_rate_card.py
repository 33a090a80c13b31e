from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.apis.mkio.models import IdentifiedPaymentMethod, RateCard
from bot.core.answers import RateCardAnswer
from bot.slack.render.rate_card import render_rate_card
from tests.unit.test_render_common import code_lines, dump, texts, visible

AT = datetime(2026, 11, 21, 20, 15, 3, tzinfo=UTC)
METHOD_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def _card(entries: list[dict[str, Any]], currency: str = "USD") -> RateCard:
    return RateCard.model_validate(
        {
            "kind": "RateCard",
            "metadata": {
                "paymentMethodId": METHOD_ID,
                "productPublicationName": "mkio-payg",
                "isPrivateOffer": False,
            },
            "spec": {"currency": currency, "rateCard": entries},
        }
    )


ENTRIES: list[dict[str, Any]] = [
    {
        "family": "encoding",
        "solution": "vod",
        "prices": [
            {
                "name": "advanced_sd(video_encoding_ondemand)",
                "displayName": "Advanced SD",
                "unit": "minute",
                "sku": "ENC-SD",
                "price": Decimal("0.0035"),
                "locationPrices": [
                    {"locationGroup": "europe", "sku": "ENC-SD-EU", "price": Decimal("0.0042")}
                ],
            },
            {"name": "premium_4k", "unit": "minute", "price": Decimal("1200")},
        ],
    },
    {
        "family": "storage",
        "solution": None,
        "prices": [{"name": "storage_gb", "unit": "GB/month", "price": Decimal("0.02")}],
    },
]


def test_prices_are_shown_exactly_in_one_table_by_family_with_readable_names() -> None:
    method = IdentifiedPaymentMethod.model_validate(
        {"metadata": {"id": METHOD_ID, "displayName": "Acme"}}
    )
    message = render_rate_card(RateCardAnswer(method, _card(ENTRIES), AT))
    shown = texts(message)
    assert shown[0] == "Rate card — Acme"
    assert shown[1] == f"Currency *USD* · publication mkio-payg · payment method `{METHOD_ID}`"
    assert shown[2].startswith("```"), "one table"
    assert "```" not in shown[3]
    lines = code_lines(message)
    assert lines[0].split() == ["Family", "Meter", "Unit", "Price"]
    assert lines[2].split() == ["encoding", "Advanced", "SD", "minute", "0.0035", "USD"]
    assert lines[3].split() == ["↳", "europe", "0.0042", "USD"]
    assert lines[4].split() == ["premium_4k", "minute", "1,200.00", "USD"]
    assert lines[5].split() == ["storage", "storage_gb", "GB/month", "0.02", "USD"]
    assert len({len(ln) for ln in lines[2:6]}) == 1  # prices right-aligned
    assert "As of now" not in visible(message)
    assert message.text == "Rate card for Acme: 3 prices in USD"


def test_card_currency_is_used_and_unknown_method_named_by_publication() -> None:
    message = render_rate_card(RateCardAnswer(None, _card(ENTRIES[1:], currency="EUR"), AT))
    assert texts(message)[0] == "Rate card — mkio-payg"
    assert code_lines(message)[2].split() == ["storage", "storage_gb", "GB/month", "0.02", "EUR"]


def test_empty_card() -> None:
    message = render_rate_card(RateCardAnswer(None, _card([]), AT))
    assert "This rate card lists no prices." in visible(message)


def test_price_names_cannot_break_the_table_or_mention() -> None:
    entries = [{"family": "<!here>", "prices": [{"name": "a```<!channel>", "price": "1"}]}]
    out = dump(render_rate_card(RateCardAnswer(None, _card(entries), AT)))
    assert "<!here>" not in out
    assert "<!channel>" not in out
    assert out.count("```") == 2


def test_a_default_region_at_the_headline_price_is_not_repeated() -> None:
    price = {"name": "egress", "unit": "GB", "price": "0.05"}
    regions = [
        {"locationGroup": "default", "price": "0.05"},
        {"locationGroup": "apac", "price": "0.07"},
    ]
    entries = [{"family": "delivery", "prices": [{**price, "locationPrices": regions}]}]
    lines = code_lines(render_rate_card(RateCardAnswer(None, _card(entries), AT)))
    assert [line.split()[:2] for line in lines[2:]] == [["delivery", "egress"], ["↳", "apac"]]
