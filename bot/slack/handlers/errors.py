"""Last resort for errors no listener caught: log them, never show a trace."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)


async def on_error(error: Exception, body: dict[str, Any]) -> None:
    log.error(
        "unhandled %s for a %s request",
        type(error).__name__,
        body.get("type") or body.get("command") or "slack",
    )


def register(app: AsyncApp) -> None:
    app.error(on_error)
