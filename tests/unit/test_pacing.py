"""bot.apis.pacing and its use by ApiClient: a per-minute budget on a fake clock, the API's
pauses obeyed, and the bot's own queue never taken for the API being slow."""

from __future__ import annotations

import asyncio
import itertools

import httpx
import pytest

from bot.apis.http import Api, ApiClient, Limits, RetryPolicy
from bot.apis.pacing import Gate, RequestRate, retry_after
from bot.errors import Unavailable

API = Api("Example", "key", "EXAMPLE_KEY", "check the key.")
BASE = "https://api.example.test/v1"


class FakeClock:
    """Time that passes only when someone sleeps; `slept` holds each wait asked for."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def most_in_any_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    return max(
        (sum(1 for t in ordered[i:] if t < start + window) for i, start in enumerate(ordered)),
        default=0,
    )


@pytest.mark.parametrize(("budget", "senders", "each"), [(10, 5, 11), (7, 40, 1), (1, 3, 3)])
async def test_the_budget_is_never_exceeded_in_any_window(
    budget: int, senders: int, each: int
) -> None:
    clock = FakeClock()
    rate = RequestRate(budget, window=60.0, clock=clock, sleep=clock.sleep)
    sent: list[float] = []

    async def sender() -> None:
        for _ in range(each):
            await rate.acquire()
            sent.append(clock())

    await asyncio.gather(*(sender() for _ in range(senders)))

    assert len(sent) == senders * each
    assert most_in_any_window(sent, 60.0) == min(budget, senders * each)
    # and it is not slower than it must be: a full budget is sent every window
    assert sent[-1] - sent[0] <= 60.0 * ((senders * each - 1) // budget)


async def test_a_pause_holds_every_sender_until_it_ends() -> None:
    clock = FakeClock()
    rate = RequestRate(100, clock=clock, sleep=clock.sleep)
    await rate.acquire()
    rate.pause(7.5)
    start = clock()
    sent: list[float] = []

    async def sender() -> None:
        await rate.acquire()
        sent.append(clock())

    await asyncio.gather(*(sender() for _ in range(3)))
    assert len(sent) == 3
    assert min(sent) >= start + 7.5


@pytest.mark.parametrize(
    ("status", "headers", "pause"),
    [
        (429, {"Retry-After": "12"}, 12.0),
        (503, {"Retry-After": "3"}, 3.0),
        (200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "20"}, 20.0),
        (200, {"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": "20"}, 0.0),
        (200, {"Retry-After": "12"}, 0.0),  # only a refusal's Retry-After pauses
        (429, {"Retry-After": "soon"}, 0.0),
        (429, {"Retry-After": "100000"}, 300.0),  # bounded
    ],
)
async def test_answers_headers_pause_the_rate(
    status: int, headers: dict[str, str], pause: float
) -> None:
    clock = FakeClock()
    rate = RequestRate(100, clock=clock, sleep=clock.sleep)
    rate.observe(httpx.Response(status, headers=headers))
    start = clock()
    await rate.acquire()
    assert clock() - start == pytest.approx(pause)


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after("5") == 5.0
    assert retry_after("-1") == 0.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after("nonsense") is None
    assert retry_after(None) is None


async def test_every_try_of_a_client_is_paced_and_a_429_pauses_the_retry() -> None:
    clock = FakeClock()
    rate = RequestRate(1000, clock=clock, sleep=clock.sleep)
    sent: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(clock())
        if len(sent) == 1:
            return httpx.Response(429, headers={"Retry-After": "4"}, json={"error": "slow"})
        return httpx.Response(200, json={"ok": True})

    api = ApiClient(
        API,
        BASE,
        {},
        transport=httpx.MockTransport(answer),
        retry=RetryPolicy.immediate(),
        rate=rate,
    )
    async with api.http:
        assert (await api.read("GET", "/thing")).data == {"ok": True}
    assert len(sent) == 2
    assert sent[1] - sent[0] >= 4.0


# -- the bot's own queue --------------------------------------------------------------------


async def test_a_pool_timeout_is_the_bots_queue_not_the_api_and_is_not_retried() -> None:
    tries = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal tries
        tries += 1
        raise httpx.PoolTimeout("no connection free", request=request)

    api = ApiClient(
        API, BASE, {}, transport=httpx.MockTransport(answer), retry=RetryPolicy.immediate()
    )
    async with api.http:
        with pytest.raises(Unavailable) as raised:
            await api.read("GET", "/thing")
    assert tries == 1
    assert raised.value.code == "busy"
    assert "did not answer" not in str(raised.value)
    assert "too many questions for Example" in str(raised.value)


async def test_a_request_queued_longer_than_its_deadline_still_gets_its_answer() -> None:
    """Four requests, one at a time, each 0.5 s in flight, 1.5 s allowed per call: the last
    waits about 1.5 s for its turn, which is not counted against its deadline."""
    in_flight = 0
    most = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.5)
        in_flight -= 1
        return httpx.Response(200, json={"n": request.url.params["n"]})

    api = ApiClient(
        API,
        BASE,
        {},
        transport=httpx.MockTransport(answer),
        retry=RetryPolicy.immediate(),
        limits=Limits(json_seconds=1.5),
        concurrency=1,
    )
    async with api.http:
        answers = await asyncio.gather(
            *(api.read("GET", "/thing", params={"n": n}) for n in range(4))
        )
    assert [a.data["n"] for a in answers] == ["0", "1", "2", "3"]
    assert most == 1


async def test_the_gate_counts_who_is_queued() -> None:
    gate = Gate(2)
    release = asyncio.Event()
    counts: list[int] = []

    async def hold() -> None:
        async with gate.turn():
            counts.append(gate.queued)
            await release.wait()

    tasks = [asyncio.create_task(hold()) for _ in range(5)]
    for _ in itertools.repeat(None, 5):
        await asyncio.sleep(0)
    assert gate.queued == 3
    release.set()
    await asyncio.gather(*tasks)
    assert gate.queued == 0
    assert counts == [0, 0, 2, 1, 0]  # the first two never waited
