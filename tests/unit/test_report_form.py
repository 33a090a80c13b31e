"""The report form: its defaults, its state read from a submission, each rule turned into an
error on the right field, and the modal as rendered before and after its lists load."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.apis.mkio.models import Granularity
from bot.core.language import commands as c
from bot.core.report_form import (
    Choice,
    ChoiceList,
    FormChoices,
    FormDefaults,
    FormErrors,
    FormState,
    Submission,
    command_text,
    defaults,
    encode_metadata,
    origin_channel,
    to_submission,
)
from bot.slack.ids import CallbackId
from bot.slack.ids import ReportFormId as F
from bot.slack.render.report_form import LOADING, render_report_form

TODAY = date(2026, 11, 21)
METHOD = "6f1c2a9e-3b4d-4c8e-9a7f-2d5b8e0c1f34"
OTHER_METHOD = "0699897e-fcdd-41b2-9939-fd3dacff3862"


# --- A submission's state, shaped as Slack sends it -----------------------------------------


def _options(values: list[str]) -> list[dict[str, Any]]:
    return [{"text": {"type": "plain_text", "text": v}, "value": v} for v in values]


def slack_view(
    *,
    start: str | None = "2026-10-01",
    end: str | None = "2026-11-01",
    granularity: str | None = "day",
    projects: list[str] | None = None,
    payment_methods: list[str] | None = None,
    options: list[str] | None = None,
    channel: str | None = "C_FINANCE",
    private_metadata: str = "",
    lists_loaded: bool = True,
) -> dict[str, Any]:
    """`view` of a view_submission: every input block present, empty ones as Slack sends them."""
    values: dict[str, Any] = {
        F.START_BLOCK: {F.START: {"type": "datepicker", "selected_date": start}},
        F.END_BLOCK: {F.END: {"type": "datepicker", "selected_date": end}},
        F.GRANULARITY_BLOCK: {
            F.GRANULARITY: {
                "type": "static_select",
                "selected_option": _options([granularity])[0] if granularity else None,
            }
        },
        F.OPTIONS_BLOCK: {
            F.OPTIONS: {"type": "checkboxes", "selected_options": _options(options or [])}
        },
        F.CHANNEL_BLOCK: {
            F.CHANNEL: {"type": "conversations_select", "selected_conversation": channel}
        },
    }
    if lists_loaded:
        values[F.PROJECTS_BLOCK] = {
            F.PROJECTS: {
                "type": "multi_static_select",
                "selected_options": _options(projects or []),
            }
        }
        values[F.PAYMENT_METHODS_BLOCK] = {
            F.PAYMENT_METHODS: {
                "type": "multi_static_select",
                "selected_options": _options(payment_methods or []),
            }
        }
    return {
        "id": "V0001",
        "type": "modal",
        "callback_id": CallbackId.REPORT_FORM.value,
        "private_metadata": private_metadata,
        "state": {"values": {str(k): {str(a): v for a, v in e.items()} for k, e in values.items()}},
    }


def submit(**kwargs: Any) -> Submission:
    return to_submission(FormState.from_view(slack_view(**kwargs)), today=TODAY)


def errors_of(**kwargs: Any) -> dict[str, str]:
    with pytest.raises(FormErrors) as caught:
        submit(**kwargs)
    return caught.value.errors


# --- Defaults and metadata ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "start", "end"),
    [
        (date(2026, 11, 21), date(2026, 10, 1), date(2026, 11, 1)),
        (date(2026, 1, 1), date(2025, 12, 1), date(2026, 1, 1)),
        (date(2026, 3, 31), date(2026, 2, 1), date(2026, 3, 1)),
    ],
)
def test_defaults_are_last_month_by_day(today: date, start: date, end: date) -> None:
    assert defaults(today) == FormDefaults(start=start, end=end, granularity=Granularity.DAY)


def test_private_metadata_carries_the_origin_channel() -> None:
    assert origin_channel(encode_metadata("C_FINANCE")) == "C_FINANCE"
    assert encode_metadata(None) == ""
    for junk in ("", "not json", "[1]", '{"channel": 3}', None, 7):
        assert origin_channel(junk) is None


# --- State to command -----------------------------------------------------------------------


def test_state_is_read_from_the_submission() -> None:
    state = FormState.from_view(
        slack_view(
            projects=["my-project", "archive"],
            options=[F.OPTION_REPORTED, F.OPTION_CSV],
            private_metadata=encode_metadata("C_GENERAL"),
        )
    )
    assert state == FormState(
        start=date(2026, 10, 1),
        end=date(2026, 11, 1),
        granularity="day",
        projects=("my-project", "archive"),
        reported=True,
        csv=True,
        channel="C_FINANCE",
        origin_channel="C_GENERAL",
    )


def test_the_canonical_command_is_what_the_form_says() -> None:
    state = FormState.from_view(
        slack_view(
            start="2026-03-01",
            end="2026-04-01",
            projects=["a", "b"],
            options=[F.OPTION_REPORTED, F.OPTION_CSV],
        )
    )
    assert command_text(state) == "report 2026-03-01..2026-04-01 by day project a,b reported csv"


def test_a_valid_form_gives_the_same_report_as_the_command() -> None:
    submission = submit(
        start="2026-03-01",
        end="2026-04-01",
        granularity="week",
        payment_methods=[METHOD, OTHER_METHOD],
        options=[F.OPTION_CSV],
        channel="C_FINANCE",
    )
    typed = f"report 2026-03-01..2026-04-01 by week payment-method {METHOD},{OTHER_METHOD} csv"
    parsed = c.parse(typed, TODAY)
    assert isinstance(parsed, c.Report)
    assert submission == Submission(command=parsed, channel="C_FINANCE")
    command = submission.command
    assert (command.range.start, command.range.end) == (date(2026, 3, 1), date(2026, 4, 1))
    assert command.granularity is Granularity.WEEK
    assert command.payment_methods == (METHOD, OTHER_METHOD)
    assert command.projects == ()
    assert (command.csv, command.reported) == (True, False)


def test_the_defaults_submitted_as_they_are_report_last_month() -> None:
    submission = submit()
    assert submission.command == c.Report(
        range=c.DateRange(date(2026, 10, 1), date(2026, 11, 1), "2026-10-01..2026-11-01"),
        granularity=Granularity.DAY,
        granularity_given=True,
    )


def test_no_channel_chosen_falls_back_to_where_the_form_was_opened() -> None:
    submission = submit(channel=None, private_metadata=encode_metadata("C_GENERAL"))
    assert submission.channel == "C_GENERAL"


def test_a_form_submitted_before_its_lists_loaded_reports_on_everything() -> None:
    submission = submit(lists_loaded=False)
    assert (submission.command.projects, submission.command.payment_methods) == ((), ())


def test_hour_for_exactly_31_days_is_allowed() -> None:
    submission = submit(start="2026-01-01", end="2026-02-01", granularity="hour")
    assert submission.command.granularity is Granularity.HOUR


# --- Each rule, on its field ----------------------------------------------------------------


def test_both_filters_is_an_error_on_the_payment_method_field() -> None:
    errors = errors_of(projects=["my-project"], payment_methods=[METHOD])
    assert list(errors) == [F.PAYMENT_METHODS_BLOCK]
    assert "not both" in errors[F.PAYMENT_METHODS_BLOCK]


def test_end_before_start_is_an_error_on_the_end_date() -> None:
    errors = errors_of(start="2026-03-10", end="2026-03-01")
    assert list(errors) == [F.END_BLOCK]
    assert "after the start (2026-03-10)" in errors[F.END_BLOCK]


def test_an_empty_range_is_an_error_on_the_end_date_saying_it_is_exclusive() -> None:
    errors = errors_of(start="2026-03-10", end="2026-03-10")
    assert list(errors) == [F.END_BLOCK]
    assert "exclusive" in errors[F.END_BLOCK]
    assert "2026-03-11" in errors[F.END_BLOCK]


def test_hour_over_31_days_is_an_error_on_the_granularity() -> None:
    errors = errors_of(start="2026-01-01", end="2026-02-02", granularity="hour")
    assert list(errors) == [F.GRANULARITY_BLOCK]
    message = errors[F.GRANULARITY_BLOCK]
    assert "31 days" in message
    assert "32 days" in message
    assert "day, week or month" in message


def test_day_over_a_year_is_an_error_on_the_granularity() -> None:
    errors = errors_of(start="2025-01-01", end="2026-03-01", granularity="day")
    assert list(errors) == [F.GRANULARITY_BLOCK]
    assert "366 days" in errors[F.GRANULARITY_BLOCK]
    assert "week or month" in errors[F.GRANULARITY_BLOCK]


def test_several_broken_rules_are_all_shown_at_once() -> None:
    errors = errors_of(
        start="2026-01-01",
        end="2026-03-01",
        granularity="hour",
        projects=["my-project"],
        payment_methods=[METHOD],
    )
    assert set(errors) == {F.GRANULARITY_BLOCK, F.PAYMENT_METHODS_BLOCK}


def test_no_dates_are_required() -> None:
    errors = errors_of(start=None, end=None)
    assert set(errors) == {F.START_BLOCK, F.END_BLOCK}
    assert all(message for message in errors.values())


def test_no_granularity_and_no_channel_are_required() -> None:
    errors = errors_of(granularity=None, channel=None)
    assert set(errors) == {F.GRANULARITY_BLOCK, F.CHANNEL_BLOCK}


def test_a_date_that_is_not_a_date_is_an_error_on_its_field() -> None:
    errors = errors_of(start="2026-02-30")
    assert list(errors) == [F.START_BLOCK]
    assert "not a date" in errors[F.START_BLOCK]


def test_a_year_out_of_range_is_the_parsers_error_on_the_start_date() -> None:
    errors = errors_of(start="1999-12-01")
    assert list(errors) == [F.START_BLOCK]
    assert "2000 to 2099" in errors[F.START_BLOCK]
    assert "`" not in errors[F.START_BLOCK], "field errors are plain text"


def test_an_unknown_granularity_is_the_parsers_error_on_the_granularity() -> None:
    errors = errors_of(granularity="fortnight")
    assert list(errors) == [F.GRANULARITY_BLOCK]
    assert "fortnight" in errors[F.GRANULARITY_BLOCK]


@pytest.mark.parametrize("name", ["a,b", "two words"])
def test_a_name_the_command_cannot_carry_is_an_error_on_its_field(name: str) -> None:
    errors = errors_of(projects=[name])
    assert list(errors) == [F.PROJECTS_BLOCK]


def test_a_name_the_parser_refuses_is_its_error_on_the_field() -> None:
    errors = errors_of(payment_methods=["<payment-method-id>"])
    assert list(errors) == [F.PAYMENT_METHODS_BLOCK]
    assert "placeholder" in errors[F.PAYMENT_METHODS_BLOCK]


# --- The modal ------------------------------------------------------------------------------

CHOICES = FormChoices(
    projects=ChoiceList.of(
        [Choice("video-platform", "video-platform"), Choice("archive", "archive", "Old stuff")]
    ),
    payment_methods=ChoiceList.of([Choice(METHOD, "Azure Marketplace", "azure")]),
)


def _inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


def _block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def test_the_modal_opens_with_last_month_by_day_before_its_lists_load() -> None:
    view = render_report_form(defaults(TODAY), channel_id="C_FINANCE", choices=None).to_dict()
    assert view["type"] == "modal"
    assert view["callback_id"] == CallbackId.REPORT_FORM
    assert origin_channel(view["private_metadata"]) == "C_FINANCE"
    inputs = _inputs(view)
    assert inputs[F.START_BLOCK]["initial_date"] == "2026-10-01"
    assert inputs[F.END_BLOCK]["initial_date"] == "2026-11-01"
    assert inputs[F.GRANULARITY_BLOCK]["initial_option"]["value"] == "day"
    assert [o["value"] for o in inputs[F.GRANULARITY_BLOCK]["options"]] == [
        g.value for g in Granularity
    ]
    channel = inputs[F.CHANNEL_BLOCK]
    assert channel["type"] == "conversations_select"
    assert channel["initial_conversation"] == "C_FINANCE"
    assert channel["default_to_current_conversation"] is True
    assert F.PROJECTS_BLOCK not in inputs
    assert F.PAYMENT_METHODS_BLOCK not in inputs
    assert _block(view, F.FILTERS_NOTE_BLOCK)["elements"][0]["text"] == LOADING
    assert "exclusive" in _block(view, F.END_BLOCK)["label"]["text"]
    assert "UTC" in _block(view, F.START_BLOCK)["label"]["text"]


def test_the_options_are_filled_in_keeping_every_other_input_as_it_was() -> None:
    loading = render_report_form(defaults(TODAY), channel_id=None, choices=None).to_dict()
    loaded = render_report_form(defaults(TODAY), channel_id=None, choices=CHOICES).to_dict()
    before, after = _inputs(loading), _inputs(loaded)
    for block_id, element in before.items():
        assert after[block_id]["action_id"] == element["action_id"], block_id
    projects = after[F.PROJECTS_BLOCK]
    assert projects["type"] == "multi_static_select"
    assert [o["value"] for o in projects["options"]] == ["archive", "video-platform"]
    assert projects["options"][0]["description"]["text"] == "Old stuff"
    methods = after[F.PAYMENT_METHODS_BLOCK]
    assert [(o["value"], o["text"]["text"]) for o in methods["options"]] == [
        (METHOD, "Azure Marketplace")
    ]
    assert _block(loaded, F.PROJECTS_BLOCK)["optional"] is True
    assert all(b.get("block_id") != F.FILTERS_NOTE_BLOCK for b in loaded["blocks"])
    assert "private_metadata" not in loaded or not loaded["private_metadata"]
    assert "initial_conversation" not in after[F.CHANNEL_BLOCK]


def test_a_list_that_could_not_load_says_why_instead() -> None:
    choices = FormChoices(
        projects=ChoiceList(problem="Couldn't load the projects: MK.IO is down"),
        payment_methods=CHOICES.payment_methods,
    )
    view = render_report_form(defaults(TODAY), channel_id=None, choices=choices).to_dict()
    assert F.PROJECTS_BLOCK not in _inputs(view)
    assert F.PAYMENT_METHODS_BLOCK in _inputs(view)
    note = _block(view, F.FILTERS_NOTE_BLOCK)
    assert note["elements"][0]["text"] == "Couldn't load the projects: MK.IO is down"


def test_more_than_100_options_go_in_groups_of_100() -> None:
    many = ChoiceList.of(Choice(f"p{i:03d}", f"p{i:03d}") for i in range(250))
    choices = FormChoices(projects=many, payment_methods=ChoiceList())
    view = render_report_form(defaults(TODAY), channel_id=None, choices=choices).to_dict()
    element = _inputs(view)[F.PROJECTS_BLOCK]
    assert "options" not in element
    groups = element["option_groups"]
    assert [len(g["options"]) for g in groups] == [100, 100, 50]
    assert groups[0]["label"]["text"] == "p000 … p099"


def test_choices_slack_cannot_carry_are_left_out_and_duplicates_kept_once() -> None:
    kept = ChoiceList.of(
        [Choice("b", "B"), Choice("x" * 151, "too long"), Choice("a", "A"), Choice("b", "B2")]
    )
    assert [ch.value for ch in kept.items] == ["a", "b"]


def test_long_labels_are_cut_to_slacks_option_limit() -> None:
    choices = FormChoices(
        projects=ChoiceList.of([Choice("p", "x" * 200, "y" * 200)]), payment_methods=ChoiceList()
    )
    view = render_report_form(defaults(TODAY), channel_id=None, choices=choices).to_dict()
    [option] = _inputs(view)[F.PROJECTS_BLOCK]["options"]
    assert len(option["text"]["text"]) <= 75
    assert len(option["description"]["text"]) <= 75
