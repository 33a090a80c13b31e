"""The scheduler with a fake clock and fake callbacks: a monthly schedule posts when its time
comes, once, even with two replicas (on one SQLite file, and on one Redis); a missed run is
made up once at start; budgets are checked hourly and alert once; failures stay contained;
`run_forever` ticks on the clock and stops cleanly when cancelled."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.core.language.commands import Frequency, Report
from bot.core.scheduled.budgets import (
    AlertKind,
    Budget,
    BudgetAlert,
    BudgetFigures,
    BudgetStore,
    Forecast,
    MemoryBudgetStore,
    MonthSpend,
)
from bot.core.scheduled.scheduler import RunOutcome, Scheduler, SentAlert
from bot.core.scheduled.schedules import (
    MemoryScheduleStore,
    Schedule,
    ScheduleStore,
    new_schedule_id,
)
from bot.errors import NotFound
from bot.money import Money, Totals
from bot.store.redis_budgets import RedisBudgetStore
from bot.store.redis_schedules import RedisScheduleStore
from bot.store.signing import Signer
from bot.store.sqlite_budgets import SqliteBudgetStore
from bot.store.sqlite_schedules import SqliteScheduleStore
from tests.redis_server import RedisServer, redis_server  # noqa: F401 - fixture

KEY = b"t" * 32
CREATED = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
D = Decimal


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def schedule(
    frequency: Frequency = Frequency.MONTHLY,
    words: str = "",
    *,
    last: str | None = None,
    created_at: datetime = CREATED,
) -> Schedule:
    return Schedule(
        id=new_schedule_id(),
        frequency=frequency,
        report_words=words,
        channel="C-FINANCE",
        created_by="U-ADMIN",
        created_at=created_at,
        last_run_period=last,
    )


def budget(project: str = "web", amount: str = "1000") -> Budget:
    return Budget(name=project, amount=D(amount), channel="C-OPS", set_by="U1", set_at=CREATED)


SPENT_80 = BudgetAlert(AlertKind.SPENT, 80)
SPENT_100 = BudgetAlert(AlertKind.SPENT, 100)
FORECAST = BudgetAlert(AlertKind.FORECAST)
NEW_MONTH = BudgetAlert(AlertKind.NEW_MONTH)


def forecasts(high: Decimal | None) -> tuple[Forecast, ...]:
    if high is None:
        return ()
    return (Forecast("USD", high, high, D(0), D(0), date(2026, 11, 21), date(2026, 12, 1)),)


@dataclass
class Calls:
    """The fake callbacks, and what they were called with."""

    posted: list[tuple[str, str, Report]] = field(default_factory=list)  # replica, id, report
    alerts: list[tuple[str, BudgetAlert, BudgetFigures]] = field(default_factory=list)
    costs: dict[str, tuple[Decimal, Decimal | None]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    reads: int = 0  # how often the month was read for all budgets at once
    failing_reports: set[str] = field(default_factory=set)
    failing_costs: set[str] = field(default_factory=set)
    missing_projects: set[str] = field(default_factory=set)
    failed_notices: list[tuple[str, str]] = field(default_factory=list)  # project, error

    def scheduler(
        self, schedules: ScheduleStore, budgets: BudgetStore, name: str = "a"
    ) -> Scheduler:
        async def run_report(schedule: Schedule, report: Report) -> None:
            await asyncio.sleep(0)  # a post takes a moment: let the other replica in
            if schedule.id in self.failing_reports:
                raise RuntimeError("channel_not_found")
            self.posted.append((name, schedule.id, report))

        def spend_of(budget: Budget) -> MonthSpend:
            self.asked.append(budget.key)
            if budget.key in self.failing_costs:
                raise RuntimeError("MK.IO is down")
            if budget.key in self.missing_projects:
                raise NotFound("MK.IO", "MK.IO has no project `gone`.", status=404)
            spent, high = self.costs.get(budget.key, (D(0), None))
            return MonthSpend(Totals.of([Money(spent, "USD")]), forecasts(high))

        async def month_to_date(budgets: Sequence[Budget]) -> Callable[[Budget], MonthSpend]:
            self.reads += 1
            return spend_of

        async def alert(budget: Budget, alert: BudgetAlert, figures: BudgetFigures) -> None:
            self.alerts.append((budget.key, alert, figures))

        async def check_failed(budget: Budget, error: Exception) -> None:
            self.failed_notices.append((budget.key, type(error).__name__))

        return Scheduler(
            schedules,
            budgets,
            run_report=run_report,
            month_to_date=month_to_date,
            alert=alert,
            check_failed=check_failed,
            owner=name,
        )


# --- scheduled reports ----------------------------------------------------------------------


async def test_a_monthly_schedule_posts_when_its_time_comes_once() -> None:
    store, calls = MemoryScheduleStore(), Calls()
    monthly = schedule(Frequency.MONTHLY, "by week")
    await store.add(monthly)
    scheduler = calls.scheduler(store, MemoryBudgetStore())
    now = at("2026-11-30 08:00")
    while now < at("2027-01-01 09:00"):  # every 10 minutes for a month
        await scheduler.tick(now)
        now += timedelta(minutes=10)
    assert [(who, sid) for who, sid, _ in calls.posted] == [("a", monthly.id), ("a", monthly.id)]
    november, december = (report for _, _, report in calls.posted)
    assert (november.range.start, november.range.end) == (date(2026, 11, 1), date(2026, 12, 1))
    assert (december.range.start, december.range.end) == (date(2026, 12, 1), date(2027, 1, 1))
    assert november.granularity_given
    found = await store.get(monthly.id)
    assert found is not None
    assert found.last_run_period == "2026-12"


async def test_the_tick_result_says_what_ran() -> None:
    store, calls = MemoryScheduleStore(), Calls()
    daily, weekly = schedule(Frequency.DAILY), schedule(Frequency.WEEKLY)
    await store.add(daily)
    await store.add(weekly)
    scheduler = calls.scheduler(store, MemoryBudgetStore())
    result = await scheduler.tick(at("2026-11-22 08:00"))  # a Sunday: only the daily one
    assert [(r.schedule_id, r.period, r.outcome) for r in result.runs] == [
        (daily.id, "2026-11-21", RunOutcome.RAN)
    ]
    assert result.runs[0].due_at == at("2026-11-22 08:00")
    result = await scheduler.tick(at("2026-11-23 08:00"))
    assert {(r.schedule_id, r.period) for r in result.runs} == {
        (daily.id, "2026-11-22"),
        (weekly.id, "2026-W47"),
    }
    assert (await scheduler.tick(at("2026-11-23 08:01"))).runs == ()


async def _two_replicas_post_once(
    a: ScheduleStore, b: ScheduleStore, budgets_a: BudgetStore, budgets_b: BudgetStore
) -> None:
    calls = Calls()
    monthly = schedule(Frequency.MONTHLY)
    await a.add(monthly)
    replica_a = calls.scheduler(a, budgets_a, "a")
    replica_b = calls.scheduler(b, budgets_b, "b")
    now = at("2026-12-01 07:50")
    for _ in range(12):  # both tick every 5 minutes around 08:00, at the same moments
        await asyncio.gather(replica_a.tick(now), replica_b.tick(now))
        now += timedelta(minutes=5)
    assert len(calls.posted) == 1
    assert calls.posted[0][1] == monthly.id
    # and again next month: one post, by whichever replica wins
    await asyncio.gather(
        replica_a.tick(at("2027-01-01 08:00")), replica_b.tick(at("2027-01-01 08:00"))
    )
    assert len(calls.posted) == 2


async def test_two_replicas_on_one_sqlite_file_post_once(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    a, b = SqliteScheduleStore(path), SqliteScheduleStore(path)
    budgets_a, budgets_b = SqliteBudgetStore(path), SqliteBudgetStore(path)
    try:
        await _two_replicas_post_once(a, b, budgets_a, budgets_b)
    finally:
        for close in (a.aclose, b.aclose, budgets_a.aclose, budgets_b.aclose):
            await close()


async def test_two_replicas_on_one_redis_post_once(redis_server: RedisServer) -> None:  # noqa: F811
    namespace = f"test-{secrets.token_hex(4)}:"
    clients = [Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)]
    try:
        a, b = (RedisScheduleStore(c, signer=Signer(KEY), namespace=namespace) for c in clients)
        ba, bb = (RedisBudgetStore(c, signer=Signer(KEY), namespace=namespace) for c in clients)
        await _two_replicas_post_once(a, b, ba, bb)
    finally:
        for client in clients:
            await client.aclose()


async def test_a_missed_run_is_made_up_once_at_start() -> None:
    store, calls = MemoryScheduleStore(), Calls()
    monthly = schedule(Frequency.MONTHLY, last="2026-10")  # down from late November
    daily = schedule(Frequency.DAILY, last="2027-01-20")
    await store.add(monthly)
    await store.add(daily)
    scheduler = calls.scheduler(store, MemoryBudgetStore())
    back = at("2027-02-03 12:00")
    result = await scheduler.catch_up(back)
    assert {(r.schedule_id, r.period) for r in result.runs} == {
        (monthly.id, "2027-01"),  # not November, not December
        (daily.id, "2027-02-02"),  # not the twelve days before
    }
    assert all(run.made_up(back) for run in result.runs)
    assert result.budgets_checked
    report = next(r for _, sid, r in calls.posted if sid == monthly.id)
    assert (report.range.start, report.range.end) == (date(2027, 1, 1), date(2027, 2, 1))
    assert (await scheduler.tick(back + timedelta(minutes=1))).runs == ()
    assert len(calls.posted) == 2


async def test_a_failed_run_is_recorded_not_retried_and_others_still_run() -> None:
    store, calls = MemoryScheduleStore(), Calls()
    broken, fine = schedule(Frequency.DAILY), schedule(Frequency.DAILY, "csv")
    unreadable = schedule(Frequency.DAILY, "by fortnight")  # words that no longer parse
    for s in (broken, fine, unreadable):
        await store.add(s)
    calls.failing_reports.add(broken.id)
    scheduler = calls.scheduler(store, MemoryBudgetStore())
    result = await scheduler.tick(at("2026-11-22 08:00"))
    outcomes = {r.schedule_id: r.outcome for r in result.runs}
    assert outcomes == {
        broken.id: RunOutcome.FAILED,
        fine.id: RunOutcome.RAN,
        unreadable.id: RunOutcome.FAILED,
    }
    assert [sid for _, sid, _ in calls.posted] == [fine.id]
    assert (await scheduler.tick(at("2026-11-22 08:01"))).runs == ()


async def test_a_cancelled_schedule_does_not_run(tmp_path: Path) -> None:
    store, calls = SqliteScheduleStore(tmp_path / "bot.sqlite3"), Calls()
    try:
        daily = schedule(Frequency.DAILY)
        await store.add(daily)
        await store.remove(daily.id)
        scheduler = calls.scheduler(store, MemoryBudgetStore())
        assert (await scheduler.tick(at("2026-11-22 08:00"))).runs == ()
        assert calls.posted == []
    finally:
        await store.aclose()


async def test_run_now_posts_the_latest_run_without_recording_it() -> None:
    store, calls = MemoryScheduleStore(), Calls()
    weekly = schedule(Frequency.WEEKLY)
    await store.add(weekly)
    scheduler = calls.scheduler(store, MemoryBudgetStore())
    report = await scheduler.run_now(weekly.id, at("2026-11-25 15:00"))
    assert report is not None
    assert (report.range.start, report.range.end) == (date(2026, 11, 16), date(2026, 11, 23))
    assert len(calls.posted) == 1
    assert await scheduler.run_now("nope", at("2026-11-25 15:00")) is None
    assert (await scheduler.tick(at("2026-11-30 08:00"))).runs[0].outcome is RunOutcome.RAN


@pytest.mark.parametrize(
    ("frequency", "now", "start", "end"),
    [
        # Before today's 08:00 run: the upcoming run's day, yesterday (not the day before).
        (Frequency.DAILY, "2026-12-03 05:27", date(2026, 12, 2), date(2026, 12, 3)),
        (Frequency.DAILY, "2026-12-03 09:00", date(2026, 12, 2), date(2026, 12, 3)),
        (Frequency.WEEKLY, "2026-11-23 07:00", date(2026, 11, 16), date(2026, 11, 23)),
        (Frequency.MONTHLY, "2026-12-01 07:59", date(2026, 11, 1), date(2026, 12, 1)),
    ],
)
async def test_run_now_reports_the_latest_ended_period_whatever_the_hour(
    frequency: Frequency, now: str, start: date, end: date
) -> None:
    store, calls = MemoryScheduleStore(), Calls()
    made = schedule(frequency)
    await store.add(made)
    scheduler = calls.scheduler(store, MemoryBudgetStore())
    report = await scheduler.run_now(made.id, at(now))
    assert report is not None
    assert (report.range.start, report.range.end) == (start, end)
    assert [s.id for s in await scheduler.schedules()] == [made.id]


# --- budgets --------------------------------------------------------------------------------


async def test_budgets_are_checked_at_the_first_tick_of_each_hour() -> None:
    budgets, calls = MemoryBudgetStore(), Calls()
    await budgets.set(budget("web"))
    scheduler = calls.scheduler(MemoryScheduleStore(), budgets)
    checked = []
    now = at("2026-11-21 08:00")
    for _ in range(18):  # three hours, every ten minutes
        checked.append((await scheduler.tick(now)).budgets_checked)
        now += timedelta(minutes=10)
    assert checked == [True, *[False] * 5, True, *[False] * 5, True, *[False] * 5]
    assert calls.asked == ["web", "web", "web"]


async def test_alerts_go_out_once_a_month_per_threshold() -> None:
    budgets, calls = MemoryBudgetStore(), Calls()
    await budgets.set(budget("web", "1000"))
    scheduler = calls.scheduler(MemoryScheduleStore(), budgets)

    async def check(now: str, spent: str, high: str | None) -> tuple[SentAlert, ...]:
        calls.costs["web"] = (D(spent), None if high is None else D(high))
        return await scheduler.check_budgets(at(now))

    assert await check("2026-11-10 09:00", "500", "900") == ()
    assert await check("2026-11-12 09:00", "600", "1100") == (
        SentAlert("web", FORECAST, posted=True),
    )
    assert await check("2026-11-20 09:00", "850", "1300") == (
        SentAlert("web", SPENT_80, posted=True),
    )
    assert await check("2026-11-20 10:00", "870", "1300") == ()
    assert await check("2026-11-26 10:00", "1010", "1300") == (
        SentAlert("web", SPENT_100, posted=True),
    )
    assert await check("2026-11-30 23:00", "1300", "1300") == ()
    # December: afresh, and said so; a jump straight over the budget posts only "100%"
    assert await check("2026-12-05 09:00", "1500", "2000") == (
        SentAlert("web", NEW_MONTH, posted=True),
        SentAlert("web", SPENT_80, posted=False),
        SentAlert("web", SPENT_100, posted=True),
        SentAlert("web", FORECAST, posted=False),
    )
    posted = [(project, threshold) for project, threshold, _ in calls.alerts]
    assert posted == [
        ("web", FORECAST),
        ("web", SPENT_80),
        ("web", SPENT_100),
        ("web", NEW_MONTH),
        ("web", SPENT_100),
    ]
    figures = calls.alerts[1][2]
    assert figures == BudgetFigures("2026-11", D("850"), forecasts(D("1300"))[0], D("1000"), "USD")


async def test_two_replicas_alert_once(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    budgets_a, budgets_b = SqliteBudgetStore(path), SqliteBudgetStore(path)
    try:
        await budgets_a.set(budget("web", "1000"))
        calls = Calls(costs={"web": (D("900"), None)})
        a = calls.scheduler(MemoryScheduleStore(), budgets_a, "a")
        b = calls.scheduler(MemoryScheduleStore(), budgets_b, "b")
        for hour in range(5):
            now = at("2026-11-21 08:00") + timedelta(hours=hour)
            await asyncio.gather(a.tick(now), b.tick(now))
        assert [(p, t) for p, t, _ in calls.alerts] == [("web", SPENT_80)]
    finally:
        await budgets_a.aclose()
        await budgets_b.aclose()


async def test_one_project_failing_does_not_stop_the_others() -> None:
    budgets, calls = MemoryBudgetStore(), Calls()
    await budgets.set(budget("api"))
    await budgets.set(budget("web"))
    calls.failing_costs.add("api")
    calls.costs["web"] = (D("2000"), D("3000"))
    scheduler = calls.scheduler(MemoryScheduleStore(), budgets)
    result = await scheduler.tick(at("2026-11-21 08:00"))
    assert [a.key for a in result.alerts if a.posted] == ["web"]
    assert calls.asked == ["api", "web"]


def traceback(record: logging.LogRecord) -> bool:
    """The record carries a traceback (the log redactor turns exc_info into exc_text)."""
    return bool(record.exc_info or record.exc_text)


async def test_a_failing_check_is_told_once_a_month_in_the_channel_without_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    budgets, calls = MemoryBudgetStore(), Calls()
    await budgets.set(budget("gone"))
    calls.missing_projects.add("gone")
    a = calls.scheduler(MemoryScheduleStore(), budgets, "a")
    b = calls.scheduler(MemoryScheduleStore(), budgets, "b")
    now = at("2026-11-21 08:00")
    for hour in range(5):  # two replicas, five hourly checks
        await asyncio.gather(
            a.tick(now + timedelta(hours=hour)), b.tick(now + timedelta(hours=hour))
        )
    assert calls.failed_notices == [("gone", "NotFound")]
    assert len(calls.asked) == 10, "every replica still checks every hour"
    assert not [r for r in caplog.records if traceback(r)], "an expected failure logs none"
    await a.tick(at("2026-12-01 08:00"))
    assert calls.failed_notices == [("gone", "NotFound"), ("gone", "NotFound")], "a new month"


async def test_an_unexpected_failure_is_told_once_with_one_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    budgets, calls = MemoryBudgetStore(), Calls()
    await budgets.set(budget("api"))
    calls.failing_costs.add("api")
    scheduler = calls.scheduler(MemoryScheduleStore(), budgets)
    for hour in range(3):
        await scheduler.tick(at("2026-11-21 08:00") + timedelta(hours=hour))
    assert calls.failed_notices == [("api", "RuntimeError")]
    assert len([r for r in caplog.records if traceback(r)]) == 1


class BrokenStore(MemoryScheduleStore):
    async def list(self, channel: str | None = None) -> list[Schedule]:
        raise ConnectionError("redis is away")


async def test_an_unreachable_store_is_reported_and_the_rest_still_runs() -> None:
    budgets, calls = MemoryBudgetStore(), Calls(costs={"web": (D("900"), None)})
    await budgets.set(budget("web"))
    scheduler = calls.scheduler(BrokenStore(), budgets)
    result = await scheduler.tick(at("2026-11-21 08:00"))
    assert result.errors == ("schedules unavailable (ConnectionError)",)
    assert result.budgets_checked
    assert [a.alert for a in result.alerts] == [SPENT_80]


# --- the loop -------------------------------------------------------------------------------


# How long a test waits for `run_forever` to get through its fake sleeps: only a loop that has
# stopped going round runs into it, however slow the machine.
PATIENCE = 300.0


class FakeClock:
    """A clock that `sleep` moves on at once; `done` is set after `sleeps` of them."""

    def __init__(self, now: datetime, sleeps: int = 0) -> None:
        self.now = now
        self.sleeps_left = sleeps
        self.done = asyncio.Event()

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.sleeps_left -= 1
        if self.sleeps_left <= 0:
            self.done.set()
        await asyncio.sleep(0)


async def test_run_forever_catches_up_then_ticks_on_the_clock() -> None:
    store, calls = MemoryScheduleStore(), Calls()
    daily = schedule(Frequency.DAILY, last="2026-11-19", created_at=at("2026-11-01 00:00"))
    await store.add(daily)
    scheduler = calls.scheduler(store, MemoryBudgetStore())
    # from 12:00 on the 21st (that day's run was missed) to 09:00 on the 23rd, every 10 minutes
    clock = FakeClock(at("2026-11-21 12:00"), sleeps=45 * 6)
    task = asyncio.create_task(scheduler.run_forever(clock, interval=600, sleep=clock.sleep))
    await asyncio.wait_for(clock.done.wait(), timeout=PATIENCE)
    assert at("2026-11-23 09:00") <= clock.now < at("2026-11-24 08:00")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [report.range.start for _, _, report in calls.posted] == [
        date(2026, 11, 20),  # made up at start
        date(2026, 11, 21),  # on the 22nd at 08:00
        date(2026, 11, 22),  # on the 23rd at 08:00
    ]


async def test_run_forever_stops_cleanly_when_cancelled_while_waiting() -> None:
    calls = Calls()
    scheduler = calls.scheduler(MemoryScheduleStore(), MemoryBudgetStore())
    clock = FakeClock(at("2026-11-21 12:00"))
    task = asyncio.create_task(scheduler.run_forever(clock, interval=3600))  # real sleep
    for _ in range(5):
        await asyncio.sleep(0)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_run_forever_survives_a_failing_tick() -> None:
    calls = Calls()
    scheduler = calls.scheduler(MemoryScheduleStore(), MemoryBudgetStore())
    clock = FakeClock(at("2026-11-21 12:00"), sleeps=5)
    failures = 0
    real_tick: Callable[[datetime], Awaitable[object]] = scheduler.tick

    async def flaky(now: datetime) -> object:
        nonlocal failures
        if failures < 2:
            failures += 1
            raise RuntimeError("boom")
        return await real_tick(now)

    scheduler.tick = flaky  # type: ignore[method-assign, assignment]
    task = asyncio.create_task(scheduler.run_forever(clock, interval=60, sleep=clock.sleep))
    await asyncio.wait_for(clock.done.wait(), timeout=PATIENCE)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert failures == 2


async def test_the_month_is_read_once_a_check_for_every_budget() -> None:
    budgets, calls = MemoryBudgetStore(), Calls()
    for name in ("api", "web", "db"):
        await budgets.set(budget(name))
    scheduler = calls.scheduler(MemoryScheduleStore(), budgets)
    await scheduler.check_budgets(at("2026-11-21 08:00"))
    assert calls.reads == 1
    assert calls.asked == ["api", "db", "web"]


async def test_a_forecast_back_under_is_told_recovered_once_and_may_cross_again() -> None:
    budgets, calls = MemoryBudgetStore(), Calls()
    await budgets.set(budget("web", "1000"))
    scheduler = calls.scheduler(MemoryScheduleStore(), budgets)

    async def check(hour: int, high: str) -> list[str]:
        calls.costs["web"] = (D("500"), D(high))
        sent = await scheduler.check_budgets(at("2026-11-21 00:00") + timedelta(hours=hour))
        return [a.alert.claim for a in sent if a.posted]

    assert await check(0, "1000") == ["estimate-100%"]
    assert await check(1, "1200") == []
    assert await check(2, "999.99") == ["recovered"]
    assert await check(3, "900") == []
    assert await check(4, "1000.01") == ["estimate-100%#2"]
    assert await check(5, "800") == ["recovered#2"]
    assert await check(6, "1100") == ["estimate-100%#3"]
    assert await check(7, "800") == ["recovered#3"]
    assert await check(8, "1100") == [], "at most three rounds a month"


async def test_a_new_month_is_told_only_after_a_month_with_alerts() -> None:
    budgets, calls = MemoryBudgetStore(), Calls()
    await budgets.set(budget("web", "1000"))
    await budgets.set(budget("api", "1000"))
    calls.missing_projects.add("api")  # November: only a failed check's notice
    calls.costs["web"] = (D("900"), None)
    scheduler = calls.scheduler(MemoryScheduleStore(), budgets)
    await scheduler.check_budgets(at("2026-11-21 08:00"))
    calls.missing_projects.clear()
    calls.costs["web"] = (D("10"), None)
    first = await scheduler.check_budgets(at("2026-12-01 00:00"))
    assert first == (SentAlert("web", NEW_MONTH, posted=True),)
    assert await scheduler.check_budgets(at("2026-12-01 01:00")) == ()
