"""`/billing allow-external-channel [off]`: billing data in a channel shared with another
organization (Slack Connect), allowed or refused again by a billing admin, and its record in
the audit channel."""

from __future__ import annotations

from datetime import datetime

from bot.slack.render.common import Message, context, finish, local_time, section


def render_external_channel_set(
    channel: str, *, allowed: bool, before: bool, shared: bool | None
) -> Message:
    """The admin's private confirmation."""
    if allowed:
        said = (
            f":unlock: Billing data may now be posted in <#{channel}>, even though it is "
            "shared with another organization: reports, shared answers, scheduled reports and "
            "alerts. `/billing allow-external-channel off` refuses it again."
        )
        if not before and shared is False:
            said += " (This channel is not shared with another organization today.)"
        if before:
            said = f"Billing data was already allowed in <#{channel}>: nothing changed."
    else:
        said = (
            f":lock: No billing data will be posted in <#{channel}> while it is shared with "
            "another organization."
        )
        if not before:
            said = f"Billing data was not allowed in <#{channel}>: nothing changed."
    changed = before != allowed
    notes = ["Recorded in the audit channel."] if changed else []
    blocks = [section(said)] + ([context(*notes)] if notes else [])
    what = "allowed" if allowed else "refused"
    return finish(f"Billing data {what} in <#{channel}>", blocks)


def render_external_channel_audit(
    channel: str, *, user: str, allowed: bool, at: datetime
) -> Message:
    """The record posted to `AUDIT_CHANNEL`."""
    what = "allowed billing data in" if allowed else "refused billing data again in"
    said = (
        f":ledger: *Channel shared with another organization*\n<@{user}> {what} <#{channel}> "
        f"(`/billing allow-external-channel{'' if allowed else ' off'}`), {local_time(at)}"
    )
    return finish(f"<@{user}> {what} <#{channel}>", [section(said)])
