"""The channels an admin allowed billing data in although they are shared with another
organization: every store keeps them alike, and a Redis value nobody signed is not an opt-in."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from redis.asyncio import Redis
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.delivery import ChannelGuard, ExternalChannel
from bot.store.external_channels import (
    AllowedChannel,
    ExternalChannelStore,
    MemoryExternalChannelStore,
    SqliteExternalChannelStore,
)
from bot.store.redis_external_channels import RedisExternalChannelStore
from bot.store.signing import Signer
from tests.redis_server import RedisServer, redis_server  # noqa: F401 - fixture

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SIGNER = Signer(b"k" * 32)


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:  # noqa: F811
    client = Redis.from_url(redis_server.url)
    try:
        yield client
    finally:
        await client.aclose()


async def check_store(store: ExternalChannelStore) -> None:
    assert await store.get("C1") is None
    await store.allow(AllowedChannel(channel="C1", allowed_by="U_ADMIN", allowed_at=AT))
    await store.allow(AllowedChannel(channel="C0", allowed_by="U_BOSS", allowed_at=AT))
    entry = await store.get("C1")
    assert entry is not None
    assert (entry.allowed_by, entry.allowed_at) == ("U_ADMIN", AT)
    assert [e.channel for e in await store.list()] == ["C0", "C1"]
    assert await store.revoke("C1") is True
    assert await store.revoke("C1") is False
    assert await store.get("C1") is None
    assert [e.channel for e in await store.list()] == ["C0"]


async def test_memory_store() -> None:
    await check_store(MemoryExternalChannelStore())


async def test_sqlite_store_keeps_them_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    store = SqliteExternalChannelStore(path)
    await check_store(store)
    await store.aclose()
    again = SqliteExternalChannelStore(path)
    try:
        assert [e.channel for e in await again.list()] == ["C0"]
    finally:
        await again.aclose()


async def test_redis_store_and_a_forged_opt_in_reads_as_absent(redis: Redis) -> None:
    namespace = f"test-{secrets.token_hex(4)}:"
    make: Callable[[], RedisExternalChannelStore] = lambda: RedisExternalChannelStore(  # noqa: E731
        redis, signer=SIGNER, namespace=namespace
    )
    await check_store(make())
    forged = AllowedChannel(channel="C9", allowed_by="U_X", allowed_at=AT).model_dump_json()
    await redis.set(f"{namespace}external-channel:C9", forged.encode())
    await redis.sadd(f"{namespace}external-channels", "C9")
    store = make()
    assert await store.get("C9") is None, "unsigned: not allowed"
    copied = await redis.get(f"{namespace}external-channel:C0")
    assert copied is not None
    await redis.set(f"{namespace}external-channel:C8", copied)
    assert await store.get("C8") is None, "signed for another channel: not allowed"
    assert [e.channel for e in await store.list()] == ["C0"]


class InfoClient:
    """conversations.info as Slack answers it; `error` makes it refuse."""

    def __init__(self, shared: bool) -> None:
        self.shared = shared
        self.error: str | None = None
        self.asked = 0

    async def conversations_info(self, *, channel: str) -> dict[str, Any]:
        self.asked += 1
        if self.error:
            raise SlackApiError(self.error, {"ok": False, "error": self.error})  # type: ignore[no-untyped-call]
        return {"ok": True, "channel": {"id": channel, "is_ext_shared": self.shared}}


def guard_of(client: InfoClient, clock: list[float]) -> ChannelGuard:
    web = cast(AsyncWebClient, client)
    return ChannelGuard(web, MemoryExternalChannelStore(), ttl=600, timer=lambda: clock[0])


async def test_the_guard_asks_slack_once_per_channel_a_while_and_refuses_what_it_cannot_tell() -> (
    None
):
    client, clock = InfoClient(shared=False), [0.0]
    guard = guard_of(client, clock)
    await guard.check("C1")
    await guard.check("C1")
    assert client.asked == 1, "remembered"
    client.shared = True
    clock[0] = 601.0
    with pytest.raises(ExternalChannel):
        await guard.check("C1")  # shared since: seen once the answer is old
    await guard.allowed.allow(AllowedChannel(channel="C1", allowed_by="U_ADMIN", allowed_at=AT))
    await guard.check("C1")
    client.error = "channel_not_found"  # a private channel the bot is not in
    with pytest.raises(ExternalChannel, match="could not check"):
        await guard.check("C2")
    await guard.check("D2")  # a direct message is not checked
    assert client.asked == 3
