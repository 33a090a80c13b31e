"""Benchmark: how fast usage charts are drawn (`bot.core.reports.charts.render_chart`).

    .venv/bin/python bench/chart_speed.py [--repeat 3]

Draws, in this process, the charts the bot uploads for `/billing report … chart`: a quarter
of daily usage for 8 projects, and a month of hourly usage for 8 projects (744 periods, the
most a report chart shows). The first chart of the process is timed on its own (fonts and
matplotlib's caches load then); then each chart is drawn `--repeat` times, and the best and
the median are printed against the targets, with the PNG's size. See bench/README.md.

Exit status: 0 when every best time meets its target, 1 when one is missed, 2 for bad
arguments.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/chart_speed.py` without the package installed
    sys.path.insert(0, str(ROOT))

from bench.timing import Case, finish, measure, ms, parse_args  # noqa: E402
from bot.apis.mkio.models import Granularity, UsageReport  # noqa: E402
from bot.core.reports.charts import chart_series, render_chart  # noqa: E402

MARCH_1 = datetime(2026, 3, 1, tzinfo=UTC)


def usage(periods: int, projects: int, step: timedelta, seed: int = 7) -> UsageReport:
    """One row per period and project, with costs of up to 6 decimals (as MK.IO gives)."""
    rng = random.Random(seed)
    rows = [
        {
            "date": (MARCH_1 + step * i).isoformat(),
            "meterName": "video_encoding_ondemand",
            "quantity": 1,
            "cost": f"{rng.randint(-1000, 9_000_000) / 1_000_000:.6f}",
            "currency": "USD",
            "project": f"project-{p:02d}",
        }
        for i in range(periods)
        for p in range(projects)
    ]
    return UsageReport.model_validate({"value": rows})


def png_size(made: object) -> str:
    return f"{len(made) / 1024:,.0f} KB" if isinstance(made, bytes) else "-"


def chart(
    name: str, target: float, title: str, granularity: Granularity, periods: int, step: timedelta
) -> Case:
    """A case that draws one chart (its data made up front, untimed)."""
    series = chart_series(usage(periods, 8, step), granularity)
    if series is None:
        raise RuntimeError(f"no chart for {name}")
    return Case(name, target, lambda: partial(render_chart, series, title=title))


def charts() -> list[Case]:
    return [
        chart(
            "90 days × 8 projects, daily",
            1.0,
            "Usage report",
            Granularity.DAY,
            90,
            timedelta(days=1),
        ),
        chart(
            "744 hours × 8 projects, hourly",
            5.0,
            "Usage report — 2026-03, hourly",
            Granularity.HOUR,
            31 * 24,
            timedelta(hours=1),
        ),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(
        argv, __file__, "Time drawing the bot's usage charts.", repeat=3, runs="draws of each chart"
    )
    todo = charts()
    first = measure(todo[0], 1)
    print(f"usage chart speed (Python {sys.version.split()[0]}):")
    print(f"  first chart of the process (fonts and caches load): {ms(first.best, 0)}")
    timings = [measure(each, args.repeat, png_size) for each in todo]
    return finish(timings, args.repeat, made="PNG", decimals=0)


if __name__ == "__main__":
    sys.exit(main())
