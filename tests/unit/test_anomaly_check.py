"""The anomaly check's lifecycle (`bot.core.watch.check.Watch`) with a memory store and a fake
source: what is posted, continued, kept quiet and recovered, day after day."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bot.core.watch.anomalies import Day, Kind, Series, SeriesKey, Source
from bot.core.watch.check import CATCH_UP_DAYS, NoteKind, Watch
from bot.core.watch.lifecycle import Anomaly, MemoryAnomalyStore, Posted

KEY = SeriesKey(Source.MKIO, "web", "streaming_egress")
FIRST = date(2026, 11, 2)  # a Monday: the series starts here
SPIKE = date(2026, 11, 18)  # a Wednesday


class Fake:
    """A series at 100 a day, with the days `unusual` at 1000; and what the check said."""

    def __init__(self) -> None:
        self.unusual: set[date] = set()
        self.alerts: list[tuple[str, list[str]]] = []
        self.notes: list[tuple[str, NoteKind, int]] = []
        self.asked: list[tuple[date, date]] = []

    async def source(self, first: date, last: date) -> list[Series]:
        self.asked.append((first, last))
        since = first - timedelta(days=35)
        days = {
            d: Day(Decimal(1000 if d in self.unusual else 100))
            for n in range((last - since).days + 1)
            if (d := since + timedelta(days=n)) <= last
        }
        return [Series(KEY, days, since)]

    async def alert(self, anomaly: Anomaly, channels: list[str]) -> tuple[Posted, ...]:
        self.alerts.append((anomaly.id, channels))
        return tuple(Posted(channel=c, ts=f"{len(self.alerts)}.0") for c in channels)

    async def note(self, anomaly: Anomaly, kind: NoteKind) -> None:
        self.notes.append((anomaly.id, kind, anomaly.days))


def at(day: date) -> datetime:
    """A check during the day after `day`: `day` is its last complete day."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=3)


async def watch() -> tuple[Watch, Fake, MemoryAnomalyStore]:
    fake, store = Fake(), MemoryAnomalyStore()
    await store.set_channel("C1", True)
    return Watch(store, [("fake", fake.source)], alert=fake.alert, note=fake.note), fake, store


async def test_an_anomaly_that_goes_on_is_one_alert_with_a_note_a_day_then_recovers() -> None:
    check, fake, store = await watch()
    fake.unusual = {SPIKE, SPIKE + timedelta(days=1)}
    first = await check.check(at(SPIKE))
    assert [a.kind for a in first.alerted] == [Kind.SPIKE]
    (opened,) = first.alerted
    assert opened.messages == (Posted(channel="C1", ts="1.0"),)
    assert fake.alerts == [(opened.id, ["C1"])]
    again = await check.check(at(SPIKE))  # the same day again: nothing more
    assert (again.alerted, again.continued, fake.notes) == ((), (), [])
    second = await check.check(at(SPIKE + timedelta(days=1)))
    assert [a.days for a in second.continued] == [2]
    assert fake.notes == [(opened.id, NoteKind.CONTINUES, 2)]
    third = await check.check(at(SPIKE + timedelta(days=2)))
    assert [a.recovered_on for a in third.recovered] == [SPIKE + timedelta(days=2)]
    assert fake.notes[-1] == (opened.id, NoteKind.RECOVERED, 2)
    assert len(fake.alerts) == 1
    assert await store.open_count() == 0


async def test_acknowledged_or_snoozed_it_goes_on_quietly_until_the_snooze_ends() -> None:
    check, fake, store = await watch()
    fake.unusual = {SPIKE + timedelta(days=n) for n in range(4)}
    (opened,) = (await check.check(at(SPIKE))).alerted
    snooze_end = at(SPIKE) + timedelta(days=1, hours=1)
    await store.change(opened.id, "snooze", lambda a: a.snooze("U1", at(SPIKE), snooze_end))
    await check.check(at(SPIKE + timedelta(days=1)))  # snoozed: quiet
    assert fake.notes == []
    await check.check(at(SPIKE + timedelta(days=2)))  # the snooze is over: heard again
    assert fake.notes == [(opened.id, NoteKind.CONTINUES, 3)]
    await store.change(opened.id, "ack", lambda a: a.acknowledge("U2", at(SPIKE)))
    await check.check(at(SPIKE + timedelta(days=3)))  # acknowledged: quiet
    assert len(fake.notes) == 1


async def test_expected_until_a_day_no_new_alert_of_its_series_until_then() -> None:
    check, fake, store = await watch()
    fake.unusual = {SPIKE}
    (opened,) = (await check.check(at(SPIKE))).alerted
    until = SPIKE + timedelta(days=5)
    await store.change(opened.id, "exp", lambda a: a.expect("U1", at(SPIKE), until))
    await check.check(at(SPIKE + timedelta(days=1)))  # recovered
    fake.unusual |= {SPIKE + timedelta(days=3), SPIKE + timedelta(days=7)}
    quiet = await check.check(at(SPIKE + timedelta(days=3)))
    assert quiet.alerted == ()
    assert quiet.suppressed == (KEY.id,)
    loud = await check.check(at(SPIKE + timedelta(days=7)))  # after the day: alerted again
    assert [a.day for a in loud.alerted] == [SPIKE + timedelta(days=7)]


async def test_without_a_channel_it_is_found_and_listed_not_posted_and_the_hour_skips() -> None:
    fake, store = Fake(), MemoryAnomalyStore()
    check = Watch(store, [("fake", fake.source)], alert=fake.alert, note=fake.note)
    fake.unusual = {SPIKE}
    assert await check.hourly(at(SPIKE)) is None  # nobody listens: no upstream cost
    result = await check.check(at(SPIKE))
    assert len(result.alerted) == 1
    assert fake.alerts == []
    assert await store.open_count() == 1


async def test_a_source_that_fails_is_said_and_the_others_checked() -> None:
    fake, store = Fake(), MemoryAnomalyStore()

    async def broken(first: date, last: date) -> list[Series]:
        raise RuntimeError("down")

    check = Watch(
        store, [("broken", broken), ("fake", fake.source)], alert=fake.alert, note=fake.note
    )
    fake.unusual = {SPIKE}
    result = await check.check(at(SPIKE))
    assert result.errors == ("broken",)
    assert len(result.alerted) == 1


async def test_a_day_missed_while_down_is_judged_by_the_next_check_from_one_request() -> None:
    check, fake, store = await watch()
    fake.unusual = {SPIKE}
    before = await check.check(at(SPIKE - timedelta(days=1)))
    assert before.alerted == ()
    # down for two days: no check judged SPIKE (unusual) nor the day after (usual again)
    result = await check.check(at(SPIKE + timedelta(days=2)))
    assert (result.first_day, result.day, result.days) == (SPIKE, SPIKE + timedelta(days=2), 3)
    assert fake.asked[-1] == (SPIKE, SPIKE + timedelta(days=2))  # one request for all three
    assert [a.day for a in result.alerted] == [SPIKE]
    assert [a.recovered_on for a in result.recovered] == [SPIKE + timedelta(days=1)]
    assert fake.notes == [(result.alerted[0].id, NoteKind.RECOVERED, 1)]
    again = await check.check(at(SPIKE + timedelta(days=2)))  # judged: nothing more
    assert (again.first_day, again.alerted, again.recovered) == (None, (), ())
    assert len(fake.alerts) == 1
    assert await store.judged() == SPIKE + timedelta(days=2)


async def test_catching_up_goes_back_at_most_a_week() -> None:
    check, fake, _ = await watch()
    await check.check(at(SPIKE - timedelta(days=20)))
    fake.unusual = {SPIKE - timedelta(days=7), SPIKE - timedelta(days=6)}
    result = await check.check(at(SPIKE))
    assert result.first_day == SPIKE - timedelta(days=CATCH_UP_DAYS - 1)
    assert fake.asked[-1] == (SPIKE - timedelta(days=6), SPIKE)
    assert [a.day for a in result.alerted] == [SPIKE - timedelta(days=6)]


async def test_days_not_judged_for_a_failed_source_are_judged_by_the_next_check() -> None:
    fake, store = Fake(), MemoryAnomalyStore()
    failing = True

    async def flaky(first: date, last: date) -> list[Series]:
        if failing:
            raise RuntimeError("down")
        return await fake.source(first, last)

    check = Watch(store, [("flaky", flaky)], alert=fake.alert, note=fake.note)
    await store.set_judged(SPIKE - timedelta(days=1))
    fake.unusual = {SPIKE}
    assert (await check.check(at(SPIKE))).errors == ("flaky",)
    assert await store.judged() == SPIKE - timedelta(days=1)
    failing = False
    result = await check.check(at(SPIKE + timedelta(days=1)))
    assert [a.day for a in result.alerted] == [SPIKE]


async def test_two_replicas_catching_up_at_once_alert_once() -> None:
    fake, store = Fake(), MemoryAnomalyStore()
    await store.set_channel("C1", True)
    await store.set_judged(SPIKE - timedelta(days=3))
    fake.unusual = {SPIKE - timedelta(days=2), SPIKE - timedelta(days=1)}
    one, two = (
        Watch(store, [("fake", fake.source)], alert=fake.alert, note=fake.note) for _ in range(2)
    )
    first, second = await asyncio.gather(one.check(at(SPIKE)), two.check(at(SPIKE)))
    assert len(first.alerted) + len(second.alerted) == 1
    assert len(fake.alerts) == 1
    assert [kind for _, kind, _ in fake.notes] == [NoteKind.CONTINUES, NoteKind.RECOVERED]
    (closed,) = first.recovered + second.recovered
    assert (closed.days, closed.recovered_on) == (2, SPIKE)
