"""Deterministic identifiers and pseudo-random integers derived from the sandbox seed.

Everything the sandbox invents (uuids, quantities, record ids) comes from a keyed hash of the
seed and a few labels, so any single value can be computed on its own, in any order, without
generating the values before it.
"""

from __future__ import annotations

import hashlib
import uuid


def stable_bytes(seed: int, *parts: object, size: int = 8) -> bytes:
    """`size` bytes that depend only on `seed` and `parts`."""
    text = "\x1f".join([str(seed), *(str(part) for part in parts)])
    return hashlib.blake2b(text.encode(), digest_size=size).digest()


def stable_int(seed: int, *parts: object) -> int:
    """A 64-bit unsigned integer that depends only on `seed` and `parts`."""
    return int.from_bytes(stable_bytes(seed, *parts), "big")


def stable_uuid(seed: int, *parts: object) -> str:
    """A version-4-shaped uuid string that depends only on `seed` and `parts`."""
    return str(uuid.UUID(bytes=stable_bytes(seed, "uuid", *parts, size=16), version=4))


def stable_hex(seed: int, *parts: object, length: int = 16) -> str:
    """`length` lowercase hex digits that depend only on `seed` and `parts`."""
    return stable_bytes(seed, "hex", *parts, size=(length + 1) // 2).hex()[:length]
