"""`GET /healthz` checks every backend the bot keeps state in: SQLite (schedules and budgets)
without Redis, Redis with `REDIS_URL`; 503 when one does not answer. With Redis the bot holds
one client for all of its stores. `GET /livez` is 200 while the process serves, whatever the
backends; `GET /readyz` is 503 when a backend does not answer or shutdown has begun."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from redis.asyncio.connection import ConnectionPool

from bot.slack.server import GracefulRunner
from bot.store import redis_client
from tests import redis_server as redis_server_module
from tests.e2e.stack import ADMIN, PATIENCE, Stack, close_stack, make_stack, seen
from tests.redis_server import (  # noqa: F401 - fixtures
    RedisServer,
    free_port,
    pools,
    redis_server,
)


async def health(stack: Stack, path: str = "/healthz") -> tuple[int, Any]:
    async with httpx.AsyncClient(timeout=PATIENCE, trust_env=False) as client:
        response = await client.get(stack.bot_url + path)
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


async def test_probes_when_all_is_well(stack: Stack) -> None:
    assert await health(stack, "/livez") == (200, {"ok": True})
    ready = {"ok": True, "draining": False, "backends": {"sqlite": True}}
    assert await health(stack, "/readyz") == (200, ready)


async def test_a_redis_outage_makes_the_bot_unready_not_dead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(redis_client, "HEALTH_TIMEOUT_SECONDS", PATIENCE)
    server = RedisServer()
    server.start()
    stack = await make_stack(redis_url=SecretStr(server.url))
    try:
        up = {"ok": True, "draining": False, "backends": {"redis": True}}
        assert await health(stack, "/readyz") == (200, up)
        server.stop()
        assert await health(stack, "/livez") == (200, {"ok": True})
        down = {"ok": False, "draining": False, "backends": {"redis": False}}
        assert await health(stack, "/readyz") == (503, down)
        monkeypatch.setattr(redis_server_module, "free_port", lambda: server.port)
        server.start()  # on the same port
        assert await health(stack, "/readyz") == (200, up)
    finally:
        await close_stack(stack)
        server.close()


async def test_readyz_is_503_once_shutdown_begins() -> None:
    # The bot keeps serving through the grace period: a probe sees it not ready, not gone.
    stack = await make_stack(ready_grace_seconds=PATIENCE)
    runner = stack.runners[0]
    assert isinstance(runner, GracefulRunner)
    shutdown = asyncio.create_task(runner.cleanup())
    try:
        await asyncio.sleep(0)  # SIGTERM reached the runner
        draining = {"ok": False, "draining": True, "backends": {"sqlite": True}}
        assert await health(stack, "/readyz") == (503, draining)
        assert await health(stack, "/livez") == (200, {"ok": True})
        sent, answer = await stack.ask("payment-methods")  # Slack's requests are still served
        assert sent.status == 200
        assert "AWS Marketplace" in seen(answer)
    finally:
        shutdown.cancel()
        runner.ready_grace_seconds = 0
        await close_stack(stack)
