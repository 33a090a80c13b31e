"""The demo workspace as the stand-in presents it: the bot's IDs, the team's domain, and the
objects Slack returns for its users, channels and the bot's messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
APP_ID = "A0BILLING"
TEAM_DOMAIN = "demo"


def bot_message(body: Mapping[str, Any], ts: str) -> dict[str, Any]:
    """The message object Slack returns (and sends with clicks) for a message the bot posted."""
    message: dict[str, Any] = {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "team": "T0001",
        "text": str(body.get("text") or ""),
        "ts": ts,
    }
    for key in ("blocks", "attachments", "thread_ts", "metadata"):
        if body.get(key):
            message[key] = body[key]
    return message


def conversation_id(channel: str) -> str:
    """chat.postMessage to a user ID posts in the DM with that user."""
    return "D" + channel[1:] if channel.startswith(("U", "W")) else channel


def channel_name(channel_id: str) -> str:
    if channel_id.startswith("D"):
        return "directmessage"
    return channel_id.removeprefix("C_").removeprefix("G_").lower().replace("_", "-")


def user_name(user_id: str) -> str:
    return user_id.removeprefix("U_").lower().replace("_", ".")


def channel_object(channel_id: str, *, ext_shared: bool = False) -> dict[str, Any]:
    is_im = channel_id.startswith("D")
    return {
        "id": channel_id,
        "name": channel_name(channel_id),
        "is_channel": not is_im,
        "is_group": False,
        "is_im": is_im,
        "is_private": is_im,
        "is_archived": False,
        "is_general": channel_id == "C_GENERAL",
        "is_shared": ext_shared,
        "is_ext_shared": ext_shared,
        "is_org_shared": False,
        "is_member": True,
        "created": 1_600_000_000,
        "creator": "U_ADMIN",
        "context_team_id": "T0001",
        "num_members": 2 if is_im else 42,
    }


def user_object(user_id: str, *, external: bool = False) -> dict[str, Any]:
    name = user_name(user_id)
    real_name = name.replace(".", " ").title()
    team = "T_PARTNER" if external else "T0001"
    return {
        "id": user_id,
        "team_id": team,
        "name": name,
        "deleted": False,
        "real_name": real_name,
        "tz": "Etc/UTC",
        "tz_label": "Coordinated Universal Time",
        "tz_offset": 0,
        "is_admin": False,
        "is_owner": False,
        "is_bot": user_id == BOT_USER_ID,
        "is_app_user": False,
        "profile": {"real_name": real_name, "display_name": name, "team": team},
    }
