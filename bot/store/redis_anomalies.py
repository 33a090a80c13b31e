"""`AnomalyStore` in Redis (with `REDIS_URL`)."""

from __future__ import annotations

import builtins
import hashlib
import logging
from datetime import date
from typing import TYPE_CHECKING

from redis.exceptions import WatchError

from bot.clock import Clock, utc_now
from bot.core.watch.lifecycle import Anomaly, Update
from bot.store.redis_client import NAMESPACE, text
from bot.store.signing import SignedJson, Signer

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

# KEYS: the anomaly, its series' open slot, the set of open ids, its series' latest.
# ARGV: id, the signed anomaly. Only a new id, and only while the series has none open.
_OPEN = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX') then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SET', KEYS[4], ARGV[1])
return 1
"""

# KEYS: the latest day judged. ARGV: a day (ISO: dates compare as text), the day signed.
# Only a later day; the day stored is the text after the signature's dot.
_JUDGED = """
local current = redis.call('GET', KEYS[1])
if current then
  local day = string.match(current, '^[0-9a-f]+%.(.+)$')
  if day and day >= ARGV[1] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""


def _series_key(series: str) -> str:
    return hashlib.sha256(series.encode()).hexdigest()[:32]


class RedisAnomalyStore:
    """`AnomalyStore` shared by every replica on one Redis.

    Keys (under the namespace): `anomaly:<id>` holds the anomaly as signed JSON,
    `anomaly-events:<id>` a hash of the events applied to it, `anomalies-open` the set of open
    ids, `anomaly-open:<series>` the id of the series' open anomaly (set NX by the Lua step
    that stores a new one: one process wins it), `anomaly-latest:<series>` its latest (the
    sets and pointers hold ids: only the signed anomaly they point to is trusted, and only
    when it is open, or of that series),
    `anomaly-channels` the channels that hear of them (each member signed: a forged one is
    never posted to), and `anomaly-judged` the latest day a check judged (signed). A change
    is an optimistic transaction (WATCH the anomaly and its events): the event is recorded
    with the change, or retried.
    """

    def __init__(
        self,
        client: Redis,
        *,
        signer: Signer,
        namespace: str = NAMESPACE,
        clock: Clock = utc_now,
    ) -> None:
        self._client = client
        self._signer = signer
        self._json = SignedJson(signer, Anomaly, "an anomaly")
        self._ns = namespace
        self._channels = f"{namespace}anomaly-channels"
        self._open_ids = f"{namespace}anomalies-open"
        self._clock = clock
        self._open = client.register_script(_OPEN)
        self._judged = f"{namespace}anomaly-judged"
        self._set_judged = client.register_script(_JUDGED)

    def _key(self, anomaly_id: str) -> str:
        return f"{self._ns}anomaly:{anomaly_id}"

    def _events(self, anomaly_id: str) -> str:
        return f"{self._ns}anomaly-events:{anomaly_id}"

    def _slot(self, series: str) -> str:
        return f"{self._ns}anomaly-open:{_series_key(series)}"

    def _latest(self, series: str) -> str:
        return f"{self._ns}anomaly-latest:{_series_key(series)}"

    def _signed(self, key: str, value: str) -> bytes:
        return self._signer.sign(key, value.encode())

    def _opened(self, key: str, raw: bytes | str, what: str) -> str | None:
        payload = self._signer.open(key, raw.encode() if isinstance(raw, str) else raw)
        if payload is None:
            log.warning("ignored %s that is not signed by this bot", what)
            return None
        return payload.decode()

    async def channels(self) -> builtins.list[str]:
        members = await self._client.smembers(self._channels)
        found = (self._opened(self._channels, m, "an anomaly alert channel") for m in members)
        return sorted(channel for channel in found if channel is not None)

    async def set_channel(self, channel: str, on: bool) -> bool:
        member = self._signed(self._channels, channel)  # HMAC: the same member each time
        if on:
            return bool(await self._client.sadd(self._channels, member))
        return bool(await self._client.srem(self._channels, member))

    async def open(self, anomaly: Anomaly) -> bool:
        key = self._key(anomaly.id)
        won = await self._open(
            keys=[key, self._slot(anomaly.series), self._open_ids, self._latest(anomaly.series)],
            args=[anomaly.id, self._json.encode(key, anomaly)],
        )
        return bool(won)

    async def get(self, anomaly_id: str) -> Anomaly | None:
        key = self._key(anomaly_id)
        return self._json.decode(key, await self._client.get(key))

    async def latest(self, series: str) -> Anomaly | None:
        found = await self._client.get(self._latest(series))
        latest = None if found is None else await self.get(text(found))
        return latest if latest is not None and latest.series == series else None

    async def list_open(self) -> builtins.list[Anomaly]:
        ids = sorted(text(member) for member in await self._client.smembers(self._open_ids))
        stored = await self._json.read_all(self._client, [self._key(i) for i in ids])
        found = [a for a in stored if a.open]  # the set says open; the signed anomaly decides
        return sorted(found, key=lambda a: (a.day, a.id))

    async def open_count(self) -> int:
        return int(await self._client.scard(self._open_ids))

    async def change(self, anomaly_id: str, event: str, update: Update) -> Anomaly | None:
        key, events = self._key(anomaly_id), self._events(anomaly_id)
        async with self._client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key, events)
                    current = self._json.decode(key, await pipe.get(key))
                    if current is None or await pipe.hexists(events, event):
                        return None
                    new = update(current)
                    if new is None:
                        return None
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(key, self._json.encode(key, new))
                    pipe.hset(events, event, self._clock().isoformat())
                    if current.open and not new.open:
                        pipe.srem(self._open_ids, anomaly_id)
                        pipe.delete(self._slot(new.series))
                    await pipe.execute()
                    return new
                except WatchError:
                    continue

    async def judged(self) -> date | None:
        found = await self._client.get(self._judged)
        day = None if found is None else self._opened(self._judged, found, "a day judged")
        return None if day is None else date.fromisoformat(day)

    async def set_judged(self, day: date) -> None:
        signed = self._signed(self._judged, day.isoformat())
        await self._set_judged(keys=[self._judged], args=[day.isoformat(), signed])

    async def aclose(self) -> None:
        """Nothing of its own to close: the client is closed by whoever made it."""
