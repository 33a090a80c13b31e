"""`help [topic]`: the command list, or one topic, from the parser's own table."""

from bot.core.language import commands as c
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.render.common import Message
from bot.slack.render.help import render_help


async def show(command: c.Help, asker: Asker, deps: Deps) -> Message:
    return render_help(command.topic)
