"""Signing what the bot keeps in Redis, which it treats as storage that someone else might
write to: a value that was forged, edited, or copied to another key reads as absent."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from bot.config import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


class Signer:
    """HMAC-SHA256 over (Redis key, payload). Stored as `<64 hex digits>.<payload>`."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the signing key must be at least 16 bytes")
        self._key = key

    @classmethod
    def from_settings(cls, settings: Settings) -> Signer:
        """A key derived from the Slack signing secret (or the bot token). Not from
        `REDIS_URL`: whoever can reach Redis may know its password."""
        for secret in (settings.slack_signing_secret, settings.slack_bot_token):
            if secret is not None and secret.get_secret_value():
                material = secret.get_secret_value().encode()
                return cls(hmac.new(b"billing-bot/redis/v1", material, hashlib.sha256).digest())
        raise ValueError(
            "REDIS_URL needs SLACK_SIGNING_SECRET or SLACK_BOT_TOKEN: "
            "what the bot keeps in Redis is signed with a key derived from it"
        )

    def sign(self, redis_key: str, payload: bytes) -> bytes:
        return self._mac(redis_key, payload) + b"." + payload

    def open(self, redis_key: str, blob: bytes) -> bytes | None:
        """The payload, or None when the signature does not verify."""
        mac, dot, payload = blob.partition(b".")
        if not dot or not hmac.compare_digest(mac, self._mac(redis_key, payload)):
            return None
        return payload

    def _mac(self, redis_key: str, payload: bytes) -> bytes:
        digest = hmac.new(self._key, redis_key.encode() + b"\0", hashlib.sha256)
        digest.update(payload)
        return digest.hexdigest().encode()


class SignedJson(Generic[M]):
    """One pydantic model kept as signed JSON under its Redis key: what every Redis store but
    the answer cache (which tags its several types, `redis_store.AnswerCodec`) reads and
    writes. A value that does not verify or validate reads as absent, with a warning."""

    def __init__(self, signer: Signer, model: type[M], what: str) -> None:
        self._signer = signer
        self._model = model
        self._what = what  # "a schedule": for the warning

    def encode(self, redis_key: str, value: M) -> bytes:
        return self._signer.sign(redis_key, value.model_dump_json().encode())

    def decode(self, redis_key: str, raw: bytes | str | None) -> M | None:
        if raw is None:
            return None
        # The client returns bytes (no decode_responses); redis-py's hints also allow str.
        payload = self._signer.open(redis_key, raw.encode() if isinstance(raw, str) else raw)
        try:
            if payload is not None:
                return self._model.model_validate_json(payload)
        except ValidationError:
            pass
        log.warning("ignored %s that is not signed by this bot or not valid", self._what)
        return None

    async def read_all(self, client: Redis, keys: Sequence[str]) -> list[M]:
        """The values under `keys` (one MGET) that verify, in the keys' order."""
        if not keys:
            return []
        values = await client.mget(keys)
        return [
            value
            for key, raw in zip(keys, values, strict=True)
            if (value := self.decode(key, raw)) is not None
        ]
