"""The App Home tab: published when a user opens it and on Refresh; its other buttons send last
month's report and the rate cards (a button per payment method) to the user's direct
messages with the bot.

Direct messages are posted with chat.postMessage to the user ID (the bot has no
`conversations.open`), which opens the app's Messages tab. The report is then posted, edited
and threaded in the DM channel ID that first message comes back with, since chat.update and
file uploads need a real conversation ID.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.language import commands as c
from bot.core.reports.summary import ReportSummary
from bot.errors import SecretNotPostable
from bot.slack.delivery import ChannelMessage, Posting
from bot.slack.handlers import routes
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.handlers.reply import words_for
from bot.slack.ids import ActionId
from bot.slack.render.common import Message, finish, refuse_secret, section
from bot.slack.render.home import render_dm_failed, render_home, render_rate_card_picker
from bot.slack.render.rate_card import render_rate_card

log = logging.getLogger(__name__)

LAST_MONTH = "report last-month"


def _slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "")) if exc.response is not None else ""


async def publish_home(
    client: AsyncWebClient,
    user_id: str,
    deps: Deps,
    *,
    notice: Message | None = None,
    fresh: bool = False,
) -> None:
    """Publish `user_id`'s Home tab with this month's figures (or why there are none).

    The figures are `BillingService.month_to_date()`'s: reused from the answer cache for up to
    CACHE_TTL_SECONDS unless `fresh`, and the view says when they were fetched."""
    summary: ReportSummary | None = None
    error: Message | None = None
    try:
        summary = await deps.billing.month_to_date(fresh=fresh)
    except Exception as exc:
        error = words_for(exc)
    view = render_home(summary, user_id=user_id, error=error, now=deps.clock(), notice=notice)
    try:
        refuse_secret(view, "the Home tab")  # a view is kept and shown again: never a secret
    except SecretNotPostable as exc:
        view = render_home(None, user_id=user_id, error=words_for(exc), now=deps.clock())
    try:
        await client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:
        log.warning("views.publish failed for the Home tab: %s", _slack_error(exc))


async def on_home_opened(
    event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    if event.get("tab") != "home":  # the Messages tab: nothing to publish
        return
    user_id = event.get("user")
    if not isinstance(user_id, str) or not user_id:
        return
    await publish_home(client, user_id, Deps.of(context))


async def _first_click(body: dict[str, Any], deps: Deps) -> bool:
    """False for a repeated delivery of the same click (same user, button and action_ts)."""
    actions = body.get("actions") or [{}]
    action = actions[0] if isinstance(actions[0], dict) else {}
    action_ts = action.get("action_ts")
    if not action_ts:
        return True
    key = f"action:{body['user']['id']}:{action.get('action_id')}:{action_ts}"
    return await deps.dedupe.first_time(key)


async def _clicked(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> Deps | None:
    """Acknowledge a button; its listener's dependencies, or None for a repeated delivery."""
    await ack()
    deps = Deps.of(context)
    return deps if await _first_click(body, deps) else None


async def on_refresh(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    deps = await _clicked(ack, body, context)
    if deps is not None:
        await publish_home(client, str(body["user"]["id"]), deps, fresh=True)


async def on_last_month_report(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    deps = await _clicked(ack, body, context)
    if deps is None:
        return
    user_id = str(body["user"]["id"])
    command = c.parse(LAST_MONTH, today=deps.today())
    assert isinstance(command, c.Report)
    intro = finish(
        "Last month's usage report, as asked in my Home tab.",
        [section(":bar_chart: Last month's usage report, as asked in my Home tab.")],
    )
    try:
        opened = await client.chat_postMessage(channel=user_id, **intro.to_slack())
    except SlackApiError as exc:
        log.warning("could not DM the report: %s", _slack_error(exc))
        notice = render_dm_failed("last month's report", f"/billing {LAST_MONTH}")
        await publish_home(client, user_id, deps, notice=notice)
        return
    dm = str(opened.get("channel") or user_id)
    asker = Asker(user_id=user_id, channel_id=dm)
    # The Home tab has no response_url: notes for the user go in the same DM.
    note = ChannelMessage(client, dm, guard=deps.guard)
    await routes.post(command, asker, deps, Posting(client, deps.guard, note=note, fallback=None))


async def on_rate_cards(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    """A DM with the rate card itself when there is one payment method, else a button per
    method (`on_rate_card` sends the one pressed)."""
    deps = await _clicked(ack, body, context)
    if deps is None:
        return
    user_id = str(body["user"]["id"])
    try:
        methods = await deps.billing.payment_methods()
        ids = [m.id for m in methods.methods if m.id]
        if len(ids) == 1:
            message = render_rate_card(await deps.billing.rate_card(ids[0]))
        else:
            message = render_rate_card_picker(methods)
    except Exception as exc:
        message = words_for(exc)
    try:
        await client.chat_postMessage(channel=user_id, **message.to_slack())
    except SlackApiError as exc:
        log.warning("could not DM the rate cards: %s", _slack_error(exc))
        notice = render_dm_failed("the rate cards", "/billing payment-methods")
        await publish_home(client, user_id, deps, notice=notice)


async def on_rate_card(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    """A payment method pressed in the rate-card picker: its rate card, in the same DM."""
    deps = await _clicked(ack, body, context)
    if deps is None:
        return
    user_id = str(body["user"]["id"])
    channel = (body.get("channel") or {}).get("id") or user_id
    method_id = str((body.get("actions") or [{}])[0].get("value") or "")
    try:
        message = render_rate_card(await deps.billing.rate_card(method_id))
    except Exception as exc:
        message = words_for(exc)
    try:
        await client.chat_postMessage(channel=channel, **message.to_slack())
    except SlackApiError as exc:
        log.warning("could not DM the rate card: %s", _slack_error(exc))


def register(app: AsyncApp) -> None:
    """Listeners for app_home_opened and the Home tab's buttons."""
    app.event("app_home_opened")(on_home_opened)
    app.action(ActionId.HOME_REFRESH.value)(on_refresh)
    app.action(ActionId.HOME_LAST_MONTH_REPORT.value)(on_last_month_report)
    app.action(ActionId.HOME_RATE_CARDS.value)(on_rate_cards)
    app.action(ActionId.HOME_RATE_CARD.value)(on_rate_card)
