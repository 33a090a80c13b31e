"""The report modal: dates, granularity, project or payment-method filters, options, channel.

Rendered twice: at once without the filter lists (a "loading" note in their place, since
`trigger_id` expires after 3 seconds and MK.IO may be slower), then with them through
`views.update`. Every input block keeps its block_id and action_id between the two, so what
the user entered in the meantime stays.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    ConversationSelectElement,
    DatePickerElement,
    InputBlock,
    Option,
    OptionGroup,
    PlainTextObject,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.apis.mkio.models import Granularity
from bot.core.language import commands as c
from bot.core.report_form import (
    MAX_OPTION_TEXT,
    Choice,
    ChoiceList,
    FormChoices,
    FormDefaults,
    encode_metadata,
)
from bot.slack.ids import CallbackId
from bot.slack.ids import ReportFormId as F
from bot.slack.render.common import inert, md, truncate

TITLE = "Billing report"  # a modal title holds at most 24 characters
SUBMIT = "Post report"
LOADING = ":hourglass_flowing_sand: Loading projects and payment methods from MK.IO…"
MAX_OPTIONS = 100  # per select, and per option group
MAX_OPTION_GROUPS = 100
MAX_GROUP_LABEL = 75
MAX_HINT = 2000
MAX_DESCRIPTION = 75

_GRANULARITY_LABELS = {
    Granularity.HOUR: "Hour",
    Granularity.DAY: "Day",
    Granularity.WEEK: "Week",
    Granularity.MONTH: "Month",
    Granularity.YEAR: "Year",
}


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=True)


def _option(value: str, label: str, description: str | None = None) -> Option:
    return Option(
        value=value,
        text=_plain(truncate(label, MAX_OPTION_TEXT) or value[:MAX_OPTION_TEXT]),
        description=_plain(truncate(description, MAX_DESCRIPTION)) if description else None,
    )


def _choice_option(choice: Choice) -> Option:
    return _option(choice.value, choice.label, choice.description)


def _multi_select(action_id: F, placeholder: str, choices: ChoiceList) -> StaticMultiSelectElement:
    """Up to 100 options, or option groups of 100 each past that (Slack's limits)."""
    options = [_choice_option(ch) for ch in choices.items]
    if len(options) <= MAX_OPTIONS:
        return StaticMultiSelectElement(
            action_id=action_id, placeholder=_plain(placeholder), options=options
        )
    groups: list[OptionGroup] = []
    for first in range(0, min(len(options), MAX_OPTIONS * MAX_OPTION_GROUPS), MAX_OPTIONS):
        chunk = choices.items[first : first + MAX_OPTIONS]
        label = f"{chunk[0].label} … {chunk[-1].label}"
        groups.append(
            OptionGroup(
                label=_plain(truncate(label, MAX_GROUP_LABEL)),
                options=options[first : first + MAX_OPTIONS],
            )
        )
    return StaticMultiSelectElement(
        action_id=action_id, placeholder=_plain(placeholder), option_groups=groups
    )


def _dates(defaults: FormDefaults) -> list[Block]:
    return [
        InputBlock(
            block_id=F.START_BLOCK,
            label=_plain("Start date (UTC)"),
            element=DatePickerElement(
                action_id=F.START,
                initial_date=defaults.start.isoformat(),
                placeholder=_plain("First day of the report"),
            ),
            hint=_plain("Included: the report starts at 00:00 UTC on this day."),
        ),
        InputBlock(
            block_id=F.END_BLOCK,
            label=_plain("End date (UTC, exclusive)"),
            element=DatePickerElement(
                action_id=F.END,
                initial_date=defaults.end.isoformat(),
                placeholder=_plain("Day after the last day"),
            ),
            hint=_plain(
                "Not included: the report stops at 00:00 UTC on this day, so the 1st of a "
                "month ends the month before."
            ),
        ),
    ]


def _granularity(defaults: FormDefaults) -> InputBlock:
    options = {g: _option(g.value, label) for g, label in _GRANULARITY_LABELS.items()}
    return InputBlock(
        block_id=F.GRANULARITY_BLOCK,
        label=_plain("Granularity"),
        element=StaticSelectElement(
            action_id=F.GRANULARITY,
            placeholder=_plain("One row per…"),
            options=list(options.values()),
            initial_option=options[defaults.granularity],
        ),
        hint=_plain(
            f"Hour covers at most {c.HOUR_MAX_DAYS} days and day at most {c.DAY_MAX_DAYS}."
        ),
    )


def _filters(choices: FormChoices | None) -> list[Block]:
    if choices is None:
        return [ContextBlock(block_id=F.FILTERS_NOTE_BLOCK, elements=[md(LOADING)])]
    blocks: list[Block] = []
    notes: list[str] = []
    both = "Choose projects or payment methods, not both."
    if choices.projects.items:
        blocks.append(
            InputBlock(
                block_id=F.PROJECTS_BLOCK,
                label=_plain("Projects"),
                element=_multi_select(F.PROJECTS, "Every project", choices.projects),
                optional=True,
                hint=_plain(f"Leave empty to report on every project. {both}"),
            )
        )
    else:
        notes.append(choices.projects.problem or "MK.IO lists no projects to filter on.")
    if choices.payment_methods.items:
        blocks.append(
            InputBlock(
                block_id=F.PAYMENT_METHODS_BLOCK,
                label=_plain("Payment methods"),
                element=_multi_select(
                    F.PAYMENT_METHODS, "Any payment method", choices.payment_methods
                ),
                optional=True,
                hint=_plain(f"Only usage billed to these methods. {both}"),
            )
        )
    else:
        notes.append(
            choices.payment_methods.problem or "MK.IO lists no payment methods to filter on."
        )
    if notes:
        blocks.append(
            ContextBlock(block_id=F.FILTERS_NOTE_BLOCK, elements=[md(inert(n)) for n in notes])
        )
    return blocks


def _options() -> InputBlock:
    return InputBlock(
        block_id=F.OPTIONS_BLOCK,
        label=_plain("Options"),
        element=CheckboxesElement(
            action_id=F.OPTIONS,
            options=[
                _option(
                    F.OPTION_REPORTED,
                    "By reported date",
                    "When it was charged, not when it happened",
                ),
                _option(F.OPTION_CSV, "CSV file", "The full report, in the summary's thread"),
            ],
        ),
        optional=True,
    )


def _channel(channel_id: str | None) -> InputBlock:
    return InputBlock(
        block_id=F.CHANNEL_BLOCK,
        label=_plain("Post in"),
        element=ConversationSelectElement(
            action_id=F.CHANNEL,
            placeholder=_plain("Choose a channel"),
            initial_conversation=channel_id,
            default_to_current_conversation=True,
        ),
        hint=_plain("Everyone there sees the summary; invite @billing to a private channel."),
    )


def render_report_form(
    defaults: FormDefaults, *, channel_id: str | None, choices: FormChoices | None
) -> View:
    """The modal; `choices` None while the project and payment-method lists load.

    `channel_id` is the conversation the form was opened from (a slash command's channel):
    pre-selected, and kept in `private_metadata`."""
    blocks: Sequence[Block] = [
        ContextBlock(
            elements=[md("Usage and cost from MK.IO per project and meter, posted in a channel.")]
        ),
        *_dates(defaults),
        _granularity(defaults),
        *_filters(choices),
        _options(),
        _channel(channel_id),
    ]
    return View(
        type="modal",
        callback_id=CallbackId.REPORT_FORM,
        title=_plain(TITLE),
        submit=_plain(SUBMIT),
        close=_plain("Cancel"),
        private_metadata=encode_metadata(channel_id),
        blocks=list(blocks),
    )
