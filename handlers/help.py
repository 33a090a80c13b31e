from bot import commands as c
from bot.render.common import Message
from bot.render.help import render_help


def show(command: c.Help) -> Message:
    return render_help(command.topic)
