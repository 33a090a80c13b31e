"""`ExternalChannelStore` in Redis (with `REDIS_URL`)."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING

from bot.store.external_channels import AllowedChannel
from bot.store.redis_client import NAMESPACE, text
from bot.store.signing import SignedJson, Signer

if TYPE_CHECKING:
    from redis.asyncio import Redis


class RedisExternalChannelStore:
    """Keys (under the namespace): `external-channel:<id>` holds the entry as signed JSON, so a
    forged or edited value reads as absent (never as allowed); `external-channels` the set."""

    def __init__(self, client: Redis, *, signer: Signer, namespace: str = NAMESPACE) -> None:
        self._client = client
        self._json = SignedJson(signer, AllowedChannel, "an allowed external channel")
        self._prefix = f"{namespace}external-channel:"
        self._index = f"{namespace}external-channels"

    async def allow(self, entry: AllowedChannel) -> None:
        key = self._prefix + entry.channel
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.set(key, self._json.encode(key, entry))
            pipe.sadd(self._index, entry.channel)
            await pipe.execute()

    async def revoke(self, channel: str) -> bool:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(self._prefix + channel)
            pipe.srem(self._index, channel)
            deleted, _ = await pipe.execute()
        return bool(deleted)

    async def get(self, channel: str) -> AllowedChannel | None:
        key = self._prefix + channel
        entry = self._json.decode(key, await self._client.get(key))
        return entry if entry is not None and entry.channel == channel else None

    async def list(self) -> builtins.list[AllowedChannel]:
        channels = sorted(text(m) for m in await self._client.smembers(self._index))
        entries = [await self.get(channel) for channel in channels]
        return [e for e in entries if e is not None]
