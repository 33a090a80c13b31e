"""The anomaly check: every series' last complete day, against its baseline, once an hour.

Slack-free and time-free: the series come from `sources` (one call each per check: see
`bot.core.watch.sources`), what is said goes through two callbacks, and `check(now)` takes the
time. For each series, on the last complete UTC day before `now`:

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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.clock import aware_utc
from bot.core.watch.anomalies import Finding, Kind, Rules, Series, examine
from bot.core.watch.lifecycle import Anomaly, AnomalyStore, Posted

__all__ = ["Alert", "CheckResult", "Note", "NoteKind", "SeriesSource", "Watch", "last_complete_day"]

log = logging.getLogger(__name__)


class NoteKind(StrEnum):
    CONTINUES = "continues"
    RECOVERED = "recovered"


SeriesSource = Callable[[date], Awaitable[list[Series]]]  # the series, fetched up to the day
Alert = Callable[[Anomaly, list[str]], Awaitable[tuple[Posted, ...]]]
Note = Callable[[Anomaly, NoteKind], Awaitable[None]]


@dataclass(frozen=True)
class CheckResult:
    day: date
    series: int = 0
    alerted: tuple[Anomaly, ...] = ()  # opened by this process (posted if a channel listens)
    continued: tuple[Anomaly, ...] = ()
    recovered: tuple[Anomaly, ...] = ()
    suppressed: tuple[str, ...] = ()  # series expected to be unusual: not alerted
    errors: tuple[str, ...] = ()  # sources that could not be read, for the log and the reply


def last_complete_day(now: datetime) -> date:
    return aware_utc(now).date() - timedelta(days=1)


class Watch:
    def __init__(
        self,
        store: AnomalyStore,
        sources: Sequence[tuple[str, SeriesSource]],
        *,
        alert: Alert,
        note: Note,
        rules: Rules | None = None,
    ) -> None:
        self.store = store
        self._sources = sources
        self._alert = alert
        self._note = note
        self.rules = rules or Rules()
        # open anomalies after this replica's latest check, for the metrics (no store read)
        self.open_known: int | None = None

    async def hourly(self, now: datetime) -> CheckResult | None:
        """The scheduler's check: only when some channel hears of anomalies (else it would
        cost upstream requests every hour for nobody)."""
        if not await self.store.channels():
            return None
        return await self.check(now)

    async def check(self, now: datetime) -> CheckResult:
        day = last_complete_day(now)
        series: list[Series] = []
        errors: list[str] = []
        for name, source in self._sources:
            try:
                series += await source(day)
            except Exception as error:
                log.warning("anomaly check: could not read %s (%s)", name, type(error).__name__)
                errors.append(name)
        channels = await self.store.channels()
        open_now = {anomaly.series: anomaly for anomaly in await self.store.list_open()}
        alerted: list[Anomaly] = []
        continued: list[Anomaly] = []
        recovered: list[Anomaly] = []
        suppressed: list[str] = []
        for one in sorted(series, key=lambda s: s.key):
            finding = examine(one, day, self.rules)
            current = open_now.get(one.key.id)
            if current is not None and current.last_day < day:
                if finding is not None and _same_stretch(current, finding):
                    if (more := await self._continue(current, day, now)) is not None:
                        continued.append(more)
                    continue
                if (closed := await self._close(current, day, now)) is not None:
                    recovered.append(closed)
            elif current is not None:
                continue  # this day was judged already
            if finding is None:
                continue
            latest = await self.store.latest(one.key.id)
            if latest is not None and latest.suppresses(day):
                suppressed.append(one.key.id)
                continue
            anomaly = Anomaly.of(finding, aware_utc(now), window_days=self.rules.window_days)
            if await self.store.open(anomaly):
                alerted.append(await self._post(anomaly, channels))
        self.open_known = len(await self.store.list_open())
        return CheckResult(
            day,
            len(series),
            tuple(alerted),
            tuple(continued),
            tuple(recovered),
            tuple(suppressed),
            tuple(errors),
        )

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


def _same_stretch(current: Anomaly, finding: Finding) -> bool:
    """A spike that goes on, or a drop that goes on; a new series is new only once."""
    return current.kind is not Kind.NEW and current.kind is finding.kind
