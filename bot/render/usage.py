"""`/billing usage <project>`: month-to-date usage, one line per meter, with the total cost."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.answers import UsageAnswer
from bot.money import format_money, format_quantity
from bot.render.common import (
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
    Column("Meter"),
    Column("Quantity", Align.RIGHT),
    Column("Unit", max_width=20),
    Column("Cost", Align.RIGHT),
)


def render_usage(a: UsageAnswer) -> Message:
    total = format_money(a.total, a.currency)
    blocks: list[Block] = [header(f"Usage — {a.project}")]
    if a.meters:
        rows = [
            [
                m.meter,
                format_quantity(m.quantity),
                m.unit or "",
                "—" if m.cost is None else format_money(m.cost, a.currency),
            ]
            for m in a.meters
        ]
        blocks += table(COLUMNS, rows, noun="meters")
    else:
        blocks.append(section(f"No usage this month for {code(a.project)}."))
    if a.meters or not a.total.is_zero():
        blocks.append(section(f"*Total month to date: {total}*"))
    notes = []
    if a.uncharged:
        notes.append(":hourglass: Some usage is not charged yet: figures may still change.")
    no_cost = [m.meter for m in a.meters if m.cost is None]
    if no_cost:
        names = truncate(", ".join(no_cost), 1000)
        notes.append(f"No cost in the report yet for: {escape(names)}.")
    if notes:
        blocks.append(context(*notes))
    blocks.append(facts(a.fetched_at, (a.start, a.end)))
    summary = f"{total} month to date" if a.meters else "no usage this month"
    text = f"Usage for {a.project} ({a.start} → {a.end}, UTC): {summary}"
    return finish(escape(text), blocks)
