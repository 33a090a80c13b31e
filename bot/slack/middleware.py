"""Bolt middleware that holds for every listener."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.slack.handlers.deps import Deps


async def drop_event_retries(
    body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
) -> BoltResponse | None:
    """An Events API delivery seen before (Slack retries one it thinks went unanswered, with
    the same event_id and an X-Slack-Retry-Num header) is acknowledged and goes no further,
    on any replica: one answer per event. The id, not the header, decides: a retry of an
    event whose first delivery never arrived is still answered."""
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    has_id = isinstance(event_id, str) and event_id != ""
    if has_id and not await Deps.of(context).dedupe.first_time(f"event:{event_id}"):
        return BoltResponse(status=200, body="")
    await next()
    return None
