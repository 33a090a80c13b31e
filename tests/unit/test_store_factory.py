"""`make_backends`: every store from one factory. Without Redis the schedules and budgets are in
SQLite; with `REDIS_URL` every store is on one Redis client (one connection pool), and the
health check covers every backend in use."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr
from redis.asyncio.connection import ConnectionPool

from bot.config import Settings
from bot.core.cache import MemoryCache
from bot.core.changes.model import MemoryPendingStore
from bot.core.language.commands import Frequency
from bot.core.scheduled.budgets import Budget
from bot.core.scheduled.schedules import Schedule, new_schedule_id
from bot.store import redis_client
from bot.store.dedupe import MemoryDedupe
from bot.store.factory import make_backends
from bot.store.redis_budgets import RedisBudgetStore
from bot.store.redis_schedules import RedisScheduleStore
from bot.store.redis_store import RedisCache, RedisDedupe, RedisPendingStore
from bot.store.sqlite_budgets import SqliteBudgetStore
from bot.store.sqlite_schedules import SqliteScheduleStore
from tests.redis_server import (  # noqa: F401 - fixtures
    RedisServer,
    free_port,
    pools,
    redis_server,
)

AT = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
PATIENCE = 120.0


def schedule() -> Schedule:
    return Schedule(
        id=new_schedule_id(),
        frequency=Frequency.MONTHLY,
        report_words="",
        channel="C-FINANCE",
        created_by="U-ADMIN",
        created_at=AT,
    )


def budget() -> Budget:
    return Budget(name="web", amount=Decimal(1000), channel="C-OPS", set_by="U1", set_at=AT)


def on_redis(url: str) -> Settings:
    return Settings(
        _env_file=None,
        redis_url=SecretStr(url),
        slack_signing_secret=SecretStr("signing-" + secrets.token_hex(8)),
    )


async def test_without_redis_schedules_and_budgets_are_in_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b.sqlite3"
    backends = make_backends(Settings(_env_file=None, sqlite_path=str(path)))
    try:
        assert isinstance(backends.cache, MemoryCache)
        assert isinstance(backends.pending, MemoryPendingStore)
        assert isinstance(backends.dedupe, MemoryDedupe)
        assert isinstance(backends.schedules, SqliteScheduleStore)
        assert isinstance(backends.budgets, SqliteBudgetStore)
        await backends.schedules.add(schedule())
        await backends.budgets.set(budget())
        assert len(await backends.schedules.list()) == 1
        assert len(await backends.budgets.list()) == 1
        assert await backends.health() == {"sqlite": True}
    finally:
        await backends.aclose()
    assert path.exists()
    assert await backends.health() == {"sqlite": False}, "closed"
    await backends.aclose()  # closed once: a second close has nothing left to do


async def test_a_sqlite_file_that_cannot_be_opened_is_unhealthy(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    settings = Settings(_env_file=None, sqlite_path=str(not_a_directory / "state.sqlite3"))
    backends = make_backends(settings)
    try:
        assert await backends.health() == {"sqlite": False}
    finally:
        await backends.aclose()


async def test_with_redis_every_store_is_on_one_client(
    redis_server: RedisServer,  # noqa: F811
    pools: list[ConnectionPool],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(redis_client, "HEALTH_TIMEOUT_SECONDS", PATIENCE)
    namespace = f"test-{secrets.token_hex(4)}:"
    backends = make_backends(on_redis(redis_server.url), namespace=namespace)
    try:
        assert isinstance(backends.cache, RedisCache)
        assert isinstance(backends.pending, RedisPendingStore)
        assert isinstance(backends.dedupe, RedisDedupe)
        assert isinstance(backends.schedules, RedisScheduleStore)
        assert isinstance(backends.budgets, RedisBudgetStore)
        monthly = schedule()
        await backends.schedules.add(monthly)
        await backends.budgets.set(budget())
        assert await backends.dedupe.first_time("Ev1") is True
        assert await backends.cache.get_or_load("k", _load) == "loaded"
        assert await backends.schedules.get(monthly.id) == monthly
        assert await backends.budgets.get("web") == budget()
        assert await backends.health() == {"redis": True}
        assert len(pools) == 1, "one Redis client for every store"
    finally:
        await backends.aclose()


async def _load() -> str:
    return "loaded"


async def test_with_redis_away_the_health_check_says_so(
    pools: list[ConnectionPool],  # noqa: F811
) -> None:
    backends = make_backends(on_redis(f"redis://127.0.0.1:{free_port()}/0"))
    try:
        assert await backends.health() == {"redis": False}
    finally:
        await backends.aclose()
    assert len(pools) == 1
