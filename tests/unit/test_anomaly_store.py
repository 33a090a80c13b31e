"""The anomaly stores (memory, SQLite, Redis): one anomaly per series, one change per event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.core.watch.anomalies import Day, Kind, Series, SeriesKey, Source, examine
from bot.core.watch.lifecycle import Anomaly, AnomalyStore, MemoryAnomalyStore, click_event
from bot.store.redis_anomalies import RedisAnomalyStore
from bot.store.signing import Signer
from bot.store.sqlite_anomalies import SqliteAnomalyStore
from tests.redis_server import RedisServer, redis_server  # noqa: F401 - fixture
from tests.store_kinds import STORE_KINDS, StoreKinds, new_namespace

KEY = b"k" * 32
DAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 21, 9, tzinfo=UTC)


def anomaly(project: str = "web", day: date = DAY, cost: str = "500") -> Anomaly:
    key = SeriesKey(Source.MKIO, project, "streaming_egress", "AAS1030101")
    days = {day - timedelta(days=n): Day(Decimal(100)) for n in range(1, 36)}
    series = Series(key, {**days, day: Day(Decimal(cost))}, day - timedelta(days=35))
    finding = examine(series, day)
    assert finding is not None
    assert finding.kind is Kind.SPIKE
    return Anomaly.of(finding, NOW, window_days=28)


@pytest.fixture(params=STORE_KINDS)
async def store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    redis_server: RedisServer,  # noqa: F811
) -> AsyncIterator[AnomalyStore]:
    kinds = StoreKinds[AnomalyStore](
        memory=MemoryAnomalyStore,
        sqlite=lambda: SqliteAnomalyStore(tmp_path / "bot.sqlite3"),
        redis=lambda client: RedisAnomalyStore(
            client, signer=Signer(KEY), namespace=new_namespace()
        ),
    )
    async with kinds.store(request.param, redis_server.url) as made:
        yield made


async def test_one_open_anomaly_per_series(store: AnomalyStore) -> None:
    first = anomaly()
    assert await store.open(first)
    assert not await store.open(first)
    assert not await store.open(anomaly(day=DAY + timedelta(days=1)))  # same series, still open
    assert await store.open(anomaly("api"))
    assert await store.open_count() == 2
    assert sorted(a.project for a in await store.list_open()) == ["api", "web"]
    assert await store.get(first.id) == first
    assert await store.latest(first.series) == first


async def test_a_change_is_applied_once_per_event(store: AnomalyStore) -> None:
    first = anomaly()
    await store.open(first)
    click = click_event("ack", "U1", "1.0")
    acked = await store.change(first.id, click, lambda a: a.acknowledge("U1", NOW))
    assert acked is not None
    assert acked.acknowledged_by == "U1"
    assert await store.change(first.id, click, lambda a: a.acknowledge("U2", NOW)) is None
    assert (await store.get(first.id)) == acked
    # an update that changes nothing records nothing: the event may come again
    assert await store.change(first.id, "x", lambda a: None) is None
    assert await store.change(first.id, "x", lambda a: a.snooze("U1", NOW, NOW)) is not None
    assert await store.change("unknown", "y", lambda a: a) is None


async def test_closing_frees_the_series_but_never_the_id(store: AnomalyStore) -> None:
    first = anomaly()
    await store.open(first)
    closed = await store.change(first.id, "closed", lambda a: a.closed(DAY, NOW))
    assert closed is not None
    assert not closed.open
    assert await store.open_count() == 0
    assert await store.list_open() == []
    assert not await store.open(first)  # the same anomaly never comes back
    later = anomaly(day=DAY + timedelta(days=3))
    assert await store.open(later)
    assert await store.latest(first.series) == later


async def test_channels(store: AnomalyStore) -> None:
    assert await store.channels() == []
    assert await store.set_channel("C2", True)
    assert not await store.set_channel("C2", True)
    assert await store.set_channel("C1", True)
    assert await store.channels() == ["C1", "C2"]
    assert await store.set_channel("C2", False)
    assert not await store.set_channel("C2", False)
    assert await store.channels() == ["C1"]


async def test_the_latest_day_judged_only_moves_forward(store: AnomalyStore) -> None:
    assert await store.judged() is None
    await store.set_judged(DAY)
    await store.set_judged(DAY - timedelta(days=3))  # a slower replica: kept the later day
    assert await store.judged() == DAY
    await store.set_judged(DAY + timedelta(days=1))
    assert await store.judged() == DAY + timedelta(days=1)


async def _race(a: AnomalyStore, b: AnomalyStore) -> None:
    one = anomaly()
    opened = await asyncio.gather(*(s.open(one) for s in (a, b) for _ in range(5)))
    assert sorted(opened) == [False] * 9 + [True]
    event = click_event("snooze", "U1", "2.0")
    changes = await asyncio.gather(
        *(s.change(one.id, event, lambda x: x.snooze("U1", NOW, NOW)) for s in (a, b) * 5)
    )
    assert sum(change is not None for change in changes) == 1


async def test_two_redis_stores_open_and_change_once(redis_server: RedisServer) -> None:  # noqa: F811
    namespace = new_namespace()
    client_a, client_b = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
    try:
        await _race(
            RedisAnomalyStore(client_a, signer=Signer(KEY), namespace=namespace),
            RedisAnomalyStore(client_b, signer=Signer(KEY), namespace=namespace),
        )
    finally:
        await client_a.aclose()
        await client_b.aclose()


async def test_two_sqlite_stores_open_and_change_once(tmp_path: Path) -> None:
    a, b = SqliteAnomalyStore(tmp_path / "s.db"), SqliteAnomalyStore(tmp_path / "s.db")
    try:
        await _race(a, b)
    finally:
        await asyncio.gather(a.aclose(), b.aclose())


async def test_redis_ignores_a_forged_anomaly(redis_server: RedisServer) -> None:  # noqa: F811
    namespace = new_namespace()
    client = Redis.from_url(redis_server.url)
    try:
        store = RedisAnomalyStore(client, signer=Signer(KEY), namespace=namespace)
        one = anomaly()
        await store.open(one)
        await client.set(f"{namespace}anomaly:{one.id}", one.model_dump_json())
        assert await store.get(one.id) is None
        assert await store.change(one.id, "e", lambda a: a) is None
    finally:
        await client.aclose()


async def test_redis_ignores_a_forged_channel_and_day(redis_server: RedisServer) -> None:  # noqa: F811
    """Where alerts go and which days were judged are read from Redis signed, like the
    anomalies: a member or day written by anyone else is never trusted."""
    namespace = new_namespace()
    client = Redis.from_url(redis_server.url)
    try:
        store = RedisAnomalyStore(client, signer=Signer(KEY), namespace=namespace)
        await store.set_channel("C1", True)
        await client.sadd(f"{namespace}anomaly-channels", "C666")
        assert await store.channels() == ["C1"]
        other = RedisAnomalyStore(client, signer=Signer(b"o" * 32), namespace=namespace)
        await other.set_channel("C777", True)
        assert await store.channels() == ["C1"]
        await client.set(f"{namespace}anomaly-judged", "2099-01-01")
        assert await store.judged() is None
        await store.set_judged(DAY)
        assert await store.judged() == DAY
        # pointers are only trusted as far as the signed anomaly they point to agrees
        web, api = anomaly("web"), anomaly("api")
        await store.open(web)
        await store.open(api)
        closed = await store.change(api.id, "closed", lambda a: a.closed(DAY, NOW))
        assert closed is not None
        await client.sadd(f"{namespace}anomalies-open", api.id)
        assert [a.id for a in await store.list_open()] == [web.id]
        await client.set(store._latest(web.series), api.id)
        assert await store.latest(web.series) is None
    finally:
        await client.aclose()
