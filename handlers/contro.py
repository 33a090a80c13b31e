"""`contro summary`, `contro records` and the records pager button."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot import commands as c
from bot.answers import RecordsPageRef
from bot.ids import ActionId
from bot.render.common import Message
from bot.render.contro import render_contro_records, render_contro_summary
from handlers.deps import Deps
from handlers.reply import answer


async def summary(command: c.ControSummary, deps: Deps) -> Message:
    return render_contro_summary(await deps.billing.contro_summary(str(command.period)))


async def records(command: c.ControRecords, deps: Deps) -> Message:
    first = RecordsPageRef(period=str(command.period), type=command.type, page_number=1)
    return render_contro_records(await deps.billing.contro_records(first))


async def page(value: str, deps: Deps) -> Message:
    return render_contro_records(await deps.billing.contro_records(RecordsPageRef.decode(value)))


async def on_page(
    ack: AsyncAck, action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    deps = Deps.of(context)
    await answer(
        respond,
        page(str(action.get("value", "")), deps),
        working="fetching the next page",
        replace_original=True,
    )


def register(app: AsyncApp) -> None:
    app.action(ActionId.CONTRO_RECORDS_PAGE.value)(on_page)
