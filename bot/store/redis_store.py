"""Redis backends, for several replicas behind one load balancer (`REDIS_URL`).

Three things are shared here, each under the `billing-bot:` namespace (the schedules and
budgets are in `redis_schedules` and `redis_budgets`, on the same client: `bot.store.factory`):

- **Answers** (`RedisCache`): reused for `CACHE_TTL_SECONDS` by every replica, with single
  flight across replicas. The first replica to ask takes a short lock (`SET lock NX PX`, in
  one Lua step with the look-up), loads, and stores the answer and drops the lock in one Lua
  step that only succeeds while it still holds the lock; it keeps the lock alive while the
  load runs. The others poll (a few ms, backing off to 25 ms) until the answer appears; if
  the lock goes away without an answer (the leader failed: failures are never stored) one of
  them takes over and loads; past `wait_seconds` a waiter loads on its own. Within a replica,
  identical questions share one of these flights, as with `MemoryCache`.
- **Pending confirmations** (`RedisPendingStore`): the claim is WATCH/MULTI/EXEC around
  `bot.core.changes.model.refuse`, the very rule the in-process store applies, so "only the admin
  who
  asked, only once, only within ten minutes" holds across replicas; a losing transaction is
  retried and then sees the decided change.
- **Event memory** (`RedisDedupe`): `SET NX EX`.

Redis is treated as storage that someone else might write to. Nothing read back is
unpickled: values are JSON, validated by pydantic into an allow-list of answer types (the
dataclasses and models of `bot.core.answers` and `bot.core.reports.summary`) or into
`PendingChange`. Every value is signed with HMAC-SHA256 over its Redis key and payload
(`bot.store.signing`), with a key derived from the Slack signing secret (or, without one, the
bot token): a value that was forged, edited, or copied to another key reads as absent, so a
poisoned Redis can neither run code in the bot nor change what a pending confirmation will do.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError, WatchError

from bot.core import answers
from bot.core.changes.model import ChangeStatus, Claim, PendingChange, claim_step, settle_step
from bot.core.reports import summary as reports
from bot.store.dedupe import DEDUPE_SECONDS
from bot.store.redis_client import NAMESPACE, text
from bot.store.signing import SignedJson, Signer

log = logging.getLogger(__name__)

T = TypeVar("T")

# The modules whose dataclasses and pydantic models may be cached (and so read back).
ANSWER_MODULES: Final = (answers, reports)
# A decided or expired confirmation stays readable this long after its expiry, so that a late
# click is told "expired" or "already done" rather than "unknown".
PENDING_GRACE: Final = timedelta(days=1)
_CLAIM_ATTEMPTS: Final = 50

_MISSING: Final = object()

# KEYS: answer, lock. ARGV: token, lock ms. -> {"value", answer} | {"lead", ""} | {"wait", ""}
_ACQUIRE = """
local answer = redis.call('GET', KEYS[1])
if answer then return {'value', answer} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'lead', ''} end
return {'wait', ''}
"""
# KEYS: answer, lock. ARGV: token, payload, ttl ms. Stores only while the lock is ours: an
# `invalidate` during the load deleted it, and a stale answer must not land after it.
_STORE = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('DEL', KEYS[2])
return 1
"""
# KEYS: lock. ARGV: token.
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""
# KEYS: lock. ARGV: token, lock ms.
_EXTEND = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""


# -- trust ----------------------------------------------------------------------------------


class AnswerCodec:
    """Answers as `<type tag>\\n<JSON>`, read back only into the allowed types."""

    def __init__(self, types: Iterable[type[Any]]) -> None:
        self._types: dict[str, type[Any]] = {}
        for cls in types:
            if not (dataclasses.is_dataclass(cls) or issubclass(cls, BaseModel)):
                raise TypeError(f"{cls.__qualname__} is neither a dataclass nor a pydantic model")
            self._types[_tag(cls)] = cls
        self._adapters: dict[str, TypeAdapter[Any]] = {}
        self._unshareable: set[str] = set()

    @classmethod
    def for_answers(cls, extra: Iterable[type[Any]] = ()) -> AnswerCodec:
        """Every dataclass and pydantic model defined in `ANSWER_MODULES`, plus `extra`."""
        found: list[type[Any]] = []
        for module in ANSWER_MODULES:
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and value.__module__ == module.__name__
                    and (dataclasses.is_dataclass(value) or issubclass(value, BaseModel))
                ):
                    found.append(value)
        return cls([*found, *extra])

    def encode(self, value: object) -> bytes | None:
        """The payload, or None for a value that cannot be shared: a type outside the
        allow-list, or one that does not come back equal from its JSON."""
        tag = _tag(type(value))
        if tag not in self._types or tag in self._unshareable:
            self._not_shareable(tag, "not an allowed answer type")
            return None
        adapter = self._adapter(tag)
        data = adapter.dump_json(value, by_alias=True)
        if adapter.validate_json(data) != value:
            self._not_shareable(tag, "it does not survive JSON")
            return None
        return tag.encode() + b"\n" + data

    def decode(self, payload: bytes) -> Any:
        """The answer, or `_MISSING` for an unknown tag or invalid JSON."""
        tag, newline, data = payload.partition(b"\n")
        name = tag.decode("utf-8", errors="replace")
        if not newline or name not in self._types:
            return _MISSING
        try:
            return self._adapter(name).validate_json(data)
        except ValidationError:
            return _MISSING

    def _adapter(self, tag: str) -> TypeAdapter[Any]:
        adapter = self._adapters.get(tag)
        if adapter is None:
            adapter = self._adapters[tag] = TypeAdapter(self._types[tag])
        return adapter

    def _not_shareable(self, tag: str, why: str) -> None:
        if tag not in self._unshareable:
            self._unshareable.add(tag)
            log.warning("%s answers are not shared between replicas: %s", tag, why)


def _tag(cls: type[Any]) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _glob_escape(text: str) -> str:
    """`text` as a literal in a SCAN MATCH pattern."""
    return "".join("\\" + c if c in "\\*?[]" else c for c in text)


# -- the answer cache -----------------------------------------------------------------------


class RedisCache:
    """`AnswerCache` shared by every replica on one Redis; see the module docstring.

    If Redis cannot be reached, questions are answered straight from the API (still one load
    per replica for identical questions) and a warning is logged: an outage of the cache
    never stops the answers.
    """

    def __init__(
        self,
        client: Redis,
        ttl: float,
        *,
        signer: Signer,
        codec: AnswerCodec | None = None,
        namespace: str = NAMESPACE,
        lock_seconds: float = 5.0,
        wait_seconds: float = 30.0,
        poll_seconds: tuple[float, float] = (0.005, 0.025),
    ) -> None:
        self._client = client
        self._ttl_ms = int(ttl * 1000)
        self._signer = signer
        self._codec = codec or AnswerCodec.for_answers()
        self._answers = f"{namespace}cache:"
        self._locks = f"{namespace}cache-lock:"
        self._lock_ms = max(int(lock_seconds * 1000), 30)
        self._wait = wait_seconds
        self._poll_min, self._poll_max = poll_seconds
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self._acquire = client.register_script(_ACQUIRE)
        self._store = client.register_script(_STORE)
        self._release = client.register_script(_RELEASE)
        self._extend = client.register_script(_EXTEND)

    async def get_or_load(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        task = self._inflight.get(key)
        if task is None:
            # As in MemoryCache: the flight is its own task, so one caller's cancellation
            # cancels neither the load nor the other callers' wait.
            task = asyncio.ensure_future(self._fetch(key, load))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._landed(key, done))
        result: T = await asyncio.shield(task)
        return result

    def _landed(self, key: str, task: asyncio.Future[Any]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # every caller may have gone: theirs to see, not the loop's to log

    async def _fetch(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        if self._ttl_ms <= 0:
            return await load()  # nothing is reused: nothing to share
        answer_key, lock_key = self._answers + key, self._locks + key
        token = secrets.token_hex(16)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait
        pause = self._poll_min
        while True:
            try:
                state, raw = await self._acquire(
                    keys=[answer_key, lock_key], args=[token, self._lock_ms]
                )
                if state == b"value":
                    value = self._read(answer_key, raw)
                    if value is not _MISSING:
                        return value  # type: ignore[no-any-return]
                    # Unreadable (forged, or written by another version): drop it, ask again.
                    await self._client.delete(answer_key)
            except RedisError as error:
                log.warning(
                    "Redis unavailable (%s): answering without the shared cache",
                    type(error).__name__,
                )
                return await load()
            if state == b"lead":
                return await self._lead(answer_key, lock_key, token, load)
            if loop.time() >= deadline:
                log.warning("no shared answer for %r after %gs: loading it here", key, self._wait)
                return await load()
            if state == b"wait":
                await asyncio.sleep(pause)
                pause = min(pause * 2, self._poll_max)

    async def _lead(
        self, answer_key: str, lock_key: str, token: str, load: Callable[[], Awaitable[T]]
    ) -> T:
        keeper = asyncio.create_task(self._keep_lock(lock_key, token))
        try:
            value = await load()
        except BaseException:
            await _stop(keeper)
            # Failures are not stored: letting go of the lock lets a waiter load instead.
            with contextlib.suppress(RedisError):  # else it expires within lock_seconds
                await self._release(keys=[lock_key], args=[token])
            raise
        await _stop(keeper)
        payload = self._codec.encode(value)
        try:
            if payload is None:
                await self._release(keys=[lock_key], args=[token])
            else:
                signed = self._signer.sign(answer_key, payload)
                await self._store(keys=[answer_key, lock_key], args=[token, signed, self._ttl_ms])
        except RedisError as error:
            log.warning("could not share an answer in Redis (%s)", type(error).__name__)
        return value

    async def _keep_lock(self, lock_key: str, token: str) -> None:
        """Keep the lock alive while a long load runs; stop once it is no longer ours."""
        while True:
            await asyncio.sleep(self._lock_ms / 3000)
            try:
                if not await self._extend(keys=[lock_key], args=[token, self._lock_ms]):
                    return
            except RedisError:
                continue

    def _read(self, answer_key: str, raw: bytes) -> Any:
        payload = self._signer.open(answer_key, raw)
        value = _MISSING if payload is None else self._codec.decode(payload)
        if value is _MISSING:
            log.warning("ignored a cached answer that is not signed by this bot or not valid")
        return value

    async def invalidate(self, prefix: str) -> None:
        """Drop the answers under `prefix` on every replica, and the locks of loads in flight
        so that they do not store what they read before the change."""
        try:
            for space in (self._answers, self._locks):
                await _unlink_matching(self._client, _glob_escape(space + prefix) + "*")
        except RedisError as error:
            # The change this follows is made; answers expire within the TTL anyway.
            log.error(
                "could not drop cached answers under %r (%s): they expire within the TTL",
                prefix,
                type(error).__name__,
            )

    async def aclose(self) -> None:
        """Nothing of its own to close: the client is closed by whoever made it."""


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.wait([task])


async def _unlink_matching(client: Redis, pattern: str, batch: int = 500) -> None:
    keys: list[bytes] = []
    async for key in client.scan_iter(match=pattern, count=batch):
        keys.append(key)
        if len(keys) >= batch:
            await client.unlink(*keys)
            keys.clear()
    if keys:
        await client.unlink(*keys)


# -- pending confirmations ------------------------------------------------------------------


class RedisPendingStore:
    """`PendingStore` shared by every replica: a click on any of them claims at most once."""

    def __init__(
        self,
        client: Redis,
        *,
        signer: Signer,
        namespace: str = NAMESPACE,
        grace: timedelta = PENDING_GRACE,
    ) -> None:
        self._client = client
        self._json = SignedJson(signer, PendingChange, "a pending change")
        self._prefix = f"{namespace}change:"
        self._grace_ms = _ms(grace)

    def _key(self, change_id: str) -> str:
        return self._prefix + change_id

    async def add(self, change: PendingChange) -> None:
        key = self._key(change.id)
        lifetime = max(_ms(change.expires_at - change.requested_at), 0) + self._grace_ms
        await self._client.set(key, self._json.encode(key, change), px=lifetime)

    async def get(self, change_id: str) -> PendingChange | None:
        key = self._key(change_id)
        return self._json.decode(key, await self._client.get(key))

    async def claim(
        self, change_id: str, *, user: str, now: datetime, status: ChangeStatus
    ) -> Claim:
        def step(change: PendingChange | None) -> tuple[Claim, PendingChange | None]:
            return claim_step(change, user=user, now=now, status=status)

        return await self._update(change_id, step)

    async def _update(
        self,
        change_id: str,
        step: Callable[[PendingChange | None], tuple[T, PendingChange | None]],
    ) -> T:
        """WATCH/MULTI/EXEC: `step` sees the stored change and says what to answer and what
        to store instead (None: nothing). A losing transaction is retried on what won."""
        key = self._key(change_id)
        for _ in range(_CLAIM_ATTEMPTS):
            async with self._client.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    answer, replacement = step(self._json.decode(key, await pipe.get(key)))
                    if replacement is not None:
                        pipe.multi()  # type: ignore[no-untyped-call]
                        pipe.set(key, self._json.encode(key, replacement), keepttl=True)
                        await pipe.execute()
                    return answer
                except WatchError:
                    continue  # another click wrote it first: read again
        raise RuntimeError(f"could not update change {change_id}: too much contention")

    async def save(self, change: PendingChange) -> None:
        key = self._key(change.id)
        blob = self._json.encode(key, change)
        if not await self._client.set(key, blob, xx=True, keepttl=True):
            await self._client.set(key, blob, px=self._grace_ms)

    async def unsettled(self) -> list[PendingChange]:
        found = []
        async for key in self._client.scan_iter(match=_glob_escape(self._prefix) + "*", count=500):
            name = text(key)
            change = self._json.decode(name, await self._client.get(name))
            if change is not None and change.status is ChangeStatus.CONFIRMED:
                found.append(change)
        return found

    async def settle(self, change: PendingChange) -> bool:
        def step(stored: PendingChange | None) -> tuple[bool, PendingChange | None]:
            return settle_step(stored, change)

        return await self._update(change.id, step)


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


# -- event memory ---------------------------------------------------------------------------


class RedisDedupe:
    def __init__(
        self, client: Redis, *, namespace: str = NAMESPACE, ttl_seconds: int = DEDUPE_SECONDS
    ) -> None:
        self._client = client
        self._prefix = f"{namespace}dedupe:"
        self._ttl = ttl_seconds

    async def first_time(self, key: str) -> bool:
        try:
            return bool(await self._client.set(self._prefix + key, b"1", nx=True, ex=self._ttl))
        except RedisError as exc:
            # Fail open: with Redis away a retried event may be answered twice, which beats
            # answering nobody.
            log.warning("event dedupe unavailable (%s): answering anyway", type(exc).__name__)
            return True
