"""`ExpiryClaims` in Redis (with `REDIS_URL`)."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.store.redis_client import NAMESPACE

if TYPE_CHECKING:
    from redis.asyncio import Redis


class RedisClaims:
    """Once-only claims shared by every replica: `SET <namespace>claim:<key> NX EX <keep>`."""

    def __init__(self, client: Redis, *, namespace: str = NAMESPACE) -> None:
        self._client = client
        self._prefix = f"{namespace}claim:"

    async def claim(self, key: str, keep: timedelta) -> bool:
        seconds = max(math.ceil(keep.total_seconds()), 1)
        return bool(await self._client.set(self._prefix + key, "1", nx=True, ex=seconds))

    async def aclose(self) -> None:
        """Nothing of its own to close: the client is closed by whoever made it."""
