"""Every command example in the README is a command the bot reads, as the slash command does.

Examples are taken from code spans and fenced blocks: `/billing …` and `@billing …` wherever
they stand, and a span of two words or more that starts with a command (`budget list`). One with
a placeholder (`<project>`, `[csv]`, `a|b`, `…`) is a form, not an example, and is skipped. A
fenced example followed by a `→` line shows a refusal: it must be refused, and the command it
suggests must be read; so must the mistakes the prose shows (`SHOWN_MISTAKES`). And the
Commands table lists every command `/billing help all` does.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot.core.language.commands import COMMANDS
from bot.core.language.phrases import read, understand
from bot.devtools.architecture import ROOT
from bot.errors import CommandError

# The day the README's examples are read on: after every month they name (a `reconcile` of a
# month still to come is refused), in a month past its second day (estimates).
TODAY = date(2026, 12, 3)

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
SPAN = re.compile(r"`([^`]+)`")  # within a paragraph, a span may wrap onto the next line
# A placeholder: `<project>` (but not a Slack mention `<@U123>`), an optional `[part]`, a
# choice `a|b`, or an ellipsis.
PLACEHOLDER = re.compile(r"<[a-z]|\[|\||…")
FIRST_WORDS = frozenset(spec.name.split()[0] for spec in COMMANDS)
# What the README shows as typed wrong, to show the reply.
SHOWN_MISTAKES = frozenset(
    {"payment-method my-project aws-marketplace-contoso-media", "budget my-project 5k"}
)
# Not commands the parser reads, but the report form: `/billing report` alone (the Slack handler
# opens it) and the demo console's `report form` (the shortcut).
OPENS_THE_FORM = frozenset({"/billing report", "/billing report form"})


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def examples(text: str) -> tuple[list[str], list[str]]:
    """(examples that must be read, examples the README shows refused)."""
    accepted: list[str] = []
    refused: list[str] = []
    for block in FENCE.findall(text):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if not line.startswith(("/billing", "@billing")):
                continue
            following = lines[i + 1] if i + 1 < len(lines) else ""
            (refused if following.startswith("→") else accepted).append(line.strip())
            if following.startswith("→"):
                refusal = " ".join([following, *lines[i + 2 : i + 3]])
                accepted.extend(_commands_in(refusal))
    for paragraph in FENCE.sub("", text).split("\n\n"):
        for command in (c for span in SPAN.findall(paragraph) for c in _commands_in(span)):
            shown_wrong = _words(command) in SHOWN_MISTAKES
            (refused if shown_wrong else accepted).append(command)
    return _keep(accepted), _keep(refused)


def _commands_in(text: str) -> list[str]:
    """The commands a span or a reply line holds: from each `/billing` or `@billing` to its end
    (or to the next one)."""
    flat = " ".join(text.split())
    starts = [m.start() for m in re.finditer(r"(?<![\w/.-])[/@]billing(?=\s|$)", flat)]
    ends = [*starts[1:], len(flat)][: len(starts)]
    found = [flat[s:e].strip().rstrip("`").strip() for s, e in zip(starts, ends, strict=True)]
    words = flat.split()
    if not found and len(words) >= 2 and words[0] in FIRST_WORDS:
        found = [f"/billing {flat}"]
    return [f for f in found if f not in {"/billing", "@billing", *OPENS_THE_FORM}]


def _keep(found: list[str]) -> list[str]:
    return list(dict.fromkeys(f for f in found if not PLACEHOLDER.search(f.split(maxsplit=1)[-1])))


def _words(example: str) -> str:
    """The words after `/billing` or `@billing`."""
    return example.split(maxsplit=1)[1] if " " in example else ""


ACCEPTED, REFUSED = examples(readme())


def test_the_readme_has_examples() -> None:
    assert len(ACCEPTED) >= 30, ACCEPTED
    assert len(REFUSED) == 1 + len(SHOWN_MISTAKES), REFUSED


@pytest.mark.parametrize("example", ACCEPTED)
def test_each_example_is_read(example: str) -> None:
    words = _words(example)
    try:
        if example.startswith("@billing"):
            understand(words, TODAY)
        else:
            read(words, TODAY)
    except CommandError as error:
        pytest.fail(f"README example {example!r} is refused: {error} (try: {error.suggestion})")


@pytest.mark.parametrize("example", REFUSED)
def test_each_refused_example_is_refused_with_a_fix_that_is_read(example: str) -> None:
    with pytest.raises(CommandError) as refusal:
        read(_words(example), TODAY)
    assert refusal.value.suggestion is not None
    read(_words(refusal.value.suggestion), TODAY)


def test_placeholders_are_skipped_and_wrapped_spans_joined() -> None:
    text = (
        "`/billing usage <project>` `/billing budget x 5 notify <@U1>` `/billing report\n"
        "last-month` and `Try: /billing payment-methods`, `schedule list`, `usage`,\n"
        "`budget my-project 5k`, `billing-bot demo`, `/billing report` and `/invite @billing`\n"
        "```\n/billing report 2026-01-01 2026-03-15 by hour\n"
        "→ no.  Try: `/billing report 2026-01-01 2026-03-15 by day`\n```\n"
    )
    accepted, refused = examples(text)
    assert accepted == [
        "/billing report 2026-01-01 2026-03-15 by day",
        "/billing budget x 5 notify <@U1>",
        "/billing report last-month",
        "/billing payment-methods",
        "/billing schedule list",
    ]
    assert refused == [
        "/billing report 2026-01-01 2026-03-15 by hour",
        "/billing budget my-project 5k",
    ]


def test_the_command_table_lists_every_command_the_help_does() -> None:
    section = readme().split("\n## Commands\n", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    cells = [re.split(r"(?<!\\)\|", row)[1] for row in rows]
    forms = [set(re.findall(r"[\w-]+", span)) for cell in cells for span in SPAN.findall(cell)]
    for spec in COMMANDS:
        words = set(spec.name.split())
        assert any(words <= form for form in forms), f"`{spec.syntax}` is not in the table"
