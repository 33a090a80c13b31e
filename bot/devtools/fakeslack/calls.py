"""What was recorded: one request the bot made to the stand-in for Slack."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.devtools.fakeslack.reading import message_text

# Calls a user sees: the console shows these, `SlackCall.visible` tells them apart.
_VISIBLE_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.update",
        "chat.delete",
        "files.completeUploadExternal",
        "views.open",
        "views.update",
        "views.push",
        "views.publish",
    }
)


@dataclass
class SlackCall:
    """One request the bot made to (the stand-in for) Slack.

    `body` is the parsed JSON or form body merged with the query string, with JSON-text fields
    (`blocks`, `attachments`, `files`, `view`, ...) parsed. `headers` are as received,
    `Authorization` included: never print them.

    Past the four fields of the contract, LocalSlack notes what it made of the call: `status`
    and `error` (None when Slack would have said ok), and for message calls the `channel`, the
    message `ts` and whether the message is `ephemeral`.
    """

    kind: Literal["api", "response", "upload"]
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 200
    error: str | None = None
    channel: str | None = None
    ts: str | None = None
    ephemeral: bool = False
    url: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and self.status < 400

    @property
    def visible(self) -> bool:
        """A message, file or view a user would see (whether or not Slack accepted it)."""
        return self.kind == "response" or (self.kind == "api" and self.method in _VISIBLE_METHODS)

    def summary(self) -> str:
        """One line for listings; never includes headers."""
        where = f" channel={self.channel}" if self.channel else ""
        ts = f" ts={self.ts}" if self.ts else ""
        outcome = "" if self.ok else f" -> {self.status} {self.error or ''}".rstrip()
        text = _one_line(message_text(self.body)) if self.visible else _one_line(_brief(self.body))
        return f"{self.kind} {self.method}{where}{ts}{outcome}: {text}"


def _one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _brief(body: Mapping[str, Any]) -> str:
    keys = ("channel", "user", "filename", "file", "size", "ts", "message_ts")
    return " ".join(f"{k}={body[k]}" for k in keys if k in body)
