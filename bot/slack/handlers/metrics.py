"""`metrics <project>`: whether export is on; connection details only to an admin, privately."""

from bot.core.language import commands as c
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.render.common import Message
from bot.slack.render.metrics import render_metrics


async def show(command: c.ShowMetrics, asker: Asker, deps: Deps) -> Message:
    # Connection details go to admins only, and only where the asker alone sees the answer
    # (a message holding them cannot be posted anywhere else either: `SecretText`).
    show = asker.private and deps.is_admin(asker.user_id)
    answer = await deps.billing.metrics(command.project, show_secrets=show)
    return render_metrics(answer)
