"""Billing changes: admin-only previews, and the Confirm / Cancel buttons."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.changes.model import MAKING_DEADLINE, ChangeStatus, Outcome, PendingChange
from bot.core.language import commands as c
from bot.slack.delivery import EphemeralReply
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.handlers.reply import whisper, words_for
from bot.slack.ids import ActionId
from bot.slack.render.changes import (
    audit_line,
    render_audit,
    render_metrics_credentials,
    render_metrics_preview,
    render_not_admin,
    render_outcome,
    render_payment_method_preview,
)
from bot.slack.render.common import Message

log = logging.getLogger(__name__)
audit_log = logging.getLogger("billing_bot.audit")

# A decision that reached MK.IO (or found the state changed) is audited; refusals are not.
AUDITED = frozenset({ChangeStatus.DONE, ChangeStatus.FAILED, ChangeStatus.STALE})


async def preview(
    command: c.SetPaymentMethod | c.EnableMetrics, asker: Asker, deps: Deps
) -> Message:
    who = {"user": asker.user_id, "channel": asker.channel_id}
    if isinstance(command, c.SetPaymentMethod):
        method_preview = await deps.changes.preview_payment_method(
            command.project, command.payment_method, **who
        )
        return render_payment_method_preview(method_preview, now=deps.clock())
    metrics_preview = await deps.changes.preview_metrics(command.project, **who)
    return render_metrics_preview(metrics_preview, now=deps.clock())


async def deliver(
    outcome: Outcome, respond: AsyncRespond, client: AsyncWebClient, deps: Deps
) -> None:
    if outcome.refused == "not-admin":
        await whisper(respond, render_not_admin(deps.settings.billing_admins))
        return
    change = outcome.change
    audited = outcome.refused is None and change is not None and change.status in AUDITED
    if change is not None:
        decided = "refused" if outcome.refused else change.status.value
        deps.metrics.billing_change(change.kind.value, decided)
    if audited:
        assert change is not None
        audit_log.info(audit_line(change))  # first: nothing after it can keep it unwritten
    try:
        message = render_outcome(outcome, now=deps.clock())
        # Someone else's click must not replace the asker's confirmation.
        replace = outcome.refused != "not-yours"
        await respond(**message.to_slack(), response_type="ephemeral", replace_original=replace)
        if outcome.refused is None and change is not None and outcome.endpoint is not None:
            credentials = render_metrics_credentials(change.project, outcome.endpoint)
            await whisper(respond, credentials)
    finally:
        if audited:
            assert change is not None
            await post_audit(change, client, deps)


async def post_audit(change: PendingChange, client: AsyncWebClient, deps: Deps) -> None:
    if deps.settings.audit_channel:
        await client.chat_postMessage(
            channel=deps.settings.audit_channel, **render_audit(change).to_slack()
        )


async def recover_cut_off(client: AsyncWebClient, deps: Deps) -> None:
    """At start: record what became of each change cut off after its confirmation (the bot
    died, or the store failed, while it was being made). A change that some replica may still
    be making is waited for until `MAKING_DEADLINE` has passed."""
    try:
        unsettled = await deps.changes.unsettled()
    except Exception as exc:
        log.warning("could not look for cut-off billing changes (%s)", type(exc).__name__)
        return
    for change in sorted(unsettled, key=lambda c: c.decided_at or c.requested_at):
        at = change.decided_at or change.requested_at
        wait = (at + MAKING_DEADLINE - deps.clock()).total_seconds()
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            outcome = await deps.changes.recover(change)
            if outcome is not None:
                await tell_recovered(outcome, client, deps)
        except Exception as exc:
            # The record stays as it is: the next click on it, or the next start, tries again.
            log.warning(
                "could not record what became of billing change %s (%s)",
                change.id,
                type(exc).__name__,
            )


async def tell_recovered(outcome: Outcome, client: AsyncWebClient, deps: Deps) -> None:
    """Audit a recovered change, and tell its admin privately in the preview's channel (the
    click's response_url is gone with the process that had it)."""
    change = outcome.change
    assert change is not None
    audit_log.info(audit_line(change))
    deps.metrics.billing_change(change.kind.value, change.status.value)
    try:
        await post_audit(change, client, deps)
    finally:
        admin = change.decided_by or change.requested_by
        messages = [render_outcome(outcome, now=deps.clock())]
        if outcome.endpoint is not None:
            messages.append(render_metrics_credentials(change.project, outcome.endpoint))
        to_admin = EphemeralReply(client, change.channel, admin)
        for message in messages:
            await to_admin.post(message)


async def on_decision(
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
    change_id = str(action.get("value", ""))
    try:
        if action.get("action_id") == ActionId.CHANGE_CONFIRM:
            outcome = await deps.changes.confirm(change_id, user=user)
        else:
            outcome = await deps.changes.cancel(change_id, user=user)
        await deliver(outcome, respond, client, deps)
    except Exception as exc:
        await whisper(respond, words_for(exc))


def register(app: AsyncApp) -> None:
    app.action(ActionId.CHANGE_CONFIRM.value)(on_decision)
    app.action(ActionId.CHANGE_CANCEL.value)(on_decision)
