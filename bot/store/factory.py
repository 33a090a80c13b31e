"""Every store the bot keeps state in, made in one place from the settings.

In this process, or in Redis when `REDIS_URL` is set so that several replicas share one
cache, one set of pending confirmations, one event memory, and the schedules, budgets and anomalies
(else in SQLite, `SQLITE_PATH`). With Redis there is one client and one signer for all of
them; `Backends.health` checks every backend for `/healthz`, and `Backends.aclose` closes
each once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pydantic import SecretStr

from bot.config import Settings
from bot.core.cache import AnswerCache, MemoryCache
from bot.core.changes.model import MemoryPendingStore, PendingStore
from bot.core.scheduled.budgets import BudgetStore
from bot.core.scheduled.expiry import ExpiryClaims, MemoryExpiryClaims
from bot.core.scheduled.schedules import ScheduleStore
from bot.core.watch.lifecycle import AnomalyStore
from bot.store.dedupe import Dedupe, MemoryDedupe
from bot.store.external_channels import ExternalChannelStore, SqliteExternalChannelStore
from bot.store.sqlite_anomalies import SqliteAnomalyStore
from bot.store.sqlite_budgets import SqliteBudgetStore
from bot.store.sqlite_claims import SqliteClaims
from bot.store.sqlite_schedules import SqliteScheduleStore

HealthCheck = Callable[[], Awaitable[bool]]


@dataclass
class Backends:
    cache: AnswerCache
    pending: PendingStore
    dedupe: Dedupe
    schedules: ScheduleStore
    budgets: BudgetStore
    anomalies: AnomalyStore
    external_channels: ExternalChannelStore
    # backend name ("redis", "sqlite") -> whether it answers; one entry per backend in use
    checks: dict[str, HealthCheck] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # once-only claims of the credential expiry reminders (bot.core.scheduled.expiry)
    claims: ExpiryClaims = field(default_factory=MemoryExpiryClaims)

    async def health(self) -> dict[str, bool]:
        """Backend name -> reachable, for /healthz: every backend, checked at once."""
        results = await asyncio.gather(*(check() for check in self.checks.values()))
        return dict(zip(self.checks, results, strict=True))

    async def aclose(self) -> None:
        for close in reversed(self.closers):
            await close()
        self.closers.clear()


def make_backends(settings: Settings, *, namespace: str | None = None) -> Backends:
    """Redis when `REDIS_URL` is set (keys under `namespace`, by default `billing-bot:`);
    else the cache, confirmations and event memory in this process and the schedules and
    budgets in SQLite."""
    if settings.redis_url is not None:
        return _on_redis(settings, settings.redis_url, namespace)
    cache = MemoryCache(settings.cache_ttl_seconds)
    schedules = SqliteScheduleStore(settings.sqlite_path)
    budgets = SqliteBudgetStore(settings.sqlite_path)
    claims = SqliteClaims(settings.sqlite_path)
    anomalies = SqliteAnomalyStore(settings.sqlite_path)
    external = SqliteExternalChannelStore(settings.sqlite_path)

    async def sqlite() -> bool:
        pings = (schedules.ping(), budgets.ping(), anomalies.ping(), external.ping())
        return all(await asyncio.gather(*pings))

    return Backends(
        cache=cache,
        pending=MemoryPendingStore(),
        dedupe=MemoryDedupe(),
        schedules=schedules,
        budgets=budgets,
        anomalies=anomalies,
        external_channels=external,
        checks={"sqlite": sqlite},
        closers=[
            schedules.aclose,
            budgets.aclose,
            anomalies.aclose,
            external.aclose,
            claims.aclose,
            cache.aclose,
        ],
        claims=claims,
    )


def _on_redis(settings: Settings, url: SecretStr, namespace: str | None) -> Backends:
    # Imported here: redis-py is not loaded by a bot that does not use it.
    from bot.store.redis_anomalies import RedisAnomalyStore
    from bot.store.redis_budgets import RedisBudgetStore
    from bot.store.redis_claims import RedisClaims
    from bot.store.redis_client import NAMESPACE, ping, redis_client
    from bot.store.redis_external_channels import RedisExternalChannelStore
    from bot.store.redis_schedules import RedisScheduleStore
    from bot.store.redis_store import RedisCache, RedisDedupe, RedisPendingStore
    from bot.store.signing import Signer

    signer = Signer.from_settings(settings)
    client = redis_client(url.get_secret_value())
    space = NAMESPACE if namespace is None else namespace
    cache = RedisCache(client, settings.cache_ttl_seconds, signer=signer, namespace=space)

    async def redis() -> bool:
        return await ping(client)

    # The stores share the client and close nothing of their own: it is closed once, last.
    return Backends(
        cache=cache,
        pending=RedisPendingStore(client, signer=signer, namespace=space),
        dedupe=RedisDedupe(client, namespace=space),
        schedules=RedisScheduleStore(client, signer=signer, namespace=space),
        budgets=RedisBudgetStore(client, signer=signer, namespace=space),
        anomalies=RedisAnomalyStore(client, signer=signer, namespace=space),
        external_channels=RedisExternalChannelStore(client, signer=signer, namespace=space),
        checks={"redis": redis},
        closers=[client.aclose, cache.aclose],  # run in reverse: the cache, then the client
        claims=RedisClaims(client, namespace=space),
    )
