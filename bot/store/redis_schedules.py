"""`ScheduleStore` in Redis (with `REDIS_URL`; values signed like every value the bot keeps in
Redis)."""

from __future__ import annotations

import builtins
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from bot.core.scheduled.schedules import Schedule, is_later
from bot.store.redis_client import NAMESPACE, text
from bot.store.signing import SignedJson, Signer

if TYPE_CHECKING:
    from redis.asyncio import Redis

# How long Redis remembers a claimed run: longer than any period, so a late replica that still
# sees the run as due finds the claim; older runs are never due again once marked.
RUN_CLAIM_TTL: Final = timedelta(days=62)
_MARK_ATTEMPTS: Final = 50


# KEYS: schedule, run claim. ARGV: owner, claim ttl (s). The schedule must still exist.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
return 0
"""


class RedisScheduleStore:
    """`ScheduleStore` shared by every replica on one Redis.

    Keys (under the namespace): `schedule:<id>` holds the schedule as signed JSON (see
    `bot.store.signing.SignedJson`: a forged or edited value reads as absent), `schedules` the set
    of IDs, and `schedule-run:<id>:<period>` the claim of one run (`SET NX`, after checking in
    the same Lua step that the schedule exists), which expires after RUN_CLAIM_TTL.
    """

    def __init__(
        self,
        client: Redis,
        *,
        signer: Signer,
        namespace: str = NAMESPACE,
        run_ttl: timedelta = RUN_CLAIM_TTL,
    ) -> None:
        self._client = client
        self._json = SignedJson(signer, Schedule, "a schedule")
        self._prefix = f"{namespace}schedule:"
        self._index = f"{namespace}schedules"
        self._runs = f"{namespace}schedule-run:"
        self._run_ttl = max(int(run_ttl.total_seconds()), 1)
        self._claim = client.register_script(_CLAIM)

    def _key(self, schedule_id: str) -> str:
        return self._prefix + schedule_id

    async def add(self, schedule: Schedule) -> None:
        key = self._key(schedule.id)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.set(key, self._json.encode(key, schedule))
            pipe.sadd(self._index, schedule.id)
            await pipe.execute()

    async def list(self, channel: str | None = None) -> builtins.list[Schedule]:
        ids = sorted(text(member) for member in await self._client.smembers(self._index))
        stored = await self._json.read_all(self._client, [self._key(i) for i in ids])
        found = [s for s in stored if channel is None or s.channel == channel]
        return sorted(found, key=lambda s: (s.created_at, s.id))

    async def get(self, schedule_id: str) -> Schedule | None:
        key = self._key(schedule_id)
        return self._json.decode(key, await self._client.get(key))

    async def remove(self, schedule_id: str) -> bool:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(schedule_id))
            pipe.srem(self._index, schedule_id)
            deleted, _ = await pipe.execute()
        return bool(deleted)

    async def mark_run(self, schedule_id: str, period: str) -> None:
        from redis.exceptions import WatchError

        key = self._key(schedule_id)
        for _ in range(_MARK_ATTEMPTS):
            async with self._client.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    schedule = self._json.decode(key, await pipe.get(key))
                    if schedule is None or not is_later(schedule.last_run_period, period):
                        return
                    marked = schedule.model_copy(update={"last_run_period": period})
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(key, self._json.encode(key, marked))
                    await pipe.execute()
                    return
                except WatchError:
                    continue  # changed meanwhile (another mark, a removal): read it again
        raise RuntimeError(f"could not mark a run of schedule {schedule_id}: too much contention")

    async def claim_run(self, schedule_id: str, period: str, owner: str) -> bool:
        run_key = f"{self._runs}{schedule_id}:{period}"
        won = await self._claim(keys=[self._key(schedule_id), run_key], args=[owner, self._run_ttl])
        return bool(won)

    async def aclose(self) -> None:
        """Nothing of its own to close: the client is closed by whoever made it."""
