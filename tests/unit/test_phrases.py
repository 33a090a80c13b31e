"""Plain phrasings: what people type in a mention or a DM, mapped to the parser's commands."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.language.commands import (
    COMMANDS,
    Command,
    ControRecords,
    ControSummary,
    DateRange,
    EnableMetrics,
    Granularity,
    Help,
    PaymentMethods,
    Period,
    RateCard,
    Report,
    SetPaymentMethod,
    ShowMetrics,
    ShowPaymentMethod,
    Usage,
    parse,
)
from bot.core.language.phrases import NotUnderstood, phrase_examples, read, understand
from bot.errors import CommandError

TODAY = date(2026, 11, 21)
METHOD = "6f1c2a9e-3b4d-4c8e-9a7f-2d5b8e0c1f34"


def cmd(text: str, today: date = TODAY) -> Command:
    """What the parser makes of the canonical command."""
    return parse(text, today)


def month_report(year: int, month: int, *, csv: bool = False) -> Report:
    start = date(year, month, 1)
    end = date(year + month // 12, month % 12 + 1, 1)
    return Report(DateRange(start, end, f"{year:04d}-{month:02d}"), Granularity.DAY, csv=csv)


PHRASES: list[tuple[str, Command]] = [
    # usage <project>: month to date for one project
    ("how much has my-project used this month?", Usage("my-project")),
    ("usage of my-project", Usage("my-project")),
    ("what has my-project used so far", Usage("my-project")),
    ("my-project usage", Usage("my-project")),
    ("what's My-Project's usage?", Usage("My-Project")),
    ("how much is web-2 costing us", Usage("web-2")),
    ("can you show me the usage for project acme please", Usage("acme")),
    ("Hi! how much has my-project used?", Usage("my-project")),
    # report: the organisation, other months, options
    ("what did we spend last month?", cmd("report last-month")),
    ("how much did we spend in March?", month_report(2026, 3)),
    ("spend this month", cmd("report this-month")),
    ("report for March as csv", month_report(2026, 3, csv=True)),
    ("report for 2026-03 by week", cmd("report 2026-03 by week")),
    ("costs last month for my-project", cmd("report last-month project my-project")),
    ("how much did my-project cost last month", cmd("report last-month project my-project")),
    ("usage of my-project in October", cmd("report 2026-10 project my-project")),
    ("our usage this month", cmd("report this-month")),
    ("monthly costs for march", cmd("report 2026-03 by month")),
    (
        "how much did we spend on my-project and api last month",
        cmd("report last-month project my-project,api"),
    ),
    (
        "a weekly report of last month for my-project as csv",
        cmd("report last-month by week project my-project csv"),
    ),
    (
        "costs per day for projects web, api and mobile last month",
        cmd("report last-month by day project web,api,mobile"),
    ),
    (
        "what did we spend in 2026-01-01..2026-02-01 by reported date",
        cmd("report 2026-01-01..2026-02-01 reported"),
    ),
    ("how much have we spent this year, monthly", cmd("report 2026 by month")),
    ("how much did we spend yesterday", cmd("report yesterday")),
    ("export last month's costs", cmd("report last-month csv")),
    (
        "spend on payment method " + METHOD + " in may 2025",
        cmd(f"report 2025-05 payment-method {METHOD}"),
    ),
    # ratecard <method>
    (f"rate card for {METHOD}", RateCard(METHOD)),
    ("prices of Standard", RateCard("Standard")),
    ("what are the prices for the payment method Pay As You Go", RateCard("Pay As You Go")),
    ("ratecard abc", RateCard("abc")),
    # payment-methods, payment-method <project>
    ("payment methods", PaymentMethods()),
    ("which payment methods do we have?", PaymentMethods()),
    ("list our payment methods", PaymentMethods()),
    ("what payment methods are available", PaymentMethods()),
    ("which payment method does my-project use", ShowPaymentMethod("my-project")),
    ("what's the payment method for my-project", ShowPaymentMethod("my-project")),
    ("who pays for my-project?", ShowPaymentMethod("my-project")),
    # metrics <project>: only ever the read
    ("is metrics export on for my-project", ShowMetrics("my-project")),
    ("metrics for my-project", ShowMetrics("my-project")),
    ("does my-project have metrics enabled?", ShowMetrics("my-project")),
    # contro
    ("contro summary for February", ControSummary(Period(2026, 2))),
    ("contro usage last month", ControSummary(Period(2026, 10))),
    ("what did we spend on contro this month?", ControSummary(Period(2026, 11))),
    ("contro records for 2026-03 type kyc", ControRecords(Period(2026, 3), "kyc")),
    ("contro records for march as csv", ControRecords(Period(2026, 3), None, csv=True)),
    ("show me kyc records for last month", ControRecords(Period(2026, 10), "kyc")),
    # help
    ("help", Help()),
    ("what can you do?", Help()),
    ("help with reports", Help("report")),
    ("", Help()),
]


@pytest.mark.parametrize(("text", "expected"), PHRASES)
def test_phrasings(text: str, expected: Command) -> None:
    assert understand(text, TODAY) == expected


@pytest.mark.parametrize("example", [e for spec in COMMANDS for e in spec.examples])
def test_the_command_language_comes_first(example: str) -> None:
    assert understand(example, TODAY) == parse(example, TODAY)
    assert understand(example.removeprefix("/billing "), TODAY) == parse(example, TODAY)


@pytest.mark.parametrize(
    "text",
    [
        "<@U0BOT> usage my-project",
        "<@U0BOT|billing>: usage my-project",
        "<@U0BOT> <@U0BOT> how much has my-project used?",
        "/billing usage my-project",
        "`/billing usage my-project`",
        "usage my-project?",
        "please, usage my-project. thanks",
    ],
)
def test_mentions_slash_and_politeness_are_dropped(text: str) -> None:
    assert understand(text, TODAY) == Usage("my-project")


@pytest.mark.parametrize(
    ("today", "text", "period"),
    [
        (date(2027, 1, 10), "report for December", (2026, 12)),  # January: December was last year
        (date(2027, 1, 10), "what did we spend in January", (2027, 1)),
        (TODAY, "report for November", (2026, 11)),  # this month is this year's
        (TODAY, "report for December", (2025, 12)),  # still to come: last year's
        (TODAY, "report for March 2024", (2024, 3)),
        (TODAY, "how much did we spend in sept", (2026, 9)),
    ],
)
def test_month_names_roll_over_to_last_year(
    today: date, text: str, period: tuple[int, int]
) -> None:
    result = understand(text, today)
    assert isinstance(result, Report)
    assert (result.range.start.year, result.range.start.month) == period
    assert result.range.label == "{:04d}-{:02d}".format(*period)


def test_contro_month_names_roll_over_too() -> None:
    assert understand("contro summary for December", date(2027, 1, 2)) == ControSummary(
        Period(2026, 12)
    )


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("enable metrics for my-project", EnableMetrics("my-project")),
        ("please turn on metrics export for my-project", EnableMetrics("my-project")),
        (
            f"set the payment method of my-project to {METHOD}",
            SetPaymentMethod("my-project", METHOD),
        ),
        (f"assign {METHOD} to my-project", SetPaymentMethod("my-project", METHOD)),
    ],
)
def test_a_phrase_never_changes_billing_but_names_the_command(text: str, command: Command) -> None:
    with pytest.raises(CommandError) as raised:
        understand(text, TODAY)
    assert "exact command" in raised.value.user_message
    assert raised.value.suggestion is not None
    assert parse(raised.value.suggestion, TODAY) == command


def test_what_the_parser_refuses_stays_refused() -> None:
    with pytest.raises(CommandError, match="only be turned on"):
        understand("disable metrics for my-project", TODAY)
    with pytest.raises(CommandError, match="Write the range without"):
        understand("how much did we spend from 2026-03-01 to 2026-04-01", TODAY)
    with pytest.raises(CommandError, match="covers at most 31 days"):
        understand("report for 2026 by hour", TODAY)
    with pytest.raises(CommandError, match="not a billing period"):
        understand("contro summary for 2026", TODAY)


@pytest.mark.parametrize("text", ["usage", "report", "report 2026-13", "metrics", "contro"])
def test_commands_with_a_mistake_get_the_parsers_answer(text: str) -> None:
    with pytest.raises(CommandError) as expected:
        parse(text, TODAY)
    with pytest.raises(CommandError) as raised:
        understand(text, TODAY)
    assert raised.value.user_message == expected.value.user_message
    assert raised.value.suggestion == expected.value.suggestion


def test_a_command_word_after_politeness_gets_the_parsers_answer_too() -> None:
    with pytest.raises(CommandError, match="needs a project name") as raised:
        understand("can you show me usage?", TODAY)
    assert raised.value.suggestion == "/billing usage my-project"


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("hw much has acme-prod usd", "/billing usage acme-prod"),
        ("my-project", "/billing usage my-project"),
        ("metrics for my-project enable", "/billing metrics my-project enable"),
        ("what ar the rate cards", "/billing payment-methods"),
        ("contro stuff for march", "/billing contro summary march"),
        ("how much did we spnd in march", "/billing report march"),
        ("what's the weather like", "/billing help"),
    ],
)
def test_unknown_text_suggests_the_closest_command(text: str, suggestion: str) -> None:
    with pytest.raises(CommandError) as raised:
        understand(text, TODAY)
    assert raised.value.user_message.startswith("I didn't understand that.")
    assert raised.value.suggestion == suggestion
    assert f"`{suggestion}`" in raised.value.user_message
    parse(suggestion, TODAY)  # every suggestion is a command that parses


def test_the_message_never_echoes_markup() -> None:
    with pytest.raises(CommandError) as raised:
        understand("<!channel> <@U123> hello <http://x|y> usage", TODAY)
    for raw in ("<!", "<@", "<http"):
        assert raw not in raised.value.user_message
        assert raw not in (raised.value.suggestion or "")


def test_phrase_examples_are_understood() -> None:
    examples = phrase_examples()
    assert len(examples) >= 4
    for example in examples:
        assert not isinstance(understand(example, TODAY), Help | SetPaymentMethod | EnableMetrics)


# --- Properties: any text gives a command or a CommandError, safely worded -------------------

_VOCABULARY = [
    *[
        "how",
        "much",
        "has",
        "have",
        "did",
        "we",
        "spend",
        "spent",
        "used",
        "use",
        "usage",
        "cost",
        "costs",
        "report",
        "reports",
        "for",
        "of",
        "on",
        "in",
        "by",
    ],
    *[
        "as",
        "csv",
        "week",
        "day",
        "hour",
        "month",
        "year",
        "this",
        "last",
        "so",
        "far",
        "the",
        "my-project",
        "web-2",
        "acme",
        "rate",
        "card",
    ],
    *[
        "ratecard",
        "prices",
        "payment",
        "method",
        "methods",
        "payment-method",
        "payment-methods",
        "which",
        "does",
        "is",
    ],
    *[
        "metrics",
        "export",
        "enable",
        "set",
        "to",
        "contro",
        "summary",
        "records",
        "type",
        "kyc",
        "help",
        "hi",
        "what",
        "can",
        "you",
        "do",
    ],
    *[
        "March",
        "December",
        "Jan",
        "sept",
        "may",
        "this-month",
        "last-month",
        "reported",
        "project",
        "projects",
        "and",
        ",",
        "?",
        "!",
    ],
    *[
        "2026",
        "2026-03",
        "2026-13",
        "2026-03-01",
        "2026-04-01",
        "2026-03-01..2026-04-01",
        "..",
        "…",
        "–",
        "—",
        "0000-00",
    ],
    "<!channel>",
    "<!here>",
    "<@U123>",
    "<@U0BOT|billing>",
    "<http://x|y>",
    "<#C123|general>",
    "&lt;project&gt;",
    "`",
    "/billing",
    "\u00a0",
    "\u200b",
    "'s",
]


def _check(text: str, today: date) -> None:
    """A command, or a CommandError that mentions nobody and suggests a command that parses."""
    outcome: Command | CommandError
    try:
        outcome = understand(text, today)
    except CommandError as error:
        outcome = error
    if isinstance(outcome, CommandError):
        assert "<!" not in outcome.user_message
        assert "<@" not in outcome.user_message
        if outcome.suggestion is not None:
            parse(outcome.suggestion, today)
    else:
        assert isinstance(outcome, Command)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_a_command_or_a_command_error(text: str) -> None:
    _check(text, TODAY)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_VOCABULARY), max_size=12),
    st.sampled_from(["", "<@U0BOT> ", "/billing ", "please "]),
    st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31)),
)
def test_phrases_from_the_vocabulary_give_a_command_or_a_command_error(
    words: list[str], lead: str, today: date
) -> None:
    _check(lead + " ".join(words), today)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([p for p, _ in PHRASES]), st.text(max_size=20))
def test_phrases_with_noise_never_crash(phrase: str, noise: str) -> None:
    _check(phrase + noise, TODAY)
    _check(noise + phrase, TODAY)


def test_very_long_text_is_refused_quickly() -> None:
    with pytest.raises(CommandError, match="too long"):
        understand("how much has my-project used " * 500, TODAY)


@pytest.mark.parametrize("text", ["hi", "hello there!", "thanks", "what is the weather"])
def test_nothing_understood_is_said_so_and_the_slash_command_gets_the_strict_error(
    text: str,
) -> None:
    with pytest.raises(NotUnderstood) as caught:
        understand(text, TODAY)
    assert caught.value.suggestion == "/billing help"
    with pytest.raises(CommandError) as strict:
        read(text, TODAY)
    assert not isinstance(strict.value, NotUnderstood)
    assert strict.value.user_message == caught.value.strict.user_message
