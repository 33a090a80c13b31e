"""`/billing usage <project>`: month-to-date usage, one line per meter, with the total cost,
and from the month's third day the month-end estimate (a column, a total line, and one line
saying how it was made)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.core.answers import UsageAnswer
from bot.core.reports.estimate import EstimateLine, MonthEndEstimate, method_line
from bot.money import (
    ROUNDING_NOTE,
    Money,
    currency_label,
    format_amount,
    format_quantity,
    round_to_total,
    to_cents,
)
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
    Column("Meter"),
    Column("Quantity", Align.RIGHT),
    Column("Unit", max_width=20),
    Column("Cost", Align.RIGHT),
)
ESTIMATE_COLUMN = Column("Month-end (est.)", Align.RIGHT)


def estimate_range(line: EstimateLine) -> str:
    """ "1,200.00–1,350.00": the range rounded to cents; one figure when both ends round
    alike. No currency: `_estimate_text` adds it."""
    low, high = format_amount(line.low), format_amount(line.high)
    return low if low == high else f"{low}–{high}"


def _estimate_text(e: MonthEndEstimate, line: EstimateLine) -> str:
    return f"{estimate_range(line)} {currency_label(e.currency)}"


def _shown_estimates(a: UsageAnswer) -> tuple[MonthEndEstimate, ...]:
    """The estimates worth showing: none before the 3rd, nor without any usage to extend."""
    return a.estimates if a.meters else ()


def _cost_cells(a: UsageAnswer) -> tuple[list[str], bool]:
    """Each meter's cost cell, per currency rounded by `round_to_total` so that a column adds
    up to the total shown; and whether that rounding moved any cell off its own rounding."""
    shown: list[list[Money]] = [[] for _ in a.meters]
    moved = False
    for currency in a.totals.currencies:
        billed = [
            (i, m.cost.get(currency))
            for i, m in enumerate(a.meters)
            if m.cost and currency in m.cost.currencies
        ]
        rounded = round_to_total([money.amount for _, money in billed])
        for (i, money), cents in zip(billed, rounded, strict=True):
            shown[i].append(Money(cents, currency))
            moved = moved or cents != to_cents(money.amount)
    cells = [" + ".join(str(m) for m in row) if row else "—" for row in shown]
    return cells, moved


def render_usage(a: UsageAnswer) -> Message:
    total = a.totals.text()
    estimates = _shown_estimates(a)
    blocks: list[Block] = [header(f"Usage — {a.project}")]
    moved = False
    if a.meters:
        ranges = {(e.currency, line.name): line for e in estimates for line in e.by_meter}
        costs, moved = _cost_cells(a)
        rows = []
        for m, cost in zip(a.meters, costs, strict=True):
            row = [m.meter, format_quantity(m.quantity), m.unit or "", cost]
            if estimates:
                cells = [
                    _estimate_text(e, line)
                    for e in estimates
                    if (line := ranges.get((e.currency, m.meter))) is not None
                ]
                row.append(" + ".join(cells) or "—")
            rows.append(row)
        columns = (*COLUMNS, ESTIMATE_COLUMN) if estimates else COLUMNS
        blocks += table(columns, rows, noun="meters")
    else:
        blocks.append(section(f"No usage this month for {code(a.project)}."))
    estimate_total = " + ".join(_estimate_text(e, e.total) for e in estimates)
    if a.meters or not a.totals.is_zero():
        said = f"*Total month to date: {total}*"
        if estimates:
            said += f"\n*Month-end estimate: {estimate_total}*"
        blocks.append(section(said))
    notes = []
    if len(a.totals) > 1:
        notes.append(
            f":warning: Costs in {len(a.totals)} currencies: each is totalled and estimated "
            "on its own, never added to another."
        )
    if moved:
        notes.append(ROUNDING_NOTE)
    if estimates:
        notes.append(method_line(estimates[0]))
    if a.uncharged:
        notes.append(":hourglass: Some usage is not charged yet: figures may still change.")
    no_cost = [m.meter for m in a.meters if m.cost is None]
    if no_cost:
        names = truncate(", ".join(no_cost), 1000)
        notes.append(f"No cost in the report yet for: {escape(names)}.")
    if notes:
        # One element, a line each: Slack flows a context's elements into one line.
        blocks.append(context("\n".join(notes)))
    blocks.append(facts(a.fetched_at, (a.start, a.end)))
    summary = f"{total} month to date" if a.meters else "no usage this month"
    if estimates:
        summary += f", {estimate_total} by month-end (estimate)"
    text = f"Usage for {escape(a.project)} ({a.start} → {a.end}, UTC): {summary}"
    return finish(text, blocks)
