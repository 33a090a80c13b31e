"""`BudgetStore` in Redis (with `REDIS_URL`)."""

from __future__ import annotations

import builtins
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from bot.clock import Clock, utc_now
from bot.core.scheduled.budgets import Budget
from bot.store.redis_client import NAMESPACE, text
from bot.store.signing import SignedJson, Signer

if TYPE_CHECKING:
    from redis.asyncio import Redis

# Redis forgets a project's sent alerts this long after the last one: longer than a month.
ALERT_MEMORY: Final = timedelta(days=40)


# KEYS: budget, sent alerts (a hash "<month>:<threshold>" -> sent at).
# ARGV: field, month, sent at, memory (s). Only for an existing budget; older months go.
_CLAIM_ALERT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[3]) == 0 then return 0 end
local prefix = ARGV[2] .. ':'
for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
  if string.sub(field, 1, #prefix) ~= prefix then redis.call('HDEL', KEYS[2], field) end
end
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""


class RedisBudgetStore:
    """`BudgetStore` shared by every replica on one Redis.

    Keys (under the namespace): `budget:<key>` holds the budget as signed JSON (a forged or
    edited value reads as absent), `budgets` the set of keys, and `budget-alerts:<key>` a hash
    of the alerts sent, `<month>:<claim>`, claimed with HSETNX in a Lua step that also checks
    the budget exists. `Budget.key` is the project's name for a project's budget, as in
    version 1, whose JSON (no `version`) still reads (`Budget` migrates it).
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
        self._json = SignedJson(signer, Budget, "a budget")
        self._prefix = f"{namespace}budget:"
        self._index = f"{namespace}budgets"
        self._alerts = f"{namespace}budget-alerts:"
        self._clock = clock
        self._memory = max(int(ALERT_MEMORY.total_seconds()), 1)
        self._claim = client.register_script(_CLAIM_ALERT)

    def _key(self, key: str) -> str:
        return self._prefix + key

    async def set(self, budget: Budget) -> None:
        key = self._key(budget.key)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.set(key, self._json.encode(key, budget))
            pipe.sadd(self._index, budget.key)
            pipe.delete(self._alerts + budget.key)
            await pipe.execute()

    async def get(self, key: str) -> Budget | None:
        stored = self._key(key)
        return self._json.decode(stored, await self._client.get(stored))

    async def list(self) -> builtins.list[Budget]:
        budget_keys = sorted(text(member) for member in await self._client.smembers(self._index))
        return await self._json.read_all(self._client, [self._key(key) for key in budget_keys])

    async def remove(self, key: str) -> bool:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(key))
            pipe.srem(self._index, key)
            pipe.delete(self._alerts + key)
            deleted, _, _ = await pipe.execute()
        return bool(deleted)

    async def sent(self, key: str, month: str) -> builtins.set[str]:
        fields = await self._client.hkeys(self._alerts + key)
        prefix = f"{month}:"
        return {text.removeprefix(prefix) for text in map(text, fields) if text.startswith(prefix)}

    async def claim_alert(self, key: str, month: str, claim: str) -> bool:
        won = await self._claim(
            keys=[self._key(key), self._alerts + key],
            args=[f"{month}:{claim}", month, self._clock().isoformat(), self._memory],
        )
        return bool(won)

    async def aclose(self) -> None:
        """Nothing of its own to close: the client is closed by whoever made it."""
