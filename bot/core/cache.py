"""Short-lived answer cache with single flight.

Identical questions asked while one is being answered share that one upstream call; answers
are reused for `ttl` seconds. Failures are never cached: every waiter gets the same error and
the next question tries again. `AnswerCache` is the interface a shared (Redis) backend
implements for several replicas.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from cachetools import TTLCache

T = TypeVar("T")


class AnswerCache(Protocol):
    async def get_or_load(self, key: str, load: Callable[[], Awaitable[T]]) -> T: ...

    async def invalidate(self, prefix: str) -> None:
        """Drop every answer whose key starts with `prefix`."""

    async def aclose(self) -> None: ...


class MemoryCache:
    """In-process backend: cachetools' TTLCache plus a table of in-flight loads."""

    def __init__(
        self, ttl: float, *, maxsize: int = 2048, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self._answers: TTLCache[str, Any] | None = (
            TTLCache(maxsize=maxsize, ttl=ttl, timer=timer) if ttl > 0 else None
        )
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def get_or_load(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        if self._answers is not None and key in self._answers:
            value: T = self._answers[key]
            return value
        task = self._inflight.get(key)
        if task is None:
            # The load runs in its own task so no caller's cancellation can cancel it for
            # the others; shield keeps each caller's cancellation to itself.
            task = asyncio.ensure_future(self._load(key, load))
            task.add_done_callback(_retrieve_exception)
            self._inflight[key] = task
        result: T = await asyncio.shield(task)
        return result

    async def _load(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        try:
            value = await load()
            if self._answers is not None:
                self._answers[key] = value
            return value
        finally:
            del self._inflight[key]

    async def invalidate(self, prefix: str) -> None:
        if self._answers is not None:
            for key in [k for k in self._answers if k.startswith(prefix)]:
                self._answers.pop(key, None)

    async def aclose(self) -> None:
        if self._answers is not None:
            self._answers.clear()


def _retrieve_exception(task: asyncio.Future[Any]) -> None:
    # Every waiter may have gone away; the error is theirs to see, not the loop's to log.
    if not task.cancelled():
        task.exception()
