"""Benchmark: how fast usage charts are drawn (`bot.charts.render_chart`).

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

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/chart_speed.py` without the package installed
    sys.path.insert(0, str(ROOT))

from bot.charts import ChartSeries, chart_series, render_chart  # noqa: E402
from bot.mkio.models import Granularity, UsageReport  # noqa: E402

MARCH_1 = datetime(2026, 3, 1, tzinfo=UTC)

EXIT_OK = 0
EXIT_MISSED = 1


@dataclass(frozen=True)
class Chart:
    name: str
    target: float  # seconds, for the best run
    title: str
    series: ChartSeries


@dataclass(frozen=True)
class Timing:
    chart: Chart
    runs: list[float]
    png_bytes: int

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def met(self) -> bool:
        return self.best <= self.chart.target


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


def chart(
    name: str, target: float, title: str, granularity: Granularity, periods: int, step: timedelta
) -> Chart:
    series = chart_series(usage(periods, 8, step), granularity)
    if series is None:
        raise RuntimeError(f"no chart for {name}")
    return Chart(name, target, title, series)


def charts() -> list[Chart]:
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


def timed_render(chart: Chart) -> tuple[float, int]:
    started = time.perf_counter()
    png = render_chart(chart.series, title=chart.title)
    return time.perf_counter() - started, len(png)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 1.0 else f"{seconds:,.2f} s"


def report(timings: list[Timing], repeat: int) -> str:
    lines = [
        f"| ({repeat} runs each) | PNG | best | median | target (best) | |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    lines += [
        f"| {t.chart.name} | {t.png_bytes / 1024:,.0f} KB | {ms(t.best)} | {ms(t.median)} "
        f"| {ms(t.chart.target)} | {'met' if t.met else 'MISSED'} |"
        for t in timings
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/chart_speed.py", description="Time drawing the bot's usage charts."
    )
    parser.add_argument("--repeat", type=int, default=3, help="draws of each chart (default 3)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    todo = charts()
    first, _ = timed_render(todo[0])
    print(f"usage chart speed (Python {sys.version.split()[0]}):")
    print(f"  first chart of the process (fonts and caches load): {ms(first)}")
    timings: list[Timing] = []
    for each in todo:
        runs, size = [], 0
        for _ in range(args.repeat):
            took, size = timed_render(each)
            runs.append(took)
        timings.append(Timing(each, runs, size))
    print(report(timings, args.repeat))
    missed = [t.chart.name for t in timings if not t.met]
    if missed:
        print(f"FAILED: missed the target for {', '.join(missed)}", file=sys.stderr)
        return EXIT_MISSED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
