"""The credential check at start and once a day, and its reminders to the billing admins.

`make_expiry_watch` gives `bot.core.scheduled.expiry.ExpiryWatch` its two jobs: run
`billing-bot check`'s checks (`bot.access.findings`), logging each finding that is not "ok"
as a warning, and post a reminder in each admin's DM with the bot (chat.postMessage to the
user ID opens it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot import access
from bot.config import Settings
from bot.core.scheduled.expiry import Expiry, ExpiryClaims, ExpiryWatch
from bot.slack.render.expiry import render_expiry_reminder

log = logging.getLogger(__name__)


def make_expiry_watch(
    client: AsyncWebClient, settings: Settings, claims: ExpiryClaims
) -> ExpiryWatch:
    async def check(now: datetime) -> Sequence[Expiry]:
        found = await access.findings(settings, clock=lambda: now)
        for finding in found:
            if finding.outcome != "ok":
                log.warning("check: %s", finding.line())
        return [f.expiry for f in found if f.expiry is not None]

    async def remind(expiry: Expiry, milestone: int, now: datetime) -> None:
        if not settings.billing_admins:
            log.warning(
                "%s expires %s and BILLING_ADMINS is empty: nobody to remind",
                expiry.variable,
                expiry.expires.isoformat(),
            )
            return
        message = render_expiry_reminder(expiry, milestone, now)
        for admin in sorted(settings.billing_admins):  # one admin's failure stops no other
            try:
                await client.chat_postMessage(channel=admin, **message.to_slack())
            except Exception:
                log.exception("the reminder of %s's expiry missed %s", expiry.variable, admin)

    return ExpiryWatch(claims, check=check, remind=remind)
