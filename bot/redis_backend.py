"""Redis backends for several replicas (issue 6): not written yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.backends import Backends
    from bot.config import Settings


def redis_backends(settings: Settings) -> Backends:
    raise NotImplementedError("REDIS_URL is not supported yet")
