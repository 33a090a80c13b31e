"""`usage <project>`: this month's usage, meter by meter, with cost and the month-end estimate."""

from bot.core.language import commands as c
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.render.common import Message
from bot.slack.render.usage import render_usage


async def show(command: c.Usage, asker: Asker, deps: Deps) -> Message:
    return render_usage(await deps.billing.usage(command.project))
