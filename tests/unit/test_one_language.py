"""One language everywhere: the words for ranges (`yesterday`, `this-week`, `march`, `q1`,
`2026/03` …) read the same by the slash command (`read`) and by mentions and DMs
(`understand`), in any order that is not ambiguous; and suggestions that keep every valid
word the user gave."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import example, given

from bot.core.language import commands as c
from bot.core.language.phrases import read, understand
from bot.core.language.words import nearest
from bot.errors import CommandError
from bot.slack.render.help import SHORT_HELP
from tests.unit.test_parser_properties import PROPERTY, texts, todays

TODAY = date(2026, 12, 3)  # a Thursday


def report_range(text: str, today: date = TODAY) -> tuple[str, str, str]:
    command = read(text, today)
    assert isinstance(command, c.Report), command
    return str(command.range.start), str(command.range.end), command.range.label


@pytest.mark.parametrize(
    ("words", "start", "end"),
    [
        ("today", "2026-12-03", "2026-12-04"),
        ("yesterday", "2026-12-02", "2026-12-03"),
        ("this-week", "2026-11-30", "2026-12-04"),  # Monday, up to and including today
        ("this week", "2026-11-30", "2026-12-04"),
        ("last-week", "2026-11-23", "2026-11-30"),  # Monday to Sunday, end exclusive
        ("last week", "2026-11-23", "2026-11-30"),
        ("this-month", "2026-12-01", "2026-12-04"),
        ("last-month", "2026-11-01", "2026-12-01"),
        ("this-year", "2026-01-01", "2027-01-01"),
        ("last-year", "2025-01-01", "2026-01-01"),
        ("march", "2026-03-01", "2026-04-01"),
        ("March", "2026-03-01", "2026-04-01"),
        ("mar", "2026-03-01", "2026-04-01"),
        ("march 2025", "2025-03-01", "2025-04-01"),
        ("2026/03", "2026-03-01", "2026-04-01"),
        ("03/2026", "2026-03-01", "2026-04-01"),
        ("q1", "2026-01-01", "2026-04-01"),
        ("Q4", "2026-10-01", "2027-01-01"),
        ("q2 2025", "2025-04-01", "2025-07-01"),
        ("2025-q3", "2025-07-01", "2025-10-01"),
    ],
)
def test_every_range_word_reads_the_same_on_both_entry_points(
    words: str, start: str, end: str
) -> None:
    assert report_range(f"report {words}")[:2] == (start, end)
    assert understand(f"report {words}", TODAY) == read(f"report {words}", TODAY)


@pytest.mark.parametrize(
    ("words", "today", "month"),
    [
        ("march", date(2026, 2, 10), "2025-03"),  # this year's March is still to come
        ("february", date(2026, 2, 10), "2026-02"),  # this month: it has begun
        ("december", date(2026, 1, 1), "2025-12"),
        ("q2", date(2026, 3, 31), "2025-04"),
    ],
)
def test_a_month_or_quarter_without_a_year_is_the_latest_that_has_begun(
    words: str, today: date, month: str
) -> None:
    assert report_range(f"report {words}", today)[0].startswith(month)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("report csv last-month", "report last-month csv"),
        ("report by week last-month", "report last-month by week"),
        (
            "report project my-project,archive march by week",
            "report march by week project my-project,archive",
        ),
        ("report reported csv 2026-03-01 2026-03-05", "report 2026-03-01..2026-03-05 reported csv"),
        ("report vs 2025-03 march", "report march vs 2025-03"),
        ("contro records csv march", "contro records march csv"),
        ("contro records type kyc 2026/03", "contro records 2026-03 type kyc"),
        ("contro summary march", "contro summary 2026-03"),
        ("contro summary march 2025", "contro summary 2025-03"),
        ("schedule weekly by day last-week", "schedule weekly last-week by day"),
    ],
)
def test_words_in_any_unambiguous_order(text: str, canonical: str) -> None:
    assert read(text, TODAY) == read(canonical, TODAY)
    assert understand(text, TODAY) == read(canonical, TODAY)


def test_moving_ranges_may_be_scheduled_fixed_ones_may_not() -> None:
    for words in ("yesterday", "today", "this-week", "last-week", "this-month", "last-month"):
        command = read(f"schedule daily {words}", TODAY)
        assert isinstance(command, c.ScheduleReport)
        assert command.report.range.label == words
    with pytest.raises(CommandError, match="move"):
        read("schedule monthly march", TODAY)


def test_a_schedule_reads_its_words_again_on_each_run() -> None:
    monday = date(2026, 12, 7)
    report = c.schedule_report(c.Frequency.WEEKLY, "last-week", monday)
    assert (report.range.start, report.range.end) == (date(2026, 11, 30), monday)


def suggestion(text: str, today: date = TODAY) -> str:
    with pytest.raises(CommandError) as caught:
        read(text, today)
    assert caught.value.suggestion is not None
    read(caught.value.suggestion, today)  # it is itself a command
    return caught.value.suggestion


@pytest.mark.parametrize(
    ("text", "suggested"),
    [
        (
            "payment-method my-project aws-marketplace-contoso-media",
            "/billing payment-method my-project set aws-marketplace-contoso-media",
        ),
        (
            "payment-method set my-project aws-marketplace-contoso-media",
            "/billing payment-method my-project set aws-marketplace-contoso-media",
        ),
        ("budget my-project 5000 EUR", "/billing budget my-project 5000"),
        ("budget my-project €5000", "/billing budget my-project 5000"),
        ("budget my-project 5k", "/billing budget my-project 5000"),
        ("budget my-project 12.5k USD", "/billing budget my-project 12500 USD"),
        ("budget my-project", "/billing budget my-project 5000"),
        ("budget my-project remove", "/billing budget remove my-project"),
        (
            "report last-month by month payment-method Azure Marketplace (Contoso Media)",
            "/billing report last-month by month payment-method azure-marketplace-contoso-media",
        ),
        ("report lst-month csv", "/billing report last-month csv"),
        ("report marhc csv", "/billing report march csv"),
        ("report csv lastmonth", "/billing report last-month csv"),
        ("report by week marhc", "/billing report march by week"),
    ],
)
def test_a_suggestion_keeps_every_valid_word(text: str, suggested: str) -> None:
    assert suggestion(text) == suggested


def test_project_then_command_is_read_either_way() -> None:
    assert understand("my-project usage", TODAY) == c.Usage("my-project")
    assert read("my-project usage", TODAY) == c.Usage("my-project")
    assert read("my-project payment-method", TODAY) == c.ShowPaymentMethod("my-project")
    with pytest.raises(CommandError) as strict:  # the command language alone suggests it
        c.parse("my-project usage", TODAY)
    assert strict.value.suggestion == "/billing usage my-project"


@PROPERTY
@given(texts, todays)
@example("report csv last-month", TODAY)
@example("my-project usage", TODAY)
@example("hello", TODAY)
def test_the_slash_command_and_a_mention_give_the_same_command(text: str, today: date) -> None:
    """`read` (the slash command, Share) and `understand` (mentions, DMs) differ only in the
    words of an error where nothing maps: whatever one understands, the other does too."""
    try:
        slash: c.Command | CommandError = read(text, today)
    except CommandError as error:
        slash = error
    try:
        mention: c.Command | CommandError = understand(text.lstrip(), today)
    except CommandError as error:
        mention = error
    if isinstance(slash, CommandError) and text.lstrip().startswith("<@"):
        return  # a mention's own text starts with the bot's name, a command never does
    assert isinstance(slash, CommandError) == isinstance(mention, CommandError), (
        text,
        slash,
        mention,
    )
    if not isinstance(slash, CommandError):
        assert slash == mention


@PROPERTY
@given(texts, todays)
@example("payment-method my-project aws-marketplace-contoso-media", TODAY)
@example("budget my-project 5k", TODAY)
@example("what ar the rate cards", TODAY)
def test_every_suggestion_of_either_entry_point_is_a_command(text: str, today: date) -> None:
    for reader in (read, understand):
        suggestion = suggested(reader, text, today)
        if suggestion is not None:
            assert suggestion.startswith(c.PREFIX + " "), (text, suggestion)
            read(suggestion, today)  # raises if the suggestion is not a command


def suggested(reader: Callable[[str, date], c.Command], text: str, today: date) -> str | None:
    """The suggestion of the error `reader` gives for `text` ("" when it has none), or None
    when the text is a command."""
    try:
        reader(text, today)
    except CommandError as error:
        return error.suggestion or ""
    return None


def test_the_short_helps_examples_are_commands() -> None:
    for words in SHORT_HELP:
        read(words, TODAY)


@pytest.mark.parametrize(
    ("word", "names", "expected"),
    [
        ("My-Project", ("my-project", "archive"), ["my-project"]),  # another case
        ("my-projet", ("my-project", "archive"), ["my-project"]),  # a typo
        ("vid", ("video-platform", "archive"), ["video-platform"]),  # a unique beginning
        ("a", ("archive", "azure"), []),  # a beginning of two: no guess
        ("azure", ("Azure Marketplace (X)", "AWS Marketplace (X)"), ["Azure Marketplace (X)"]),
        ("nothing-like-it", ("my-project",), []),
    ],
)
def test_nearest_names(word: str, names: tuple[str, ...], expected: list[str]) -> None:
    assert nearest(word, names) == expected
