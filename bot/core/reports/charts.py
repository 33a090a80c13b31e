"""Charts of a usage report: cost per period as a PNG bar chart, stacked by project.

Pure and Slack-free: `chart_series` sums a report's rows per period and project (exact
`Decimal` sums; the smallest projects folded into "others (N)"); `render_chart` draws the
series as PNG bytes; `chart_filename` names the file. Uploading is the caller's business.

Drawing uses matplotlib's object API on the Agg canvas only: no pyplot, no GUI backend, no
change to matplotlib's global settings (`rcParams` are only read), no network and only the
fonts matplotlib ships with. Matplotlib does not promise thread safety, so `render_chart`
draws one chart at a time (a lock); it is CPU-bound (well under 300 ms for 90 periods × 8
projects), so an async caller runs it in a worker thread (`asyncio.to_thread`).

The same series gives the same bytes: nothing in the PNG depends on the time or the
matplotlib version (the "Software" metadata is left out).

Money: the series' costs are exact `Decimal` sums, like every figure of `bot.core.reports.summary`.
They
become floats only to be drawn (bar heights); the totals written on the chart are formatted
from the exact sums, as in the summary.
"""

from __future__ import annotations

import io
import math
import re
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.apis.mkio.models import Granularity, UsageReport

# The summary's rule for the main currency, so the chart and the summary count the same rows.
from bot.core.reports.summary import (
    NO_PROJECT,
    ChartSeries,
    _main_currency,
    period_start,
)
from bot.money import exact_sum, format_amount

if TYPE_CHECKING:  # matplotlib (with numpy and PIL) is imported when a chart is first drawn
    from matplotlib.axes import Axes
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

__all__ = [
    "DPI",
    "HEIGHT_PX",
    "MAX_FILENAME",
    "MAX_TICKS",
    "OTHERS",
    "WIDTH_PX",
    "ChartSeries",
    "chart_filename",
    "chart_series",
    "render_chart",
    "series_of",
    "tick_labels",
    "tick_positions",
]

OTHERS = "others"  # the folded projects: "others (N)"
MAX_FILLED_PERIODS = 10_000  # gaps are filled with empty periods up to this many periods
WIDTH_PX, HEIGHT_PX, DPI = 1200, 600, 100  # Slack's preview shows about this size
MAX_TICKS = 16  # x labels on a chart at most: more would overlap at the preview size
MAX_BAR_TOTALS = 12  # with at most this many periods, each bar's total is written on it
MAX_LEGEND_NAME = 24  # characters of a project name in the legend
MAX_TITLE = 100  # characters of the title
MAX_FILENAME = 120

# Tick steps (in periods) that read well for each granularity, smallest first: whole hours
# of a day, then days; days, then weeks; weeks, then quarters; months, then quarters and years.
_NICE_STEPS: dict[Granularity, tuple[int, ...]] = {
    Granularity.HOUR: (1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 336, 672),
    Granularity.DAY: (1, 2, 7, 14, 28, 91, 182, 364),
    Granularity.WEEK: (1, 2, 4, 13, 26, 52),
    Granularity.MONTH: (1, 2, 3, 6, 12, 24, 60, 120),
    Granularity.YEAR: (1, 2, 5, 10, 20, 50, 100),
}
_AXIS_LABEL: dict[Granularity, str] = {
    Granularity.HOUR: "Hour (UTC)",
    Granularity.DAY: "Day (UTC)",
    Granularity.WEEK: "Week (from Monday, UTC)",
    Granularity.MONTH: "Month",
    Granularity.YEAR: "Year",
}
# Month abbreviations spelled out here: strftime's %b depends on the process's locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Matplotlib's "tab10" colours, written out so the chart never depends on rcParams' cycle;
# "others" is grey.
_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
)
_OTHERS_COLOUR = "#9a9a9a"
_TEXT = "#222222"
_MUTED = "#555555"
_GRID = "#dddddd"
_FONT = "DejaVu Sans"  # shipped with matplotlib: the same glyphs on every machine

_draw_lock = threading.Lock()  # matplotlib is not thread-safe: one chart at a time


# -- the series -----------------------------------------------------------------------------


def _next_period(at: datetime, granularity: Granularity) -> datetime:
    """The start of the period after the one starting at `at`."""
    if granularity is Granularity.HOUR:
        return at + timedelta(hours=1)
    if granularity is Granularity.DAY:
        return at + timedelta(days=1)
    if granularity is Granularity.WEEK:
        return at + timedelta(days=7)
    if granularity is Granularity.MONTH:
        return at.replace(year=at.year + at.month // 12, month=at.month % 12 + 1)
    return at.replace(year=at.year + 1)


def _all_periods(seen: list[datetime], granularity: Granularity) -> list[datetime]:
    """Every period from the first seen to the last, so that a period without rows shows as
    an empty slot instead of vanishing; just `seen` if that would make too many (a stray row
    far from the others)."""
    out: list[datetime] = []
    at, last = seen[0], seen[-1]
    while at <= last:
        if len(out) == MAX_FILLED_PERIODS:
            return seen
        out.append(at)
        at = _next_period(at, granularity)
    return out


def chart_series(
    report: UsageReport, granularity: Granularity, *, max_projects: int = 8
) -> ChartSeries | None:
    """The report's cost per period (of `granularity`) and project; None when the rows span
    fewer than 2 periods (a chart would show nothing a total does not).

    `granularity` is the report's own, or a coarser one to sum its periods (an hourly report
    charted per day). Periods are consecutive: one without rows has zero cost. At most
    `max_projects` series are drawn: when there are more projects, the largest
    `max_projects - 1` stay and the rest are summed, exactly, into "others (N)".

    Currencies are never added together: like `bot.core.reports.summary.summarize`, the series
    covers the
    report's main currency only (the summary warns about rows in any other)."""
    currency = _main_currency(list(report.value))
    cells: dict[str, dict[datetime, list[Decimal]]] = {}
    for row in report.value:
        if row.currency != currency:
            continue
        at = period_start(row.date, granularity)
        cells.setdefault(row.project or NO_PROJECT, {}).setdefault(at, []).append(row.cost)
    sums = {
        project: {at: exact_sum(costs) for at, costs in cell.items()}
        for project, cell in cells.items()
    }
    return series_of(sums, currency, granularity, max_projects=max_projects)


def series_of(
    cells: dict[str, dict[datetime, Decimal]],
    currency: str,
    granularity: Granularity,
    *,
    max_projects: int = 8,
) -> ChartSeries | None:
    """`chart_series` from sums already made: `cells[project][period start]` is the exact
    cost of a project's rows in `currency` in that period (`bot.core.reports.fold`)."""
    if max_projects < 1:
        raise ValueError("max_projects must be 1 or more")
    seen = {at for cell in cells.values() for at in cell}
    if len(seen) < 2:
        return None
    periods = _all_periods(sorted(seen), granularity)
    zero = Decimal(0)
    by_project = {
        project: [cell.get(at, zero) for at in periods] for project, cell in cells.items()
    }
    ranked = sorted(by_project, key=lambda project: (-exact_sum(by_project[project]), project))
    folded = len(ranked) > max_projects
    if folded:
        kept, rest = ranked[: max_projects - 1], ranked[max_projects - 1 :]
        label = _unused(f"{OTHERS} ({len(rest):,})", kept)
        by_project[label] = [
            exact_sum(by_project[project][i] for project in rest) for i in range(len(periods))
        ]
        ranked = [*kept, label]
    return ChartSeries(
        granularity=granularity,
        periods=periods,
        projects=ranked,
        costs={project: by_project[project] for project in ranked},
        currency=currency,
        others=ranked[-1] if folded else None,
    )


def _unused(label: str, names: Sequence[str]) -> str:
    """`label`, made different from every name in `names` (a project could be called so)."""
    while label in names:
        label += "*"
    return label


# -- the x axis -----------------------------------------------------------------------------


def tick_positions(
    n_periods: int,
    granularity: Granularity = Granularity.DAY,
    *,
    max_ticks: int = MAX_TICKS,
) -> list[int]:
    """Indexes of the periods that get an x label: every period when at most `max_ticks`,
    else every `step`-th from the first, `step` the smallest that reads well for the
    granularity (every 6 hours, every day, every 2 days, every week, …) and leaves at most
    `max_ticks` labels."""
    if n_periods <= 0:
        return []
    if max_ticks < 1:
        raise ValueError("max_ticks must be 1 or more")
    fitting = [
        s
        for s in _NICE_STEPS[granularity]
        if math.ceil(n_periods / s) <= max_ticks and (s < n_periods or n_periods == 1)
    ]  # a step as long as the series would leave its first label alone
    step = fitting[0] if fitting else math.ceil(n_periods / max_ticks)
    return list(range(0, n_periods, step))


def _month_day(at: datetime) -> str:
    return f"{_MONTHS[at.month - 1]} {at.day}"


def tick_labels(periods: Sequence[datetime], granularity: Granularity) -> list[str]:
    """Short labels for the periods given (those at the ticks, in order): "13:00", "Mar 1",
    "Mar", "2026". A second line gives the larger unit at the first label and whenever it
    changes: the day under hours, the year under days, weeks and months."""
    out: list[str] = []
    # Hourly labels all at midnight (a day or more apart): the date alone says it.
    hourly_by_day = granularity is Granularity.HOUR and all(at.hour == 0 for at in periods)
    previous: datetime | None = None
    for at in periods:
        if granularity is Granularity.YEAR:
            label = f"{at.year}"
        elif granularity is Granularity.HOUR and not hourly_by_day:
            label = f"{at:%H:%M}"
            if previous is None or previous.date() != at.date():
                label += f"\n{_month_day(at)}"
        else:
            label = _MONTHS[at.month - 1] if granularity is Granularity.MONTH else _month_day(at)
            if previous is None or previous.year != at.year:
                label += f"\n{at.year}"
        out.append(label)
        previous = at
    return out


# -- drawing --------------------------------------------------------------------------------


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _decimals(ticks: Sequence[float]) -> int:
    """The fewest decimals (up to 4) that write every y tick value exactly."""
    for decimals in range(5):
        scale = 10**decimals
        if all(abs(t * scale - round(t * scale)) < 1e-6 for t in ticks):
            return decimals
    return 4


def _y_formatter(decimals: int) -> FuncFormatter:
    from matplotlib.ticker import FuncFormatter

    def label(value: float, _position: float | None) -> str:
        text = f"{value:,.{decimals}f}"
        return text.lstrip("-") if float(text.replace(",", "")) == 0 else text  # never "-0"

    return FuncFormatter(label)


def _colour(project: str, index: int, series: ChartSeries) -> str:
    return _OTHERS_COLOUR if project == series.others else _COLOURS[index % len(_COLOURS)]


def _rectangle(x: float, half: float, bottom: float, top: float) -> list[tuple[float, float]]:
    return [(x - half, bottom), (x - half, top), (x + half, top), (x + half, bottom)]


def _draw_bars(ax: Axes, series: ChartSeries) -> tuple[list[Patch], float, float]:
    """One bar per period, stacked by project (largest at the bottom); costs below zero
    (credits) stack downwards from zero, so no segment hides another. Each project is one
    collection of rectangles (fast: one artist, not one per bar). Returns the legend's
    handles (one per project, in `series.projects` order) and the lowest and highest points
    drawn."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    n = len(series.periods)
    half = (0.8 if n <= 60 else 1.0) / 2  # many thin bars read better touching
    up, down = [0.0] * n, [0.0] * n
    handles: list[Patch] = []
    for index, project in enumerate(series.projects):
        colour = _colour(project, index, series)
        rectangles: list[list[tuple[float, float]]] = []
        for i, cost in enumerate(series.costs[project]):
            # Floats only for drawing: the bar heights. Every figure written stays exact.
            height = float(cost)
            if height > 0:
                rectangles.append(_rectangle(i, half, up[i], up[i] + height))
                up[i] += height
            elif height < 0:
                rectangles.append(_rectangle(i, half, down[i] + height, down[i]))
                down[i] += height
        ax.add_collection(
            PolyCollection(
                rectangles,
                facecolors=colour,
                linewidths=0,
                antialiaseds=n <= 200,  # hundreds of 1-px bars: crisp edges, no moiré
            ),
            autolim=False,
        )
        handles.append(Patch(facecolor=colour, linewidth=0))
    if n <= MAX_BAR_TOTALS:
        for i, total in enumerate(series.totals):
            ax.annotate(
                format_amount(total),  # exact, rounded to cents as in the summary
                (i, up[i]),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=9,
                color=_MUTED,
                fontfamily=_FONT,
                annotation_clip=False,
            )
    return handles, min(down), max(up)


def _draw(series: ChartSeries, title: str) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(series.periods)
    several = len(series.projects) > 1
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    fig.subplots_adjust(right=0.77 if several else 0.97, top=0.9, bottom=0.13)
    ax = fig.add_subplot()
    handles, lowest, highest = _draw_bars(ax, series)

    ax.set_title(
        _short(title, MAX_TITLE),
        loc="left",
        fontsize=14,
        color=_TEXT,
        fontfamily=_FONT,
        parse_math=False,  # "$" in a title is a dollar, not TeX
    )
    ax.set_xlim(-0.6, n - 0.4)
    positions = tick_positions(n, series.granularity)
    ax.set_xticks(
        positions, tick_labels([series.periods[i] for i in positions], series.granularity)
    )
    ax.set_xlabel(_AXIS_LABEL[series.granularity], fontsize=11, color=_MUTED, fontfamily=_FONT)

    room = (highest - lowest) * 0.08 or 1.0  # above the bars (and their totals), below credits
    bottom, top = lowest - room if lowest < 0 else 0.0, highest + room
    ax.set_ylim(bottom, top)
    ax.set_ylabel(
        f"Cost ({series.currency})", fontsize=11, color=_MUTED, fontfamily=_FONT, parse_math=False
    )
    ticks = [float(t) for t in ax.get_yticks() if bottom <= t <= top]
    formatter = _y_formatter(_decimals(ticks))
    ax.yaxis.set_major_formatter(formatter)
    ax.tick_params(labelsize=10, labelcolor=_MUTED, color=_MUTED, length=3, labelfontfamily=_FONT)
    # Room on the left for the longest y label ("1,234,567.50") and the axis label.
    longest = max((len(formatter(t, None)) for t in ticks), default=1)
    fig.subplots_adjust(left=(48 + 7 * longest) / WIDTH_PX)
    ax.set_axisbelow(True)
    ax.yaxis.grid(True, color=_GRID, linewidth=0.8)
    ax.axhline(0, color=_MUTED, linewidth=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    if several:
        # Top of the legend = top of the stack. Handles and labels are given explicitly, so
        # a project named "_something" is listed too (matplotlib hides "_" labels otherwise).
        legend = ax.legend(
            list(reversed(handles)),
            [_short(project, MAX_LEGEND_NAME) for project in reversed(series.projects)],
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            fontsize=10,
            title="Project",
            title_fontsize=10,
            alignment="left",
        )
        for text in [*legend.get_texts(), legend.get_title()]:
            text.set_fontfamily(_FONT)
            text.set_parse_math(False)

    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return out.getvalue()


def render_chart(series: ChartSeries, *, title: str) -> bytes:
    """The series as a PNG bar chart (1200×600 px): cost per period, stacked by project when
    there are several (with a legend), the y axis in the series' currency. Deterministic:
    the same series and title give the same bytes. Blocking and CPU-bound."""
    with _draw_lock:
        return _draw(series, title)


# -- the file name --------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def chart_filename(title: str) -> str:
    """A file name for the chart, safe on any file system and in Slack, at most 120
    characters: "Usage-report-2026-03.png" for "Usage report — 2026-03"."""
    suffix = ".png"
    stem = _UNSAFE.sub("-", title).strip("-._")[: MAX_FILENAME - len(suffix)].rstrip("-._")
    return f"{stem or 'chart'}{suffix}"
