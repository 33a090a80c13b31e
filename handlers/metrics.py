from bot import commands as c
from bot.render.common import Message
from bot.render.metrics import render_metrics
from handlers.asker import Asker
from handlers.deps import Deps


async def show(command: c.ShowMetrics, asker: Asker, deps: Deps) -> Message:
    # Connection details go to admins only, and every answer here is ephemeral.
    answer = await deps.billing.metrics(command.project, show_secrets=deps.is_admin(asker.user_id))
    return render_metrics(answer)
