"""Scheduled reports: when runs are due (with a fake clock, across month, week and year
boundaries), the make-up of a missed run, the three stores, and the single-runner claim with
two stores on one SQLite file, two processes on it, and two clients on one real Redis."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from bot.core.language.commands import Frequency, Granularity
from bot.core.scheduled.schedules import (
    ID_ALPHABET,
    ID_LENGTH,
    MemoryScheduleStore,
    Schedule,
    ScheduleStore,
    describe,
    due_run,
    latest_run,
    new_schedule_id,
    next_run_at,
    report_for,
    run_day,
)
from bot.store.redis_schedules import RedisScheduleStore
from bot.store.signing import Signer
from bot.store.sqlite_schedules import SqliteScheduleStore
from tests.redis_server import RedisServer, redis_server  # noqa: F401 - fixture
from tests.store_kinds import STORE_KINDS, StoreKinds, new_namespace

KEY = b"s" * 32
CREATED = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)  # a Saturday


def at(text: str) -> datetime:
    """A UTC time from "2026-12-01 08:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def schedule(
    frequency: Frequency = Frequency.MONTHLY,
    *,
    words: str = "",
    created_at: datetime = CREATED,
    last: str | None = None,
    channel: str = "C1",
    id: str | None = None,
) -> Schedule:
    return Schedule(
        id=id or new_schedule_id(),
        frequency=frequency,
        report_words=words,
        channel=channel,
        created_by="U1",
        created_at=created_at,
        last_run_period=last,
    )


# --- when runs are due ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "now", "period", "due_at"),
    [
        # monthly: the 1st at 08:00 UTC, for the month just ended
        (Frequency.MONTHLY, "2026-12-01 07:59:59", "2026-10", "2026-11-01 08:00"),
        (Frequency.MONTHLY, "2026-12-01 08:00", "2026-11", "2026-12-01 08:00"),
        (Frequency.MONTHLY, "2026-12-31 23:59", "2026-11", "2026-12-01 08:00"),
        (Frequency.MONTHLY, "2027-01-01 08:00", "2026-12", "2027-01-01 08:00"),
        (Frequency.MONTHLY, "2024-03-01 08:00", "2024-02", "2024-03-01 08:00"),
        # weekly: Mondays at 08:00 UTC, for the ISO week just ended
        (Frequency.WEEKLY, "2026-11-23 07:59", "2026-W46", "2026-11-16 08:00"),
        (Frequency.WEEKLY, "2026-11-23 08:00", "2026-W47", "2026-11-23 08:00"),
        (Frequency.WEEKLY, "2026-11-29 23:59", "2026-W47", "2026-11-23 08:00"),
        (Frequency.WEEKLY, "2027-01-04 08:00", "2026-W53", "2027-01-04 08:00"),  # 53 weeks
        (Frequency.WEEKLY, "2027-01-11 08:00", "2027-W01", "2027-01-11 08:00"),
        # daily: 08:00 UTC, for the day before
        (Frequency.DAILY, "2026-11-22 07:59", "2026-11-20", "2026-11-21 08:00"),
        (Frequency.DAILY, "2026-11-22 08:00", "2026-11-21", "2026-11-22 08:00"),
        (Frequency.DAILY, "2027-01-01 08:00", "2026-12-31", "2027-01-01 08:00"),
        (Frequency.DAILY, "2024-03-01 09:00", "2024-02-29", "2024-03-01 08:00"),
    ],
)
def test_latest_run(frequency: Frequency, now: str, period: str, due_at: str) -> None:
    assert latest_run(frequency, at(now)) == (period, at(due_at))
    assert run_day(frequency, period) == at(due_at).date()


def test_other_time_zones_are_read_as_utc() -> None:
    paris = datetime(2026, 12, 1, 8, 30, tzinfo=ZoneInfo("Europe/Paris"))  # 07:30 UTC
    assert latest_run(Frequency.MONTHLY, paris)[0] == "2026-10"
    with pytest.raises(ValueError, match="time zone"):
        latest_run(Frequency.DAILY, datetime(2026, 12, 1, 9))


@pytest.mark.parametrize("bad", ["2026-13", "2026", "2026-W60", "nonsense", "2026-11-31"])
def test_run_day_refuses_what_is_not_a_key(bad: str) -> None:
    for frequency in Frequency:
        with pytest.raises(ValueError, match="not the key"):
            run_day(frequency, bad)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(list(Frequency)),
    st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2098, 12, 1)),
)
def test_keys_name_their_run_and_sort_in_time_order(frequency: Frequency, naive: datetime) -> None:
    now = naive.replace(tzinfo=UTC)
    period, due_at = latest_run(frequency, now)
    assert due_at <= now
    assert due_at.time().hour == 8
    assert run_day(frequency, period) == due_at.date()
    following, following_at = latest_run(frequency, next_run_at(frequency, now))
    assert following_at > now
    assert following > period  # string order is time order
    assert latest_run(frequency, following_at - timedelta(microseconds=1)) == (period, due_at)


def test_monthly_run_is_due_once_at_its_time() -> None:
    monthly = schedule(Frequency.MONTHLY)
    assert due_run(monthly, at("2026-11-30 12:00")) is None  # the November 1st run predates it
    assert due_run(monthly, at("2026-12-01 07:59:59")) is None
    assert due_run(monthly, at("2026-12-01 08:00")) == "2026-11"
    done = monthly.model_copy(update={"last_run_period": "2026-11"})
    assert due_run(done, at("2026-12-01 08:01")) is None
    assert due_run(done, at("2026-12-31 23:59")) is None
    assert due_run(done, at("2027-01-01 08:00")) == "2026-12"


def test_weekly_and_daily_runs_across_the_year() -> None:
    weekly = schedule(Frequency.WEEKLY, last="2026-W52")
    assert due_run(weekly, at("2027-01-03 23:59")) is None
    assert due_run(weekly, at("2027-01-04 08:00")) == "2026-W53"
    daily = schedule(Frequency.DAILY, last="2026-12-30")
    assert due_run(daily, at("2026-12-31 23:00")) is None
    assert due_run(daily, at("2027-01-01 08:00")) == "2026-12-31"


def test_no_run_is_due_from_before_the_schedule() -> None:
    created = at("2026-12-01 09:00")  # an hour after the December run
    monthly = schedule(Frequency.MONTHLY, created_at=created)
    assert due_run(monthly, at("2026-12-01 10:00")) is None
    assert due_run(monthly, at("2027-01-01 08:00")) == "2026-12"
    at_the_time = schedule(Frequency.DAILY, created_at=at("2026-12-01 08:00"))
    assert due_run(at_the_time, at("2026-12-01 08:00")) == "2026-11-30"


@pytest.mark.parametrize(
    ("frequency", "last", "back", "period"),
    [
        # down from the 28th of November to the 3rd of February: only January's run
        (Frequency.MONTHLY, "2026-10", "2027-02-03 12:00", "2027-01"),
        # down for three weeks: only the last one
        (Frequency.WEEKLY, "2026-W47", "2026-12-16 12:00", "2026-W50"),
        # down for five days: only yesterday
        (Frequency.DAILY, "2026-11-27", "2026-12-03 12:00", "2026-12-02"),
    ],
)
def test_a_missed_run_is_made_up_once_never_a_backlog(
    frequency: Frequency, last: str, back: str, period: str
) -> None:
    missed = schedule(frequency, last=last)
    assert due_run(missed, at(back)) == period
    made_up = missed.model_copy(update={"last_run_period": period})
    assert due_run(made_up, at(back)) is None
    assert due_run(made_up, at(back) + timedelta(hours=1)) is None


def test_a_run_is_never_due_again_when_the_clock_goes_back() -> None:
    daily = schedule(Frequency.DAILY, last="2026-12-02")
    assert due_run(daily, at("2026-12-02 09:00")) is None  # its run, key "2026-12-01", is older


def test_the_report_of_a_run_is_read_as_on_its_day() -> None:
    monthly = schedule(Frequency.MONTHLY, words="by week project web,api")
    report = report_for(monthly, "2026-12")  # made on 2027-01-01, or made up later
    assert (report.range.start, report.range.end) == (date(2026, 12, 1), date(2027, 1, 1))
    assert (report.granularity, report.projects) == (Granularity.WEEK, ("web", "api"))
    weekly = report_for(schedule(Frequency.WEEKLY), "2026-W53")
    assert (weekly.range.start, weekly.range.end) == (date(2026, 12, 28), date(2027, 1, 4))
    assert weekly.range.start.weekday() == 0
    daily = report_for(schedule(Frequency.DAILY, words="csv"), "2024-02-29")
    assert (daily.range.start, daily.range.end, daily.csv) == (
        date(2024, 2, 29),
        date(2024, 3, 1),
        True,
    )
    this_month = report_for(schedule(Frequency.WEEKLY, words="this-month"), "2026-W47")
    assert (this_month.range.start, this_month.range.end) == (date(2026, 11, 1), date(2026, 11, 24))


def test_ids_are_short_typeable_and_unguessable() -> None:
    ids = {new_schedule_id() for _ in range(2000)}
    assert len(ids) == 2000
    for schedule_id in ids:
        assert len(schedule_id) == ID_LENGTH
        assert set(schedule_id) <= set(ID_ALPHABET)
    assert len(ID_ALPHABET) ** ID_LENGTH > 2**48


def test_descriptions() -> None:
    assert "1st" in describe(Frequency.MONTHLY)
    assert "Monday" in describe(Frequency.WEEKLY)
    assert "08:00 UTC" in describe(Frequency.DAILY)


# --- the stores -----------------------------------------------------------------------------


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[Redis]:  # noqa: F811
    client = Redis.from_url(redis_server.url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(params=STORE_KINDS)
async def store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    redis_server: RedisServer,  # noqa: F811
) -> AsyncIterator[ScheduleStore]:
    kinds = StoreKinds[ScheduleStore](
        memory=MemoryScheduleStore,
        sqlite=lambda: SqliteScheduleStore(tmp_path / "state" / "bot.sqlite3"),
        redis=lambda client: RedisScheduleStore(
            client, signer=Signer(KEY), namespace=new_namespace()
        ),
    )
    async with kinds.store(request.param, redis_server.url) as made:
        yield made


async def test_add_list_get_remove(store: ScheduleStore) -> None:
    first = schedule(Frequency.MONTHLY, words="by week", created_at=CREATED)
    second = schedule(Frequency.DAILY, channel="C2", created_at=CREATED + timedelta(minutes=1))
    await store.add(second)
    await store.add(first)
    assert await store.list() == [first, second]  # oldest first
    assert await store.list(channel="C2") == [second]
    assert await store.list(channel="C3") == []
    assert await store.get(first.id) == first
    assert await store.get("nope") is None
    assert await store.remove(first.id) is True
    assert await store.remove(first.id) is False
    assert await store.list() == [second]


async def test_mark_run_only_moves_forward(store: ScheduleStore) -> None:
    daily = schedule(Frequency.DAILY)
    await store.add(daily)
    await store.mark_run(daily.id, "2026-11-21")
    await store.mark_run(daily.id, "2026-11-20")  # late, from a slow replica: ignored
    found = await store.get(daily.id)
    assert found is not None
    assert found.last_run_period == "2026-11-21"
    await store.mark_run("nope", "2026-11-21")  # a removed schedule: nothing to do


async def test_claim_run_is_won_once_and_only_for_a_schedule(store: ScheduleStore) -> None:
    monthly = schedule()
    await store.add(monthly)
    assert await store.claim_run(monthly.id, "2026-11", "a") is True
    assert await store.claim_run(monthly.id, "2026-11", "b") is False
    assert await store.claim_run(monthly.id, "2026-11", "a") is False
    assert await store.claim_run(monthly.id, "2026-12", "b") is True
    assert await store.claim_run("nope", "2026-11", "a") is False
    await store.remove(monthly.id)
    assert await store.claim_run(monthly.id, "2027-01", "a") is False


async def test_sqlite_keeps_schedules_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    monthly = schedule(words="project web")
    first = SqliteScheduleStore(path)
    await first.add(monthly)
    await first.mark_run(monthly.id, "2026-11")
    await first.aclose()
    again = SqliteScheduleStore(path)
    try:
        assert await again.list() == [monthly.model_copy(update={"last_run_period": "2026-11"})]
        assert await again.claim_run(monthly.id, "2026-11", "b") is True  # marks are not claims
    finally:
        await again.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await again.list()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_redis_ignores_forged_schedules(redis_client: Redis) -> None:
    namespace = new_namespace()
    store = RedisScheduleStore(redis_client, signer=Signer(KEY), namespace=namespace)
    monthly = schedule()
    await store.add(monthly)
    forged = monthly.model_copy(update={"channel": "C-EVIL"})
    await redis_client.set(f"{namespace}schedule:{monthly.id}", forged.model_dump_json())
    assert await store.get(monthly.id) is None
    assert await store.list() == []
    other_key = RedisScheduleStore(redis_client, signer=Signer(b"x" * 32), namespace=namespace)
    await store.add(monthly)
    assert await other_key.get(monthly.id) is None
    assert await store.get(monthly.id) == monthly


# --- one runner per run, whatever the number of processes ------------------------------------

ROUNDS = 200


async def _race_stores(a: ScheduleStore, b: ScheduleStore, schedule_id: str) -> None:
    for n in range(ROUNDS):
        period = f"2026-11-{n:04d}"
        results = await asyncio.gather(
            a.claim_run(schedule_id, period, "a"),
            b.claim_run(schedule_id, period, "b"),
            a.claim_run(schedule_id, period, "a2"),
            b.claim_run(schedule_id, period, "b2"),
        )
        assert sorted(results) == [False, False, False, True], (n, results)


async def test_two_sqlite_stores_on_one_file_claim_each_run_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    a, b = SqliteScheduleStore(path), SqliteScheduleStore(path)
    try:
        # both open the new file at once: the schema is created once, without "locked"
        await asyncio.gather(a.list(), b.list())
        daily = schedule(Frequency.DAILY)
        await a.add(daily)
        assert await b.get(daily.id) == daily
        await _race_stores(a, b, daily.id)
    finally:
        await asyncio.gather(a.aclose(), b.aclose())


async def test_two_redis_stores_on_one_server_claim_each_run_once(
    redis_server: RedisServer,  # noqa: F811
) -> None:
    namespace = new_namespace()
    client_a, client_b = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
    try:
        a = RedisScheduleStore(client_a, signer=Signer(KEY), namespace=namespace)
        b = RedisScheduleStore(client_b, signer=Signer(KEY), namespace=namespace)
        daily = schedule(Frequency.DAILY)
        await a.add(daily)
        assert await b.get(daily.id) == daily
        await _race_stores(a, b, daily.id)
        ttl = await client_a.ttl(f"{namespace}schedule-run:{daily.id}:2026-11-0000")
        assert 0 < ttl <= 62 * 24 * 3600
    finally:
        await client_a.aclose()
        await client_b.aclose()


# Says "ready" once imported and connected, then waits for a line on stdin before claiming:
# the test sends it to both at once, however long their start took.
_CLAIMER = textwrap.dedent(
    """
    import asyncio, json, sys
    from bot.store.sqlite_schedules import SqliteScheduleStore

    async def main(path, schedule_id, owner, rounds):
        store = SqliteScheduleStore(path)
        await store.list()
        print("ready", flush=True)
        sys.stdin.readline()
        won = [n for n in range(rounds)
               if await store.claim_run(schedule_id, f"p{n:04d}", owner)]
        await store.aclose()
        print(json.dumps(won))

    path, schedule_id, owner, rounds = sys.argv[1:]
    asyncio.run(main(path, schedule_id, owner, int(rounds)))
    """
)


async def test_two_processes_on_one_sqlite_file_claim_each_run_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    store = SqliteScheduleStore(path)
    daily = schedule(Frequency.DAILY)
    await store.add(daily)
    await store.aclose()
    args = [str(path), daily.id]
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _CLAIMER,
            *args,
            owner,
            str(ROUNDS),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for owner in ("a", "b")
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            if await process.stdout.readline() != b"ready\n":
                _, err = await process.communicate()
                pytest.fail(f"a claimer did not start:\n{err.decode()}")
        outputs = await asyncio.gather(*(p.communicate(b"go\n") for p in processes))
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()
    won_a, won_b = (set(json.loads(out)) for out, _ in outputs)
    assert not won_a & won_b
    assert won_a | won_b == set(range(ROUNDS))
