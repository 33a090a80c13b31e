"""`/billing reconcile <YYYY-MM> [project <p>]`: does the bill add up? Mismatched meters first
(variance in money and percent), then matched, unpriced and entitled ones, the drift between
usage date and reported date, Contro's summary against its records, and which days are
provisional; the "preparing…" message and its failure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from slack_sdk.models.blocks import Block

from bot.apis.contro.models import CURRENCY as CONTRO_CURRENCY
from bot.core.reports.reconcile import (
    ControCheck,
    Drift,
    MeterLine,
    Reconciliation,
    Verdict,
)
from bot.money import Money, Totals, currency_label, exact, format_price, format_quantity
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
    inert,
    lines,
    period_text,
    section,
    table,
)
from bot.slack.render.report import signed_amount

# Matched meters are reported as quantity × price: only what was reported is shown (the
# quantities and prices are in `report` and `ratecard`), so the table fits a phone.
MATCH_COLUMNS = (
    Column("Project", max_width=24),
    Column("Meter", max_width=40),
    Column("Reported", Align.RIGHT),
)
CONTRO_COLUMNS = (
    Column("Type", max_width=28),
    Column("Summary", Align.RIGHT),
    Column("Records", Align.RIGHT),
    Column("Count", Align.RIGHT),
    Column(""),
)
PROVISIONAL = "(provisional)"


def _meter(line: MeterLine) -> str:
    """The meter's name, with its SKU when the name alone does not say which price it is
    (one meter name charged under several SKUs, e.g. SD and HD encoding)."""
    return f"{line.meter} ({line.sku})" if line.shared_name and line.sku else line.meter


def _signed(money: Money) -> str:
    return f"{signed_amount(money.amount)} {currency_label(money.currency)}"


def _exact(money: Money) -> str:
    """The exact amount, every digit MK.IO's figures give: "26.0400 USD" stays "26.04"."""
    with exact():
        text = f"{money.amount.normalize():f}"
        if len(text.partition(".")[2]) < 2:
            text = f"{money.amount.quantize(Decimal('0.01')):f}"
    sign = "+" if money.amount > 0 else ""
    return f"{sign}{text} {currency_label(money.currency)}"


def _percent(line: MeterLine) -> str:
    percent = line.variance_percent
    if percent is None:
        return "—"
    with exact(rounds=True):
        rounded = percent.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{'+' if rounded > 0 else ''}{rounded:,f}%"


def _quantity(line: MeterLine) -> str:
    unit = f" {line.unit}" if line.unit else ""
    return f"{format_quantity(line.quantity)}{unit}"


def _flag(line: MeterLine) -> str:
    return f" {PROVISIONAL}" if line.provisional else ""


def _mismatch_text(line: MeterLine) -> str:
    """One mismatched meter in words (mrkdwn, escaped)."""
    assert line.price is not None
    assert line.expected is not None
    assert line.variance is not None
    return (
        f":x: {code(line.project)} · {code(_meter(line))}: reported {line.reported}, "
        f"rate card {line.expected} ({escape(_quantity(line))} × "
        f"{format_price(line.price.amount, line.price.currency)}): variance "
        f"*{_signed(line.variance)}* ({_percent(line)}), exactly {_exact(line.variance)}"
        f"{_flag(line)}"
    )


def _mismatches(lines_: Sequence[MeterLine]) -> list[Block]:
    texts = [_mismatch_text(line) for line in lines_]
    return lines(texts, title="*Mismatched*", noun="meters") if texts else []


def _matches(lines_: Sequence[MeterLine]) -> list[Block]:
    if not lines_:
        return []
    rows = [
        [
            line.project,
            _meter(line) + (" *" if line.provisional else ""),
            str(line.reported),
        ]
        for line in lines_
    ]
    return table(MATCH_COLUMNS, rows, title="*Matched*", noun="meters")


def _unpriced(lines_: Sequence[MeterLine], entitled: Sequence[MeterLine]) -> list[Block]:
    items = [
        f"• {code(line.project)} · {code(_meter(line))}: {escape(_quantity(line))}, reported "
        f"{line.reported} — {escape(line.reason or 'no price')}{_flag(line)}"
        for line in lines_
    ]
    items += [
        f"• {code(line.project)} · {code(_meter(line))}: {escape(_quantity(line))}, reported "
        f"{line.reported} under an entitlement (shown, not compared){_flag(line)}"
        for line in entitled
    ]
    if not items:
        return []
    return lines(items, title="*Not compared*", noun="meters")


def _totals(totals: Totals) -> str:
    return totals.text()


def _signed_totals(totals: Totals) -> str:
    if not totals.sums:
        return "0.00"
    return " ".join(_signed(m) for m in totals)


def _drift(d: Drift) -> list[Block]:
    text = (
        "*Usage date against reported date*\n"
        f"By usage date: {_totals(d.by_usage)} · by reported date (`filterOnReportedDate`): "
        f"{_totals(d.by_reported)} · difference {_signed_totals(d.difference)}\n"
        f"Usage of the month charged after it: {_totals(d.charged_later)} · not charged yet: "
        f"{_totals(d.not_charged)} · earlier usage charged in the month: "
        f"{_totals(d.charged_from_before)}"
    )
    if d.unexplained.sums:
        text += (
            f"\n:warning: The two views differ by {_signed_totals(d.unexplained)} beyond what "
            "the dates explain."
        )
    return [section(text)]


def _contro(check: ControCheck | None, note: str | None) -> list[Block]:
    if check is None:
        return [context(inert(note))] if note else []
    mark = ":white_check_mark:" if check.matches else ":x:"
    verdict = "matches" if check.matches else "does not match"
    said = (
        f"{mark} *Contro {escape(check.period)}: the summary {verdict} the sum of its records* "
        f"(summary {check.summary_total}, records {check.records_total})"
    )
    if check.provisional:
        said += " — provisional: the period is not over"
    rows = [
        [
            t.type,
            str(Money(t.summary_total, CONTRO_CURRENCY))
            if t.summary_total is not None
            else "not listed",
            str(Money(t.records_total, CONTRO_CURRENCY)),
            f"{t.summary_count if t.summary_count is not None else '—'} / {t.records_count:,}",
            "ok" if t.matches else f"differs {_signed(t.difference)}",
        ]
        for t in check.types
    ]
    if not rows:
        return [section(said + "\nNo usage in the period.")]
    return table(CONTRO_COLUMNS, rows, title=said, noun="types")


def _days(days: Sequence[date]) -> str:
    """ "2026-11-19 to 2026-11-20, 2026-11-14": runs of consecutive days joined."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return ", ".join(str(a) if a == b else f"{a} to {b}" for a, b in runs)


def _provisional(r: Reconciliation) -> list[Block]:
    said: list[str] = []
    if r.uncharged_days:
        said.append(f"usage not charged yet on {_days(r.uncharged_days)}")
    if r.open_from is not None:
        last = r.end - timedelta(days=1)
        said.append(
            f"{_days([r.open_from])}{'' if r.open_from == last else f' to {last}'} not over"
        )
    if not said:
        return []
    return [
        context(
            f":hourglass_flowing_sand: Provisional: {'; '.join(said)}. Meters marked * hold such "
            "usage: their figures may still change."
        )
    ]


def _headline(r: Reconciliation) -> str:
    counts = [
        (len(r.of(Verdict.MISMATCHED)), "mismatched"),
        (len(r.of(Verdict.MATCHED)), "matched"),
        (len(r.of(Verdict.UNPRICED)), "unpriced"),
        (len(r.of(Verdict.ENTITLED)), "under an entitlement"),
    ]
    said = ", ".join(f"{n} {what}" for n, what in counts if n)
    return said or "no usage"


def _title(r: Reconciliation) -> str:
    scope = f" · {r.project}" if r.project else ""
    return f"Reconciliation — {r.period}{scope}"


def render_reconciliation(r: Reconciliation) -> Message:
    mismatched = r.of(Verdict.MISMATCHED)
    matched = r.of(Verdict.MATCHED)
    if not r.lines:
        verdict = f"No MK.IO usage in {escape(r.period)}."
    elif mismatched:
        verdict = (
            f":x: *{len(mismatched)} of {len(mismatched) + len(matched)} priced meters do not "
            "match* the rate card."
        )
    else:
        verdict = f":white_check_mark: *All {len(matched)} priced meters match* the rate card."
    blocks: list[Block] = [
        header(_title(r)),
        section(
            f"{verdict}\nMeters: {escape(_headline(r))}. Reported: {r.reported.text()}. "
            f"Tolerance: {escape(r.tolerance.text)}."
        ),
        *_mismatches(mismatched),
        *_matches(matched),
        *_unpriced(r.of(Verdict.UNPRICED), r.of(Verdict.ENTITLED)),
        *_drift(r.drift),
        *_contro(r.contro, r.contro_note),
        *_provisional(r),
        facts(r.fetched_at, (r.start, r.end)),
    ]
    text = f"{_title(r)}: {_headline(r)}"
    if r.provisional:
        text += f" {PROVISIONAL}"
    return finish(escape(text), blocks)


def render_reconcile_progress(period: str, project: str | None) -> Message:
    scope = f" of {code(project)}" if project else ""
    said = f"Preparing the reconciliation of {escape(period)}{scope}…"
    return finish(
        escape(f"Preparing the reconciliation of {period}"),
        [section(f":hourglass_flowing_sand: *{said}*\nAsking MK.IO and Contro")],
    )


def render_reconcile_failed(period: str, start: date, end: date, reason: Message) -> Message:
    blocks: list[Block] = [
        section(f":x: *Could not reconcile {escape(period)}*"),
        *reason.blocks,
        context(period_text(start, end)),
    ]
    return finish(inert(f"Reconciliation of {escape(period)} failed: {reason.text}"), blocks)
