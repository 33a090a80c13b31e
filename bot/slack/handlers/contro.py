"""`contro summary`, `contro records` and the records pager button."""

from __future__ import annotations

import dataclasses
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.core.answers import RecordsPageRef
from bot.core.exports import ExportProgress, contro_export_filename
from bot.core.language import commands as c
from bot.slack.delivery import Delivery, Posting, spooled
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.handlers.reply import answer, in_channel, words_for
from bot.slack.ids import ActionId
from bot.slack.render.common import Message
from bot.slack.render.contro import render_contro_records, render_contro_summary
from bot.slack.render.export import (
    render_export_comment,
    render_export_done,
    render_export_empty,
    render_export_failed,
    render_export_progress,
)
from bot.slack.render.share import with_share_button


async def summary(command: c.ControSummary, asker: Asker, deps: Deps) -> Message:
    return render_contro_summary(await deps.billing.contro_summary(str(command.period)))


async def records(command: c.ControRecords, asker: Asker, deps: Deps) -> Message:
    first = RecordsPageRef(period=str(command.period), type=command.type, page_number=1)
    return render_contro_records(await deps.billing.contro_records(first))


async def post_export(command: c.ControRecords, asker: Asker, deps: Deps, posting: Posting) -> None:
    """Every record of the period as a CSV file in the channel, with progress on the way.
    A type the period does not have is told to the asker alone, before anything is posted."""
    period, kind = str(command.period), command.type
    if kind is not None:
        try:
            await deps.billing.check_contro_type(period, kind)
        except Exception as exc:
            await posting.note.post(words_for(exc))
            return

    async def work(post: Delivery) -> None:
        async def progress(done: ExportProgress) -> None:
            await post.progress(render_export_progress(period, kind, done))

        filename = contro_export_filename(period, kind)
        with spooled(filename) as path:
            with path.open("wb") as dest:
                export, mismatch = await deps.billing.export_contro_records(
                    period, kind, dest, progress
                )
            if not export.rows:
                await post.update(render_export_empty(export, mismatch, deps.clock()))
                return
            await post.update(render_export_done(export, mismatch, deps.clock()))
            await post.upload(path, comment=render_export_comment(export, filename))

    await in_channel(
        # Its answer is the file: without the bot in the channel, only the invitation helps.
        dataclasses.replace(posting, fallback=None),
        posting.message(asker.channel_id, thread_ts=asker.thread_ts),
        preparing=render_export_progress(period, kind),
        work=work,
        failed=lambda reason: render_export_failed(period, kind, reason),
    )


async def page(value: str, deps: Deps) -> Message:
    """Another page, with the Share button its first page had (sharing posts the command's
    answer, as from the first page: a shared copy has no pager)."""
    ref = RecordsPageRef.decode(value)
    message = render_contro_records(await deps.billing.contro_records(ref))
    return with_share_button(message, _command_text(ref))


def _command_text(ref: RecordsPageRef) -> str:
    """The `contro records` command that the page `ref` belongs to."""
    return " ".join(["contro", "records", ref.period, *(["type", ref.type] if ref.type else [])])


async def on_page(
    ack: AsyncAck, action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    deps = Deps.of(context)
    await answer(
        respond,
        page(str(action.get("value", "")), deps),
        working="fetching that page",
        replace_original=True,
    )


def register(app: AsyncApp) -> None:
    app.action(ActionId.CONTRO_RECORDS_PAGE.value)(on_page)
    app.action(ActionId.CONTRO_RECORDS_PREVIOUS.value)(on_page)
