"""`bot.core.reports.charts`: the series' exact sums, the x labels, the PNG and its file name.

How fast charts render is measured by `bench/chart_speed.py`, not here.
"""

from __future__ import annotations

import itertools
import random
import struct
import subprocess
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.apis.mkio.models import Granularity, UsageReport
from bot.core.reports.charts import (
    HEIGHT_PX,
    MAX_FILENAME,
    MAX_TICKS,
    WIDTH_PX,
    ChartSeries,
    chart_filename,
    chart_series,
    render_chart,
    tick_labels,
    tick_positions,
)
from bot.core.reports.summary import NO_PROJECT, period_start
from bot.money import exact_sum

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MARCH_1 = datetime(2026, 3, 1, tzinfo=UTC)


def row(
    cost: str, *, at: datetime = MARCH_1, project: str | None = "alpha", currency: str = "USD"
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "date": at.isoformat(),
        "meterName": "video_encoding_ondemand",
        "quantity": 1,
        "cost": cost,
        "currency": currency,
    }
    if project is not None:
        out["project"] = project
    return out


def report(*rows: dict[str, Any]) -> UsageReport:
    return UsageReport.model_validate({"value": list(rows)})


def random_report(
    periods: int,
    projects: int,
    *,
    step: timedelta = timedelta(days=1),
    rows_per_cell: int = 2,
    seed: int = 7,
) -> UsageReport:
    """Several rows per period and project, costs with up to 6 decimals (as the API gives)."""
    rng = random.Random(seed)
    rows = [
        row(
            f"{rng.randint(-1000, 9_000_000) / 1_000_000:.6f}",
            at=MARCH_1 + step * i,
            project=f"project-{p:02d}",
        )
        for i in range(periods)
        for p in range(projects)
        for _ in range(rows_per_cell)
    ]
    return report(*rows)


def series_of(r: UsageReport, granularity: Granularity, **kwargs: Any) -> ChartSeries:
    series = chart_series(r, granularity, **kwargs)
    assert series is not None
    return series


def expected_totals(r: UsageReport, granularity: Granularity) -> dict[datetime, Decimal]:
    """The exact total of each period, straight from the rows."""
    costs: dict[datetime, list[Decimal]] = {}
    for meter in r.value:
        costs.setdefault(period_start(meter.date, granularity), []).append(meter.cost)
    return {at: exact_sum(c) for at, c in costs.items()}


def assert_sums_exact(series: ChartSeries, r: UsageReport) -> None:
    """Every period's stacked costs add up exactly to its rows; empty periods are zero."""
    expected = expected_totals(r, series.granularity)
    assert set(expected) <= set(series.periods)
    for i, at in enumerate(series.periods):
        stacked = exact_sum(series.costs[project][i] for project in series.projects)
        assert stacked == series.totals[i] == expected.get(at, Decimal(0))
    assert exact_sum(series.totals) == exact_sum(m.cost for m in r.value)


# -- PNG parsing (no Pillow) ------------------------------------------------------------------


def png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of each chunk, checking each CRC."""
    assert png.startswith(PNG_SIGNATURE)
    chunks: list[tuple[bytes, bytes]] = []
    offset = len(PNG_SIGNATURE)
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        data = png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + data) == crc
        chunks.append((kind, data))
        offset += 12 + length
    return chunks


def png_size(png: bytes) -> tuple[int, int]:
    kind, data = png_chunks(png)[0]
    assert kind == b"IHDR"
    width, height = struct.unpack(">II", data[:8])
    return width, height


# -- the series -----------------------------------------------------------------------------


def test_sums_per_period_and_project_are_exact() -> None:
    r = report(
        row("0.1", project="alpha"),
        row("0.2", project="alpha"),
        row("1.000001", project="beta"),
        row("0.3", at=MARCH_1 + timedelta(days=1), project="alpha"),
        row("2.5", at=MARCH_1 + timedelta(days=1), project="beta"),
    )
    series = series_of(r, Granularity.DAY)
    assert series.periods == [MARCH_1, MARCH_1 + timedelta(days=1)]
    assert series.projects == ["beta", "alpha"]  # largest first
    assert series.costs == {
        "beta": [Decimal("1.000001"), Decimal("2.5")],
        "alpha": [Decimal("0.3"), Decimal("0.3")],  # 0.1 + 0.2, exactly
    }
    assert series.totals == [Decimal("1.300001"), Decimal("2.8")]
    assert series.currency == "USD"
    assert series.others is None
    assert_sums_exact(series, r)


def test_random_reports_stack_to_the_exact_totals() -> None:
    for seed in range(5):
        r = random_report(40, 12, seed=seed)
        for max_projects in (1, 3, 8, 12, 20):
            assert_sums_exact(series_of(r, Granularity.DAY, max_projects=max_projects), r)


def test_smallest_projects_fold_into_others_exactly() -> None:
    costs = {"a": "50", "b": "40", "c": "30", "d": "0.000003", "e": "0.000002", "f": "-1"}
    r = report(
        *(row(c, project=p) for p, c in costs.items()),
        *(row(c, at=MARCH_1 + timedelta(days=2), project=p) for p, c in costs.items()),
    )
    series = series_of(r, Granularity.DAY, max_projects=4)
    assert series.projects == ["a", "b", "c", "others (3)"]
    assert series.others == "others (3)"
    assert len(series.projects) == 4
    folded = Decimal("0.000003") + Decimal("0.000002") + Decimal("-1")
    assert series.costs["others (3)"] == [folded, Decimal(0), folded]
    assert_sums_exact(series, r)


def test_folding_happens_only_beyond_max_projects() -> None:
    r = report(*(row("1", project=p) for p in "abc"), row("1", at=MARCH_1 + timedelta(days=1)))
    assert series_of(r, Granularity.DAY, max_projects=4).projects == ["a", "alpha", "b", "c"]
    assert series_of(r, Granularity.DAY, max_projects=4).others is None
    three = series_of(r, Granularity.DAY, max_projects=3)
    assert three.projects == ["a", "alpha", "others (2)"]  # equal costs: by name
    assert three.costs["others (2)"] == [Decimal(2), Decimal(0)]
    folded = series_of(r, Granularity.DAY, max_projects=1)
    assert folded.projects == ["others (4)"]
    assert folded.totals == [Decimal(3), Decimal(1)]


def test_a_project_named_like_the_folded_line_stays_apart() -> None:
    names = ["others (2)", "x", "y"]
    r = report(
        *(row(str(10 - i), project=p) for i, p in enumerate(names)),
        row("1", at=MARCH_1 + timedelta(days=1)),
    )
    series = series_of(r, Granularity.DAY, max_projects=2)
    assert series.projects[0] == "others (2)"
    assert series.others is not None
    assert series.others != "others (2)"
    assert_sums_exact(series, r)


def test_one_period_or_none_gives_no_chart() -> None:
    assert chart_series(report(), Granularity.DAY) is None
    one_day = report(row("1"), row("2", at=MARCH_1 + timedelta(hours=5), project="beta"))
    assert chart_series(one_day, Granularity.DAY) is None
    assert chart_series(one_day, Granularity.HOUR) is not None
    with pytest.raises(ValueError, match="max_projects"):
        chart_series(one_day, Granularity.HOUR, max_projects=0)


def test_missing_periods_are_zero_and_a_coarser_granularity_sums() -> None:
    r = report(
        row("1", at=MARCH_1 + timedelta(hours=3)),
        row("2", at=MARCH_1 + timedelta(hours=23)),
        row("4", at=MARCH_1 + timedelta(days=3, hours=1)),
    )
    daily = series_of(r, Granularity.DAY)
    assert daily.periods == [MARCH_1 + timedelta(days=d) for d in range(4)]
    assert daily.costs["alpha"] == [Decimal(3), Decimal(0), Decimal(0), Decimal(4)]
    hourly = series_of(r, Granularity.HOUR)
    assert len(hourly.periods) == 21 + 2 * 24 + 2  # 03:00 on the 1st to 01:00 on the 4th
    assert_sums_exact(hourly, r)


def test_months_run_over_the_year_end() -> None:
    r = report(row("1", at=datetime(2025, 11, 1, tzinfo=UTC)), row("2", at=MARCH_1))
    series = series_of(r, Granularity.MONTH)
    assert [at.strftime("%Y-%m") for at in series.periods] == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
        "2026-03",
    ]


def test_rows_without_project_and_in_other_currencies() -> None:
    r = report(
        row("1", project=None),
        row("2", at=MARCH_1 + timedelta(days=1)),
        row("3", at=MARCH_1 + timedelta(days=1)),
        row("999", at=MARCH_1 + timedelta(days=1), currency="EUR"),
    )
    series = series_of(r, Granularity.DAY)
    assert series.currency == "USD"  # the main currency, as in the summary
    assert series.projects == ["alpha", NO_PROJECT]
    assert series.totals == [Decimal(1), Decimal(5)]  # the EUR row is never added in


# -- the x axis -----------------------------------------------------------------------------


@pytest.mark.parametrize("granularity", list(Granularity))
def test_tick_positions_are_few_evenly_spaced_and_start_at_the_first(
    granularity: Granularity,
) -> None:
    assert tick_positions(0, granularity) == []
    for n in range(1, 2500):
        positions = tick_positions(n, granularity)
        assert positions[0] == 0
        assert len(positions) <= MAX_TICKS
        assert positions[-1] < n
        steps = {b - a for a, b in itertools.pairwise(positions)}
        assert len(steps) <= 1
        if n <= MAX_TICKS:
            assert positions == list(range(n))
        if n > 1:
            assert len(positions) >= 2


def test_tick_positions_pick_steps_that_read_well() -> None:
    assert tick_positions(744, Granularity.HOUR) == list(range(0, 744, 48))  # every 2 days
    assert tick_positions(48, Granularity.HOUR) == list(range(0, 48, 3))
    assert tick_positions(90, Granularity.DAY) == list(range(0, 90, 7))  # weekly
    assert tick_positions(31, Granularity.DAY) == list(range(0, 31, 2))
    assert tick_positions(36, Granularity.MONTH) == list(range(0, 36, 3))  # quarterly
    assert tick_positions(5, Granularity.DAY, max_ticks=2) == [0, 3]  # not a lone label
    assert tick_positions(5, Granularity.DAY, max_ticks=1) == [0]
    with pytest.raises(ValueError, match="max_ticks"):
        tick_positions(5, max_ticks=0)


def test_tick_labels_by_granularity() -> None:
    hours = [datetime(2026, 3, 1, h, tzinfo=UTC) for h in (0, 6, 12, 18)]
    hours.append(datetime(2026, 3, 2, tzinfo=UTC))
    assert tick_labels(hours, Granularity.HOUR) == [
        "00:00\nMar 1",
        "06:00",
        "12:00",
        "18:00",
        "00:00\nMar 2",
    ]
    midnights = [datetime(2026, 3, d, tzinfo=UTC) for d in (1, 3, 5)]
    assert tick_labels(midnights, Granularity.HOUR) == ["Mar 1\n2026", "Mar 3", "Mar 5"]
    days = [datetime(2025, 12, 30, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC)]
    assert tick_labels(days, Granularity.DAY) == ["Dec 30\n2025", "Jan 6\n2026"]
    assert tick_labels(days, Granularity.WEEK) == ["Dec 30\n2025", "Jan 6\n2026"]
    months = [datetime(2025, m, 1, tzinfo=UTC) for m in (11, 12)] + [MARCH_1]
    assert tick_labels(months, Granularity.MONTH) == ["Nov\n2025", "Dec", "Mar\n2026"]
    assert tick_labels(months[:2], Granularity.YEAR) == ["2025", "2025"]


# -- the PNG --------------------------------------------------------------------------------


def test_the_chart_is_a_valid_png_at_the_preview_size() -> None:
    png = render_chart(series_of(random_report(31, 5), Granularity.DAY), title="Usage — 2026-03")
    assert png.startswith(PNG_SIGNATURE)
    assert png_size(png) == (WIDTH_PX, HEIGHT_PX) == (1200, 600)
    kinds = [kind for kind, _ in png_chunks(png)]
    assert kinds[-1] == b"IEND"
    assert b"IDAT" in kinds
    assert b"tIME" not in kinds


def test_the_same_series_gives_the_same_bytes() -> None:
    r = random_report(20, 10, seed=3)
    first = render_chart(series_of(r, Granularity.DAY), title="Usage report — 2026-03")
    again = render_chart(series_of(r, Granularity.DAY), title="Usage report — 2026-03")
    assert first == again
    texts = b"".join(data for kind, data in png_chunks(first) if kind in (b"tEXt", b"iTXt"))
    assert b"Software" not in texts
    assert b"atplotlib" not in texts  # no version, no timestamp
    other = render_chart(series_of(r, Granularity.DAY), title="Usage report — 2026-04")
    assert other != first


def test_charts_drawn_in_several_threads_are_identical() -> None:
    series = series_of(random_report(31, 8), Granularity.DAY)
    expected = render_chart(series, title="Threads")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: render_chart(series, title="Threads"), range(8)))
    assert all(png == expected for png in results)


@pytest.mark.parametrize(
    "rows",
    [
        # one project (no legend), credits below zero, all zero, a "$" and a "_" name
        [row("1"), row("-5", at=MARCH_1 + timedelta(days=1))],
        [row("0"), row("0", at=MARCH_1 + timedelta(days=2))],
        [
            row("1234567.891", project="$US$ spend"),
            row("0.004", at=MARCH_1 + timedelta(days=1), project="_hidden"),
            row("-10", at=MARCH_1 + timedelta(days=1), project="x" * 200),
        ],
    ],
)
def test_unusual_series_still_render(rows: list[dict[str, Any]]) -> None:
    png = render_chart(series_of(report(*rows), Granularity.DAY), title="$5 and $6 " + "t" * 300)
    assert png_size(png) == (WIDTH_PX, HEIGHT_PX)


def test_90_periods_of_8_projects_render() -> None:
    r = random_report(90, 8, rows_per_cell=1)
    series = series_of(r, Granularity.DAY)
    assert len(series.periods) == 90
    assert len(series.projects) == 8
    assert_sums_exact(series, r)
    assert png_size(render_chart(series, title="Usage report")) == (WIDTH_PX, HEIGHT_PX)


def test_a_month_of_hours_renders_with_thinned_labels() -> None:
    r = random_report(31 * 24, 8, step=timedelta(hours=1), rows_per_cell=1)
    series = series_of(r, Granularity.HOUR)
    assert len(series.periods) == 744
    assert_sums_exact(series, r)
    positions = tick_positions(len(series.periods), Granularity.HOUR)
    assert len(positions) <= MAX_TICKS
    assert tick_labels([series.periods[i] for i in positions], Granularity.HOUR)[:2] == [
        "Mar 1\n2026",
        "Mar 3",
    ]
    png = render_chart(series, title="Usage report — 2026-03, hourly")
    assert png_size(png) == (WIDTH_PX, HEIGHT_PX)


def test_no_pyplot_and_no_gui_backend() -> None:
    script = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from decimal import Decimal\n"
        "from bot.core.reports.charts import ChartSeries, render_chart\n"
        "from bot.apis.mkio.models import Granularity\n"
        "s = ChartSeries(Granularity.DAY, [datetime(2026, 3, d, tzinfo=UTC) for d in (1, 2)],"
        " ['a'], {'a': [Decimal(1), Decimal(2)]}, 'USD')\n"
        "assert render_chart(s, title='t').startswith(b'\\x89PNG')\n"
        "bad = [m for m in sys.modules if m == 'matplotlib.pyplot'"
        " or m.startswith(('tkinter', 'PyQt', 'PySide', 'gi', 'wx'))]\n"
        "assert not bad, bad\n"
    )
    # The timeout only stops a hang: importing matplotlib can take a minute on a slow machine.
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr


# -- the file name --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Usage report — 2026-03", "Usage-report-2026-03.png"),
        ("../../etc/passwd", "etc-passwd.png"),
        ("", "chart.png"),
        ("———", "chart.png"),
        ("a/b\\c:d*e?f", "a-b-c-d-e-f.png"),
    ],
)
def test_chart_filename_is_safe(title: str, expected: str) -> None:
    assert chart_filename(title) == expected


def test_chart_filename_is_never_too_long() -> None:
    name = chart_filename("Usage report " + "x" * 500)
    assert len(name) <= MAX_FILENAME
    assert name.endswith(".png")
