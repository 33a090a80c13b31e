"""Anomalies in Slack: the commands, the alerts the check posts, and the alert's buttons.

Who may press which button is decided by the route table (`routes.ANOMALY_BUTTONS`), which
registers `on_action` behind it: Acknowledge and Details for anyone in the channel, Expected
until… and Snooze for billing admins.

Alerts are posted with `ChannelMessage` from a scheduler `Posting` (the one way an answer for a
channel leaves), edited in place (chat.update) after each change, with notes and details in
their thread. Each click is one event in the store (`click_event`): a click delivered twice,
or to two replicas, changes the anomaly once.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any, Final

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.apis.contro.client import ControClient
from bot.apis.mkio.client import MkioClient
from bot.config import Settings
from bot.core.billing import BillingService
from bot.core.language import commands as c
from bot.core.watch.anomalies import Rules, Series
from bot.core.watch.check import NoteKind, Reach, SeriesSource, Watch
from bot.core.watch.lifecycle import Anomaly, AnomalyStore, Posted, Update, click_event
from bot.core.watch.pricing import rate_card_pricer
from bot.core.watch.sources import contro_series, mkio_series
from bot.slack.delivery import ChannelGuard, Logged, Posting
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.handlers.reply import whisper, words_for
from bot.slack.ids import ActionId, anomaly_of_block
from bot.slack.render.anomalies import (
    expected_date_problem,
    render_action_refused,
    render_alert,
    render_alerts_switched,
    render_anomalies,
    render_cannot_post,
    render_check,
    render_details,
    render_note,
)
from bot.slack.render.common import Message

log = logging.getLogger(__name__)

SNOOZE: Final = {
    ActionId.ANOMALY_SNOOZE_DAY: timedelta(days=1),
    ActionId.ANOMALY_SNOOZE_WEEK: timedelta(days=7),
}

Anomalies = c.ListAnomalies | c.AnomalyAlerts | c.CheckAnomalies


async def run(command: Anomalies, asker: Asker, deps: Deps) -> Message:
    match command:
        case c.ListAnomalies():
            store = deps.watch.store
            return render_anomalies(await store.list_open(), await store.channels())
        case c.AnomalyAlerts(on=on):
            reach = await deps.watch.reach(asker.channel_id) if on else None
            if reach is Reach.INVITE:  # nothing changes: alerts would not arrive
                return render_cannot_post(asker.channel_id)
            changed = await deps.watch.store.set_channel(asker.channel_id, on)
            return render_alerts_switched(asker.channel_id, on, changed, reach)
        case c.CheckAnomalies():
            result = await deps.watch.check(deps.clock())
            return render_check(result, await deps.watch.store.channels())


# -- the check's alerts ---------------------------------------------------------------------


def _posting(client: AsyncWebClient, guard: ChannelGuard) -> Posting:
    return Posting(client, guard, note=Logged("anomaly alert"), fallback=None, scheduled=True)


async def _edit(posting: Posting, anomaly: Anomaly) -> None:
    """Every message of the anomaly, edited in place to show its state."""
    message = render_alert(anomaly)
    for where in anomaly.messages:
        post = posting.message(where.channel)
        post.ts = where.ts
        try:
            await post.update(message)
        except SlackApiError as exc:
            log.warning(
                "anomaly %s: could not edit its message in %s (%s)",
                anomaly.id,
                where.channel,
                exc.response.get("error"),
            )


async def channel_reach(client: AsyncWebClient, channel: str) -> Reach:
    """Is the bot in `channel` (conversations.info)? A public channel it is not in, it joins
    now; a private one (which Slack does not even show it) needs an invitation."""
    try:
        info = (await client.conversations_info(channel=channel)).get("channel") or {}
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "channel_not_found":
            return Reach.INVITE
        log.info("conversations.info about %s: %s", channel, error)
        return Reach.UNKNOWN
    if info.get("is_member") or info.get("is_im"):
        return Reach.MEMBER
    if info.get("is_private") or info.get("is_mpim") or info.get("is_archived"):
        return Reach.INVITE
    try:
        await client.conversations_join(channel=channel)
    except SlackApiError as exc:
        log.info("could not join %s: %s", channel, exc.response.get("error"))
        return Reach.INVITE
    return Reach.JOINED


def make_watch(
    client: AsyncWebClient,
    store: AnomalyStore,
    *,
    guard: ChannelGuard,
    mkio: MkioClient | None,
    contro: ControClient | None,
    settings: Settings,
    billing: BillingService | None = None,
    rules: Rules | None = None,
) -> Watch:
    """The check with its sources (those configured), its pricing (with `billing`: by the
    project's rate card) and its Slack side."""
    rules = rules or Rules()
    posting = _posting(client, guard)
    sources: list[tuple[str, SeriesSource]] = []
    if mkio is not None:
        known_mkio = mkio

        async def from_mkio(first: date, last: date) -> list[Series]:
            return await mkio_series(
                known_mkio, last, rules, max_rows=settings.report_max_rows, first=first
            )

        sources.append(("MK.IO", from_mkio))
    if contro is not None:
        known_contro = contro

        async def from_contro(first: date, last: date) -> list[Series]:
            return await contro_series(known_contro, last, rules, first=first)

        sources.append(("Contro", from_contro))

    async def alert(anomaly: Anomaly, channels: list[str]) -> tuple[Posted, ...]:
        message = render_alert(anomaly)
        posted: list[Posted] = []
        for channel in channels:
            post = posting.message(channel)
            try:
                posted.append(Posted(channel=channel, ts=await post.post(message)))
            except Exception as exc:  # one channel refusing does not keep the others unsaid
                log.warning(
                    "anomaly %s: not posted in %s (%s)", anomaly.id, channel, type(exc).__name__
                )
        return tuple(posted)

    async def note(anomaly: Anomaly, kind: NoteKind) -> None:
        await _edit(posting, anomaly)
        for where in anomaly.messages:
            await posting.message(where.channel, thread_ts=where.ts).post(
                render_note(anomaly, kind)
            )

    async def reach(channel: str) -> Reach:
        return await channel_reach(client, channel)

    price = rate_card_pricer(billing) if billing is not None and mkio is not None else None
    return Watch(store, sources, alert=alert, note=note, rules=rules, price=price, reach=reach)


# -- the buttons ----------------------------------------------------------------------------


def _change_for(action_id: str, action: dict[str, Any], user: str, deps: Deps) -> Update | str:
    """What the click does to the anomaly, or why it does nothing."""
    now = deps.clock()
    if action_id == ActionId.ANOMALY_ACK:
        return lambda a: a.acknowledge(user, now)
    if action_id == ActionId.ANOMALY_EXPECTED:
        try:
            chosen = date.fromisoformat(str(action.get("selected_date", "")))
        except ValueError:
            return "Choose a day in the date picker."
        problem = expected_date_problem(chosen, now.date())
        if problem is not None:
            return problem
        return lambda a: a.expect(user, now, chosen)
    return lambda a: a.snooze(user, now, now + SNOOZE[ActionId(action_id)])


def _unchanged(anomaly: Anomaly | None, action_id: str) -> str:
    if anomaly is None:
        return "That anomaly is no longer known to the bot."
    if action_id == ActionId.ANOMALY_ACK and anomaly.acknowledged_by:
        return "It was already acknowledged."
    if action_id == ActionId.ANOMALY_EXPECTED and anomaly.expected_until:
        return f"It is already expected until {anomaly.expected_until}."
    return "That click was already counted: nothing more changed."


async def on_action(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    deps = Deps.of(context)
    user = str(body["user"]["id"])
    action_id = str(action.get("action_id", ""))
    anomaly_id = str(action.get("value") or anomaly_of_block(str(action.get("block_id", ""))) or "")
    try:
        if action_id == ActionId.ANOMALY_DETAILS:
            await _details(body, anomaly_id, client, deps, respond)
            return
        change = _change_for(action_id, action, user, deps)
        if isinstance(change, str):
            await whisper(respond, render_action_refused(change))
            return
        event = click_event(action_id, user, str(action.get("action_ts", "")))
        changed = await deps.watch.store.change(anomaly_id, event, change)
        if changed is None:
            current = await deps.watch.store.get(anomaly_id)
            await whisper(respond, render_action_refused(_unchanged(current, action_id)))
            return
        await _edit(_posting(client, deps.guard), changed)
    except Exception as exc:
        await whisper(respond, words_for(exc))


async def _details(
    body: dict[str, Any], anomaly_id: str, client: AsyncWebClient, deps: Deps, respond: AsyncRespond
) -> None:
    """The daily breakdown in the alert's thread, once per message."""
    container = body.get("container") or {}
    channel, ts = str(container.get("channel_id", "")), str(container.get("message_ts", ""))
    posted = await deps.watch.store.change(anomaly_id, f"details:{channel}:{ts}", lambda a: a)
    if posted is None:
        known = await deps.watch.store.get(anomaly_id)
        reason = "The details are in this alert's thread." if known else _unchanged(None, "")
        await whisper(respond, render_action_refused(reason))
        return
    post = _posting(client, deps.guard).message(channel, thread_ts=ts)
    await post.post(render_details(posted))
