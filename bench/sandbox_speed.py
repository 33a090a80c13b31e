"""Benchmark: how fast the billing sandbox is built and computes usage reports.

    .venv/bin/python bench/sandbox_speed.py [--repeat 5]

Times, in this process and without HTTP, what the unit tests and every other bench lean on:
building a `Sandbox` (which computes nothing up front: usage and records are made when first
asked for) and `report_rows` for a month and for a year of daily usage, each on a fresh
sandbox so that nothing is reused from an earlier call. Prints the best and the median of
`--repeat` runs of each against its target. See bench/README.md.

Exit status: 0 when every best time meets its target, 1 when one is missed, 2 for bad
arguments.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/sandbox_speed.py` without the package installed
    sys.path.insert(0, str(ROOT))

from bot.sandbox import Sandbox  # noqa: E402

NOW = datetime(2026, 3, 15, 12, 30, tzinfo=UTC)
MONTH = {"startDate": "2026-02-01", "endDate": "2026-03-01"}
YEAR = {"startDate": "2025-03-01", "endDate": "2026-03-01"}

EXIT_OK = 0
EXIT_MISSED = 1


@dataclass(frozen=True)
class Case:
    name: str
    target: float  # seconds, for the best run
    prepare: Callable[[], Callable[[], object]]  # untimed; returns the timed part of one run


@dataclass(frozen=True)
class Timing:
    case: Case
    runs: list[float]
    made: str

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def met(self) -> bool:
        return self.best <= self.case.target


def fresh() -> Sandbox:
    return Sandbox(clock=lambda: NOW)


CASES = [
    Case("build a Sandbox", 0.05, lambda: fresh),
    # each report on a new sandbox (built outside the timed part): nothing computed yet
    Case(
        "a month of daily usage (`report_rows`)", 0.1, lambda: partial(fresh().report_rows, MONTH)
    ),
    Case("a year of daily usage (`report_rows`)", 1.0, lambda: partial(fresh().report_rows, YEAR)),
]


def measure(case: Case, repeat: int) -> Timing:
    runs: list[float] = []
    made: object = None
    for _ in range(repeat):
        timed = case.prepare()
        started = time.perf_counter()
        made = timed()
        runs.append(time.perf_counter() - started)
    return Timing(case, runs, f"{len(made):,} rows" if isinstance(made, list) else "-")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 1.0 else f"{seconds:,.2f} s"


def report(timings: list[Timing], repeat: int) -> str:
    lines = [
        f"| ({repeat} runs each) | made | best | median | target (best) | |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    lines += [
        f"| {t.case.name} | {t.made} | {ms(t.best)} | {ms(t.median)} | {ms(t.case.target)} "
        f"| {'met' if t.met else 'MISSED'} |"
        for t in timings
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/sandbox_speed.py",
        description="Time building the billing sandbox and its usage reports.",
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs of each measurement (default 5)"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"billing sandbox speed (Python {sys.version.split()[0]}), clock at {NOW:%Y-%m-%d}:")
    timings = [measure(case, args.repeat) for case in CASES]
    print(report(timings, args.repeat))
    missed = [t.case.name for t in timings if not t.met]
    if missed:
        print(f"FAILED: missed the target for {', '.join(missed)}", file=sys.stderr)
        return EXIT_MISSED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
