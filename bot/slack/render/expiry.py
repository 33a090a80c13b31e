"""The reminder each admin gets 30, 7 and 1 days before a credential expires."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.scheduled.expiry import Expiry
from bot.slack.render.common import Message, code, context, escape, finish, section


def render_expiry_reminder(expiry: Expiry, milestone: int, now: datetime) -> Message:
    when = f"{expiry.expires.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    which = escape(expiry.named.strip())
    which = f" {which}" if which else ""
    if milestone == 0:
        said = f"has expired ({when})"
        title = f"{expiry.variable} has expired"
    else:
        days = max((expiry.expires - now).days, 0)
        left = "less than a day" if days == 0 else f"{days} day{'s' if days != 1 else ''}"
        said = f"expires {when}, in {left}"
        title = f"{expiry.variable} expires in {left}"
    renew = f"{escape(expiry.renew)}, then set" if expiry.renew else "Replace it and set"
    lines = [
        f":hourglass: The {escape(expiry.what)}{which} the bot uses {said}.",
        f"{renew[0].upper()}{renew[1:]} {code(expiry.variable)} (or its file, "
        f"{code(expiry.variable + '_FILE')}) and restart the bot: until then, what needs it stops "
        "working when it expires.",
    ]
    note = "Sent to every billing admin, 30, 7 and 1 days before · `billing-bot check` says more"
    return finish(title, [section("\n".join(lines)), context(note)])
