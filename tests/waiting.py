"""Waiting in tests for something that should happen, however slow the machine."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def eventually(
    check: Callable[[], bool | Awaitable[bool]],
    what: str,
    *,
    patience: float,
    interval: float = 0.01,
) -> None:
    """Return once `check()` (plain or async) is true; TimeoutError after `patience` seconds.

    Only a failing test waits that long, so `patience` is generous: a correct program passes
    on a machine many times slower than usual.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        result = check()
        if await result if inspect.isawaitable(result) else result:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"waited {patience:g}s for {what}")
        await asyncio.sleep(interval)
