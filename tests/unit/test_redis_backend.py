"""The Redis backends against a real redis-server on loopback. Two instances with two clients
stand for two replicas; each test keeps to its own key namespace.

No test depends on how fast the machine is: where one needs something to have happened (a
replica polling, a lock extended, an answer expired) it waits for Redis to show it, with a
generous deadline, instead of sleeping for a guessed time; fixed sleeps only show that
something did not happen.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from bot.apis.contro.client import ControClient
from bot.apis.http import RetryPolicy
from bot.apis.mkio.client import MkioClient
from bot.config import Settings
from bot.core.billing import BillingService
from bot.core.cache import AnswerCache
from bot.core.changes.model import (
    CONFIRMATION_TTL,
    ChangeKind,
    ChangeStatus,
    MethodRef,
    PendingChange,
)
from bot.devtools.sandbox import Sandbox, start
from bot.store.dedupe import DEDUPE_SECONDS
from bot.store.factory import make_backends
from bot.store.redis_client import ping, redis_client
from bot.store.redis_store import (
    AnswerCodec,
    RedisCache,
    RedisDedupe,
    RedisPendingStore,
)
from bot.store.signing import Signer
from tests.redis_server import RedisServer, free_port, redis_server  # noqa: F401 - fixture
from tests.waiting import eventually

KEY = b"k" * 32
NOW = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
# How long a test waits for something it expects Redis to show before failing: far longer
# than it takes on any machine that works, so only a real fault runs into it.
PATIENCE = 120.0


@dataclass(frozen=True)
class Answer:
    text: str
    amount: Decimal
    at: datetime


def answer(text: str = "answer") -> Answer:
    return Answer(text=text, amount=Decimal("12.30"), at=NOW)


@dataclass
class Replicas:
    """Two clients on one Redis, as two bot processes would have."""

    a: Redis
    b: Redis
    namespace: str

    def cache(self, client: Redis, ttl: float = 60, **kwargs: float) -> RedisCache:
        return RedisCache(
            client,
            ttl,
            signer=Signer(KEY),
            codec=AnswerCodec.for_answers(extra=[Answer]),
            namespace=self.namespace,
            **kwargs,  # type: ignore[arg-type]
        )

    def store(self, client: Redis) -> RedisPendingStore:
        return RedisPendingStore(client, signer=Signer(KEY), namespace=self.namespace)


@pytest.fixture
async def replicas(redis_server: RedisServer) -> AsyncIterator[Replicas]:  # noqa: F811
    a, b = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
    try:
        yield Replicas(a=a, b=b, namespace=f"test-{secrets.token_hex(4)}:")
    finally:
        await a.aclose()
        await b.aclose()


def told_to_wait(*clients: Redis) -> asyncio.Event:
    """Set once a cache on one of `clients` is told by its look-up (the `_ACQUIRE` script,
    run with EVALSHA) that another replica is loading: from then on that flight is polling."""
    event = asyncio.Event()

    def watch(response: Any, **options: Any) -> Any:
        if response == [b"wait", b""]:
            event.set()
        return response

    for client in clients:
        client.set_response_callback("EVALSHA", watch)
    return event


class Loader:
    """A load that counts its calls and, optionally, waits for a go."""

    def __init__(
        self, value: Answer | None = None, *, error: Exception | None = None, gate: bool = False
    ) -> None:
        self.calls = 0
        self.value = value or answer()
        self.error = error
        self.started = asyncio.Event()
        self.go = asyncio.Event()
        if not gate:
            self.go.set()

    async def __call__(self) -> Answer:
        self.calls += 1
        self.started.set()
        await self.go.wait()
        if self.error is not None:
            raise self.error
        return self.value


# -- the answer cache -----------------------------------------------------------------------


async def test_an_answer_is_reused_by_the_other_replica_for_the_ttl(replicas: Replicas) -> None:
    a = replicas.cache(replicas.a, ttl=600)
    b = replicas.cache(replicas.b, ttl=600)
    load = Loader()
    first = await a.get_or_load("org:x", load)
    second = await b.get_or_load("org:x", load)
    assert first == second == answer()
    assert type(second) is Answer
    assert load.calls == 1
    pttl = await replicas.a.pttl(f"{replicas.namespace}cache:org:x")
    assert 300_000 < pttl <= 600_000, "stored for the TTL (milliseconds)"


async def test_an_answer_is_reloaded_once_its_ttl_has_passed(replicas: Replicas) -> None:
    a = replicas.cache(replicas.a, ttl=0.2)
    b = replicas.cache(replicas.b, ttl=0.2)
    load = Loader()
    await a.get_or_load("org:x", load)
    stored = f"{replicas.namespace}cache:org:x"

    async def expired() -> bool:
        return not await replicas.a.exists(stored)

    await eventually(expired, "the answer to expire after its 0.2 s TTL", patience=PATIENCE)
    assert await b.get_or_load("org:x", load) == answer()
    assert load.calls == 2, "reloaded once the TTL passed"


async def test_identical_questions_on_two_replicas_share_one_load(replicas: Replicas) -> None:
    a = replicas.cache(replicas.a)
    b = replicas.cache(replicas.b)
    polling = told_to_wait(replicas.a, replicas.b)  # whichever replica does not lead
    load = Loader(gate=True)
    tasks = [
        asyncio.create_task(cache.get_or_load("project:p:usage", load))
        for _ in range(10)
        for cache in (a, b)
    ]
    await load.started.wait()
    await asyncio.wait_for(polling.wait(), PATIENCE)  # the other replica's flight is polling
    load.go.set()
    assert await asyncio.gather(*tasks) == [answer()] * 20
    assert load.calls == 1


async def test_a_failure_is_not_cached_and_the_waiting_replica_loads_itself(
    replicas: Replicas,
) -> None:
    a = replicas.cache(replicas.a)
    b = replicas.cache(replicas.b)
    polling = told_to_wait(replicas.b)
    failing = Loader(error=RuntimeError("upstream 500"), gate=True)
    working = Loader(answer("from b"))
    leader = asyncio.create_task(a.get_or_load("k", failing))
    await failing.started.wait()
    waiter = asyncio.create_task(b.get_or_load("k", working))
    await asyncio.wait_for(polling.wait(), PATIENCE)
    assert working.calls == 0, "B waits for A's flight"
    failing.go.set()
    with pytest.raises(RuntimeError, match="upstream 500"):
        await leader
    assert await waiter == answer("from b")
    assert (failing.calls, working.calls) == (1, 1)
    assert await a.get_or_load("k", failing) == answer("from b"), "B's answer is shared"


async def test_the_next_question_after_a_failure_tries_again(replicas: Replicas) -> None:
    a = replicas.cache(replicas.a)
    failing = Loader(error=RuntimeError("boom"))
    with pytest.raises(RuntimeError):
        await a.get_or_load("k", failing)
    with pytest.raises(RuntimeError):
        await a.get_or_load("k", failing)
    assert failing.calls == 2


async def test_a_waiter_loads_itself_after_the_wait_timeout(replicas: Replicas) -> None:
    a = replicas.cache(replicas.a)
    b = replicas.cache(replicas.b, wait_seconds=0.1)
    stuck = Loader(gate=True)
    leader = asyncio.create_task(a.get_or_load("k", stuck))
    await stuck.started.wait()
    own = Loader(answer("own"))
    assert await b.get_or_load("k", own) == answer("own")
    assert own.calls == 1
    stuck.go.set()
    assert await leader == answer()


async def test_a_long_load_keeps_its_lock(replicas: Replicas) -> None:
    """The leader's lock is extended while its load runs (seen as the lock's PTTL going up
    again), so the waiting replica never takes over. The lock lives 9 s and is extended
    every 3 s: a starved machine has 6 s of slack before it would be lost."""
    a = replicas.cache(replicas.a, lock_seconds=9)
    b = replicas.cache(replicas.b, lock_seconds=9, wait_seconds=3600)  # no giving up
    polling = told_to_wait(replicas.b)
    slow = Loader(gate=True)
    leader = asyncio.create_task(a.get_or_load("k", slow))
    await slow.started.wait()
    other = Loader()
    waiter = asyncio.create_task(b.get_or_load("k", other))
    lock = f"{replicas.namespace}cache-lock:k"
    readings: list[int] = []
    extensions = 0

    async def extended() -> bool:
        nonlocal extensions
        pttl = await replicas.b.pttl(lock)
        assert pttl > 0, f"the lock was lost during the load; PTTL before: {readings[-5:]}"
        if readings and pttl > readings[-1]:  # only PEXPIRE makes it go up
            extensions += 1
        readings.append(pttl)
        return extensions >= 1

    await eventually(extended, "the lock to be extended during the load", patience=PATIENCE)
    await asyncio.wait_for(polling.wait(), PATIENCE)
    assert other.calls == 0, "B waits while A's lock is kept"
    slow.go.set()
    assert list(await asyncio.gather(leader, waiter)) == [answer(), answer()]
    assert (slow.calls, other.calls) == (1, 0)


async def test_a_cancelled_caller_does_not_cancel_the_others(replicas: Replicas) -> None:
    a = replicas.cache(replicas.a)
    load = Loader(gate=True)
    first = asyncio.create_task(a.get_or_load("k", load))
    second = asyncio.create_task(a.get_or_load("k", load))
    await load.started.wait()
    first.cancel()
    load.go.set()
    assert await second == answer()
    assert first.cancelled()


async def test_invalidate_drops_the_prefix_on_every_replica(replicas: Replicas) -> None:
    a = replicas.cache(replicas.a)
    b = replicas.cache(replicas.b)
    keys = [
        "project:p:usage",
        "project:p:payment-method",
        'project:p[1]*:report:{"a":[1]}',
        "project:q:usage",
        "org:payment-methods",
    ]
    for key in keys:
        await a.get_or_load(key, Loader(answer(key)))
    await b.invalidate("project:p:")
    await b.invalidate('project:p[1]*:report:{"a":[')
    reloads = {key: Loader(answer("new")) for key in keys}
    for key in keys:
        await a.get_or_load(key, reloads[key])
    assert {key: loader.calls for key, loader in reloads.items()} == {
        "project:p:usage": 1,
        "project:p:payment-method": 1,
        'project:p[1]*:report:{"a":[1]}': 1,
        "project:q:usage": 0,
        "org:payment-methods": 0,
    }


async def test_an_answer_loaded_before_an_invalidation_is_not_stored(replicas: Replicas) -> None:
    a = replicas.cache(replicas.a)
    b = replicas.cache(replicas.b)
    stale = Loader(answer("before the change"), gate=True)
    leader = asyncio.create_task(a.get_or_load("project:p:pm", stale))
    await stale.started.wait()
    await b.invalidate("project:p:")
    stale.go.set()
    assert await leader == answer("before the change"), "its own callers still get it"
    fresh = Loader(answer("after"))
    assert await b.get_or_load("project:p:pm", fresh) == answer("after")
    assert fresh.calls == 1


async def test_forged_or_unsigned_answers_are_never_used(replicas: Replicas) -> None:
    a = replicas.cache(replicas.a)
    key = f"{replicas.namespace}cache:k"
    payload = (
        b"tests.unit.test_redis_backend.Answer\n"
        + b'{"text":"forged","amount":"1","at":"2026-01-01T00:00:00Z"}'
    )
    forged = [
        b"\x80\x04\x95pickle",
        payload,
        b"0" * 64 + b"." + payload,
        Signer(b"x" * 32).sign(key, payload),
        Signer(KEY).sign(f"{replicas.namespace}cache:other", payload),  # moved from another key
        Signer(KEY).sign(key, b"builtins.dict\n{}"),  # not an allowed type
        Signer(KEY).sign(key, b"tests.unit.test_redis_backend.Answer\n{}"),  # invalid
    ]
    for blob in forged:
        await replicas.b.set(key, blob)
        load = Loader(answer("real"))
        assert await a.get_or_load("k", load) == answer("real"), blob
        assert load.calls == 1
        await a.invalidate("k")


async def test_values_outside_the_allow_list_are_answered_but_not_shared(
    replicas: Replicas,
) -> None:
    a = replicas.cache(replicas.a)
    b = replicas.cache(replicas.b)

    @dataclass(frozen=True)
    class Unlisted:
        n: int

    calls = 0

    async def load() -> Unlisted:
        nonlocal calls
        calls += 1
        return Unlisted(1)

    assert await a.get_or_load("k", load) == Unlisted(1)
    assert await b.get_or_load("k", load) == Unlisted(1)
    assert calls == 2


async def test_without_a_ttl_nothing_is_stored(replicas: Replicas) -> None:
    a = replicas.cache(replicas.a, ttl=0)
    load = Loader()
    await a.get_or_load("k", load)
    await a.get_or_load("k", load)
    assert load.calls == 2
    assert await replicas.a.keys(f"{replicas.namespace}*") == []


async def test_when_redis_is_down_answers_still_come() -> None:
    client = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    try:
        cache = RedisCache(client, 60, signer=Signer(KEY), codec=AnswerCodec([Answer]))
        load = Loader()
        assert await cache.get_or_load("k", load) == answer()
        await cache.invalidate("k")  # logged, not raised: the change it follows is made
        assert await ping(client) is False
    finally:
        await client.aclose()


async def test_every_real_answer_survives_the_trip_through_redis(replicas: Replicas) -> None:
    """Replica B gets from Redis exactly what replica A loaded from the billing APIs."""
    sandbox = Sandbox(clock=lambda: NOW)
    runner, base = await start(sandbox, "127.0.0.1", 0)
    clients: list[MkioClient | ControClient] = []

    def service(client: Redis) -> BillingService:
        mkio = MkioClient(
            f"{base}/api/v1", SecretStr(sandbox.mkio_token), retry=RetryPolicy.immediate()
        )
        contro = ControClient(
            f"{base}/v1", SecretStr(sandbox.contro_key), retry=RetryPolicy.immediate()
        )
        clients.extend([mkio, contro])
        cache: AnswerCache = RedisCache(
            client, 60, signer=Signer(KEY), namespace=replicas.namespace
        )
        return BillingService(mkio=mkio, contro=contro, cache=cache, clock=lambda: NOW)

    try:
        a, b = service(replicas.a), service(replicas.b)
        method = next(iter(sandbox.payment_method_ids().values()))
        questions: list[Callable[[BillingService], Awaitable[object]]] = [
            lambda s: s.usage("my-project"),
            lambda s: s.payment_methods(),
            lambda s: s.rate_card(method),
            lambda s: s.project_payment_method("my-project"),
            lambda s: s.month_to_date(),
            lambda s: s.contro_summary("2026-11"),
        ]
        for ask in questions:
            before = len(sandbox.requests)
            loaded = await ask(a)
            made = len(sandbox.requests) - before
            shared = await ask(b)
            assert shared == loaded
            assert type(shared) is type(loaded)
            assert len(sandbox.requests) == before + made, f"{type(loaded).__name__} reloaded"
    finally:
        for api in clients:
            await api.aclose()
        await runner.cleanup()


# -- pending confirmations ------------------------------------------------------------------


async def connect(client: Redis) -> None:
    reply: Any = client.ping()
    await reply


def pending(requested_by: str = "U_ADMIN", *, change_id: str | None = None) -> PendingChange:
    return PendingChange(
        id=change_id or secrets.token_urlsafe(18),
        kind=ChangeKind.PAYMENT_METHOD,
        project="my-project",
        requested_by=requested_by,
        channel="C1",
        requested_at=NOW,
        expires_at=NOW + CONFIRMATION_TTL,
        before_method=MethodRef(id="pm-a", name="Azure"),
        after_method=MethodRef(id="pm-b", name="AWS"),
    )


async def test_a_change_added_on_one_replica_is_read_on_the_other(replicas: Replicas) -> None:
    change = pending()
    await replicas.store(replicas.a).add(change)
    assert await replicas.store(replicas.b).get(change.id) == change
    assert await replicas.store(replicas.b).get("nope") is None
    ttl = await replicas.a.pttl(f"{replicas.namespace}change:{change.id}")
    expected = (CONFIRMATION_TTL + timedelta(days=1)).total_seconds() * 1000
    assert expected - 60_000 < ttl <= expected  # a minute of slack, far below the 10 minutes


async def test_twenty_concurrent_claims_on_two_replicas_win_once(replicas: Replicas) -> None:
    change = pending()
    stores = [replicas.store(replicas.a), replicas.store(replicas.b)]
    await stores[0].add(change)
    # Open ten connections per client first, so that the claims really race.
    await asyncio.gather(
        *(connect(client) for client in (replicas.a, replicas.b) for _ in range(10))
    )
    claims = await asyncio.gather(
        *(
            stores[i % 2].claim(
                change.id,
                user="U_ADMIN",
                now=NOW + timedelta(minutes=1),
                status=ChangeStatus.CONFIRMED,
            )
            for i in range(20)
        )
    )
    winners = [c for c in claims if c.won]
    assert len(winners) == 1
    assert {c.reason for c in claims if not c.won} == {"decided"}
    stored = await stores[1].get(change.id)
    assert stored is not None
    assert stored.status is ChangeStatus.CONFIRMED
    assert stored.decided_by == "U_ADMIN"
    assert stored == winners[0].change


async def test_claims_follow_the_same_rules_as_in_process(replicas: Replicas) -> None:
    store = replicas.store(replicas.a)
    change = pending()
    await store.add(change)
    later = NOW + timedelta(minutes=2)

    other = await store.claim(change.id, user="U_OTHER", now=later, status=ChangeStatus.CONFIRMED)
    assert (other.won, other.reason) == (False, "not-yours")
    late = await store.claim(
        change.id, user="U_ADMIN", now=NOW + CONFIRMATION_TTL, status=ChangeStatus.CONFIRMED
    )
    assert (late.won, late.reason) == (False, "expired")
    unknown = await store.claim("missing", user="U_ADMIN", now=later, status=ChangeStatus.CONFIRMED)
    assert (unknown.won, unknown.change, unknown.reason) == (False, None, "unknown")

    cancelled = await store.claim(
        change.id, user="U_ADMIN", now=later, status=ChangeStatus.CANCELLED
    )
    assert cancelled.won
    again = await store.claim(change.id, user="U_ADMIN", now=later, status=ChangeStatus.CONFIRMED)
    assert (again.won, again.reason) == (False, "decided")


async def test_save_records_the_outcome_and_keeps_the_expiry(replicas: Replicas) -> None:
    store = replicas.store(replicas.a)
    change = pending()
    await store.add(change)
    claim = await store.claim(change.id, user="U_ADMIN", now=NOW, status=ChangeStatus.CONFIRMED)
    assert claim.change is not None
    done = claim.change.model_copy(update={"status": ChangeStatus.DONE})
    await store.save(done)
    assert await replicas.store(replicas.b).get(change.id) == done
    assert await replicas.a.pttl(f"{replicas.namespace}change:{change.id}") > 0


async def test_of_two_replicas_recovering_a_cut_off_change_one_records_it(
    replicas: Replicas,
) -> None:
    stores = [replicas.store(replicas.a), replicas.store(replicas.b)]
    left, settled = pending(), pending()
    for change in (left, settled, pending()):  # the third stays pending: not being made
        await stores[0].add(change)
    for change in (left, settled):
        await stores[0].claim(change.id, user="U_ADMIN", now=NOW, status=ChangeStatus.CONFIRMED)
    await stores[0].save(settled.model_copy(update={"status": ChangeStatus.DONE}))
    [unsettled] = await stores[1].unsettled()
    assert unsettled.id == left.id
    assert unsettled.status is ChangeStatus.CONFIRMED

    outcomes = [
        unsettled.model_copy(update={"status": status, "recovered_at": NOW})
        for status in (ChangeStatus.DONE, ChangeStatus.FAILED)
    ]
    settles = await asyncio.gather(*(s.settle(o) for s, o in zip(stores, outcomes, strict=True)))
    assert sorted(settles) == [False, True]
    assert await stores[0].get(left.id) == outcomes[settles.index(True)]
    assert await stores[1].unsettled() == []
    assert not await stores[0].settle(pending()), "an unknown change is not recorded"


async def test_a_tampered_change_is_unknown(replicas: Replicas) -> None:
    store = replicas.store(replicas.a)
    change = pending()
    await store.add(change)
    key = f"{replicas.namespace}change:{change.id}"
    raw = await replicas.b.get(key)
    assert isinstance(raw, bytes)
    mac, _, body = raw.partition(b".")
    swapped = body.replace(b"pm-b", b"pm-attacker")
    await replicas.b.set(key, mac + b"." + swapped)
    assert await store.get(change.id) is None
    claim = await store.claim(change.id, user="U_ADMIN", now=NOW, status=ChangeStatus.CONFIRMED)
    assert (claim.won, claim.reason) == (False, "unknown")


# -- event memory, health, wiring -----------------------------------------------------------


async def test_dedupe_is_true_once_across_replicas(replicas: Replicas) -> None:
    a = RedisDedupe(replicas.a, namespace=replicas.namespace)
    b = RedisDedupe(replicas.b, namespace=replicas.namespace)
    results = await asyncio.gather(*(d.first_time("Ev1") for d in (a, b, a, b)))
    assert sorted(results) == [False, False, False, True]
    assert await b.first_time("Ev2") is True
    ttl = await replicas.a.ttl(f"{replicas.namespace}dedupe:Ev1")
    assert DEDUPE_SECONDS - 60 < ttl <= DEDUPE_SECONDS


def settings(url: str, *, signing: str | None = None, **values: Any) -> Settings:
    return Settings(
        _env_file=None,
        redis_url=SecretStr(url),
        slack_signing_secret=SecretStr(signing or "signing-" + secrets.token_hex(8)),
        **values,
    )


async def test_make_backends_picks_redis_and_reports_health(
    redis_server: RedisServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backends = make_backends(settings(redis_server.url, cache_ttl_seconds=5))
    try:
        assert isinstance(backends.cache, RedisCache)
        monkeypatch.setattr(f"{ping.__module__}.HEALTH_TIMEOUT_SECONDS", PATIENCE)
        assert isinstance(backends.pending, RedisPendingStore)
        assert isinstance(backends.dedupe, RedisDedupe)
        assert await backends.health() == {"redis": True}
    finally:
        await backends.aclose()
    down = make_backends(settings(f"redis://127.0.0.1:{free_port()}/0"))
    try:
        assert await down.health() == {"redis": False}
    finally:
        await down.aclose()


async def test_ping_gives_up_on_a_redis_that_never_answers() -> None:
    """A Redis that accepts connections but never replies, and a client whose own socket
    timeout is far away: `ping`'s timeout answers False."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # connections complete in the backlog; nothing is ever read or sent
        client = Redis.from_url(
            f"redis://127.0.0.1:{silent.getsockname()[1]}/0", socket_timeout=10 * PATIENCE
        )
        try:
            async with asyncio.timeout(PATIENCE):  # only a ping that ignores its timeout
                assert await ping(client, timeout=0.1) is False
        finally:
            await client.aclose()


def test_signing_needs_a_slack_secret_and_a_bad_url_is_not_echoed() -> None:
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        make_backends(Settings(_env_file=None, redis_url=SecretStr("redis://h/0")))
    with pytest.raises(ValueError, match="REDIS_URL") as error:
        make_backends(settings("http://user:hunter2@h:notaport/0"))
    assert "hunter2" not in str(error.value)
    with pytest.raises(ValueError, match="decode_responses"):
        redis_client("redis://h/0?decode_responses=True")


def test_the_signing_key_follows_the_slack_secret_not_redis() -> None:
    one = Signer.from_settings(settings("redis://a/0", signing="s" * 20))
    two = Signer.from_settings(settings("redis://b/0", signing="s" * 20))
    three = Signer.from_settings(settings("redis://a/0", signing="t" * 20))
    assert one.sign("k", b"v") == two.sign("k", b"v") != three.sign("k", b"v")
    assert one.open("k", one.sign("k", b"v")) == b"v"
    assert one.open("k2", one.sign("k", b"v")) is None


async def test_dedupe_fails_open_when_redis_is_away() -> None:

    client = redis_client("redis://127.0.0.1:9/0")  # nothing listens on the discard port
    try:
        dedupe = RedisDedupe(client)
        assert await dedupe.first_time("event:Ev1") is True
        assert await dedupe.first_time("event:Ev1") is True, "no memory without Redis"
    finally:
        await client.aclose()
