"""`/billing report …`: the usage summary posted in the channel for managers, the "preparing…"
message updated in place while it is made, its failure, and the uploaded CSV's comment.

A summary with a `comparison` (`bot.core.reports.compare`) shows, next to each project's and
meter's cost,
the cost in the period compared with and the change in money and percent ("new" where there
was no cost before), and the same for the total."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from slack_sdk.models.blocks import Block

from bot.apis.mkio.models import Granularity, ReportQuery
from bot.clock import as_utc, next_month_start
from bot.core.reports.compare import Change, Comparison, fold_changes
from bot.core.reports.summary import (
    CostLine,
    FilterKind,
    ReportSummary,
    coarsen,
    filters_of,
    fold,
    week_days,
)
from bot.money import (
    ROUNDING_NOTE,
    currency_label,
    exact,
    format_amount,
    format_money,
    round_to_total,
    to_cents,
)
from bot.slack.render.common import (
    MAX_FALLBACK,
    Align,
    Column,
    Message,
    code,
    context,
    facts,
    finish,
    header,
    inert,
    period_text,
    section,
    table,
    truncate,
)

TOP_LINES = 10  # project and meter lines shown before the rest fold into "others (N)"
MAX_PERIODS = 31  # period lines shown; more are summed into a coarser granularity
MAX_FILTER_NAMES = 20  # filter names listed before "and N more"

_UNIT: dict[Granularity, tuple[str, str]] = {  # (column heading, plural)
    Granularity.HOUR: ("Hour (UTC)", "hours"),
    Granularity.DAY: ("Day", "days"),
    Granularity.WEEK: ("Week", "weeks"),
    Granularity.MONTH: ("Month", "months"),
    Granularity.YEAR: ("Year", "years"),
}
_FILTER_LABEL = {FilterKind.PROJECTS: "projects", FilterKind.PAYMENT_METHODS: "payment methods"}
REPORTED_NOTE = "by reported date (usage charged in this range, even if it happened earlier)"


# -- words for the query --------------------------------------------------------------------


def range_label(start: date, end: date) -> str:
    """The range as people read it, the last day included: "2026-03" for a whole month,
    "2026" for a whole year, "2026-03-01" for one day, "2026-01 → 2026-06" for whole months,
    else "2026-03-01 → 2026-03-14 (inclusive)". (The end stays exclusive in the context
    line, which says so, in the CSV and in what is asked of MK.IO.)"""
    if start.day == 1 and end == next_month_start(start):
        return f"{start:%Y-%m}"
    if (start.month, start.day) == (1, 1) and end == date(start.year + 1, 1, 1):
        return f"{start:%Y}"
    last = end - timedelta(days=1)
    if end - start == timedelta(days=1):
        return start.isoformat()
    if start.day == 1 and end.day == 1:
        return f"{start:%Y-%m} → {last:%Y-%m}"
    return f"{start.isoformat()} → {last.isoformat()} (inclusive)"


def _day(d: date, *, month: bool = True) -> str:
    return f"{d:%b} {d.day}" if month else str(d.day)


def week_label(first: date, last: date, *, year: bool = False) -> str:
    """The days of a week in the range: "Nov 1–2", "Oct 26–Nov 1", "Nov 30" (one day);
    `year` puts the first day's year first: "2025 Dec 29–Jan 4"."""
    head = (f"{first.year} " if year else "") + _day(first)
    if last == first:
        return head
    return f"{head}–{_day(last, month=last.month != first.month)}"


def format_period(
    at: datetime, granularity: Granularity, within: tuple[date, date] | None = None
) -> str:
    """A report row's `date` as the granularity reads: "2026-03-01 13:00" (hour, UTC),
    "2026-03-01" (day), "Mar 2–8" (week: its days `within` the report's range, if given),
    "2026-03" (month), "2026" (year)."""
    utc = as_utc(at)
    if granularity is Granularity.HOUR:
        return f"{utc:%Y-%m-%d %H:%M}"
    if granularity is Granularity.DAY:
        return f"{utc:%Y-%m-%d}"
    if granularity is Granularity.WEEK:
        start, end = within or (date.min, date.max)
        first, last = week_days(utc, start, end)
        spans_years = within is not None and start.year != (end - timedelta(days=1)).year
        return week_label(first, last, year=spans_years)
    if granularity is Granularity.MONTH:
        return f"{utc:%Y-%m}"
    return f"{utc:%Y}"


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(code(name) for name in names[:MAX_FILTER_NAMES])
    hidden = len(names) - MAX_FILTER_NAMES
    return f"{shown} and {hidden:,} more" if hidden > 0 else shown


def _query_text(query: ReportQuery, filter_names: tuple[str, ...]) -> str:
    """ "per day · projects `a`, `b` · by reported date (…)" (mrkdwn, names escaped)."""
    kind, names = filters_of(query, filter_names)
    parts = [f"per {query.granularity.value}"]
    parts.append(f"{_FILTER_LABEL[kind]} {_names(names)}" if kind else "all projects")
    if query.meter_names:
        parts.append(f"meters {_names(query.meter_names)}")
    parts.append(REPORTED_NOTE if query.filter_on_reported_date else "by usage date")
    return " · ".join(parts)


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _bounds(query: ReportQuery) -> str:
    return f"{query.start_date.isoformat()} → {query.end_date.isoformat()}"


# -- the summary ----------------------------------------------------------------------------


def _share(cost: Decimal, total: Decimal) -> str:
    """ "12.3%" of the total; "—" when the total is not positive (credits can make it so)."""
    if total <= 0:
        return "—"
    with exact(rounds=True):  # quantize never fails, however lopsided the figures
        return f"{(cost * 100 / total).quantize(Decimal('0.1'))}%"


def _cents(amounts: Sequence[Decimal]) -> list[Decimal]:
    """The rows as shown: `round_to_total`, so a column adds up to its total shown."""
    return round_to_total(amounts)


def _cost_table(lines: list[CostLine], s: ReportSummary, *, what: str, title: str) -> list[Block]:
    columns = (Column(what), Column("Cost", Align.RIGHT), Column("Share", Align.RIGHT))
    shown = fold(lines, TOP_LINES)
    cents = _cents([line.cost for line in shown])
    rows = [
        [line.name, format_money(cost, s.currency), _share(line.cost, s.total)]
        for line, cost in zip(shown, cents, strict=True)
    ]
    return table(columns, rows, title=title, noun=f"{what.lower()}s")


# -- against another period -----------------------------------------------------------------

_COMPARED_COLUMNS = (
    Column("Previous", Align.RIGHT),
    Column("Change", Align.RIGHT),
    Column("Change %", Align.RIGHT),
)


def signed_amount(amount: Decimal) -> str:
    """ "+134.56", "-12.00", "0.00": a change rounded to cents, its sign always shown."""
    text = format_amount(amount)
    return f"+{text}" if to_cents(amount) > 0 else text


def change_percent(c: Change) -> str:
    """ "+12.3%", "-100.0%", "0.0%"; "new" for a cost where there was none before, "—" when
    there was none either time (no percent of 0)."""
    percent = c.percent
    if percent is None:
        return "new" if c.is_new else "—"
    with exact(rounds=True):  # quantize never fails, however lopsided the figures
        rounded = percent.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if rounded.is_zero():
        return "0.0%"
    return f"{'+' if rounded > 0 else ''}{rounded:,f}%"


def _compared(c: Comparison) -> bool:
    return c.unavailable is None


def _baseline_label(c: Comparison) -> str:
    return range_label(c.baseline.start, c.baseline.end)


def shown_change(c: Change) -> Decimal:
    """The change as shown: the cost shown minus the previous cost shown (each to the cent),
    so the figures a reader sees subtract exactly."""
    return to_cents(c.cost) - to_cents(c.previous)


def _change_text(c: Change, currency: str) -> str:
    """ "+134.56 USD (+12.2%)", "+5.00 USD (new)", "0.00 USD" (the percent when there is one)."""
    percent = change_percent(c)
    said = f"{signed_amount(shown_change(c))} {currency_label(currency)}"
    return said if percent == "—" else f"{said} ({percent})"


def _total_comparison(c: Comparison) -> str:
    """ "vs 2026-10: 1,100.00 USD · change +134.56 USD (+12.2%)" (mrkdwn, escaped)."""
    previous = format_money(c.total.previous, c.currency)
    said = f"vs {_baseline_label(c)}: {previous} · change {_change_text(c.total, c.currency)}"
    return said


def _comparison_table(
    changes: list[Change], s: ReportSummary, c: Comparison, *, what: str, title: str
) -> list[Block]:
    columns = (
        Column(what),
        Column("Cost", Align.RIGHT),
        Column("Share", Align.RIGHT),
        *_COMPARED_COLUMNS,
    )
    shown = fold_changes(changes, TOP_LINES)
    costs = _cents([line.cost for line in shown])
    previous = _cents([line.previous for line in shown])
    rows = [
        [
            line.name,
            format_money(cost, s.currency),
            _share(line.cost, s.total),
            format_amount(before),
            signed_amount(cost - before),
            change_percent(line),
        ]
        for line, cost, before in zip(shown, costs, previous, strict=True)
    ]
    title += f" — previous and change vs {_baseline_label(c)}, in {currency_label(c.currency)}"
    return table(columns, rows, title=title, noun=f"{what.lower()}s")


def _costs(s: ReportSummary, *, projects: bool) -> list[Block]:
    what, title = ("Project", "*Cost per project*") if projects else ("Meter", "*Cost per meter*")
    c = s.comparison
    if c is not None and _compared(c):
        changes = c.by_project if projects else c.by_meter
        return _comparison_table(changes, s, c, what=what, title=title)
    return _cost_table(s.by_project if projects else s.by_meter, s, what=what, title=title)


def _comparison_notes(c: Comparison) -> list[str]:
    b = c.baseline
    label = _baseline_label(c)
    if c.unavailable is not None:
        reason = inert(c.unavailable.strip().rstrip("."))
        return [f":warning: No comparison with {label}: {truncate(reason, 1000)}."]
    notes = [
        f"Compared with {label}, {b.how} ({b.start.isoformat()} → {b.end.isoformat()}, "
        "UTC, end exclusive)"
    ]
    if c.partial is not None:
        notes.append(f":warning: Not like for like: {c.partial}.")
    if c.previous_uncharged_rows:
        notes.append(
            f":hourglass: {_rows(c.previous_uncharged_rows)} of {label} not charged yet: "
            "its figures may still change."
        )
    return notes


def _period_table(s: ReportSummary) -> list[Block]:
    asked = s.query.granularity
    shown, periods = coarsen(s.by_period, asked, max_periods=MAX_PERIODS)
    heading, plural = _UNIT[shown]
    title = f"*Cost per {shown.value}*"
    if shown is not asked:
        how = " (each week in the month it starts)" if asked is Granularity.WEEK else ""
        title += f" — {len(s.by_period):,} {_UNIT[asked][1]} summed per {shown.value}{how}"
    columns = (Column(heading), Column("Cost", Align.RIGHT))
    within = (s.query.start_date, s.query.end_date)
    cents = _cents([cost for _, cost in periods])
    rows = [
        [format_period(at, shown, within), format_money(cost, s.currency)]
        for (at, _), cost in zip(periods, cents, strict=True)
    ]
    return table(columns, rows, title=title, max_rows=MAX_PERIODS, noun=plural)


def _rows(n: int) -> str:
    return f"{n:,} row{'' if n == 1 else 's'}"


def chart_title(s: ReportSummary) -> str:
    """ "Cost per day — 2026-03 (USD)": the chart's title and file name."""
    assert s.chart is not None
    per = s.chart.granularity.value
    label = range_label(s.query.start_date, s.query.end_date)
    return f"Cost per {per} — {label} ({currency_label(s.currency)})"


SCHEDULED_NOTE = "Scheduled report · `/billing schedule list`"


def render_report(s: ReportSummary, *, scheduled: bool = False) -> Message:
    """The summary a manager reads at a glance: the total, the largest projects and meters,
    the cost per period, and exactly what was asked and when it was fetched; a `scheduled`
    one says so, and where its schedule is listed."""
    q = s.query
    total = format_money(s.total, s.currency)
    blocks: list[Block] = [header(f"Usage report — {range_label(q.start_date, q.end_date)}")]
    c = s.comparison
    versus = f"\n{_total_comparison(c)}" if c is not None and _compared(c) else ""
    also = "".join(f" + *{o.cost_money}* ({_rows(o.rows)})" for o in s.other_currencies)
    today = as_utc(s.fetched_at).date()
    if q.start_date > today and not s.rows:
        # A change of -100% against a period with usage says nothing: say why it is empty.
        blocks.append(
            section(
                f"*Total: {total}*: this range is in the future (it starts after today, "
                f"{today.isoformat()} UTC), so there is no usage in it yet.{also}"
            )
        )
    elif s.rows:
        blocks.append(section(f"*Total: {total}* ({_rows(s.rows)}){also}{versus}"))
        blocks += _costs(s, projects=True)
        blocks += _costs(s, projects=False)
        if len(s.by_period) > 1:
            blocks += _period_table(s)
    else:
        blocks.append(section(f"*Total: {total}*: no usage in this range.{also}{versus}"))
    notes: list[str] = []
    if s.uncharged_rows:
        uncharged = format_money(s.uncharged_cost, s.currency)
        notes.append(
            f":hourglass: {_rows(s.uncharged_rows)} ({uncharged}) not charged yet: "
            "figures may still change."
        )
    if s.other_currencies:
        others = ", ".join(f"{o.cost_money} ({_rows(o.rows)})" for o in s.other_currencies)
        notes.append(
            f":warning: The report also holds {others} in other currencies, not in these "
            f"totals: amounts in different currencies are never added up."
        )
    if c is not None:
        notes += _comparison_notes(c)
    if s.rows:
        notes.append(ROUNDING_NOTE)
    if notes:
        # One element, a line each: Slack flows a context's elements into one line.
        blocks.append(context("\n".join(notes)))
    blocks.append(context(_capitalized(_query_text(q, s.filter_names))))
    blocks.append(facts(s.fetched_at, (q.start_date, q.end_date)))
    if scheduled:
        blocks.append(context(SCHEDULED_NOTE))
    text = f"Usage report {range_label(q.start_date, q.end_date)}: {total}"
    text += "".join(f" + {o.cost_money}" for o in s.other_currencies)
    if c is not None and _compared(c):
        percent = change_percent(c.total)
        change = f"{signed_amount(shown_change(c.total))} {currency_label(c.currency)}"
        if percent != "—":
            change += f", {percent}"
        text += f" ({change} vs {_baseline_label(c)})"
    return finish(text, blocks)


# -- progress, failure and the upload -------------------------------------------------------


def _query_context(query: ReportQuery, filter_names: tuple[str, ...]) -> Block:
    query_text = _capitalized(_query_text(query, filter_names))
    return context(period_text(query.start_date, query.end_date), query_text)


def render_report_progress(
    stage: str,
    *,
    query: ReportQuery,
    filter_names: tuple[str, ...] = (),
    detail: str | None = None,
) -> Message:
    """The in-channel "Preparing the usage report…" message, updated in place.

    `stage` ("asking MK.IO", "writing the CSV file: 1.2 MB so far") and `detail` are short
    phrases written by the bot; `inert` keeps any `<` or `>` in them from mentioning.
    `filter_names` are the names shown for the filter, as in the summary (a payment method's
    name, not its ID)."""
    label = range_label(query.start_date, query.end_date)
    said = _capitalized(stage.strip())
    blocks: list[Block] = [
        section(f":hourglass_flowing_sand: *Preparing the usage report — {label}…*\n{inert(said)}")
    ]
    if detail:
        blocks.append(context(inert(detail)))
    blocks.append(_query_context(query, filter_names))
    return finish(inert(f"Preparing the usage report {label}: {stage}"), blocks)


def render_report_failed(
    query: ReportQuery, reason: Message, filter_names: tuple[str, ...] = ()
) -> Message:
    """The "preparing…" message replaced by why the report could not be made; `reason` is an
    error message already rendered (`render.errors`), whose blocks are shown as they are."""
    label = range_label(query.start_date, query.end_date)
    blocks: list[Block] = [
        section(f":x: *Could not prepare the usage report — {label}*"),
        *reason.blocks,
        _query_context(query, filter_names),
    ]
    return finish(inert(f"Usage report {label} failed: {reason.text}"), blocks)


def render_upload_comment(s: ReportSummary, filename: str) -> str:
    """The uploaded CSV's initial comment (mrkdwn, escaped): the file, range, granularity,
    filters."""
    q = s.query
    said = (
        f":page_facing_up: {code(filename)}: MK.IO usage report, "
        f"{_bounds(q)} (UTC, end exclusive) · {_query_text(q, s.filter_names)}"
    )
    return truncate(said, MAX_FALLBACK)
