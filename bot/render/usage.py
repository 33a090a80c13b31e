"""`/billing usage <project>`: month-to-date usage, one line per meter, with the total cost,
and from the month's third day the month-end estimate (a column, a total line, and one line
saying how it was made)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.answers import UsageAnswer
from bot.estimate import EstimateLine, MonthEndEstimate, method_line
from bot.money import format_amount, format_money, format_quantity
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
ESTIMATE_COLUMN = Column("Month-end (est.)", Align.RIGHT)


def estimate_range(line: EstimateLine) -> str:
    """ "1,200.00–1,350.00": the range rounded to cents; one figure when both ends round
    alike. No currency: the column's table already shows it."""
    low, high = format_amount(line.low), format_amount(line.high)
    return low if low == high else f"{low}–{high}"


def _shown_estimate(a: UsageAnswer) -> MonthEndEstimate | None:
    """The estimate worth showing: none before the 3rd, nor without any usage to extend."""
    return a.estimate if a.meters else None


def render_usage(a: UsageAnswer) -> Message:
    total = format_money(a.total, a.currency)
    estimate = _shown_estimate(a)
    blocks: list[Block] = [header(f"Usage — {a.project}")]
    if a.meters:
        ranges = {line.name: line for line in estimate.by_meter} if estimate else {}
        rows = []
        for m in a.meters:
            row = [
                m.meter,
                format_quantity(m.quantity),
                m.unit or "",
                "—" if m.cost is None else format_money(m.cost, a.currency),
            ]
            if estimate:
                line = ranges.get(m.meter)
                row.append("—" if line is None else estimate_range(line))
            rows.append(row)
        columns = (*COLUMNS, ESTIMATE_COLUMN) if estimate else COLUMNS
        blocks += table(columns, rows, noun="meters")
    else:
        blocks.append(section(f"No usage this month for {code(a.project)}."))
    if a.meters or not a.total.is_zero():
        said = f"*Total month to date: {total}*"
        if estimate:
            said += f"\n*Month-end estimate: {escape(estimate_range(estimate.total))} {a.currency}*"
        blocks.append(section(said))
    notes = []
    if estimate:
        notes.append(method_line(estimate))
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
    if estimate:
        summary += f", {estimate_range(estimate.total)} {a.currency} by month-end (estimate)"
    text = f"Usage for {a.project} ({a.start} → {a.end}, UTC): {summary}"
    return finish(escape(text), blocks)
