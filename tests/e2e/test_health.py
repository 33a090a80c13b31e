"""`GET /healthz` checks every backend the bot keeps state in: SQLite (schedules and budgets)
without Redis, Redis with `REDIS_URL`; 503 when one does not answer. With Redis the bot holds
one client for all of its stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from redis.asyncio.connection import ConnectionPool

from bot.store import redis_client
from tests.e2e.stack import ADMIN, PATIENCE, Stack, close_stack, make_stack, seen
from tests.redis_server import (  # noqa: F401 - fixtures
    RedisServer,
    free_port,
    pools,
    redis_server,
)


async def health(stack: Stack) -> tuple[int, Any]:
    async with httpx.AsyncClient() as client:
        response = await client.get(stack.bot_url + "/healthz")
    return response.status_code, response.json()


@pytest.fixture
async def on_redis(
    redis_server: RedisServer,  # noqa: F811
    pools: list[ConnectionPool],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Stack]:
    # The ping's 1 s limit is for production; a starved test machine gets more.
    monkeypatch.setattr(redis_client, "HEALTH_TIMEOUT_SECONDS", PATIENCE)
    stack = await make_stack(redis_url=SecretStr(redis_server.url))
    try:
        yield stack
    finally:
        await close_stack(stack)
        direct = Redis.from_url(redis_server.url)
        try:  # the other tests on this server keep to namespaces of their own
            keys = [key async for key in direct.scan_iter(match="billing-bot:*")]
            if keys:
                await direct.unlink(*keys)
        finally:
            await direct.aclose()


async def test_healthz_checks_sqlite_without_redis(stack: Stack) -> None:
    assert await health(stack) == (200, {"ok": True, "backends": {"sqlite": True}})


async def test_healthz_is_503_when_the_sqlite_file_cannot_be_opened(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    stack = await make_stack(sqlite_path=str(not_a_directory / "state.sqlite3"))
    try:
        assert await health(stack) == (503, {"ok": False, "backends": {"sqlite": False}})
    finally:
        await close_stack(stack)


async def test_with_redis_every_store_shares_one_client(
    on_redis: Stack,
    pools: list[ConnectionPool],  # noqa: F811
    redis_server: RedisServer,  # noqa: F811
) -> None:
    stack = on_redis
    assert await health(stack) == (200, {"ok": True, "backends": {"redis": True}})
    _, budgeted = await stack.ask("budget video-platform 500", user_id=ADMIN)
    assert "500.00 USD" in seen(budgeted)
    _, scheduled = await stack.ask("schedule monthly", user_id=ADMIN)
    assert "schedule cancel" in seen(scheduled)
    _, methods = await stack.ask("payment-methods")  # the answer cache, the event memory
    assert "AWS Marketplace" in seen(methods)
    assert len(pools) == 1, "one Redis client for the cache, confirmations, events, schedules"
    direct = Redis.from_url(redis_server.url)
    try:  # the schedules and budgets went to Redis, not to SQLite
        assert await direct.exists("billing-bot:budget:video-platform")
        assert await direct.scard("billing-bot:schedules") == 1
    finally:
        await direct.aclose()


async def test_healthz_is_503_when_redis_is_away() -> None:
    stack = await make_stack(redis_url=SecretStr(f"redis://127.0.0.1:{free_port()}/0"))
    try:
        assert await health(stack) == (503, {"ok": False, "backends": {"redis": False}})
    finally:
        await close_stack(stack)
