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

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/sandbox_speed.py` without the package installed
    sys.path.insert(0, str(ROOT))

from bench.timing import Case, finish, measure, parse_args  # noqa: E402
from bot.devtools.sandbox import Sandbox  # noqa: E402

NOW = datetime(2026, 3, 15, 12, 30, tzinfo=UTC)
MONTH = {"startDate": "2026-02-01", "endDate": "2026-03-01"}
YEAR = {"startDate": "2025-03-01", "endDate": "2026-03-01"}


def fresh() -> Sandbox:
    return Sandbox(clock=lambda: NOW)


def rows(made: object) -> str:
    return f"{len(made):,} rows" if isinstance(made, list) else "-"


CASES = [
    Case("build a Sandbox", 0.05, lambda: fresh),
    # each report on a new sandbox (built outside the timed part): nothing computed yet
    Case(
        "a month of daily usage (`report_rows`)", 0.1, lambda: partial(fresh().report_rows, MONTH)
    ),
    Case("a year of daily usage (`report_rows`)", 1.0, lambda: partial(fresh().report_rows, YEAR)),
]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(
        argv, __file__, "Time building the billing sandbox and its usage reports.", repeat=5
    )
    print(f"billing sandbox speed (Python {sys.version.split()[0]}), clock at {NOW:%Y-%m-%d}:")
    return finish([measure(case, args.repeat, rows) for case in CASES], args.repeat)


if __name__ == "__main__":
    sys.exit(main())
