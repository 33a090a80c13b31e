"""What a user would see of each call the bot made to the stand-in for Slack."""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path

from bot.devtools.console.form import OpenForm
from bot.devtools.console.text import (
    content_of,
    headed,
    is_modal,
    plain,
    seen_text,
    truthy,
    what_was_sent,
    with_notes,
)
from bot.devtools.fakeslack import (
    LocalSlack,
    SlackCall,
)


def render_call(
    call: SlackCall, slack: LocalSlack, *, home_channel: str, files_dir: Path | None = None
) -> str | None:
    """What a user would see of one call the bot made, or None for plumbing (auth.test...).

    With `files_dir`, each file the bot uploads is saved there (and its path shown), so that
    it can be opened."""
    if call.kind == "upload":
        return None
    if not call.ok:
        if not call.visible:
            return None
        return f"(Slack refused the bot's {what_was_sent(call)}: {call.error or call.status})"
    body = call.body
    if call.kind == "response":
        if truthy(body.get("delete_original")):
            return "(billing-bot deleted its message)"
        notes = ["only visible to you"] if call.ephemeral else []
        if truthy(body.get("replace_original")):
            notes.append("updated")
        return headed(with_notes("billing-bot", notes), seen_text(body))
    method = call.method
    channel = call.channel or str(body.get("channel") or "")
    if method == "chat.postMessage":
        notes = ["in thread"] if body.get("thread_ts") else []
        if channel == home_channel:
            return headed(with_notes("billing-bot", notes), seen_text(body))
        if channel.startswith("D"):
            return headed(with_notes("billing-bot", ["direct message", *notes]), seen_text(body))
        return headed(with_notes(f"#{channel}", notes), seen_text(body))
    if method == "chat.postEphemeral":
        return headed(with_notes("billing-bot", ["only visible to you"]), seen_text(body))
    if method == "chat.update":
        if channel.startswith("D"):
            return headed(with_notes("billing-bot", ["direct message", "updated"]), seen_text(body))
        who = "billing-bot" if channel == home_channel else f"#{channel}"
        return headed(with_notes(who, ["updated"]), seen_text(body))
    if method == "chat.delete":
        return "(billing-bot deleted a message)"
    if method == "files.completeUploadExternal":
        return _files_text(call, slack, files_dir)
    if method == "views.publish":
        return headed("[Home tab] billing-bot", seen_text(dict(content_of(call))))
    if method.startswith("views."):
        if is_modal(call):
            with contextlib.suppress(LookupError, ValueError):  # inputs it cannot show
                form = OpenForm(call, view_id=None, current_conversation=home_channel)
                return headed(f"[modal] {form.title}", form.text())
        view = content_of(call)
        title = plain(view.get("title")) or "view"
        return headed(f"[modal] {title}", seen_text({"blocks": view.get("blocks") or []}))
    return None


def _files_text(call: SlackCall, slack: LocalSlack, files_dir: Path | None) -> str:
    lines: list[str] = []
    comment = call.body.get("initial_comment")
    if comment:
        lines.append(headed("billing-bot", str(comment)))
    where = f" in #{call.channel}" if call.channel else ""
    if call.body.get("thread_ts"):
        where += " (in thread)"
    for entry in call.body.get("files") or []:
        file_id = str(entry.get("id")) if isinstance(entry, dict) else ""
        try:
            info = slack.upload(file_id)
        except KeyError:
            continue
        data = slack.files.get(file_id, b"")
        line = f"[file] {info['name']} ({len(data)} bytes){where}"
        if files_dir is not None:
            line += f"\n       saved as {_save(files_dir, str(info['name']), data)}"
        lines.append(line)
    return "\n".join(lines)


def _save(files_dir: Path, name: str, data: bytes) -> Path:
    """Write `data` under `name` in `files_dir` (never outside it), numbered if taken."""
    base = Path(Path(name).name or "file")
    path = files_dir / base
    for n in itertools.count(2):
        if not path.exists():
            break
        path = files_dir / f"{base.stem}-{n}{base.suffix}"
    path.write_bytes(data)
    return path
