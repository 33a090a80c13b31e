"""Benchmark: the work of one hourly budget check over a large organization.

    .venv/bin/python bench/budget_check.py [--repeat 3]

Builds, untimed, this month's org-wide report by day as a check reads it (`SpendRow`s) for
100 projects × 15 meters × 30 days (45,000 rows, on day 31 of a month), and 261 budgets: one
per project, one per meter of the first 10 projects (150), 10 payment methods and the
organization. Then times, in this process, what a check does with them: each budget's month
so far and forecast (`BudgetMonth.spend`) and its due alerts (`due_alerts`). Upstream, a check
makes one report request and one project list for all MK.IO budgets, whatever their number
(`tests/e2e/test_budgets.py` counts them). See bench/README.md.

Exit status: 0 when the best time meets its target, 1 when it is missed, 2 for bad arguments.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/budget_check.py` without the package installed
    sys.path.insert(0, str(ROOT))

from bench.timing import Case, finish, measure, parse_args  # noqa: E402
from bot.core.language.commands import ScopeKind  # noqa: E402
from bot.core.scheduled.budget_spend import BudgetMonth, SpendRow  # noqa: E402
from bot.core.scheduled.budgets import Budget, due_alerts  # noqa: E402

PROJECTS, METERS, DAYS, METHODS = 100, 15, 30, 10
TODAY = date(2026, 12, 31)
SET_AT = datetime(2026, 12, 1, tzinfo=UTC)


def rows(seed: int = 13) -> list[SpendRow]:
    rng = random.Random(seed)
    return [
        SpendRow(
            date(2026, 12, day),
            f"project-{p:03d}",
            f"meter_{m:02d}",
            f"pm-{p % METHODS}",
            Decimal(rng.randint(0, 90_000_000)) / 1_000_000,
            "USD",
        )
        for day in range(1, DAYS + 1)
        for p in range(PROJECTS)
        for m in range(METERS)
    ]


def budget(kind: ScopeKind, name: str = "", meter: str | None = None) -> Budget:
    return Budget(
        scope=kind,
        name=name,
        meter=meter,
        amount=Decimal(5000),
        thresholds=(50, 80, 100),
        channel="C1",
        set_by="U1",
        set_at=SET_AT,
    )


def budgets() -> list[Budget]:
    out = [budget(ScopeKind.PROJECT, f"project-{p:03d}") for p in range(PROJECTS)]
    out += [
        budget(ScopeKind.METER, f"project-{p:03d}", f"meter_{m:02d}")
        for p in range(10)
        for m in range(METERS)
    ]
    out += [budget(ScopeKind.PAYMENT_METHOD, f"pm-{n}") for n in range(METHODS)]
    return [*out, budget(ScopeKind.ORGANIZATION)]


def check(
    month_rows: list[SpendRow], every: list[Budget], projects: frozenset[str]
) -> Callable[[], int]:
    def run() -> int:
        month = BudgetMonth(TODAY, month_rows, projects)
        due = 0
        for each in every:
            figures = month.spend(each).figures(each, "2026-12")
            due += len(due_alerts(each, figures, set()))
        return due

    return run


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv, __file__, "Time one hourly budget check's own work.", repeat=3)
    month_rows, every = rows(), budgets()
    projects = frozenset(r.project for r in month_rows if r.project)
    case = Case(
        f"{len(every)} budgets over {len(month_rows):,} rows",
        1.0,
        lambda: check(month_rows, every, projects),
    )
    print(f"budget check (Python {sys.version.split()[0]}): 1 report request + 1 project list")
    timing = measure(case, args.repeat, lambda made: f"{made} alerts due")
    return finish([timing], args.repeat, made="alerts")


if __name__ == "__main__":
    sys.exit(main())
