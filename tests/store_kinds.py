"""One store of each kind (memory, SQLite, Redis) for the store tests, made and closed alike."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Final, Generic, Protocol, TypeVar

from redis.asyncio import Redis

STORE_KINDS: Final = ("memory", "sqlite", "redis")


class _Closes(Protocol):
    async def aclose(self) -> None: ...


S = TypeVar("S", bound=_Closes)


def new_namespace() -> str:
    """A Redis namespace of its own: tests sharing one redis-server never meet."""
    return f"test-{secrets.token_hex(4)}:"


class StoreKinds(Generic[S]):
    """How to make a store of each kind: `StoreKinds[BudgetStore](memory=…, sqlite=…,
    redis=…)` (the type given, as the three classes have no common base but the protocol)."""

    def __init__(
        self,
        *,
        memory: Callable[[], S],
        sqlite: Callable[[], S],
        redis: Callable[[Redis], S],
    ) -> None:
        self._memory, self._sqlite, self._redis = memory, sqlite, redis

    @asynccontextmanager
    async def store(self, kind: str, redis_url: str) -> AsyncIterator[S]:
        """The store of `kind` (one of `STORE_KINDS`), closed after use with its Redis client."""
        client: Redis | None = None
        if kind == "memory":
            made = self._memory()
        elif kind == "sqlite":
            made = self._sqlite()
        else:
            client = Redis.from_url(redis_url)
            made = self._redis(client)
        try:
            yield made
        finally:
            await made.aclose()
            if client is not None:
                await client.aclose()
