"""The anomaly check: each series' complete days since the last check, against its baseline.

Slack-free and time-free: the series come from `sources` (one call each per check: see
`bot.core.watch.sources`), what is said goes through two callbacks, and `check(now)` takes the
time. It judges every complete UTC day since the last one it judged (`AnomalyStore.judged`),
so that days missed while the bot was down are examined later: at most `CATCH_UP_DAYS`, the
last complete day before `now` always (again, if it was judged before: its usage may have
grown since), all of them from the one request per source. For each series, day after day:

- unusual, and no anomaly of the series open: a new anomaly, unless its series is expected to
  be unusual until then (`Anomaly.suppresses`). `AnomalyStore.open` lets exactly one process
  have it; that one posts it with `alert(anomaly, channels)` (when a channel listens) and
  records where the messages are;
- unusual again, an anomaly open: it continues, and its thread hears so once that day
  (`note(anomaly, CONTINUES)`) unless it was acknowledged, is expected or snoozed;
- back within the baseline, an anomaly open: it is closed, and its thread hears that it
  recovered (`note(anomaly, RECOVERED)`); a new series' anomaly closes quietly the next day.

Every change is claimed in the store (`AnomalyStore.change`), so replicas checking at the
same time, or a restart, post each message once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

from bot.clock import aware_utc
from bot.core.watch.anomalies import Finding, Kind, Rules, Series, examine
from bot.core.watch.lifecycle import Anomaly, AnomalyStore, Posted

__all__ = [
    "CATCH_UP_DAYS",
    "Alert",
    "CheckResult",
    "Note",
    "NoteKind",
    "PriceAnomaly",
    "Reach",
    "ReachOf",
    "SeriesSource",
    "Watch",
    "days_to_judge",
    "last_complete_day",
]

log = logging.getLogger(__name__)

# How many days back a check examines after the bot was down: a longer gap's older days are
# not judged (their alerts would be old news, and the report would grow with every day).
CATCH_UP_DAYS: Final = 7


class Reach(StrEnum):
    """Can alerts reach a channel? Asked when a channel is turned on."""

    MEMBER = "member"  # the bot is in it
    JOINED = "joined"  # a public channel the bot was not in: it joined it now
    INVITE = "invite"  # the bot is not in it and cannot join: it must be invited
    UNKNOWN = "unknown"  # the chat platform did not say


class NoteKind(StrEnum):
    CONTINUES = "continues"
    RECOVERED = "recovered"


# the series, fetched for judging the days from the first to the last (both included)
SeriesSource = Callable[[date, date], Awaitable[list[Series]]]
Alert = Callable[[Anomaly, list[str]], Awaitable[tuple[Posted, ...]]]
Note = Callable[[Anomaly, NoteKind], Awaitable[None]]
ReachOf = Callable[[str], Awaitable[Reach]]
# a new anomaly priced (its change in units at the project's rate card), before it is posted
PriceAnomaly = Callable[[Anomaly], Awaitable[Anomaly]]


@dataclass(frozen=True)
class CheckResult:
    day: date  # the last day judged
    series: int = 0
    alerted: tuple[Anomaly, ...] = ()  # opened by this process (posted if a channel listens)
    continued: tuple[Anomaly, ...] = ()
    recovered: tuple[Anomaly, ...] = ()
    suppressed: tuple[str, ...] = ()  # series expected to be unusual: not alerted
    errors: tuple[str, ...] = ()  # sources that could not be read, for the log and the reply
    first_day: date | None = None  # the first day judged, when days missed were judged too

    @property
    def days(self) -> int:
        return 1 if self.first_day is None else (self.day - self.first_day).days + 1


def last_complete_day(now: datetime) -> date:
    return aware_utc(now).date() - timedelta(days=1)


def days_to_judge(judged: date | None, last: date) -> list[date]:
    """The days after the last one judged, up to `last` and at most `CATCH_UP_DAYS`; `last`
    alone when nothing was judged before, or `last` was."""
    first = last if judged is None or judged >= last else judged + timedelta(days=1)
    first = max(first, last - timedelta(days=CATCH_UP_DAYS - 1))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class Watch:
    def __init__(
        self,
        store: AnomalyStore,
        sources: Sequence[tuple[str, SeriesSource]],
        *,
        alert: Alert,
        note: Note,
        rules: Rules | None = None,
        price: PriceAnomaly | None = None,
        reach: ReachOf | None = None,
    ) -> None:
        self.store = store
        self._price = price
        self._reach = reach
        self._sources = sources
        self._alert = alert
        self._note = note
        self.rules = rules or Rules()
        # open anomalies after this replica's latest check, for the metrics (no store read)
        self.open_known: int | None = None

    async def reach(self, channel: str) -> Reach:
        """Whether alerts can reach `channel` (UNKNOWN without a way to ask)."""
        return Reach.UNKNOWN if self._reach is None else await self._reach(channel)

    async def hourly(self, now: datetime) -> CheckResult | None:
        """The scheduler's check: only when some channel hears of anomalies (else it would
        cost upstream requests every hour for nobody)."""
        if not await self.store.channels():
            return None
        return await self.check(now)

    async def check(self, now: datetime) -> CheckResult:
        last = last_complete_day(now)
        days = days_to_judge(await self.store.judged(), last)
        series: list[Series] = []
        errors: list[str] = []
        for name, source in self._sources:
            try:
                series += await source(days[0], last)
            except Exception as error:
                log.warning("anomaly check: could not read %s (%s)", name, type(error).__name__)
                errors.append(name)
        channels = await self.store.channels()
        open_now = {anomaly.series: anomaly for anomaly in await self.store.list_open()}
        said = _Said()
        for one in sorted(series, key=lambda s: s.key):
            current = open_now.get(one.key.id)
            for day in days:
                current = await self._judge(one, day, current, now, channels, said)
        if not errors:  # a source not read leaves its days to the next check
            await self.store.set_judged(last)
        self.open_known = len(await self.store.list_open())
        return CheckResult(
            last,
            len(series),
            tuple(said.alerted),
            tuple(said.continued),
            tuple(said.recovered),
            tuple(said.suppressed),
            tuple(errors),
            first_day=days[0] if len(days) > 1 else None,
        )

    async def _judge(
        self,
        one: Series,
        day: date,
        current: Anomaly | None,
        now: datetime,
        channels: list[str],
        said: _Said,
    ) -> Anomaly | None:
        """Judge one day of one series; the series' open anomaly after it."""
        finding = examine(one, day, self.rules)
        if current is not None and current.last_day >= day:
            return current  # this day was judged already
        if current is not None:
            if finding is not None and _same_stretch(current, finding):
                if (more := await self._continue(current, day, now)) is not None:
                    said.continued.append(more)
                    return more
                return await self._still_open(current)  # another process continued it
            if (closed := await self._close(current, day, now)) is not None:
                said.recovered.append(closed)
        if finding is None:
            return None
        latest = await self.store.latest(one.key.id)
        if latest is not None and latest.suppresses(day):
            if one.key.id not in said.suppressed:
                said.suppressed.append(one.key.id)
            return None
        anomaly = Anomaly.of(finding, aware_utc(now), window_days=self.rules.window_days)
        if await self.store.open(anomaly):
            posted = await self._post(await self._priced(anomaly), channels)
            said.alerted.append(posted)
            return posted
        # another process opened it (or one of its series): go on from what it stored
        return await self._still_open(await self.store.latest(one.key.id))

    async def _still_open(self, anomaly: Anomaly | None) -> Anomaly | None:
        if anomaly is None:
            return None
        now_stored = await self.store.get(anomaly.id)
        return now_stored if now_stored is not None and now_stored.open else None

    async def _priced(self, anomaly: Anomaly) -> Anomaly:
        """Priced by the process that opened it, once (the store keeps what it found)."""
        if self._price is None:
            return anomaly
        try:
            priced = await self._price(anomaly)
        except Exception:
            log.exception("anomaly %s: pricing failed; the report's price stays", anomaly.id)
            return anomaly
        update = {
            "unit_price": priced.unit_price,
            "price_from": priced.price_from,
            "rate_card": priced.rate_card,
            "price_note": priced.price_note,
        }
        changed = await self.store.change(
            anomaly.id, "priced", lambda a: a.model_copy(update=update)
        )
        return changed or anomaly

    async def _post(self, anomaly: Anomaly, channels: list[str]) -> Anomaly:
        if not channels:
            return anomaly
        try:
            posted = await self._alert(anomaly, channels)
        except Exception:
            log.exception("anomaly %s: the alert failed; it is not posted again", anomaly.id)
            return anomaly
        return await self.store.change(anomaly.id, "posted", lambda a: a.with_messages(posted)) or (
            anomaly
        )

    async def _continue(self, current: Anomaly, day: date, now: datetime) -> Anomaly | None:
        more = await self.store.change(current.id, f"day:{day}", lambda a: a.continued(day))
        if more is not None and not more.quiet(day, now):
            await self._tell(more, NoteKind.CONTINUES)
        return more

    async def _close(self, current: Anomaly, day: date, now: datetime) -> Anomaly | None:
        closed = await self.store.change(
            current.id, "closed", lambda a: a.closed(day, aware_utc(now))
        )
        if closed is not None and closed.kind is not Kind.NEW:
            await self._tell(closed, NoteKind.RECOVERED)
        return closed

    async def _tell(self, anomaly: Anomaly, kind: NoteKind) -> None:
        if not anomaly.messages:
            return
        try:
            await self._note(anomaly, kind)
        except Exception:
            log.exception("anomaly %s: the %s note failed", anomaly.id, kind)


@dataclass
class _Said:
    """What one check did, for its result."""

    alerted: list[Anomaly] = field(default_factory=list)  # opened by this process
    continued: list[Anomaly] = field(default_factory=list)
    recovered: list[Anomaly] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)


def _same_stretch(current: Anomaly, finding: Finding) -> bool:
    """A spike that goes on, or a drop that goes on; a new series is new only once."""
    return current.kind is not Kind.NEW and current.kind is finding.kind
