"""The Redis client the bot's shared state lives on (`REDIS_URL`), and its health check."""

from __future__ import annotations

import asyncio
from typing import Any, Final

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

NAMESPACE: Final = "billing-bot:"
HEALTH_TIMEOUT_SECONDS: Final = 1.0


def redis_client(url: str) -> Redis:
    """A client that fails fast when Redis is away: short timeouts, two quick retries."""
    try:
        client = Redis.from_url(
            url,
            socket_connect_timeout=2.0,
            socket_timeout=5.0,
            retry=Retry(ExponentialBackoff(cap=0.25, base=0.025), 2),
        )
    except ValueError:
        # redis-py's message may quote parts of the URL, which is a secret.
        raise ValueError("REDIS_URL is not a redis://, rediss:// or unix:// URL") from None
    if client.connection_pool.connection_kwargs.get("decode_responses"):
        raise ValueError("REDIS_URL must not set decode_responses: the bot stores bytes")
    return client


def text(raw: bytes | str) -> str:
    """A key or member as text: the client returns bytes (no decode_responses), though
    redis-py's hints also allow str."""
    return raw.decode() if isinstance(raw, bytes) else raw


async def ping(client: Redis, timeout: float | None = None) -> bool:  # noqa: ASYNC109
    """Whether Redis answers within `timeout` (default HEALTH_TIMEOUT_SECONDS, read now)."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS if timeout is None else timeout):
            reply: Any = client.ping()  # typed as "awaitable or not" for both clients
            return bool(await reply)
    except (RedisError, OSError, TimeoutError):
        return False
