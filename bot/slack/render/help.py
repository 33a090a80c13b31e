"""`/billing help [topic]`: built from the parser's own command table, so they always agree."""

from bot.core.language.commands import HELP_TOPICS, specs_for
from bot.slack.render.common import Message, context, finish, header, inert, lines


def render_help(topic: str | None = None) -> Message:
    specs = specs_for(topic)
    if not specs:
        return finish(
            "No help on that topic.",
            [
                *lines([f"No help on that topic. Topics: {', '.join(sorted(HELP_TOPICS))}."]),
                context("Type `/billing help` for every command."),
            ],
        )
    items = []
    for spec in specs:
        examples = "  ".join(f"`{example}`" for example in spec.examples)
        item = f"*`/billing {inert(spec.syntax)}`*\n{inert(spec.description)}\n{examples}"
        if topic is not None:
            item += "".join(f"\n• {inert(note)}" for note in spec.notes)
        items.append(item)
    title = "billing-bot commands" if topic is None else f"Help: {topic}"
    blocks = [
        header(title),
        *lines(items, max_items=len(items)),
        context(
            "Words are case-insensitive; project names and IDs are taken as typed. "
            "Dates are UTC; report end dates are exclusive. "
            "`/billing help <command>` explains one command in detail."
        ),
    ]
    names = dict.fromkeys(spec.name for spec in specs)
    return finish(f"{title}: " + ", ".join(names), blocks)
