from bot import commands as c
from bot.render.common import Message
from bot.render.usage import render_usage
from handlers.deps import Deps


async def show(command: c.Usage, deps: Deps) -> Message:
    return render_usage(await deps.billing.usage(command.project))
