"""`reconcile <YYYY-MM> [project <p>]`: does the month's bill add up, posted in the channel."""

from __future__ import annotations

from bot.core.language import commands as c
from bot.slack.delivery import Delivery, Posting
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.handlers.reply import in_channel, words_for
from bot.slack.render.reconcile import (
    render_reconcile_failed,
    render_reconcile_progress,
    render_reconciliation,
)


async def post_reconciliation(
    command: c.Reconcile, asker: Asker, deps: Deps, posting: Posting
) -> None:
    period = command.period
    if command.project is not None:
        try:  # an unknown project: told to the asker, nothing posted in the channel
            await deps.billing.require_project(command.project, help_topic="reconcile")
        except Exception as exc:
            await posting.note.post(words_for(exc))
            return

    async def work(post: Delivery) -> None:
        await post.update(
            render_reconciliation(await deps.billing.reconcile(period, command.project))
        )

    await in_channel(
        posting,
        posting.message(asker.channel_id, thread_ts=asker.thread_ts),
        preparing=render_reconcile_progress(str(period), command.project),
        work=work,
        failed=lambda reason: render_reconcile_failed(
            str(period), period.range.start, period.range.end, reason
        ),
    )
