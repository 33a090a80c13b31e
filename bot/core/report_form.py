"""The report form, Slack-free: its defaults, its state read from a `view_submission`, and
that state turned into the same typed `Report` the `/billing report …` command gives.

The form enforces the parser's rules by running the parser: the state is written as the
canonical command ("report 2026-03-01..2026-04-01 by day project a,b reported csv") and
given to `commands.parse` one field at a time, so a `CommandError` names the field that broke
a rule, and the modal shows it there (`response_action: errors`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from bot.apis.mkio.models import Granularity
from bot.clock import month_start
from bot.core.language import commands as c
from bot.errors import CommandError

log = logging.getLogger(__name__)

__all__ = [
    "Choice",
    "ChoiceList",
    "FormChoices",
    "FormDefaults",
    "FormErrors",
    "FormState",
    "ReportFormId",
    "Submission",
    "command_text",
    "defaults",
    "encode_metadata",
    "origin_channel",
    "to_submission",
]


class ReportFormId(StrEnum):
    """The report modal's block_ids (`*_BLOCK`, the keys of `errors`) and action_ids, and the
    values of its checkbox options. All distinct: equal values would make enum aliases."""

    START_BLOCK = "report_form_start"
    START = "report_form_start_date"
    END_BLOCK = "report_form_end"
    END = "report_form_end_date"
    GRANULARITY_BLOCK = "report_form_granularity"
    GRANULARITY = "report_form_granularity_select"
    PROJECTS_BLOCK = "report_form_projects"
    PROJECTS = "report_form_projects_select"
    PAYMENT_METHODS_BLOCK = "report_form_payment_methods"
    PAYMENT_METHODS = "report_form_payment_methods_select"
    OPTIONS_BLOCK = "report_form_options"
    OPTIONS = "report_form_options_checkboxes"
    OPTION_REPORTED = "report_form_option_reported"
    OPTION_CSV = "report_form_option_csv"
    CHANNEL_BLOCK = "report_form_channel"
    CHANNEL = "report_form_channel_select"
    FILTERS_NOTE_BLOCK = "report_form_filters_note"  # "loading…" or why a list is missing


F = ReportFormId

# Slack's limits on a select's options (https://docs.slack.dev/reference/block-kit/composition-objects/option-object).
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_METADATA = 3000  # a view's private_metadata


# --- What the form offers -------------------------------------------------------------------


@dataclass(frozen=True)
class FormDefaults:
    """Last month, by day: the 1st of last month to the 1st of this month (exclusive), UTC."""

    start: date
    end: date
    granularity: Granularity = Granularity.DAY


def defaults(today: date) -> FormDefaults:
    this_month = month_start(today)
    return FormDefaults(start=month_start(this_month - timedelta(days=1)), end=this_month)


@dataclass(frozen=True)
class Choice:
    """One option of a multi-select: `value` goes into the command, `label` is shown."""

    value: str
    label: str
    description: str | None = None


@dataclass(frozen=True)
class ChoiceList:
    """The options of one filter, or why there are none (bot-written mrkdwn)."""

    items: tuple[Choice, ...] = ()
    problem: str | None = None

    @classmethod
    def of(cls, choices: Iterable[Choice]) -> ChoiceList:
        """Usable choices (a value Slack can carry, each once), sorted by label."""
        kept: dict[str, Choice] = {}
        for choice in choices:
            if not choice.value or len(choice.value) > MAX_OPTION_VALUE:
                log.info("left out of the report form: a value of %d characters", len(choice.value))
                continue
            kept.setdefault(choice.value, choice)
        return cls(items=tuple(sorted(kept.values(), key=lambda ch: (ch.label.lower(), ch.value))))


@dataclass(frozen=True)
class FormChoices:
    projects: ChoiceList
    payment_methods: ChoiceList


# --- private_metadata: where the form was opened --------------------------------------------


def encode_metadata(channel_id: str | None) -> str:
    """The view's private_metadata: the conversation the form was opened from, if any."""
    if not channel_id:
        return ""
    text = json.dumps({"channel": channel_id}, separators=(",", ":"))
    return text if len(text) <= MAX_METADATA else ""


def origin_channel(private_metadata: object) -> str | None:
    if not isinstance(private_metadata, str) or not private_metadata:
        return None
    try:
        data = json.loads(private_metadata)
    except ValueError:
        return None
    channel = data.get("channel") if isinstance(data, dict) else None
    return channel if isinstance(channel, str) and channel else None


# --- The state of a submitted form ----------------------------------------------------------


class _BadDate(Exception):
    pass


@dataclass(frozen=True)
class FormState:
    """What the user chose. Dates that are not dates are kept as the raw text in `bad_dates`
    (by block_id) so they get an error on their field rather than vanishing."""

    start: date | None = None
    end: date | None = None
    granularity: str | None = None
    projects: tuple[str, ...] = ()
    payment_methods: tuple[str, ...] = ()
    reported: bool = False
    csv: bool = False
    channel: str | None = None
    origin_channel: str | None = None
    bad_dates: tuple[str, ...] = ()

    @classmethod
    def from_view(cls, view: Mapping[str, Any]) -> FormState:
        """Read `view.state.values` of a `view_submission` (missing blocks are empty: the
        filters are absent when the form is submitted before its lists loaded)."""
        state = view.get("state")
        values = state.get("values") if isinstance(state, Mapping) else None
        if not isinstance(values, Mapping):
            values = {}

        def element(block: F, action: F) -> Mapping[str, Any]:
            found = values.get(block.value)
            found = found.get(action.value) if isinstance(found, Mapping) else None
            return found if isinstance(found, Mapping) else {}

        def selected(block: F, action: F) -> tuple[str, ...]:
            options = element(block, action).get("selected_options")
            if not isinstance(options, list):
                return ()
            picked = (o.get("value") for o in options if isinstance(o, Mapping))
            return tuple(dict.fromkeys(v for v in picked if isinstance(v, str) and v))

        bad: list[str] = []

        def day(block: F, action: F) -> date | None:
            raw = element(block, action).get("selected_date")
            if raw is None or raw == "":
                return None
            try:
                return _iso_date(raw)
            except _BadDate:
                bad.append(block.value)
                return None

        granularity = element(F.GRANULARITY_BLOCK, F.GRANULARITY).get("selected_option")
        granularity_value = granularity.get("value") if isinstance(granularity, Mapping) else None
        channel = element(F.CHANNEL_BLOCK, F.CHANNEL).get("selected_conversation")
        options = selected(F.OPTIONS_BLOCK, F.OPTIONS)
        start = day(F.START_BLOCK, F.START)
        end = day(F.END_BLOCK, F.END)
        return cls(
            start=start,
            end=end,
            granularity=granularity_value if isinstance(granularity_value, str) else None,
            projects=selected(F.PROJECTS_BLOCK, F.PROJECTS),
            payment_methods=selected(F.PAYMENT_METHODS_BLOCK, F.PAYMENT_METHODS),
            reported=F.OPTION_REPORTED.value in options,
            csv=F.OPTION_CSV.value in options,
            channel=channel if isinstance(channel, str) and channel else None,
            origin_channel=origin_channel(view.get("private_metadata")),
            bad_dates=tuple(bad),
        )


def _iso_date(raw: object) -> date:
    if not isinstance(raw, str):
        raise _BadDate
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _BadDate from None


# --- State to command -----------------------------------------------------------------------


class FormErrors(Exception):
    """Rules the state breaks: block_id -> what to fix (plain text, shown under the field)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = {str(block): message for block, message in errors.items()}


@dataclass(frozen=True)
class Submission:
    command: c.Report
    channel: str  # where to post the report


def _names(items: tuple[str, ...]) -> str:
    return ",".join(items)


def command_text(state: FormState) -> str:
    """The canonical command for a complete state (dates and granularity chosen)."""
    if state.start is None or state.end is None or state.granularity is None:
        raise ValueError("the state has no dates or granularity")
    words = [f"report {state.start.isoformat()}..{state.end.isoformat()} by {state.granularity}"]
    if state.projects:
        words.append(f"project {_names(state.projects)}")
    if state.payment_methods:
        words.append(f"payment-method {_names(state.payment_methods)}")
    if state.reported:
        words.append("reported")
    if state.csv:
        words.append("csv")
    return " ".join(words)


def _plain(message: str) -> str:
    """A parser message (mrkdwn with `code` and escapes) as the plain text a field error is."""
    text = message.replace("`", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _required(state: FormState) -> dict[str, str]:
    errors: dict[str, str] = {}
    for block in state.bad_dates:
        errors[block] = "That is not a date: pick one from the calendar."
    if state.start is None and F.START_BLOCK.value not in errors:
        errors[F.START_BLOCK] = "Pick the first day of the report."
    if state.end is None and F.END_BLOCK.value not in errors:
        errors[F.END_BLOCK] = (
            "Pick the day after the last day of the report (the end is exclusive)."
        )
    if state.granularity is None:
        errors[F.GRANULARITY_BLOCK] = "Choose a granularity."
    if state.channel is None and state.origin_channel is None:
        errors[F.CHANNEL_BLOCK] = "Choose the channel to post the report in."
    return errors


def _unusable_name(names: tuple[str, ...], what: str) -> str | None:
    """A name the canonical command could not carry as one item of a comma list."""
    for name in names:
        if "," in name or any(ch.isspace() for ch in name):
            return f"“{name}” cannot be used as a {what} filter: it contains a comma or a space."
    return None


def _try(text: str, today: date) -> CommandError | None:
    try:
        c.parse(text, today)
    except CommandError as error:
        return error
    return None


# The parser's caps, in the form's words: (limit in days, what the rows are, coarser choices).
_GRANULARITY_CAPS = {
    Granularity.HOUR: (c.HOUR_MAX_DAYS, "Hourly", "day, week or month"),
    Granularity.DAY: (c.DAY_MAX_DAYS, "Daily", "week or month"),
}


def _granularity_error(chosen: str, span: c.DateRange, error: CommandError) -> str:
    try:
        cap = _GRANULARITY_CAPS.get(Granularity(chosen))
    except ValueError:
        cap = None
    if cap is None:
        return _plain(error.user_message)
    limit, rows, coarser = cap
    return (
        f"{rows} reports cover at most {limit} days, and this range is {span.days} days: "
        f"choose {coarser}, or shorten the range."
    )


def to_submission(state: FormState, *, today: date) -> Submission:
    """The typed report and the channel to post it in; FormErrors when a rule is broken.

    Each field is checked by parsing the command built up to it, so every rule (and its
    wording, where the form has none better) is the parser's: the year range of dates, start
    before end, `hour` ≤ 31 days and `day` ≤ 366, names, project XOR payment method.
    """
    errors = _required(state)
    start, end, granularity = state.start, state.end, state.granularity
    channel = state.channel or state.origin_channel
    if errors or start is None or end is None or granularity is None or channel is None:
        raise FormErrors(errors)

    start_error = _try(f"report {start.year:04d}", today)  # the start date's own year
    if start_error is not None:
        raise FormErrors({F.START_BLOCK: _plain(start_error.user_message)})
    dates = f"report {start.isoformat()}..{end.isoformat()}"
    range_error = _try(dates, today)
    if range_error is not None:
        if end <= start:
            after = start + timedelta(days=1)
            message = (
                f"The end must be after the start ({start.isoformat()}). It is exclusive: "
                f"a report of that one day ends on {after.isoformat()}."
            )
        else:
            message = _plain(range_error.user_message)
        raise FormErrors({F.END_BLOCK: message})
    span = c.DateRange(start, end, f"{start}..{end}")

    granularity_error = _try(f"{dates} by {granularity}", today)
    if granularity_error is not None:
        errors[F.GRANULARITY_BLOCK] = _granularity_error(granularity, span, granularity_error)
    projects = f" project {_names(state.projects)}" if state.projects else ""
    methods = f" payment-method {_names(state.payment_methods)}" if state.payment_methods else ""
    for block, names, what, words in (
        (F.PROJECTS_BLOCK, state.projects, "project", projects),
        (F.PAYMENT_METHODS_BLOCK, state.payment_methods, "payment method", methods),
    ):
        problem = _unusable_name(names, what)
        if problem is None and words:
            error = _try(dates + words, today)
            problem = None if error is None else _plain(error.user_message)
        if problem is not None:
            errors[block] = problem
    filters_ok = not errors.keys() & {F.PROJECTS_BLOCK.value, F.PAYMENT_METHODS_BLOCK.value}
    if projects and methods and filters_ok and _try(dates + projects + methods, today):
        errors[F.PAYMENT_METHODS_BLOCK] = (
            "Choose projects or payment methods, not both: a report is filtered by one or the "
            "other. Clear one of the two lists."
        )
    if errors:
        raise FormErrors(errors)

    try:
        command = c.parse(command_text(state), today)
    except CommandError as error:  # every part passed alone: not expected, but said, not lost
        raise FormErrors({F.START_BLOCK: _plain(error.user_message)}) from None
    if not isinstance(command, c.Report):  # pragma: no cover - "report …" parses as a Report
        raise TypeError(f"expected a report, parsed {type(command).__name__}")
    return Submission(command=command, channel=channel)
