"""`/billing help [topic]`: built from the parser's own command table, so they always agree.

`help` alone is short: the everyday commands and the topics. `help all` lists every command;
`help <command>` explains one; `help dates`, `mentions`, `dm`, `home`, `form` explain how to
ask. Examples name a real payment method and project when the bot has seen the lists, and
clearly placeholder text otherwise: an example that is run must work.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.language.commands import (
    EXAMPLE_PAYMENT_METHOD,
    EXAMPLE_PROJECT,
    GUIDES,
    HELP_TOPICS,
    PREFIX,
    specs_for,
)
from bot.slack.render.common import Message, context, finish, header, inert, lines

# The everyday commands `help` alone shows, one line each: an example and a few words.
SHORT_HELP = {
    f"usage {EXAMPLE_PROJECT}": "this month so far, per meter",
    "report last-month csv": "a report in the channel, with the CSV file",
    "payment-methods": "the organization's payment methods",
    f"ratecard {EXAMPLE_PAYMENT_METHOD}": "a payment method's prices",
    f"payment-method {EXAMPLE_PROJECT}": "a project's payment method",
    f"metrics {EXAMPLE_PROJECT}": "whether metrics export is on",
    "contro summary march": "Contro totals for a month",
    "contro records last-month type kyc": "Contro records for a month",
}
_TOPICS = ("all", "report", "dates", "mentions", "dm", "home", "form", "budget", "schedule")
_PLACEHOLDER_METHOD = "PAYMENT-METHOD-ID"
_FOOTER = (
    "Words are case-insensitive; project names and IDs are taken as typed. "
    "Dates are UTC; report end dates are exclusive."
)


def _with_examples(text: str, examples: Mapping[str, str]) -> str:
    for placeholder, real in examples.items():
        text = text.replace(placeholder, real)
    return text


def example_names(projects: tuple[str, ...], payment_methods: tuple[str, ...]) -> dict[str, str]:
    """What replaces the example project and payment method: the organization's first ones,
    when known; else a placeholder nobody takes for a real ID."""
    return {
        EXAMPLE_PAYMENT_METHOD: payment_methods[0] if payment_methods else _PLACEHOLDER_METHOD,
        **({EXAMPLE_PROJECT: projects[0]} if projects else {}),
    }


def _topics_line() -> str:
    return "More: " + ", ".join(f"`{PREFIX} help {topic}`" for topic in _TOPICS) + "."


def _short(examples: Mapping[str, str]) -> Message:
    items = []
    for words, said in SHORT_HELP.items():
        example = _with_examples(f"{PREFIX} {words}", examples)
        items.append(f"`{inert(example)}`  {inert(said)}")
    blocks = [
        header("billing-bot"),
        *lines(items, max_items=len(items)),
        context(
            "Dates: `yesterday`, `this-week`, `last-week`, `last-month`, `march`, `q1` … "
            f"(`{PREFIX} help dates`). The same words work after @billing and in a DM.",
            _topics_line(),
        ),
    ]
    return finish("billing-bot: the main commands. " + _topics_line(), blocks)


def _guide(topic: str) -> Message:
    title = f"Help: {topic}"
    blocks = [header(title), *lines([inert(note) for note in GUIDES[topic]]), context(_FOOTER)]
    return finish(f"{title}: " + " ".join(GUIDES[topic]), blocks)


def render_help(topic: str | None = None, examples: Mapping[str, str] | None = None) -> Message:
    examples = examples if examples is not None else example_names((), ())
    if topic is None:
        return _short(examples)
    if topic in GUIDES:
        return _guide(topic)
    specs = specs_for(topic)
    if not specs:
        return finish(
            "No help on that topic.",
            [
                *lines([f"No help on that topic. Topics: {', '.join(sorted(HELP_TOPICS))}."]),
                context(f"Type `{PREFIX} help` for the main commands."),
            ],
        )
    items = []
    for spec in specs:
        shown = "  ".join(f"`{inert(_with_examples(e, examples))}`" for e in spec.examples)
        item = f"*`{PREFIX} {inert(spec.syntax)}`*\n{inert(spec.description)}\n{shown}"
        if topic != "all":
            item += "".join(f"\n• {inert(note)}" for note in spec.notes)
        items.append(item)
    title = "billing-bot commands" if topic == "all" else f"Help: {topic}"
    blocks = [
        header(title),
        *lines(items, max_items=len(items)),
        context(f"{_FOOTER} `{PREFIX} help <command>` explains one command in detail."),
    ]
    names = dict.fromkeys(spec.name for spec in specs)
    return finish(f"{title}: " + ", ".join(names), blocks)
