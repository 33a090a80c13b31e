"""`/billing contro summary [YYYY-MM]` and `/billing contro records [YYYY-MM] [type <t>]`."""

from __future__ import annotations

from decimal import Decimal

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.apis.contro.models import CURRENCY, UsageRecord
from bot.clock import as_utc
from bot.core.answers import ControRecordsAnswer, ControSummaryAnswer
from bot.money import format_money
from bot.slack.ids import ActionId, BlockId
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

SUMMARY_COLUMNS = (Column("Type"), Column("Count", Align.RIGHT), Column("Total", Align.RIGHT))
RECORD_COLUMNS = (
    Column("ID", max_width=36),
    Column("Type", max_width=24),
    Column("Amount", Align.RIGHT),
    Column("Reference", max_width=30),
    Column("Created (UTC)"),
)


def render_contro_summary(a: ControSummaryAnswer) -> Message:
    s = a.summary
    items = sorted(s.items, key=lambda i: i.total, reverse=True)
    total = format_money(s.total, CURRENCY)
    count = sum(i.count for i in items)
    blocks: list[Block] = [header(f"Contro usage — {s.period}")]
    if items:
        rows = [[i.type, f"{i.count:,}", format_money(i.total, CURRENCY)] for i in items]
        blocks += table(SUMMARY_COLUMNS, rows, noun="types")
        blocks.append(section(f"*Total: {total}* ({count:,} record{'s' if count != 1 else ''})"))
    else:
        blocks.append(section(f"No Contro usage in {escape(s.period)}."))
    blocks.append(facts(a.fetched_at, s.period))
    text = f"Contro usage for {s.period}: {total} ({count:,} records)" if items else ""
    return finish(escape(text or f"No Contro usage in {s.period}"), blocks)


def _created(r: UsageRecord) -> str:
    if r.created_at is None:
        return ""
    return f"{as_utc(r.created_at):%Y-%m-%d %H:%M:%S}"


def _navigation(a: ControRecordsAnswer) -> ActionsBlock | None:
    """Previous / Next buttons that update the message in place."""
    buttons = []
    previous = a.ref.previous()
    if previous is not None:
        buttons.append(
            ButtonElement(
                text="Previous page",
                action_id=ActionId.CONTRO_RECORDS_PREVIOUS.value,
                value=previous.encode(),
            )
        )
    if a.page.next_token:
        buttons.append(
            ButtonElement(
                text="Next page",
                action_id=ActionId.CONTRO_RECORDS_PAGE.value,
                value=a.ref.next(a.page.next_token).encode(),
            )
        )
    if not buttons:
        return None
    return ActionsBlock(block_id=BlockId.CONTRO_RECORDS_NAV.value, elements=buttons)


def render_contro_records(a: ControRecordsAnswer) -> Message:
    page = a.page
    records = page.records
    where = f"page {a.page_number}" + (
        f" of {page.pages:,}" if page.pages else (", more after this" if page.next_token else "")
    )
    of_total = f" of {page.total:,}" if page.total is not None else ""
    subtotal = format_money(sum((r.amount for r in records), Decimal(0)), CURRENCY)
    kind = f" · type {a.type}" if a.type else ""
    blocks: list[Block] = [header(f"Contro records — {a.period}{kind}")]
    if records:
        rows = [
            [r.id, r.type, format_money(r.amount, CURRENCY), r.reference_id or "", _created(r)]
            for r in records
        ]
        blocks += table(RECORD_COLUMNS, rows, noun="records")
        count = f"{len(records):,}{of_total} record{'s' if len(records) != 1 else ''}"
        blocks.append(section(f"*Page subtotal: {subtotal}* · {count} · {where}"))
    else:
        none = "No more" if a.page_number > 1 else "No"
        with_type = f" of type {code(a.type)}" if a.type else ""
        blocks.append(section(f"{none} Contro records{with_type} in {escape(a.period)}."))
    navigation = _navigation(a)
    if navigation is not None:
        blocks.append(navigation)
    blocks.append(facts(a.fetched_at, a.period))
    n = f"{len(records):,} record{'s' if len(records) != 1 else ''}"
    text = f"Contro records for {a.period}{kind}, {where}: {n}, {subtotal}"
    return finish(escape(text), blocks)
