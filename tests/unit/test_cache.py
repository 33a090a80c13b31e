import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.core.cache import MemoryCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_reuses_answer_within_ttl_and_reloads_after() -> None:
    clock = Clock()
    cache = MemoryCache(ttl=60, timer=clock)
    calls = 0

    async def load() -> int:
        nonlocal calls
        calls += 1
        return calls

    assert await cache.get_or_load("k", load) == 1
    clock.now = 59
    assert await cache.get_or_load("k", load) == 1
    clock.now = 61
    assert await cache.get_or_load("k", load) == 2
    assert calls == 2


async def test_concurrent_identical_questions_share_one_load() -> None:
    cache = MemoryCache(ttl=60)
    calls = 0
    release = asyncio.Event()

    async def load() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return "answer"

    tasks = [asyncio.create_task(cache.get_or_load("k", load)) for _ in range(10)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*tasks) == ["answer"] * 10
    assert calls == 1


async def test_single_flight_even_without_ttl() -> None:
    cache = MemoryCache(ttl=0)
    calls = 0
    release = asyncio.Event()

    async def load() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return calls

    tasks = [asyncio.create_task(cache.get_or_load("k", load)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*tasks) == [1, 1, 1]
    assert await cache.get_or_load("k", load) == 2


async def test_failures_reach_every_waiter_and_are_not_cached() -> None:
    cache = MemoryCache(ttl=60)
    release = asyncio.Event()
    attempts = 0

    async def failing() -> int:
        nonlocal attempts
        attempts += 1
        await release.wait()
        raise RuntimeError("upstream down")

    tasks = [asyncio.create_task(cache.get_or_load("k", failing)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert attempts == 1

    async def ok() -> int:
        return 7

    assert await cache.get_or_load("k", ok) == 7


async def test_cancelled_waiter_does_not_cancel_the_shared_load() -> None:
    cache = MemoryCache(ttl=60)
    release = asyncio.Event()

    async def load() -> str:
        await release.wait()
        return "done"

    first = asyncio.create_task(cache.get_or_load("k", load))
    await asyncio.sleep(0)
    impatient = asyncio.create_task(cache.get_or_load("k", load))
    await asyncio.sleep(0)
    impatient.cancel()
    with pytest.raises(asyncio.CancelledError):
        await impatient
    release.set()
    assert await first == "done"


async def test_invalidate_drops_by_prefix_only() -> None:
    cache = MemoryCache(ttl=60)
    counter = {"a": 0, "b": 0}

    def loader(name: str) -> Callable[[], Awaitable[int]]:
        async def load() -> int:
            counter[name] += 1
            return counter[name]

        return load

    await cache.get_or_load("project:a:usage", loader("a"))
    await cache.get_or_load("project:b:usage", loader("b"))
    await cache.invalidate("project:a:")
    assert await cache.get_or_load("project:a:usage", loader("a")) == 2
    assert await cache.get_or_load("project:b:usage", loader("b")) == 1


async def test_cancelling_the_first_caller_leaves_the_load_for_the_others() -> None:
    cache = MemoryCache(ttl=60)
    release = asyncio.Event()
    calls = 0

    async def load() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return "done"

    first = asyncio.create_task(cache.get_or_load("k", load))
    await asyncio.sleep(0)
    second = asyncio.create_task(cache.get_or_load("k", load))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    release.set()
    assert await second == "done"
    assert calls == 1
