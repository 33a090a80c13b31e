"""Reminders before a credential expires: 30, 7 and 1 days before, each once.

Slack-free and time-free. `ExpiryWatch` runs the checks (a callback: `billing-bot check`'s,
which logs what it finds and returns each credential's `Expiry`) once at start and then once a
day, and calls `remind(expiry, milestone)` for the credentials a milestone has come for.

Whatever the number of replicas and restarts, each reminder is sent once: it is claimed in the
store (`ExpiryClaims.claim`, atomic: SQLite's UNIQUE insert, Redis' SET NX) before it is sent,
under the credential's key (its setting and expiry, so a new token starts afresh) and the
milestone. The daily check is claimed the same way, so that one replica makes it each day; the
one at start is made by every replica (its warnings go to each one's log), its reminders
claimed all the same.

Stores: `MemoryExpiryClaims` here; the SQLite and Redis ones are in `bot.store`
(`sqlite_claims`, `redis_claims`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from bot.clock import Clock, aware_utc

__all__ = [
    "MILESTONES",
    "Expiry",
    "ExpiryClaims",
    "ExpiryWatch",
    "MemoryExpiryClaims",
    "Reminder",
    "milestone",
]

log = logging.getLogger(__name__)

#: Days before the expiry at which the admins are reminded; 0: it has expired.
MILESTONES: Final = (30, 7, 1)
CHECK_EVERY: Final = timedelta(days=1)
#: How often each replica looks whether today's check is still to be made (and claims it).
LOOK_EVERY_SECONDS: Final = 3600.0
#: A reminder's claim outlives its credential by this much (it is never needed again).
KEEP_AFTER_EXPIRY: Final = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Expiry:
    """When a credential stops working: what the reminders go by."""

    variable: str  # the setting that holds it: MKIO_TOKEN
    what: str  # "mkio token"
    expires: datetime
    named: str = ""  # which token, as its API lists it ("“billing-bot” (id) "), or ""
    renew: str = ""  # what to do: "create a new token in MK.IO"

    @property
    def key(self) -> str:
        """The same for one credential, another for its successor (a new token expires
        later): what a reminder is claimed under. Holds nothing of the secret. The day, not
        the second: the JWT's `exp` and MK.IO's list may differ by a little, and a day when
        the list cannot be read must not make the reminders start again."""
        return f"{self.variable}@{self.expires.astimezone(UTC):%Y-%m-%d}"


def milestone(expires: datetime, now: datetime) -> int | None:
    """The nearest milestone `now` has reached (7 when 5 days are left), 0 once `expires` has
    passed, None when more than the first milestone is left. A replica that was down at the
    30-day mark reminds at 7 when it comes back 5 days before, not at both."""
    left = aware_utc(expires) - aware_utc(now)
    if left <= timedelta(0):
        return 0
    reached = [days for days in MILESTONES if left <= timedelta(days=days)]
    return min(reached) if reached else None


class ExpiryClaims(Protocol):
    async def claim(self, key: str, keep: timedelta) -> bool:
        """True for exactly one caller per `key` (across replicas) for `keep` from now."""
        ...

    async def aclose(self) -> None: ...


class MemoryExpiryClaims:
    """`ExpiryClaims` for one process (tests, and nothing shared)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._until: dict[str, datetime] = {}
        self._clock = clock

    async def claim(self, key: str, keep: timedelta) -> bool:
        now = self._clock() if self._clock else datetime.now(UTC)
        until = self._until.get(key)
        if until is not None and until > now:
            return False
        self._until[key] = now + keep
        return True

    async def aclose(self) -> None:
        """Nothing to close."""


@dataclass(frozen=True, slots=True)
class Reminder:
    expiry: Expiry
    milestone: int
    sent: bool  # False: claimed, but the reminder could not be sent (it is not retried)


Check = Callable[[datetime], Awaitable[Sequence[Expiry]]]
Remind = Callable[[Expiry, int, datetime], Awaitable[None]]


class ExpiryWatch:
    def __init__(self, claims: ExpiryClaims, *, check: Check, remind: Remind) -> None:
        self._claims = claims
        self._check = check
        self._remind = remind

    async def daily(self, now: datetime) -> tuple[Reminder, ...] | None:
        """Today's check and its reminders, if this replica claims the day; else None."""
        day = aware_utc(now).date().isoformat()
        if not await self._claims.claim(f"check:{day}", CHECK_EVERY * 2):
            return None
        return await self.run(now)

    async def at_start(self, now: datetime) -> tuple[Reminder, ...]:
        """The check every replica makes when it starts; it counts as today's."""
        await self._claims.claim(f"check:{aware_utc(now).date().isoformat()}", CHECK_EVERY * 2)
        return await self.run(now)

    async def run(self, now: datetime) -> tuple[Reminder, ...]:
        """The checks now, and the reminders due and not yet claimed."""
        return await self.remind_due(await self._check(now), now)

    async def remind_due(self, expiries: Sequence[Expiry], now: datetime) -> tuple[Reminder, ...]:
        sent: list[Reminder] = []
        for expiry in expiries:
            reached = milestone(expiry.expires, now)
            if reached is None:
                continue
            keep = max(aware_utc(expiry.expires) - aware_utc(now), timedelta(0))
            if not await self._claims.claim(
                f"remind:{expiry.key}:{reached}", keep + KEEP_AFTER_EXPIRY
            ):
                continue  # sent already, by this replica or another
            try:
                await self._remind(expiry, reached, now)
            except Exception:
                log.exception("the reminder that %s expires could not be sent", expiry.variable)
                sent.append(Reminder(expiry, reached, sent=False))
            else:
                sent.append(Reminder(expiry, reached, sent=True))
        return tuple(sent)

    async def run_forever(
        self,
        clock: Clock,
        interval: float = LOOK_EVERY_SECONDS,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`at_start`, then `daily` every `interval` seconds, until cancelled."""
        await self._guarded(self.at_start, clock)
        while True:
            await sleep(interval)
            await self._guarded(self.daily, clock)

    async def _guarded(self, step: Callable[[datetime], Awaitable[object]], clock: Clock) -> None:
        try:
            await step(clock())
        except Exception:
            log.exception("the credential check failed; it runs again at the next one")
