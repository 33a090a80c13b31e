"""The command language: every form, every rule, and that nothing but CommandError escapes."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import hypothesis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.language import commands as c
from bot.core.language import grammar, words
from bot.core.language.commands import (
    COMMANDS,
    GUIDES,
    HELP_ALIASES,
    HELP_TOPICS,
    BudgetScope,
    CancelSchedule,
    ControRecords,
    ControSummary,
    DateRange,
    EnableMetrics,
    Frequency,
    Granularity,
    Help,
    ListBudgets,
    ListSchedules,
    PaymentMethods,
    Period,
    RateCard,
    RemoveBudget,
    Report,
    ScheduleReport,
    ScopeKind,
    SetBudget,
    SetPaymentMethod,
    ShowMetrics,
    ShowPaymentMethod,
    Usage,
    parse,
    quote,
    schedule_report,
    specs_for,
)
from bot.errors import CommandError

TODAY = date(2026, 3, 15)
METHOD = "6f1c2a9e-3b4d-4c8e-9a7f-2d5b8e0c1f34"


def span(start: str, end: str, label: str | None = None) -> DateRange:
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    return DateRange(first, last, label or f"{start}..{end}")


def report(
    start: str,
    end: str,
    label: str,
    granularity: str = "day",
    *,
    projects: tuple[str, ...] = (),
    payment_methods: tuple[str, ...] = (),
    reported: bool = False,
    csv: bool = False,
    granularity_given: bool = False,
    versus: DateRange | None = None,
) -> Report:
    return Report(
        span(start, end, label),
        Granularity(granularity),
        projects=projects,
        payment_methods=payment_methods,
        reported=reported,
        csv=csv,
        granularity_given=granularity_given,
        versus=versus,
    )


def fails(text: str, today: date = TODAY) -> CommandError:
    """The error `text` gives, after checking its suggestion is a command that parses."""
    with pytest.raises(CommandError) as caught:
        parse(text, today)
    error = caught.value
    assert error.suggestion is not None
    assert error.suggestion.startswith("/billing ")
    parse(error.suggestion, today)  # must not raise
    return error


# --- every form -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("   ", Help()),
        ("help", Help()),
        ("help report", Help("report")),
        ("help contro", Help("contro")),
        ("help contro records", Help("contro records")),
        ("help payment-method", Help("payment-method")),
        ("usage my-project", Usage("my-project")),
        ("payment-methods", PaymentMethods()),
        (f"ratecard {METHOD}", RateCard(METHOD)),
        ("payment-method my-project", ShowPaymentMethod("my-project")),
        (f"payment-method my-project set {METHOD}", SetPaymentMethod("my-project", METHOD)),
        ("metrics my-project", ShowMetrics("my-project")),
        ("metrics my-project enable", EnableMetrics("my-project")),
        ("contro summary", ControSummary(Period(2026, 3))),
        ("contro summary 2025-11", ControSummary(Period(2025, 11))),
        ("contro summary last-month", ControSummary(Period(2026, 2))),
        ("contro records", ControRecords(Period(2026, 3))),
        ("contro records 2026-01", ControRecords(Period(2026, 1))),
        ("contro records type kyc", ControRecords(Period(2026, 3), "kyc")),
        ("contro records csv type kyc 2026-01", ControRecords(Period(2026, 1), "kyc", csv=True)),
        ("contro records 2026-01 csv", ControRecords(Period(2026, 1), csv=True)),
        ("report 2026-03", report("2026-03-01", "2026-04-01", "2026-03")),
        (
            "report 2026-03 by week project a,b csv",
            report(
                "2026-03-01",
                "2026-04-01",
                "2026-03",
                "week",
                projects=("a", "b"),
                csv=True,
                granularity_given=True,
            ),
        ),
        (
            "report 2026-03 reported payment-method x by month",
            report(
                "2026-03-01",
                "2026-04-01",
                "2026-03",
                "month",
                payment_methods=("x",),
                reported=True,
                granularity_given=True,
            ),
        ),
    ],
)
def test_every_form(text: str, expected: c.Command) -> None:
    assert parse(text, TODAY) == expected


def test_every_example_in_the_help_parses() -> None:
    for spec in COMMANDS:
        assert 1 <= len(spec.examples) <= 2
        for example in spec.examples:
            assert example.startswith(f"/billing {spec.name}")
            parse(example, TODAY)


def test_the_help_and_the_dispatcher_name_the_same_commands() -> None:
    assert {spec.word for spec in COMMANDS} == set(grammar._PARSERS)
    assert {"usage", "report", "contro summary", "contro records", "contro"} <= HELP_TOPICS
    for topic in HELP_TOPICS:
        assert parse(f"help {topic}", TODAY) == Help(topic)
        assert specs_for(topic) or topic in GUIDES
    for alias, topic in HELP_ALIASES.items():
        assert parse(f"help {alias}", TODAY) == Help(topic)
    assert [s.syntax for s in specs_for("contro")] == [
        "contro summary [YYYY-MM]",
        "contro records [YYYY-MM] [type <type>] [csv]",
    ]
    assert {"schedule", "schedule list", "schedule cancel", "budget", "budget list"} <= HELP_TOPICS
    assert [s.name for s in specs_for("budget")] == ["budget list", "budget", "budget remove"]
    assert specs_for(None) == COMMANDS


# --- words ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("USAGE My-Project", Usage("My-Project")),
        ("Metrics Web-App ENABLE", EnableMetrics("Web-App")),
        (f"Payment-Method P1 SET {METHOD.upper()}", SetPaymentMethod("P1", METHOD.upper())),
        (
            "CONTRO Records TYPE Card_Issuance CSV",
            ControRecords(Period(2026, 3), "card_issuance", True),
        ),
        ("Help REPORT", Help("report")),
        (
            "Report This-Month BY Hour Project Web,API",
            report(
                "2026-03-01",
                "2026-03-16",
                "this-month",
                "hour",
                projects=("Web", "API"),
                granularity_given=True,
            ),
        ),
    ],
)
def test_words_are_case_insensitive_and_names_kept_as_typed(text: str, expected: c.Command) -> None:
    assert parse(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "  usage   my-project  ",
        "\tusage\nmy-project\n",
        "usage\u00a0my-project",
        "usage\u202f\u00a0my-project\u200b",
        "/billing usage my-project",
    ],
)
def test_slack_spacing_is_forgiven(text: str) -> None:
    assert parse(text, TODAY) == Usage("my-project")


@pytest.mark.parametrize("dash", ["\u2010", "\u2011", "\u2013", "\u2014", "\u2212"])
def test_smart_dashes_are_plain_dashes(dash: str) -> None:
    result = parse(f"report last{dash}month", TODAY)
    assert isinstance(result, Report)
    assert result.range.label == "last-month"
    assert parse(f"usage my{dash}project", TODAY) == Usage("my-project")


@pytest.mark.parametrize(
    "text",
    [
        "report 2026-03 project a, b",
        "report 2026-03 project a ,b",
        "report 2026-03 project a , b,",
        "report 2026-03 project ,a,,b,a",
        "report 2026-03 projects a,b,b,a",
        "report 2026-03 project , a , b",
        "report 2026-03 project a, b, csv",
    ],
)
def test_lists_are_comma_separated_deduplicated_and_ordered(text: str) -> None:
    result = parse(text, TODAY)
    assert isinstance(result, Report)
    assert result.projects == ("a", "b")


def test_a_list_stops_at_the_next_option() -> None:
    result = parse("report 2026-03 project a, by week", TODAY)
    assert isinstance(result, Report)
    assert (result.projects, result.granularity) == (("a",), Granularity.WEEK)


def test_payment_method_lists_too() -> None:
    result = parse("report 2026-03 payment-method X, y,X", TODAY)
    assert isinstance(result, Report)
    assert result.payment_methods == ("X", "y")
    assert result.projects == ()


@pytest.mark.parametrize(
    "text",
    ["usage &lt;project&gt;", "usage &amp;", "&lt;@U123&gt; usage", "report &lt;range&gt;", "&"],
)
def test_slack_escapes_are_plain_text_and_never_crash(text: str) -> None:
    error = fails(text)
    assert "<" not in error.user_message
    assert "&lt;" not in error.user_message.replace("&amp;lt;", "")


# --- ranges ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "start", "end", "label"),
    [
        ("2026-01-01 2026-02-01", "2026-01-01", "2026-02-01", "2026-01-01..2026-02-01"),
        ("2026-01-01..2026-02-01", "2026-01-01", "2026-02-01", "2026-01-01..2026-02-01"),
        ("2026-01-01 .. 2026-02-01", "2026-01-01", "2026-02-01", "2026-01-01..2026-02-01"),
        ("2026-01-01...2026-02-01", "2026-01-01", "2026-02-01", "2026-01-01..2026-02-01"),
        ("2026-01-01…2026-02-01", "2026-01-01", "2026-02-01", "2026-01-01..2026-02-01"),
        ("2026-12", "2026-12-01", "2027-01-01", "2026-12"),
        ("2026", "2026-01-01", "2027-01-01", "2026"),
        ("this-month", "2026-03-01", "2026-03-16", "this-month"),
        ("last-month", "2026-02-01", "2026-03-01", "last-month"),
        ("last month", "2026-02-01", "2026-03-01", "last-month"),
    ],
)
def test_range_forms(words: str, start: str, end: str, label: str) -> None:
    result = parse(f"report {words}", TODAY)
    assert isinstance(result, Report)
    assert result.range == span(start, end, label)


def test_this_and_last_month_across_a_year_boundary() -> None:
    new_year = date(2026, 1, 5)
    last = parse("report last-month", new_year)
    this = parse("report this-month", new_year)
    assert isinstance(last, Report)
    assert isinstance(this, Report)
    assert last.range == span("2025-12-01", "2026-01-01", "last-month")
    assert this.range == span("2026-01-01", "2026-01-06", "this-month")
    assert parse("contro summary last-month", new_year) == ControSummary(Period(2025, 12))
    assert parse("contro records", new_year) == ControRecords(Period(2026, 1))


def test_this_month_counts_today_even_on_the_last_day() -> None:
    result = parse("report this-month", date(2026, 12, 31))
    assert isinstance(result, Report)
    assert result.range == span("2026-12-01", "2027-01-01", "this-month")
    assert result.range.days == 31


def test_leap_years() -> None:
    february = parse("report 2024-02", TODAY)
    assert isinstance(february, Report)
    assert february.range.days == 29
    leap_day = parse("report 2024-02-29..2024-03-01", TODAY)
    assert isinstance(leap_day, Report)
    assert leap_day.range.days == 1
    year = parse("report 2024", TODAY)
    assert isinstance(year, Report)
    assert (year.range.days, year.granularity) == (366, Granularity.DAY)
    assert "not a real date" in fails("report 2026-02-29..2026-03-01").user_message
    assert "not a real date" in fails("report 2023-02-29..2023-03-01").user_message


@pytest.mark.parametrize(
    ("words", "granularity"),
    [
        ("2025-01-01..2026-01-01", Granularity.DAY),  # 365 days
        ("2024-01-01..2025-01-01", Granularity.DAY),  # 366 days
        ("2024-01-01..2025-01-02", Granularity.MONTH),  # 367 days
        ("2020", Granularity.DAY),
        ("2020-01-01..2026-01-01", Granularity.MONTH),
    ],
)
def test_default_granularity_is_day_then_month_over_a_year(
    words: str, granularity: Granularity
) -> None:
    result = parse(f"report {words}", TODAY)
    assert isinstance(result, Report)
    assert (result.granularity, result.granularity_given) == (granularity, False)


@pytest.mark.parametrize("word", ["hour", "hours", "hourly", "HOUR"])
def test_granularity_words(word: str) -> None:
    result = parse(f"report 2026-03 by {word}", TODAY)
    assert isinstance(result, Report)
    assert (result.granularity, result.granularity_given) == (Granularity.HOUR, True)


def test_granularity_caps_are_inclusive() -> None:
    assert parse("report 2026-01-01..2026-02-01 by hour", TODAY)  # 31 days
    assert parse("report 2024 by day", TODAY)  # 366 days
    assert parse("report 2020-01-01..2030-01-01 by week", TODAY)


# --- the rules, each with a suggestion that parses ------------------------------------------


@pytest.mark.parametrize(
    ("text", "named", "suggestion"),
    [
        # hour covers at most 31 days, day at most 366
        (
            "report 2026-01-01..2026-02-02 by hour csv",
            "31 days",
            "/billing report 2026-01-01..2026-02-02 by day csv",
        ),
        ("report 2024-01-01..2025-01-02 by day", "366 days", None),
        # project and payment-method are mutually exclusive
        (
            "report 2026-03 project a payment-method x",
            "not both",
            "/billing report 2026-03 project a",
        ),
        ("report 2026-03 payment-method x projects a", "not both", None),
        # start before end
        (
            "report 2026-03-05..2026-03-01",
            "before the end",
            "/billing report 2026-03-01..2026-03-05",
        ),
        ("report 2026-03-05 2026-03-01", "before the end", None),
        ("report 2026-03-05..2026-03-05", "empty", "/billing report 2026-03-05..2026-03-06"),
        # real dates
        ("report 2026-02-30..2026-03-05", "2026-02-30", "/billing report 2026-02-28..2026-03-05"),
        ("report 2026-01-01..2026-04-31", "not a real date", None),
        ("report 2026-13-01..2026-03-05", "not a real date", None),
        ("report 2026-3-1..2026-04-01", "2026-3-1", "/billing report 2026-03-01..2026-04-01"),
        ("report 1999-01-01..2026-01-01", "1999-01-01", None),
        ("report 2026-01-01-2026-02-01", "..", "/billing report 2026-01-01..2026-02-01"),
        ("report 2026-01-01 to 2026-02-01", "`to`", "/billing report 2026-01-01..2026-02-01"),
        ("report 2026-01-01", "end date", "/billing report 2026-01-01..2026-01-02"),
        ("report 2026-01-01..", "each side", None),
        # periods are YYYY-MM with month 01-12
        ("report 2026-13", "2026-13", None),
        ("report 2026-3", "2026-3", "/billing report 2026-03"),
        ("contro summary 2026-00", "01 to 12", None),
        ("contro summary 2026-03-01", "2026-03-01", "/billing contro summary 2026-03"),
        ("contro records 2026-1 csv", "2026-1", "/billing contro records 2026-01 csv"),
        ("contro summary last-week", "not a month", "/billing contro summary 2026-03"),
        ("report 26", "`26`", None),
        ("report 20266", "20266", None),
        # a repeated option
        ("report 2026-03 by day by week", "given twice", "/billing report 2026-03 by day"),
        ("report 2026-03 csv csv", "given twice", "/billing report 2026-03 csv"),
        ("report 2026-03 project a project b", "given twice", "/billing report 2026-03 project a"),
        (
            "contro records 2026-01 2026-02",
            "given twice",
            "/billing contro records 2026-01",
        ),
        ("contro records type a type b", "given twice", "/billing contro records type a"),
        # missing arguments
        ("usage", "project name", "/billing usage my-project"),
        ("ratecard", "payment method", "/billing payment-methods"),
        ("payment-method", "project name", "/billing payment-method my-project"),
        ("payment-method p set", "payment method", "/billing payment-methods"),
        ("payment-method set x", "project", None),
        ("metrics", "project name", "/billing metrics my-project"),
        ("report", "date range", None),
        ("report 2026-03 by", "granularity", "/billing report 2026-03 by day"),
        ("report 2026-03 project", "project name", "/billing report 2026-03"),
        ("report 2026-03 project csv", "project name", "/billing report 2026-03 csv"),
        ("report 2026-03 project , ", "project name", "/billing report 2026-03"),
        ("contro", "summary", "/billing contro summary"),
        ("contro records type", "usage type", "/billing contro records"),
        # unknown first words, with the nearest command and the user's other words
        ("usgae my-project", "`usgae`", "/billing usage my-project"),
        ("usgae", "`usgae`", "/billing usage my-project"),
        ("reprot 2026-03 by week", "`reprot`", "/billing report 2026-03 by week"),
        ("payment methods", "`payment`", "/billing payment-methods"),
        ("rate card abc", "`rate`", "/billing ratecard abc"),
        ("metric web", "`metric`", "/billing metrics web"),
        ("summary 2026-02", "`summary`", "/billing contro summary 2026-02"),
        ("2026-03 by week", "`2026-03`", "/billing report 2026-03 by week"),
        ("xyzzy", "`xyzzy`", "/billing help"),
        # unknown later words
        ("help usgae", "`usgae`", "/billing help usage"),
        ("report 2026-03 reportd", "`reportd`", "/billing report 2026-03 reported"),
        ("report 2026-03 monthly", "`monthly`", "/billing report 2026-03 by month"),
        ("report 2026-03 by fortnight", "`fortnight`", "/billing report 2026-03"),
        ("report 2026-03 by wek", "`wek`", "/billing report 2026-03 by week"),
        ("report 2026-03 project a b c", "`b`", "/billing report 2026-03 project a,b,c"),
        ("report foo", "`foo`", None),
        ("report this-yaer", "`this-yaer`", "/billing report this-year"),
        ("report by week", "`by`", "/billing report this-month by week"),
        ("usage a b", "`b`", "/billing usage a"),
        ("payment-methods all", "`all`", "/billing payment-methods"),
        ("payment-method p sett x", "`sett`", "/billing payment-method p set x"),
        ("metrics p enabel", "`enabel`", "/billing metrics p enable"),
        ("metrics p disable", "turned off in MK.IO itself", "/billing metrics p"),
        ("contro sumary", "`sumary`", "/billing contro summary"),
        ("contro 2026-02", "`2026-02`", "/billing contro summary 2026-02"),
        ("contro summary 2026-02 csv", "`csv`", "/billing contro summary 2026-02"),
        ("contro records kyc", "`kyc`", "/billing contro records type kyc"),
        ("contro records cvs", "`cvs`", "/billing contro records csv"),
        # names that cannot be names
        ("usage a,b", "one", "/billing usage a"),
        ("usage a, b", "one", "/billing usage a"),
        ('usage "my-project"', "quotes", "/billing usage my-project"),
        ("usage “my-project”", "quotes", "/billing usage my-project"),
        ("usage `my-project`", "backticks around it are sent", "/billing usage my-project"),
        ("usage &lt;project&gt;", "placeholder", "/billing usage my-project"),
        ("usage a/b", "/", None),
        ("report 2026-03 project a,b/c", "b/c", "/billing report 2026-03 project a"),
    ],
)
def test_rules(text: str, named: str, suggestion: str | None) -> None:
    error = fails(text)
    assert named in error.user_message
    if suggestion is not None:
        assert error.suggestion == suggestion


def test_hour_over_a_long_range_suggests_something_that_parses() -> None:
    error = fails("report 2025-01-01..2026-06-01 by hour")
    assert error.suggestion == "/billing report 2025-01-01..2026-06-01 by week"


def test_too_long_text_is_refused() -> None:
    error = fails("usage " + "a" * 5000)
    assert error.suggestion == "/billing help"


# --- values ---------------------------------------------------------------------------------


def test_period() -> None:
    period = c.parse_period(" 2026-12 ")
    assert (str(period), period.year, period.month) == ("2026-12", 2026, 12)
    assert period.range == span("2026-12-01", "2027-01-01", "2026-12")
    assert Period.containing(date(2024, 2, 29)) == Period(2024, 2)
    assert Period(2026, 1) < Period(2026, 2)
    with pytest.raises(CommandError, match="01 to 12") as caught:
        c.parse_period("2026-13")
    assert caught.value.suggestion is None
    with pytest.raises(CommandError) as caught:
        c.parse_period("2026-3")
    assert caught.value.suggestion == "/billing contro summary 2026-03"
    with pytest.raises(ValueError, match="month"):
        Period(2026, 0)


def test_date_range() -> None:
    assert span("2026-01-01", "2026-03-01").days == 59
    with pytest.raises(ValueError, match="empty"):
        DateRange(date(2026, 1, 2), date(2026, 1, 1), "x")


@pytest.mark.parametrize(
    ("word", "shown"),
    [
        ("my-project", "my-project"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("a&b", "a&amp;b"),
        ("&lt;", "&amp;lt;"),
        ("`rm`", "rm"),
        ("a\nb\tc", "a b c"),
        ("a\x00b", "ab"),
        ("x" * 61, "x" * 59 + "…"),
        ("x" * 60, "x" * 60),
    ],
)
def test_quote(word: str, shown: str) -> None:
    assert quote(word) == shown


def test_messages_echo_user_words_safely() -> None:
    error = fails("usage <!here>`x`" + "y" * 100)
    assert error.user_message.startswith("`&lt;!here&gt;xyyy")
    assert "<" not in error.user_message
    assert "`x`" not in error.user_message
    assert "y…`" in error.user_message


# --- totality -------------------------------------------------------------------------------

_VOCABULARY = [
    *grammar._PARSERS,
    *grammar._REPORT_OPTIONS,
    *words.GRANULARITIES,
    *Frequency,
    *grammar._SCHEDULE_FIXES,
    "list",
    "cancel",
    "remove",
    "report",
    "USD",
    "EUR",
    "$",
    "5000",
    "12,500.50",
    "1,50",
    "0",
    "-5",
    "0.001",
    "k7m2x9pq4t",
    "against",
    "yesterday",
    "summary",
    "records",
    "type",
    "set",
    "enable",
    "this-month",
    "last-month",
    "this",
    "last",
    "month",
    "2026",
    "2026-02",
    "2026-13",
    "2024-02-29",
    "2026-02-29",
    "2026-01-01..2026-02-01",
    "2099-12-31",
    "9999-12-31",
    "0000-01-01",
    "..",
    ",",
    "a,b",
    "&lt;",
    "&amp;",
    "`",
    "\u2014",
    "\u00a0",
    "…",
    "",
]
_CHARACTERS = "abcxyz-_.,:;<>&`'\"0123456789 \u00a0\u2013\u2014…\n\t/\\?#%"


def _garbage(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return " ".join(rng.choice(_VOCABULARY) for _ in range(rng.randrange(7)))
    if rng.random() < 0.8:
        return "".join(rng.choice(_CHARACTERS) for _ in range(rng.randrange(30)))
    return "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(20)))


def _suggestion(text: str, today: date) -> str | None:
    """None when `text` parses; the suggestion (or "") when it raises CommandError."""
    try:
        parse(text, today)
    except CommandError as error:
        return error.suggestion or ""
    return None


def test_random_text_never_raises_anything_but_command_error() -> None:
    rng = random.Random(20260315)
    for _ in range(3000):
        text = _garbage(rng)
        today = date(2000, 1, 1) + timedelta(days=rng.randrange(36_500))
        suggestion = _suggestion(text, today)  # anything but CommandError fails the test
        if suggestion is not None:
            assert suggestion.startswith("/billing "), text
            assert _suggestion(suggestion, today) is None, (text, suggestion)


def test_payment_method_display_names_may_have_spaces() -> None:
    today = date(2026, 11, 21)
    assert parse("ratecard Azure Marketplace (Contoso Media)", today) == RateCard(
        "Azure Marketplace (Contoso Media)"
    )
    assert parse("payment-method my-project set Direct  invoice", today) == SetPaymentMethod(
        "my-project", "Direct invoice"
    )


# --- report … vs <range> -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "versus"),
    [
        ("report 2026-03 vs 2025-03", span("2025-03-01", "2025-04-01", "2025-03")),
        ("report 2026-03 versus 2025", span("2025-01-01", "2026-01-01", "2025")),
        ("report 2026-03 vs last month", span("2026-02-01", "2026-03-01", "last-month")),
        ("report 2026-03 VS. this-month", span("2026-03-01", "2026-03-16", "this-month")),
        ("report 2026-03 vs 2025-03-01..2025-04-01", span("2025-03-01", "2025-04-01")),
        ("report 2026-03 vs 2025-03-01 2025-04-01", span("2025-03-01", "2025-04-01")),
    ],
)
def test_vs_takes_any_range_form(text: str, versus: DateRange) -> None:
    result = parse(text, TODAY)
    assert isinstance(result, Report)
    assert result.range == span("2026-03-01", "2026-04-01", "2026-03")
    assert result.versus == versus


def test_vs_goes_among_the_other_options() -> None:
    assert parse("report 2026-03 by week vs 2026-02 project a,b csv", TODAY) == report(
        "2026-03-01",
        "2026-04-01",
        "2026-03",
        "week",
        projects=("a", "b"),
        csv=True,
        granularity_given=True,
        versus=span("2026-02-01", "2026-03-01", "2026-02"),
    )
    without = parse("report 2026-03", TODAY)
    assert isinstance(without, Report)
    assert without.versus is None


def test_the_longer_of_the_two_ranges_sets_the_default_granularity_and_the_caps() -> None:
    result = parse("report 2026-03 vs 2020-01-01..2022-01-01", TODAY)
    assert isinstance(result, Report)
    assert result.granularity == Granularity.MONTH
    assert parse("report 2026-01-01..2026-01-08 by hour vs 2025-12-01..2026-01-01", TODAY)
    error = fails("report 2026-03 by hour vs 2025")
    assert "`2025` is 365 days" in error.user_message
    assert error.suggestion == "/billing report 2026-03 by day vs 2025"


@pytest.mark.parametrize(
    ("text", "named", "suggestion"),
    [
        ("report 2026-03 vs", "`vs` needs a date range", "/billing report 2026-03 vs 2026-02"),
        ("report 2026-03 vs by week", "`vs` needs", "/billing report 2026-03 vs 2026-02 by week"),
        ("report 2026 vs", "`vs` needs", "/billing report 2026 vs 2025"),
        (
            "report 2026-03-10..2026-03-15 vs",
            "`vs` needs",
            "/billing report 2026-03-10..2026-03-15 vs 2026-03-05..2026-03-10",
        ),
        ("report 2026-03 vs 2026-03", "own range", "/billing report 2026-03 vs 2026-02"),
        ("report 2026-03 vs foo", "`foo`", "/billing report 2026-03"),
        ("report 2026-03 vs 2026-02-30..2026-03-05", "2026-02-30", None),
        ("report 2026-03 vs 2026-03-05..2026-03-01", "before the end", None),
        ("report 2026-03 vs 2026-13", "01 to 12", None),
        ("report 2026-03 vs 1999", "1999", None),
        (
            "report 2026-03 vs 2026-02 vs 2026-01",
            "given twice",
            "/billing report 2026-03 vs 2026-02",
        ),
        ("report 2026-03 against 2026-02", "`against`", "/billing report 2026-03 vs 2026-02"),
        ("report 2026-03 compared to 2026-02", "`compared`", "/billing report 2026-03 vs 2026-02"),
        ("report 2026-03 sv 2026-02", "`sv`", None),
    ],
)
def test_vs_rules(text: str, named: str, suggestion: str | None) -> None:
    error = fails(text)
    assert named in error.user_message
    if suggestion is not None:
        assert error.suggestion == suggestion


# --- schedule -------------------------------------------------------------------------------

SATURDAY = date(2026, 11, 21)


def scheduled(text: str, today: date = SATURDAY) -> ScheduleReport:
    result = parse(text, today)
    assert isinstance(result, ScheduleReport)
    return result


@pytest.mark.parametrize(
    ("text", "frequency", "words", "start", "end"),
    [
        # without a range: monthly the month just ended, weekly the 7 days before, daily yesterday
        ("schedule monthly", Frequency.MONTHLY, "", "2026-10-01", "2026-11-01"),
        ("schedule weekly", Frequency.WEEKLY, "", "2026-11-14", "2026-11-21"),
        ("schedule daily", Frequency.DAILY, "", "2026-11-20", "2026-11-21"),
        ("schedule monthly report", Frequency.MONTHLY, "", "2026-10-01", "2026-11-01"),
        ("schedule monthly csv", Frequency.MONTHLY, "csv", "2026-10-01", "2026-11-01"),
        ("schedule weekly this-month", Frequency.WEEKLY, "this-month", "2026-11-01", "2026-11-22"),
        ("schedule daily last month", Frequency.DAILY, "last month", "2026-10-01", "2026-11-01"),
        (
            "/billing Schedule MONTHLY report last-month by week project Web,API",
            Frequency.MONTHLY,
            "last-month by week project Web,API",
            "2026-10-01",
            "2026-11-01",
        ),
    ],
)
def test_schedule_forms(text: str, frequency: Frequency, words: str, start: str, end: str) -> None:
    result = scheduled(text)
    assert (result.frequency, result.report_words) == (frequency, words)
    assert (result.report.range.start, result.report.range.end) == (
        date.fromisoformat(start),
        date.fromisoformat(end),
    )


def test_a_schedule_keeps_the_report_options() -> None:
    assert "not both" in fails("schedule weekly project web payment-method x").user_message
    result = scheduled("schedule monthly last-month by week project a,b vs this-month reported csv")
    assert result.report == Report(
        span("2026-10-01", "2026-11-01", "last-month"),
        Granularity.WEEK,
        projects=("a", "b"),
        reported=True,
        csv=True,
        granularity_given=True,
        versus=span("2026-11-01", "2026-11-22", "this-month"),
    )


def test_the_words_of_a_schedule_are_read_again_for_each_run() -> None:
    made = scheduled("schedule monthly report by week project web")
    january_run = schedule_report(made.frequency, made.report_words, date(2027, 1, 1))
    assert january_run.range == span("2026-12-01", "2027-01-01", "last-month")
    assert january_run.projects == ("web",)
    weekly = schedule_report(Frequency.WEEKLY, "", date(2027, 1, 4))
    assert weekly.range == span("2026-12-28", "2027-01-04")
    assert schedule_report(Frequency.DAILY, "", date(2024, 3, 1)).range == span(
        "2024-02-29", "2024-03-01"
    )
    with pytest.raises(CommandError):
        schedule_report(Frequency.DAILY, "by fortnight", date(2027, 1, 4))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schedule list", ListSchedules()),
        ("SCHEDULE LIST", ListSchedules()),
        ("schedule cancel k7m2x9pq4t", CancelSchedule("k7m2x9pq4t")),
        ("schedule cancel K7M2X9PQ4T", CancelSchedule("k7m2x9pq4t")),  # IDs are case-insensitive
    ],
)
def test_schedule_list_and_cancel(text: str, expected: c.Command) -> None:
    assert parse(text, SATURDAY) == expected


@pytest.mark.parametrize(
    ("text", "named", "suggestion"),
    [
        ("schedule", "how often", "/billing schedule list"),
        ("schedule mothly", "`mothly`", "/billing schedule monthly"),
        ("schedule month last-month", "`month`", "/billing schedule monthly last-month"),
        ("schedule hourly", "not `hourly`", "/billing schedule monthly"),
        ("schedule last-month", "how often", "/billing schedule monthly last-month"),
        ("schedule report last-month", "how often", "/billing schedule monthly report last-month"),
        ("schedule by week", "how often", "/billing schedule monthly by week"),
        ("schedule list all", "`all`", "/billing schedule list"),
        ("schedule ls", "`ls`", "/billing schedule list"),
        ("schedule cancel", "ID", "/billing schedule list"),
        ("schedule cancel &lt;id&gt;", "placeholder", "/billing schedule list"),
        ("schedule cancel a b", "`b`", "/billing schedule cancel a"),
        ("schedule remove k7m2x9pq4t", "`remove`", "/billing schedule cancel k7m2x9pq4t"),
        ("schedule delete", "`delete`", "/billing schedule list"),
        # fixed dates would post the same report every time
        ("schedule monthly 2026-03", "move with each run", "/billing schedule monthly"),
        ("schedule monthly 2026", "`2026`", "/billing schedule monthly"),
        ("schedule weekly 2026-01-01 2026-02-01 csv", "move", "/billing schedule weekly csv"),
        (
            "schedule weekly 2026-01-01..2026-02-01 by day",
            "move",
            "/billing schedule weekly by day",
        ),
        ("schedule weekly 2026-01-01 to 2026-02-01", "move", "/billing schedule weekly"),
        ("schedule daily march", "move", "/billing schedule daily"),
        ("schedule monthly 2026-13", "move", "/billing schedule monthly"),
        ("schedule monthly vs 2025-10", "move", "/billing schedule monthly"),
        ("schedule monthly vs last-month", "own range", "/billing schedule monthly"),
        ("schedule monthly lastmonth", "`lastmonth`", "/billing schedule monthly last-month"),
        ("schedule monthly foo", "`foo`", "/billing schedule monthly"),
        ("schedule monthly by hour by day", "given twice", "/billing schedule monthly by hour"),
        ("schedule weekly project a/b", "a/b", None),
    ],
)
def test_schedule_rules(text: str, named: str, suggestion: str | None) -> None:
    error = fails(text, SATURDAY)
    assert named in error.user_message
    if suggestion is not None:
        assert error.suggestion == suggestion


# --- budget ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("budget my-project 5000", "5000"),
        ("budget my-project 5000 USD", "5000"),
        ("budget my-project 5000 usd", "5000"),
        ("budget my-project 12,500.50", "12500.50"),
        ("budget my-project 1,000,000", "1000000"),
        ("budget my-project $1,000.5", "1000.50"),
        ("budget my-project 250usd", "250"),
        ("budget my-project 0.01", "0.01"),
        ("budget my-project .5", "0.50"),
        ("budget my-project 999,999,999,999.99", "999999999999.99"),
    ],
)
def test_budget_amounts(text: str, amount: str) -> None:
    result = parse(text, TODAY)
    assert result == SetBudget(BudgetScope(ScopeKind.PROJECT, "my-project"), Decimal(amount))
    assert isinstance(result, SetBudget)
    assert result.amount.as_tuple().exponent == -2  # always to the cent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("budget list", ListBudgets()),
        ("Budget List", ListBudgets()),
        ("budget remove My-Project", RemoveBudget(BudgetScope(ScopeKind.PROJECT, "My-Project"))),
        ("budget Web 10", SetBudget(BudgetScope(ScopeKind.PROJECT, "Web"), Decimal("10.00"))),
    ],
)
def test_budget_list_and_remove(text: str, expected: c.Command) -> None:
    assert parse(text, TODAY) == expected


_PROJECT = BudgetScope(ScopeKind.PROJECT, "my-project")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "budget my-project 5000 USD at 50,80,100",
            SetBudget(_PROJECT, Decimal("5000.00"), (50, 80, 100)),
        ),
        (
            "budget my-project 5000 at 100, 50%, 80",
            SetBudget(_PROJECT, Decimal(5000), (50, 80, 100)),
        ),
        ("budget my-project 5000 AT 90 90 120", SetBudget(_PROJECT, Decimal(5000), (90, 120))),
        (
            "budget my-project 10 notify <@U123ABC|ann> <@W456> <@U123ABC> at 1000",
            SetBudget(_PROJECT, Decimal(10), (1000,), ("U123ABC", "W456")),
        ),
        (
            "budget organization 20,000",
            SetBudget(BudgetScope(ScopeKind.ORGANIZATION), Decimal(20000)),
        ),
        ("budget Org 1", SetBudget(BudgetScope(ScopeKind.ORGANIZATION), Decimal(1))),
        (
            "budget my-project meter streaming_egress 800",
            SetBudget(BudgetScope(ScopeKind.METER, "my-project", "streaming_egress"), Decimal(800)),
        ),
        (
            "budget payment-method Azure-Marketplace 12,500.50",
            SetBudget(
                BudgetScope(ScopeKind.PAYMENT_METHOD, "Azure-Marketplace"), Decimal("12500.50")
            ),
        ),
        (
            "budget contro card_issuance 300 at 50",
            SetBudget(BudgetScope(ScopeKind.CONTRO_TYPE, "card_issuance"), Decimal(300), (50,)),
        ),
        ("budget remove organization", RemoveBudget(BudgetScope(ScopeKind.ORGANIZATION))),
        (
            "budget remove web meter drm",
            RemoveBudget(BudgetScope(ScopeKind.METER, "web", "drm")),
        ),
        (
            "budget remove contro card_issuance",
            RemoveBudget(BudgetScope(ScopeKind.CONTRO_TYPE, "card_issuance")),
        ),
    ],
)
def test_budget_scopes_thresholds_and_people(text: str, expected: c.Command) -> None:
    assert parse(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "named", "suggestion"),
    [
        ("budget my-project 500 at", "`at` needs", "/billing budget my-project 500"),
        ("budget my-project 500 at 0", "`0` is not a threshold", "/billing budget my-project 500"),
        ("budget my-project 500 at 1001", "from 1 to 1,000", "/billing budget my-project 500"),
        ("budget my-project 500 at 80.5", "whole percentages", "/billing budget my-project 500"),
        ("budget my-project 500 at lots", "`lots`", "/billing budget my-project 500"),
        (
            "budget my-project 500 at 1,2,3,4,5,6,7,8,9,10,11",
            "at most 10 thresholds; 11",
            "/billing budget my-project 500 at 1,2,3,4,5,6,7,8,9,10",
        ),
        ("budget my-project 500 notify", "`notify` needs", "/billing budget my-project 500"),
        ("budget my-project 500 notify @ann", "not a mention", "/billing budget my-project 500"),
        ("budget my-project 500 at 80 at 90", "Unexpected `at`", None),
        ("budget my-project meter", "needs a meter name", None),
        ("budget payment-method", "needs a payment method", None),
        ("budget contro", "needs a Contro usage type", None),
        ("budget organization", "monthly amount", "/billing budget organization 5000"),
        ("budget organization 0", "no budget", "/billing budget remove organization"),
        ("budget web meter drm 0", "no budget", "/billing budget remove web meter drm"),
    ],
)
def test_budget_option_rules(text: str, named: str, suggestion: str | None) -> None:
    error = fails(text)
    assert named in error.user_message
    if suggestion is not None:
        assert error.suggestion == suggestion


@pytest.mark.parametrize(
    ("text", "named", "suggestion"),
    [
        ("budget", "a project", "/billing budget list"),
        ("budget my-project", "monthly amount", "/billing budget my-project 5000"),
        ("budget my-project 0", "no budget", "/billing budget remove my-project"),
        ("budget my-project 0.00 USD", "no budget", "/billing budget remove my-project"),
        ("budget my-project -500", "negative", "/billing budget my-project 500"),
        ("budget my-project 100.505", "two decimals", "/billing budget my-project 100.51"),
        ("budget my-project 0.001", "two decimals", "/billing budget my-project 0.01"),
        ("budget my-project 1,50", "dot before the cents", "/billing budget my-project 1.50"),
        ("budget my-project 1.234,50", "dot", "/billing budget my-project 1,234.50"),
        ("budget my-project 1,000,00", "not an amount", "/billing budget list"),
        ("budget my-project 5.", "ends with a dot", "/billing budget my-project 5"),
        ("budget my-project 1e6", "not an amount", "/billing budget list"),
        ("budget my-project 1000000000000", "too large", "/billing budget list"),
        ("budget my-project lots", "`lots`", "/billing budget list"),
        ("budget my-project 500 EUR", "in USD", "/billing budget my-project 500"),
        ("budget my-project 500eur", "in USD", "/billing budget my-project 500"),
        ("budget my-project €500", "in USD", "/billing budget my-project 500"),
        ("budget my-project USD 500", "after the amount", "/billing budget my-project 500 USD"),
        ("budget my-project 500 csv", "`csv`", "/billing budget my-project 500"),
        ("budget 500 my-project", "project first", "/billing budget my-project 500"),
        ("budget a,b 500", "one", "/billing budget a 500"),
        ("budget &lt;project&gt; 500", "placeholder", "/billing budget list"),
        ("budget remove", "project", "/billing budget list"),
        ("budget remove a b", "`b`", "/billing budget remove a"),
        ("budget delete web", "`remove`", "/billing budget remove web"),
        ("budget list web", "`web`", "/billing budget list"),
        ("budgets list", "`budgets`", "/billing budget list"),
        ("schedules list", "`schedules`", "/billing schedule list"),
    ],
)
def test_budget_rules(text: str, named: str, suggestion: str | None) -> None:
    error = fails(text)
    assert named in error.user_message
    if suggestion is not None:
        assert error.suggestion == suggestion


# --- the new language, property-based ------------------------------------------------------

_NEW_WORDS = [
    "schedule",
    "budget",
    "report",
    *Frequency,
    "list",
    "cancel",
    "remove",
    "vs",
    "versus",
    "by",
    "week",
    "project",
    "web,api",
    "csv",
    "this-month",
    "last-month",
    "last",
    "month",
    "yesterday",
    "2026-03",
    "2026-03-01..2026-04-01",
    "2026-13",
    "USD",
    "usd",
    "EUR",
    "$5",
    "5000",
    "12,500.50",
    "1,50",
    "0",
    "-1",
    "0.001",
    "1e3",
    "my-project",
    "k7m2x9pq4t",
    "<!channel>",
    "&lt;id&gt;",
]


@settings(max_examples=600, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(_NEW_WORDS), st.text(max_size=6)), max_size=7),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
)
@hypothesis.example(["schedule", "monthly", "vs", "last-month"], date(2000, 1, 1))
@hypothesis.example(["budget", "web", "0.001"], date(2026, 11, 21))
@hypothesis.example(["report", "2000-01", "vs"], date(2000, 1, 1))
def test_the_new_commands_give_a_command_or_an_error_whose_suggestion_parses(
    words: list[str], today: date
) -> None:
    suggestion = _suggestion(" ".join(words), today)
    if suggestion is not None:
        assert suggestion.startswith("/billing "), words
        assert "<" not in suggestion, suggestion
        assert _suggestion(suggestion, today) is None, (words, suggestion)
