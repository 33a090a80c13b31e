"""The README's module table, made from the first line of each module's docstring.

`python -m bot.devtools.architecture` prints it; `--write` replaces the table in README.md
between its two markers. A unit test fails when the README's table is not the one this makes,
so a new module cannot be left out of it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BEGIN = "<!-- modules: made by `python -m bot.devtools.architecture --write` -->"
END = "<!-- /modules -->"


def summary(path: Path) -> str:
    """The first sentence of the module's docstring (`?` when it has none)."""
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    if not docstring:
        return "?"
    paragraph = " ".join(docstring.strip().split("\n\n")[0].split())
    sentence, period, _ = paragraph.partition(". ")
    return (sentence + period.strip()).replace("|", "\\|")


def table(root: Path = ROOT) -> str:
    rows = ["| module | what it is |", "| --- | --- |"]
    for path in sorted((root / "bot").rglob("*.py")):
        relative = path.relative_to(root)
        name = str(relative.parent) + "/" if path.name == "__init__.py" else str(relative)
        rows.append(f"| `{name}` | {summary(path)} |")
    return "\n".join(rows)


def readme_with_table(readme: str, root: Path = ROOT) -> str:
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return readme[:start] + "\n" + table(root) + "\n" + readme[end:]


def main(argv: list[str]) -> int:
    if "--write" in argv:
        readme = ROOT / "README.md"
        readme.write_text(readme_with_table(readme.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
