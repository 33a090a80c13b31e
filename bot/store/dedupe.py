"""Remembering which Slack deliveries were already handled, so a retry never answers twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from cachetools import TTLCache

# Slack retries an event for up to about an hour; remember a little longer.
DEDUPE_SECONDS = 2 * 60 * 60


class Dedupe(Protocol):
    async def first_time(self, key: str) -> bool:
        """True exactly once per key (within DEDUPE_SECONDS), whoever asks."""


class MemoryDedupe:
    def __init__(
        self, ttl: float = DEDUPE_SECONDS, *, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self._seen: TTLCache[str, bool] = TTLCache(maxsize=100_000, ttl=ttl, timer=timer)

    async def first_time(self, key: str) -> bool:
        # No await between the check and the set: atomic for every coroutine of this process.
        if key in self._seen:
            return False
        self._seen[key] = True
        return True
