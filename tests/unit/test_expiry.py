"""Which reminder is due when a credential expires, and the once-only claims behind them: in
this process, in one SQLite file two processes share, and in Redis."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.core.scheduled.expiry import (
    Expiry,
    ExpiryClaims,
    ExpiryWatch,
    MemoryExpiryClaims,
    milestone,
)
from bot.store.redis_claims import RedisClaims
from bot.store.sqlite_claims import SqliteClaims
from tests.redis_server import RedisServer, redis_server  # noqa: F401 - fixture

NOW = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("left", "due"),
    [
        (timedelta(days=45), None),
        (timedelta(days=30, seconds=1), None),
        (timedelta(days=30), 30),
        (timedelta(days=8), 30),
        (timedelta(days=7), 7),
        (timedelta(days=5), 7),  # down at the 30-day mark: the nearest milestone only
        (timedelta(days=1), 1),
        (timedelta(minutes=1), 1),
        (timedelta(0), 0),
        (-timedelta(days=3), 0),
    ],
)
def test_the_milestone_reached(left: timedelta, due: int | None) -> None:
    assert milestone(NOW + left, NOW) == due


ClaimsPair = tuple[ExpiryClaims, ExpiryClaims]


async def one_winner(pair: ClaimsPair) -> None:
    a, b = pair
    key = "remind:MKIO_TOKEN@2026-12-01:7"
    won = await asyncio.gather(*(c.claim(key, timedelta(days=40)) for c in (a, b, a, b)))
    assert sorted(won) == [False, False, False, True]
    assert await a.claim("remind:MKIO_TOKEN@2026-12-01:1", timedelta(days=40))


async def test_memory_claims_have_one_winner() -> None:
    claims = MemoryExpiryClaims()
    await one_winner((claims, claims))


async def test_sqlite_claims_have_one_winner_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    a, b = SqliteClaims(path), SqliteClaims(path)  # two processes' connections to one file
    try:
        await one_winner((a, b))
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_lapsed_sqlite_claim_can_be_claimed_again(tmp_path: Path) -> None:
    now = [NOW]
    claims = SqliteClaims(tmp_path / "state.sqlite3", clock=lambda: now[0])
    try:
        assert await claims.claim("check:2026-11-21", timedelta(days=2))
        now[0] += timedelta(days=1)
        assert not await claims.claim("check:2026-11-21", timedelta(days=2))
        now[0] += timedelta(days=1, seconds=1)
        assert await claims.claim("check:2026-11-21", timedelta(days=2))
    finally:
        await claims.aclose()


@pytest.fixture
async def redis_pair(redis_server: RedisServer) -> AsyncIterator[ClaimsPair]:  # noqa: F811
    a, b = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
    space = f"test-{secrets.token_hex(4)}:"
    yield RedisClaims(a, namespace=space), RedisClaims(b, namespace=space)
    await a.aclose()
    await b.aclose()


async def test_redis_claims_have_one_winner_across_replicas(redis_pair: ClaimsPair) -> None:
    await one_winner(redis_pair)


async def test_redis_claims_lapse(redis_server: RedisServer) -> None:  # noqa: F811
    client = Redis.from_url(redis_server.url)
    try:
        space = f"test-{secrets.token_hex(4)}:"
        claims = RedisClaims(client, namespace=space)
        assert await claims.claim("check:2026-11-21", timedelta(days=2))
        assert 0 < await client.ttl(f"{space}claim:check:2026-11-21") <= 2 * 86400
    finally:
        await client.aclose()


async def test_a_reminder_is_claimed_per_day_of_expiry_not_per_second() -> None:
    """The JWT's `exp` and MK.IO's list may name the same day at different times (and the list
    may be unreadable one day): that is the same credential, reminded once."""
    sent: list[tuple[str, int]] = []
    expiries = [Expiry("MKIO_TOKEN", "mkio token", NOW + timedelta(days=5))]

    async def check(now: datetime) -> list[Expiry]:
        return expiries

    async def remind(expiry: Expiry, reached: int, now: datetime) -> None:
        sent.append((expiry.key, reached))

    watch = ExpiryWatch(MemoryExpiryClaims(), check=check, remind=remind)
    await watch.run(NOW)
    expiries[0] = Expiry("MKIO_TOKEN", "mkio token", NOW + timedelta(days=5, hours=3))
    await watch.run(NOW + timedelta(hours=1))
    assert sent == [("MKIO_TOKEN@2026-11-26", 7)]
    # the next token, expiring a year later, starts afresh
    expiries[0] = Expiry("MKIO_TOKEN", "mkio token", NOW + timedelta(days=366))
    await watch.run(NOW + timedelta(days=340))
    assert sent[-1] == ("MKIO_TOKEN@2027-11-22", 30)


async def test_a_reminder_that_fails_is_not_sent_again() -> None:
    tries: list[int] = []

    async def check(now: datetime) -> list[Expiry]:
        return [Expiry("MKIO_TOKEN", "mkio token", NOW + timedelta(days=1))]

    async def remind(expiry: Expiry, reached: int, now: datetime) -> None:
        tries.append(reached)
        raise RuntimeError("Slack is down")

    watch = ExpiryWatch(MemoryExpiryClaims(), check=check, remind=remind)
    [reminder] = await watch.run(NOW)
    assert (reminder.milestone, reminder.sent) == (1, False)
    assert await watch.run(NOW + timedelta(hours=1)) == ()
    assert tries == [1]
