"""Where shared state lives: in this process, or in Redis when `REDIS_URL` is set so that
several replicas share one cache, one set of pending confirmations and one event memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.core.cache import AnswerCache, MemoryCache
from bot.core.changes.model import MemoryPendingStore, PendingStore
from bot.core.scheduled.budgets import BudgetStore
from bot.core.scheduled.schedules import ScheduleStore
from bot.store.dedupe import Dedupe, MemoryDedupe
from bot.store.sqlite_budgets import SqliteBudgetStore
from bot.store.sqlite_schedules import SqliteScheduleStore

if TYPE_CHECKING:
    from redis.asyncio import Redis


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


@dataclass
class Stores:
    schedules: ScheduleStore
    budgets: BudgetStore
    closers: tuple[Callable[[], Awaitable[None]], ...] = ()

    async def aclose(self) -> None:
        for close in self.closers:
            await close()


def make_stores(
    settings: Settings, *, redis: Redis | None = None, namespace: str | None = None
) -> Stores:
    """The schedule and budget stores the settings ask for: Redis when `REDIS_URL` is set (on
    `redis` if given: the caller closes it; else on a client of their own, closed by
    `aclose`), else SQLite in `SQLITE_PATH`."""
    if settings.redis_url is None:
        schedules = SqliteScheduleStore(settings.sqlite_path)
        budgets = SqliteBudgetStore(settings.sqlite_path)
        return Stores(schedules, budgets, (schedules.aclose, budgets.aclose))
    from bot.store.redis_budgets import RedisBudgetStore
    from bot.store.redis_client import NAMESPACE, redis_client
    from bot.store.redis_schedules import RedisScheduleStore
    from bot.store.signing import Signer

    signer = Signer.from_settings(settings)
    client = redis if redis is not None else redis_client(settings.redis_url.get_secret_value())
    closers = () if redis is not None else (client.aclose,)
    namespace = namespace or NAMESPACE
    return Stores(
        RedisScheduleStore(client, signer=signer, namespace=namespace),
        RedisBudgetStore(client, signer=signer, namespace=namespace),
        closers,
    )
