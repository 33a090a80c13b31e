"""Where shared state lives: in this process, or in Redis when `REDIS_URL` is set so that
several replicas share one cache, one set of pending confirmations and one event memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.config import Settings
from bot.core.cache import AnswerCache, MemoryCache
from bot.core.changes.model import MemoryPendingStore, PendingStore
from bot.store.dedupe import Dedupe, MemoryDedupe


async def _always_healthy() -> dict[str, bool]:
    return {}


@dataclass
class Backends:
    cache: AnswerCache
    pending: PendingStore
    dedupe: Dedupe
    # name -> reachable, for /healthz
    health: Callable[[], Awaitable[dict[str, bool]]] = _always_healthy
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def aclose(self) -> None:
        for close in reversed(self.closers):
            await close()
        self.closers.clear()


def make_backends(settings: Settings) -> Backends:
    if settings.redis_url is not None:
        from bot.store.redis_store import redis_backends

        return redis_backends(settings)
    cache = MemoryCache(settings.cache_ttl_seconds)
    return Backends(
        cache=cache, pending=MemoryPendingStore(), dedupe=MemoryDedupe(), closers=[cache.aclose]
    )
