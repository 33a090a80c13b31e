"""Budgets: the threshold rule, the three stores, and alerts claimed once per project, month
and threshold, also by two stores on one SQLite file and two clients on one real Redis."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.core.scheduled.budgets import (
    Budget,
    BudgetFigures,
    BudgetStore,
    MemoryBudgetStore,
    Threshold,
    crossed,
    month_key,
    worth_posting,
)
from bot.store.redis_budgets import RedisBudgetStore
from bot.store.signing import Signer
from bot.store.sqlite_budgets import SqliteBudgetStore
from tests.redis_server import RedisServer, redis_server  # noqa: F401 - fixture

KEY = b"b" * 32
SET_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
D = Decimal


def budget(project: str = "web", amount: str = "1000", channel: str = "C1") -> Budget:
    return Budget(project=project, amount=D(amount), channel=channel, set_by="U1", set_at=SET_AT)


# --- the rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spent", "high", "sent", "expected"),
    [
        ("0", None, set(), []),
        ("799.99", "999.99", set(), []),
        ("800", None, set(), [Threshold.SPENT_80]),  # reaching counts
        ("800", "1000", set(), [Threshold.SPENT_80, Threshold.ESTIMATE_100]),
        ("999.99", "1500", {"80%", "estimate-100%"}, []),
        ("1000", "1500", {"80%", "estimate-100%"}, [Threshold.SPENT_100]),
        ("1200", None, set(), [Threshold.SPENT_80, Threshold.SPENT_100]),
        ("1200", "1300", {"80%", "100%", "estimate-100%"}, []),
        ("10", "1000.00", set(), [Threshold.ESTIMATE_100]),  # early in the month, trending over
    ],
)
def test_crossed(spent: str, high: str | None, sent: set[str], expected: list[Threshold]) -> None:
    high_value = None if high is None else D(high)
    assert crossed(budget(), D(spent), high_value, sent) == expected


def test_only_news_is_posted_once_the_budget_is_spent() -> None:
    web = budget()
    assert worth_posting(Threshold.SPENT_80, web, D("850"))
    assert worth_posting(Threshold.ESTIMATE_100, web, D("850"))
    assert worth_posting(Threshold.SPENT_100, web, D("1000"))
    assert not worth_posting(Threshold.SPENT_80, web, D("1000"))
    assert not worth_posting(Threshold.ESTIMATE_100, web, D("1001"))


def test_figures_and_month_keys() -> None:
    figures = BudgetFigures("2026-11", D("850"), D("1200"), D("1000"), "USD")
    assert figures.share == D("0.85")
    assert month_key(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == "2026-11"
    assert month_key(datetime(2026, 12, 1, tzinfo=UTC)) == "2026-12"
    with pytest.raises(ValueError, match="time zone"):
        month_key(datetime(2026, 12, 1))


# --- the stores -----------------------------------------------------------------------------


def _namespace() -> str:
    return f"test-{secrets.token_hex(4)}:"


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    redis_server: RedisServer,  # noqa: F811
) -> AsyncIterator[BudgetStore]:
    client: Redis | None = None
    made: BudgetStore
    if request.param == "memory":
        made = MemoryBudgetStore()
    elif request.param == "sqlite":
        made = SqliteBudgetStore(tmp_path / "bot.sqlite3")
    else:
        client = Redis.from_url(redis_server.url)
        made = RedisBudgetStore(client, signer=Signer(KEY), namespace=_namespace())
    try:
        yield made
    finally:
        await made.aclose()
        if client is not None:
            await client.aclose()


async def test_set_get_list_remove(store: BudgetStore) -> None:
    web, api = budget("web", "1000.50"), budget("api", "12500", channel="C2")
    await store.set(web)
    await store.set(api)
    assert await store.list() == [api, web]  # by project
    assert await store.get("web") == web
    assert (await store.get("web") or web).amount == D("1000.50")
    assert await store.get("nope") is None
    raised = web.model_copy(update={"amount": D("2000")})
    await store.set(raised)
    assert await store.get("web") == raised
    assert await store.remove("web") is True
    assert await store.remove("web") is False
    assert await store.list() == [api]


async def test_each_alert_is_claimed_once_a_month(store: BudgetStore) -> None:
    await store.set(budget())
    assert await store.claim_alert("web", "2026-11", Threshold.SPENT_80) is True
    assert await store.claim_alert("web", "2026-11", Threshold.SPENT_80) is False
    assert await store.claim_alert("web", "2026-11", Threshold.SPENT_100) is True
    assert await store.sent("web", "2026-11") == {"80%", "100%"}
    assert await store.sent("web", "2026-12") == set()
    # next month, afresh; and November's are no longer kept
    assert await store.claim_alert("web", "2026-12", Threshold.SPENT_80) is True
    assert await store.sent("web", "2026-12") == {"80%"}
    assert await store.sent("web", "2026-11") == set()
    assert await store.claim_alert("nope", "2026-12", Threshold.SPENT_80) is False


async def test_a_new_budget_starts_afresh(store: BudgetStore) -> None:
    await store.set(budget())
    assert await store.claim_alert("web", "2026-11", Threshold.SPENT_80) is True
    await store.set(budget(amount="5000"))  # raised: its 80% is another figure
    assert await store.sent("web", "2026-11") == set()
    assert await store.claim_alert("web", "2026-11", Threshold.SPENT_80) is True
    await store.remove("web")
    assert await store.claim_alert("web", "2026-11", Threshold.SPENT_100) is False
    await store.set(budget())
    assert await store.sent("web", "2026-11") == set()


async def test_thresholds_fire_once_per_month_and_again_next_month(store: BudgetStore) -> None:
    """Hourly checks of a project trending over budget, as `Scheduler` makes them."""
    await store.set(budget(amount="1000"))
    fired: list[tuple[str, Threshold]] = []
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for hour in range(0, 24 * 61, 6):  # two months, every six hours
        now = start + timedelta(hours=hour)
        month = month_key(now)
        day = now.day
        spent = D(40) * day  # 40 a day: 80% on the 20th, 100% on the 25th
        high = spent + D(40) * (30 - day) if day > 2 else None
        web = await store.get("web")
        assert web is not None
        for threshold in crossed(web, spent, high, await store.sent("web", month)):
            if await store.claim_alert("web", month, threshold):
                fired.append((month, threshold))
    assert fired == [
        ("2026-11", Threshold.ESTIMATE_100),  # day 3: 120 + 27 × 40 = 1200
        ("2026-11", Threshold.SPENT_80),
        ("2026-11", Threshold.SPENT_100),
        ("2026-12", Threshold.ESTIMATE_100),
        ("2026-12", Threshold.SPENT_80),
        ("2026-12", Threshold.SPENT_100),
    ]


async def test_sqlite_budgets_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    first = SqliteBudgetStore(path)
    await first.set(budget(amount="99.99"))
    await first.claim_alert("web", "2026-11", Threshold.SPENT_80)
    await first.aclose()
    again = SqliteBudgetStore(path)
    try:
        assert await again.get("web") == budget(amount="99.99")
        assert await again.sent("web", "2026-11") == {"80%"}
    finally:
        await again.aclose()


async def test_redis_ignores_forged_budgets(redis_server: RedisServer) -> None:  # noqa: F811
    namespace = _namespace()
    client = Redis.from_url(redis_server.url)
    try:
        store = RedisBudgetStore(client, signer=Signer(KEY), namespace=namespace)
        await store.set(budget())
        forged = budget(channel="C-EVIL").model_dump_json()
        await client.set(f"{namespace}budget:web", forged)
        assert await store.get("web") is None
        assert await store.list() == []
        await store.set(budget())
        await store.claim_alert("web", "2026-11", Threshold.SPENT_80)
        ttl = await client.ttl(f"{namespace}budget-alerts:web")
        assert 0 < ttl <= 40 * 24 * 3600
    finally:
        await client.aclose()


# --- one alert, whatever the number of processes ---------------------------------------------

ROUNDS = 100


async def _race(a: BudgetStore, b: BudgetStore) -> None:
    await a.set(budget())
    for n in range(ROUNDS):
        month = f"{2030 + n // 12}-{n % 12 + 1:02d}"
        for threshold in Threshold:
            results = await asyncio.gather(
                a.claim_alert("web", month, threshold),
                b.claim_alert("web", month, threshold),
                a.claim_alert("web", month, threshold),
                b.claim_alert("web", month, threshold),
            )
            assert sorted(results) == [False, False, False, True], (month, threshold, results)


async def test_two_sqlite_stores_on_one_file_send_each_alert_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    a, b = SqliteBudgetStore(path), SqliteBudgetStore(path)
    try:
        await asyncio.gather(a.list(), b.list())
        await _race(a, b)
    finally:
        await asyncio.gather(a.aclose(), b.aclose())


async def test_two_redis_stores_send_each_alert_once(redis_server: RedisServer) -> None:  # noqa: F811
    namespace = _namespace()
    client_a, client_b = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
    try:
        await _race(
            RedisBudgetStore(client_a, signer=Signer(KEY), namespace=namespace),
            RedisBudgetStore(client_b, signer=Signer(KEY), namespace=namespace),
        )
    finally:
        await client_a.aclose()
        await client_b.aclose()
