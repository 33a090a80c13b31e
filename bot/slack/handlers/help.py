"""`help [topic]`: the main commands, one topic, or every command, from the parser's own
table; examples name the organization's own projects and payment methods once the bot has
seen them."""

from bot.core.language import commands as c
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.render.common import Message
from bot.slack.render.help import example_names, render_help


def full_help(deps: Deps, topic: str | None = "all") -> Message:
    billing = deps.billing
    return render_help(topic, example_names(billing.known_projects, billing.known_payment_methods))


async def show(command: c.Help, asker: Asker, deps: Deps) -> Message:
    return full_help(deps, command.topic)
