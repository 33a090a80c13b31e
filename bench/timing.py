"""What the in-process speed benches (`sandbox_speed.py`, `chart_speed.py`) share.

A `Case` is one thing to time against a target for its best run; `measure` runs it `--repeat`
times, `finish` prints the markdown table of every `Timing` and names the missed targets, and
returns the exit status: 0 when every best time meets its target, 1 when one is missed
(`parse_args` exits with 2 for bad arguments, as argparse does).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

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
    runs: list[float]  # seconds
    made: str  # what the last run made, as the table shows it

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def met(self) -> bool:
        return self.best <= self.case.target


def nothing_shown(made: object) -> str:
    return "-"


def measure(case: Case, repeat: int, describe: Callable[[object], str] = nothing_shown) -> Timing:
    """`repeat` runs of `case`, each prepared untimed; `describe` words what the last made."""
    runs: list[float] = []
    made: object = None
    for _ in range(repeat):
        timed = case.prepare()
        started = time.perf_counter()
        made = timed()
        runs.append(time.perf_counter() - started)
    return Timing(case, runs, describe(made))


def ms(seconds: float, decimals: int = 1) -> str:
    """Milliseconds with `decimals` places under a second, else seconds with two."""
    return f"{seconds * 1000:,.{decimals}f} ms" if seconds < 1.0 else f"{seconds:,.2f} s"


def report(timings: Sequence[Timing], repeat: int, made: str = "made", decimals: int = 1) -> str:
    """The markdown table: `made` heads the column of what each case made."""
    lines = [
        f"| ({repeat} runs each) | {made} | best | median | target (best) | |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    lines += [
        f"| {t.case.name} | {t.made} | {ms(t.best, decimals)} | {ms(t.median, decimals)} "
        f"| {ms(t.case.target, decimals)} | {'met' if t.met else 'MISSED'} |"
        for t in timings
    ]
    return "\n".join(lines)


def finish(timings: Sequence[Timing], repeat: int, made: str = "made", decimals: int = 1) -> int:
    """Prints the table, and the missed targets on stderr; returns the exit status."""
    print(report(timings, repeat, made, decimals))
    missed = [t.case.name for t in timings if not t.met]
    if missed:
        print(f"FAILED: missed the target for {', '.join(missed)}", file=sys.stderr)
        return EXIT_MISSED
    return EXIT_OK


def parse_args(
    argv: Sequence[str] | None,
    script: str,
    description: str,
    repeat: int,
    runs: str = "runs of each measurement",
) -> argparse.Namespace:
    """`--repeat N` (at least 1, default `repeat`; `runs` says what is repeated). `script` is
    the bench's `__file__`: usage names it `bench/<name>`, as it is run from the repo root."""
    parser = argparse.ArgumentParser(prog=f"bench/{Path(script).name}", description=description)
    parser.add_argument("--repeat", type=int, default=repeat, help=f"{runs} (default {repeat})")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args
