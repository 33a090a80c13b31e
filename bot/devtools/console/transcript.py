"""What a user would see of each call the bot made to the stand-in for Slack."""

from __future__ import annotations

import contextlib

from bot.devtools.console.form import OpenForm
from bot.devtools.console.text import (
    _block,
    _content,
    _is_modal,
    _plain,
    _seen,
    _truthy,
    _what,
    _who,
)
from bot.devtools.fakeslack import (
    LocalSlack,
    SlackCall,
)


def render_call(call: SlackCall, slack: LocalSlack, *, home_channel: str) -> str | None:
    """What a user would see of one call the bot made, or None for plumbing (auth.test...)."""
    if call.kind == "upload":
        return None
    if not call.ok:
        if not call.visible:
            return None
        return f"(Slack refused the bot's {_what(call)}: {call.error or call.status})"
    body = call.body
    if call.kind == "response":
        if _truthy(body.get("delete_original")):
            return "(billing-bot deleted its message)"
        notes = ["only visible to you"] if call.ephemeral else []
        if _truthy(body.get("replace_original")):
            notes.append("updated")
        return _block(_who("billing-bot", notes), _seen(body))
    method = call.method
    channel = call.channel or str(body.get("channel") or "")
    if method == "chat.postMessage":
        notes = ["in thread"] if body.get("thread_ts") else []
        if channel == home_channel:
            return _block(_who("billing-bot", notes), _seen(body))
        if channel.startswith("D"):
            return _block(_who("billing-bot", ["direct message", *notes]), _seen(body))
        return _block(_who(f"#{channel}", notes), _seen(body))
    if method == "chat.postEphemeral":
        return _block(_who("billing-bot", ["only visible to you"]), _seen(body))
    if method == "chat.update":
        if channel.startswith("D"):
            return _block(_who("billing-bot", ["direct message", "updated"]), _seen(body))
        who = "billing-bot" if channel == home_channel else f"#{channel}"
        return _block(_who(who, ["updated"]), _seen(body))
    if method == "chat.delete":
        return "(billing-bot deleted a message)"
    if method == "files.completeUploadExternal":
        return _files_text(call, slack)
    if method == "views.publish":
        return _block("[Home tab] billing-bot", _seen(dict(_content(call))))
    if method.startswith("views."):
        if _is_modal(call):
            with contextlib.suppress(LookupError, ValueError):  # inputs it cannot show
                form = OpenForm(call, view_id=None, current_conversation=home_channel)
                return _block(f"[modal] {form.title}", form.text())
        view = _content(call)
        title = _plain(view.get("title")) or "view"
        return _block(f"[modal] {title}", _seen({"blocks": view.get("blocks") or []}))
    return None


def _files_text(call: SlackCall, slack: LocalSlack) -> str:
    lines: list[str] = []
    comment = call.body.get("initial_comment")
    if comment:
        lines.append(_block("billing-bot", str(comment)))
    where = f" in #{call.channel}" if call.channel else ""
    for entry in call.body.get("files") or []:
        file_id = str(entry.get("id")) if isinstance(entry, dict) else ""
        try:
            info = slack.upload(file_id)
        except KeyError:
            continue
        lines.append(f"[file] {info['name']} ({len(slack.files.get(file_id, b''))} bytes){where}")
    return "\n".join(lines)
