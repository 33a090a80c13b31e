"""The README's Configuration table lists every setting of `bot.config.Settings` once, by its
environment variable, with its default; and nothing the bot does not read."""

from __future__ import annotations

import re

from pydantic_core import PydanticUndefined

from bot.config import SECRET_NAMES, Settings
from bot.devtools.architecture import ROOT

ROW = re.compile(r"^\| `([A-Z_<>]+)` \|(.*)\|(.*)\|$")


def rows() -> list[tuple[str, str]]:
    """(variable, default cell) of each row of the Configuration table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    found = [ROW.match(line) for line in section.splitlines()]
    return [(m[1], m[3].strip()) for m in found if m]


def shown(default: object) -> str:
    """A default as the table writes it: `60`, not `60.0`."""
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def test_every_setting_is_listed_once() -> None:
    listed = [name for name, _ in rows()]
    assert len(listed) == len(set(listed)), listed
    fields = {name.upper() for name in Settings.model_fields if not name.endswith("_file")}
    assert set(listed) == fields | {"<NAME>_FILE"}


def test_every_file_variable_is_named_with_its_secret() -> None:
    files = {name for name in Settings.model_fields if name.endswith("_file")}
    assert files == {f"{name}_file" for name in SECRET_NAMES}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (row,) = (line for line in readme.splitlines() if line.startswith("| `<NAME>_FILE` |"))
    for name in SECRET_NAMES:
        assert f"`{name.upper()}`" in row, name


def test_each_default_is_the_one_the_bot_has() -> None:
    for name, cell in rows():
        if name == "<NAME>_FILE":
            continue
        default = Settings.model_fields[name.lower()].default
        assert default is not PydanticUndefined, name
        if default is None or default == frozenset() or default is False:
            assert re.match(r"(none|empty|`false`|required)", cell), (name, cell)
        else:
            assert cell.startswith(f"`{shown(default)}`"), (name, cell, default)
