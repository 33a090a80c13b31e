"""How the console writes what it shows: a call's content, a message as read, headed blocks."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.devtools.fakeslack import (
    SlackCall,
    message_text,
)


def content_of(call: SlackCall) -> Mapping[str, Any]:
    """What a call shows: the view of a `views.*` call, the message of the others."""
    if call.method.startswith("views."):
        view = call.body.get("view")
        return view if isinstance(view, Mapping) else {}
    return call.body


def is_modal(call: SlackCall) -> bool:
    return call.method.startswith("views.") and content_of(call).get("type") == "modal"


def json_object(text: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def seen_text(message: dict[str, Any]) -> str:
    """The message as the user reads it: Slack shows its three escapes as the characters."""
    text = message_text(message)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def with_notes(name: str, notes: list[str]) -> str:
    return f"{name} ({', '.join(notes)})" if notes else name


def headed(header: str, text: str) -> str:
    lines = text.splitlines() or [""]
    if len(lines) == 1 and header.startswith("#"):
        return f"{header}: {lines[0]}"
    return header + ":\n" + "\n".join(f"  {line}" if line else "" for line in lines)


def what_was_sent(call: SlackCall) -> str:
    return "reply" if call.kind == "response" else call.method


def button_label(button: dict[str, Any]) -> str:
    return plain(button.get("text"))


def plain(obj: object) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return "" if obj is None else str(obj)


def truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def is_progress(message: dict[str, Any]) -> bool:
    text = message_text(message).strip().lower()
    return "working on it" in text or text.endswith(("…", "..."))


def one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
