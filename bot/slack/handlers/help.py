from bot.core.language import commands as c
from bot.slack.render.common import Message
from bot.slack.render.help import render_help


def show(command: c.Help) -> Message:
    return render_help(command.topic)
