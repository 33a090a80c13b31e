"""The README's Guarantees table: each promise names the tests that keep it, and they exist."""

from __future__ import annotations

import re

from bot.devtools.architecture import ROOT

PATH = re.compile(r"`((?:tests|bot|deploy)/[\w./-]+)`")


def guarantees() -> dict[str, str]:
    """Each row's promise (bold, first cell) -> its last cell (the tests)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Guarantees", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| **")]
    return {row.split("|")[1].strip(): row.rstrip("|").rsplit("|", 1)[1] for row in rows}


def test_every_guarantee_names_tests_that_exist() -> None:
    rows = guarantees()
    assert rows
    for promise, tests in rows.items():
        named = PATH.findall(tests)
        for path in named:
            assert (ROOT / path).exists(), f"{promise}: {path} does not exist"


def test_the_metrics_promise_names_its_tests() -> None:
    (tests,) = (t for promise, t in guarantees().items() if "scrape never calls an API" in promise)
    assert {"tests/e2e/test_metrics.py", "tests/unit/test_metrics.py"} <= set(PATH.findall(tests))
