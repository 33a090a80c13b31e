"""How fast and how many at once the bot may ask one API.

`RequestRate` keeps the bot within a per-minute budget of requests (Contro allows 1,000 per
minute per key): no sliding window of `window` seconds ever holds more than `budget` sends.
It also pauses every sender when the API says to wait: a 429's `Retry-After`, or
`X-RateLimit-Remaining: 0` with `X-RateLimit-Reset`. `PacedTransport` applies it to every
try (retries included) and reads those headers from every answer.

`Gate` bounds the requests in flight to one API and counts the ones queued behind it, so
that the time a request spends waiting for the bot's own turn is never taken for the API
being slow (the call's deadline starts once it is let through).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Final

import httpx

#: A reset above this is a Unix time, not a number of seconds.
_EPOCH_THRESHOLD: Final = 1_000_000_000
#: The longest pause an answer's headers may impose (a wrong header must not stall the bot).
MAX_PAUSE: Final = 300.0


class RequestRate:
    """At most `budget` requests in any `window` seconds, and pauses the API asks for.

    `clock` and `sleep` are injectable so that tests run on a fake clock. Waiters are served
    in arrival order (one at a time through an `asyncio.Lock`).
    """

    def __init__(
        self,
        budget: int,
        *,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if budget < 1 or window <= 0:
            raise ValueError("budget and window must be positive")
        self.budget = budget
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until one more request fits the budget (and no pause holds), and count it."""
        async with self._lock:
            while True:
                now = self._clock()
                while self._sent and self._sent[0] <= now - self.window:
                    self._sent.popleft()
                wait = self._paused_until - now
                if len(self._sent) >= self.budget:
                    wait = max(wait, self._sent[0] + self.window - now)
                if wait <= 0:
                    self._sent.append(now)
                    return
                await self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """No request is sent for `seconds` from now (the longest pause asked wins)."""
        seconds = min(max(seconds, 0.0), MAX_PAUSE)
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def observe(self, response: httpx.Response) -> None:
        """Pause as an answer's headers ask: `Retry-After` on 429 or 503, or an exhausted
        `X-RateLimit-Remaining` until `X-RateLimit-Reset` (seconds, or a Unix time)."""
        headers = response.headers
        if response.status_code in (429, 503):
            wait = retry_after(headers.get("retry-after"))
            if wait is not None:
                self.pause(wait)
                return
        if headers.get("x-ratelimit-remaining", "").strip() == "0":
            reset = _number(headers.get("x-ratelimit-reset"))
            if reset is not None:
                self.pause(reset - time.time() if reset > _EPOCH_THRESHOLD else reset)


def retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header (a number, or an HTTP date); None if unreadable."""
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


#: A request extension: its first try was counted before its deadline started
#: (`ApiClient`), so that waiting for the pace is not taken for the API being slow.
PACED: Final = "billing_bot.paced"


class PacedTransport(httpx.AsyncBaseTransport):
    """`inner`, with every try sent within `rate` and every answer's pause headers obeyed."""

    def __init__(self, inner: httpx.AsyncBaseTransport, rate: RequestRate) -> None:
        self._inner = inner
        self._rate = rate

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not request.extensions.pop(PACED, False):  # retries are counted here
            await self._rate.acquire()
        response = await self._inner.handle_async_request(request)
        self._rate.observe(response)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class Gate:
    """At most `limit` requests to one API in flight, each sent within `rate` if given;
    `queued` counts those waiting."""

    def __init__(self, limit: int, rate: RequestRate | None = None) -> None:
        if limit < 1:
            raise ValueError("the concurrency limit must be at least 1")
        self.limit = limit
        self.rate = rate
        self.queued = 0
        self._semaphore = asyncio.Semaphore(limit)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for a free slot and for the pace; the request's first try is then counted
        (send it with `extensions[PACED] = True` when a `rate` is set)."""
        self.queued += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.queued -= 1
        try:
            if self.rate is not None:
                await self.rate.acquire()
            yield
        finally:
            self._semaphore.release()
