"""`/billing ratecard <payment-method-id>`: per-meter unit prices, exactly as the card says."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.apis.mkio.models import RateCardEntry
from bot.core.answers import RateCardAnswer
from bot.money import format_price
from bot.slack.render.common import (
    Align,
    Column,
    Message,
    code,
    escape,
    facts,
    finish,
    header,
    section,
    table,
)

COLUMNS = (
    Column("Price name", max_width=50),
    Column("Unit", max_width=20),
    Column("Price", Align.RIGHT),
)


def _rows(entry: RateCardEntry, currency: str) -> list[list[str]]:
    rows = []
    for p in entry.prices:
        rows.append([p.name, p.unit or "", format_price(p.price, currency)])
        rows += [
            [f"  ↳ {lp.location_group}", "", format_price(lp.price, currency)]
            for lp in p.location_prices
        ]
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
    for entry in entries:
        title = " / ".join(escape(x) for x in (entry.family, entry.solution) if x) or "Other"
        blocks += table(COLUMNS, _rows(entry, currency), title=f"*{title}*", noun="prices")
    if not entries:
        blocks.append(section("This rate card lists no prices."))
    blocks.append(facts(a.fetched_at))
    count = sum(len(e.prices) for e in entries)
    text = f"Rate card for {name}: {count} price{'s' if count != 1 else ''} in {currency}"
    return finish(escape(text), blocks)
