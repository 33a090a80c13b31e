"""`/billing ratecard <payment-method-id>`: per-meter unit prices, exactly as the card says."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.apis.mkio.models import RateCardEntry, RatePrice
from bot.core.answers import RateCardAnswer
from bot.money import format_price
from bot.slack.render.common import (
    Align,
    Column,
    Message,
    code,
    context,
    escape,
    facts,
    finish,
    header,
    section,
    table,
    truncate,
)

COLUMNS = (
    Column("Family"),
    Column("Meter"),
    Column("Unit", max_width=20),
    Column("Price", Align.RIGHT),
)


def price_name(p: RatePrice) -> str:
    """The card's display name ("Advanced SD") rather than its raw name
    ("advanced_sd(video_encoding_ondemand)"), which is shown when there is no other."""
    return (p.display_name or "").strip() or p.name


def _rows(entry: RateCardEntry, currency: str, family: str | None) -> list[list[str]]:
    """The entry's prices, its family named unless the line before was of the same one; a
    region's price under its own, unless it is the headline price again (`default`)."""
    rows = []
    for p in entry.prices:
        rows.append(["", price_name(p), p.unit or "", format_price(p.price, currency)])
        rows += [
            ["", f"  ↳ {lp.location_group}", "", format_price(lp.price, currency)]
            for lp in p.location_prices
            if not (lp.location_group == "default" and lp.price == p.price)
        ]
    if rows and entry.family != family:
        rows[0][0] = entry.family or "Other"
    return rows


def render_rate_card(a: RateCardAnswer) -> Message:
    card = a.card
    currency = card.spec.currency
    meta = card.metadata
    method_id = a.method.id if a.method else meta.payment_method_id
    name = a.method.name if a.method else meta.product_publication_name or method_id or "unknown"
    about = [f"Currency *{escape(currency)}*"]
    if meta.product_publication_name:
        about.append(f"publication {escape(meta.product_publication_name)}")
    if meta.is_private_offer:
        about.append("private offer")
    if method_id:
        about.append(f"payment method {code(method_id)}")
    blocks: list[Block] = [header(f"Rate card — {name}"), section(" · ".join(about))]
    entries = [e for e in card.spec.rate_card if e.prices]
    if entries:
        rows = [
            row
            for before, entry in zip([None, *entries], entries, strict=False)
            for row in _rows(entry, currency, before.family if before else None)
        ]
        blocks += table(COLUMNS, rows, noun="prices")
        renamed = [p for e in entries for p in e.prices if price_name(p) != p.name]
        if renamed:
            names = ", ".join(f"{escape(price_name(p))} {code(p.name)}" for p in renamed)
            blocks.append(context(f"As named in usage reports: {truncate(names, 2500)}"))
    else:
        blocks.append(section("This rate card lists no prices."))
    blocks.append(facts(a.fetched_at))
    count = sum(len(e.prices) for e in entries)
    text = f"Rate card for {name}: {count} price{'s' if count != 1 else ''} in {currency}"
    return finish(escape(text), blocks)
