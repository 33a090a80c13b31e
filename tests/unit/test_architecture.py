"""The README's module table is the one the docstrings make: no module is left out of it."""

from __future__ import annotations

from bot.devtools.architecture import ROOT, readme_with_table, table


def test_the_readme_lists_every_module_with_its_docstring() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_with_table(readme) == readme, (
        "README's module table is stale: run `python -m bot.devtools.architecture --write`"
    )


def test_every_module_says_what_it_is() -> None:
    missing = [row for row in table().splitlines() if row.endswith("| ? |")]
    assert not missing, f"modules without a docstring: {missing}"
