"""`/billing allow-external-channel [off]` (admins): billing data in a channel shared with
another organization, allowed or refused again, stored like the other settings and recorded
in the audit log and channel."""

from __future__ import annotations

import logging

from bot.core.changes.audit import channel_audit_line
from bot.core.language import commands as c
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.render.common import Message
from bot.slack.render.external_channels import (
    render_external_channel_audit,
    render_external_channel_set,
)
from bot.store.external_channels import AllowedChannel

audit_log = logging.getLogger("billing_bot.audit")


async def run(command: c.AllowExternalChannel, asker: Asker, deps: Deps) -> Message:
    channel, now = asker.channel_id, deps.clock()
    store = deps.guard.allowed
    before = await store.get(channel) is not None
    if command.allow and not before:
        await store.allow(AllowedChannel(channel=channel, allowed_by=asker.user_id, allowed_at=now))
    elif not command.allow and before:
        await store.revoke(channel)
    shared = await deps.guard.is_shared(channel)
    if before != command.allow:
        line = channel_audit_line(
            channel=channel, user=asker.user_id, allowed=command.allow, before=before, at=now
        )
        audit_log.info(line)
        if deps.settings.audit_channel:
            record = render_external_channel_audit(
                channel, user=asker.user_id, allowed=command.allow, at=now
            )
            await deps.guard.client.chat_postMessage(
                channel=deps.settings.audit_channel, **record.to_slack()
            )
    return render_external_channel_set(channel, allowed=command.allow, before=before, shared=shared)
