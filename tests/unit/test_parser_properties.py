"""Hostile input, property-based: whatever anyone types, `parse` gives a typed command or a
CommandError (never another exception); every suggestion it offers parses; nothing of the
user's comes back able to mention (`<!channel>`, `<@U…>`) or link (`<https://…|…>`)."""

from __future__ import annotations

import json
import re
import typing
from datetime import date

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.core.language import commands as c
from bot.errors import CommandError
from bot.slack.render.common import code, escape, inert
from bot.slack.render.errors import render_error

COMMAND_TYPES: tuple[type[c.Command], ...] = typing.get_args(c.Command)

#: What Slack would turn into a mention, a channel link or a link.
CONTROL = re.compile(r"<(?:[!@#]|(?:https?|mailto|ftp|slack|tel):)", re.IGNORECASE)

HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0EVIL>",
    "<@U0EVIL|boss>",
    "<#C0EVIL|general>",
    "<https://evil.example|click>",
    "<mailto:a@evil.example|mail>",
    "<!subteam^S0EVIL>",
    "&lt;!channel&gt;",
    "<",
    ">",
    "&",
    "`",
    "```",
    "*bold*",
    "<project>",
]

VOCABULARY = [
    *(s.word for s in c.COMMANDS),
    "summary",
    "records",
    "set",
    "enable",
    "disable",
    "by",
    "project",
    "projects",
    "payment-methods",
    "hour",
    "day",
    "week",
    "month",
    "year",
    "daily",
    "hours",
    "reported",
    "csv",
    "type",
    "kyc",
    "this-month",
    "last-month",
    "this",
    "last",
    "month",
    "to",
    "until",
    "-",
    "..",
    ",",
    "a,b",
    "a,",
    ",b",
    "my-project",
    "My Project",
    "\u201cmy-project\u201d",
    "'archive'",
    "2026",
    "1999",
    "2100",
    "2026-03",
    "2026-3",
    "2026-13",
    "2026-00",
    "2026-03-01",
    "2026-3-1",
    "2026-02-29",
    "2024-02-29",
    "2026-02-30",
    "2026-03-01..2026-04-01",
    "2026-04-01..2026-03-01",
    "2026-03-01-2026-04-01",
    "2026-03-01...2026-03-01",
    "2026-03-01\u20262026-04-01",
    "\u2013",
    "\u00a0",
    "\u200b",
    "/billing",
    "today",
    "yesterday",
    "last-year",
    "this-year",
    "this-week",
    "last-week",
    "march",
    "March",
    "may",
    "sept",
    "2026/03",
    "03/2026",
    "2026/13",
    "q1",
    "Q4",
    "2026-q2",
    "q5",
    "remove",
    "list",
    "5000",
    "5k",
    "EUR",
    "USD",
    "usage",
    "6f1c2a9e-3b4d-4c8e-9a7f-2d5b8e0c1f34",
    *HOSTILE,
]

dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2110, 12, 31))
date_words = st.one_of(
    dates.map(date.isoformat),
    dates.map(lambda d: f"{d.year}-{d.month:02d}"),
    st.tuples(dates, dates).map(lambda p: f"{p[0]}..{p[1]}"),
)
words = st.one_of(
    st.sampled_from(VOCABULARY),
    date_words,
    st.text(min_size=1, max_size=12),
)
commands_ish = st.lists(words, max_size=9).map(" ".join)
texts = st.one_of(commands_ish, commands_ish.map(lambda t: "/billing " + t), st.text())
todays = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))

PROPERTY = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def outcome(text: str, today: date) -> c.Command | CommandError:
    try:
        command = c.parse(text, today)
    except CommandError as error:
        return error
    # anything but CommandError propagates and fails the test
    assert isinstance(command, COMMAND_TYPES), command
    return command


def assert_inert(text: str) -> None:
    assert not CONTROL.search(text), text


@PROPERTY
@given(texts, todays)
@example("usage <!channel>", date(2026, 11, 21))
@example("<@U0EVIL> please", date(2026, 11, 21))
@example("report <https://evil.example|click>", date(2026, 11, 21))
@example("contro records 2026-10 type <!here>", date(2026, 11, 21))
@example("help <#C0EVIL|general>", date(2026, 11, 21))
@example("x" * (c.MAX_TEXT + 1), date(2026, 11, 21))
@example("report 2099-12", date(2099, 12, 31))
@example("report this-month by hour", date(2000, 1, 1))
def test_any_text_gives_a_command_or_a_helpful_error(text: str, today: date) -> None:
    result = outcome(text, today)
    if isinstance(result, CommandError):
        assert result.user_message.strip()
        assert_inert(result.user_message)
        assert result.suggestion, "every error says what to type instead"
        assert_inert(result.suggestion)


@PROPERTY
@given(texts, todays)
@example("usgae my-project", date(2026, 11, 21))
@example("report 2026-01-01 2026-03-15 by hour", date(2026, 11, 21))
@example("payment methods", date(2026, 11, 21))
@example("contro 2026-10", date(2026, 11, 21))
def test_every_suggestion_is_a_command_that_parses(text: str, today: date) -> None:
    result = outcome(text, today)
    if isinstance(result, CommandError) and result.suggestion:
        assert result.suggestion.startswith(c.PREFIX + " ")
        suggested = outcome(result.suggestion, today)
        assert not isinstance(suggested, CommandError), (
            text,
            result.suggestion,
            suggested.user_message,
        )


@PROPERTY
@given(texts, todays)
@example("usage <!channel>", date(2026, 11, 21))
@example("metrics my-project <@U0EVIL>", date(2026, 11, 21))
@example("report 2026-03 project <https://evil.example|click>", date(2026, 11, 21))
def test_an_error_rendered_for_slack_holds_no_control_sequence(text: str, today: date) -> None:
    result = outcome(text, today)
    if isinstance(result, CommandError):
        posted = json.dumps(render_error(result).to_slack(), ensure_ascii=False)
        assert "<" not in posted, posted
        assert ">" not in posted, posted


@PROPERTY
@given(st.one_of(st.sampled_from(HOSTILE), st.text()))
def test_quoted_words_cannot_break_out(word: str) -> None:
    quoted = c.quote(word)
    assert "<" not in quoted
    assert ">" not in quoted
    assert "`" not in quoted
    assert len(quoted.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")) <= (
        c.MAX_QUOTED
    )
    for shown in (escape(word), code(word), inert(word)):
        assert "<" not in shown
        assert ">" not in shown
    assert code(word).count("`") in (0, 2)


@PROPERTY
@given(st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=3), st.sampled_from(VOCABULARY))
def test_hostile_words_anywhere_in_a_command_are_refused_or_kept_inert(
    hostile: list[str], word: str
) -> None:
    for text in (
        " ".join([word, *hostile]),
        " ".join([*hostile, word]),
        f"usage {''.join(hostile)}",
        f"report 2026-03 project a,{','.join(hostile)}",
        f"contro records type {hostile[0]}",
        f"payment-method my-project set {' '.join(hostile)}",
    ):
        result = outcome(text, date(2026, 11, 21))
        if isinstance(result, CommandError):
            assert_inert(result.user_message)
            assert_inert(result.suggestion or "")
        else:
            assert_inert(repr(result))
