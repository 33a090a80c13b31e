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

from bot.observe.metrics import Metrics

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


class ObservedCache:
    """`inner` with each look-up counted (`Metrics.cache_lookup`): a miss when this call's own
    load ran, coalesced when it waited for the same question asked in this process already,
    else a hit (with Redis, an answer another replica loaded, or waited for there, is a hit)."""

    def __init__(self, inner: AnswerCache, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics
        self._asking: dict[str, int] = {}

    async def get_or_load(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        loaded = False

        async def counted() -> T:
            nonlocal loaded
            loaded = True
            return await load()

        waiting = self._asking.get(key, 0)
        self._asking[key] = waiting + 1
        try:
            return await self._inner.get_or_load(key, counted)
        finally:
            if self._asking[key] == 1:
                del self._asking[key]
            else:
                self._asking[key] -= 1
            self._metrics.cache_lookup("miss" if loaded else "coalesced" if waiting else "hit")

    async def invalidate(self, prefix: str) -> None:
        await self._inner.invalidate(prefix)

    async def aclose(self) -> None:
        await self._inner.aclose()
