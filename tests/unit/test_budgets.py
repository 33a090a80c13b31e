"""Budgets: the alert rule, the crossing date, each scope's spend, the three stores, the
migration of version-1 budgets, and alerts claimed once per budget, month and claim, also by
two stores on one SQLite file and two clients on one real Redis."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest
from redis.asyncio import Redis

from bot.apis.contro.client import ControClient
from bot.apis.contro.models import RecordsPage, SummaryItem, UsageRecord, UsageSummary
from bot.core.billing import BillingService
from bot.core.cache import MemoryCache
from bot.core.language.commands import ScopeKind
from bot.core.scheduled.budget_spend import (
    CONTRO_FORECAST_MAX_RECORDS,
    BudgetMonth,
    SpendRow,
    contro_spend_rows,
)
from bot.core.scheduled.budgets import (
    AlertKind,
    Budget,
    BudgetAlert,
    BudgetFigures,
    BudgetStore,
    DueAlert,
    Forecast,
    MemoryBudgetStore,
    day_reached,
    due_alerts,
    month_key,
)
from bot.errors import CommandError
from bot.money import Money, Totals, exact
from bot.store.redis_budgets import RedisBudgetStore
from bot.store.signing import Signer
from bot.store.sqlite_budgets import SqliteBudgetStore
from tests.redis_server import RedisServer, redis_server  # noqa: F401 - fixture
from tests.store_kinds import STORE_KINDS, StoreKinds, new_namespace

KEY = b"b" * 32
SET_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
D = Decimal
TODAY = date(2026, 11, 21)
DEC_1 = date(2026, 12, 1)
SPENT_80 = BudgetAlert(AlertKind.SPENT, 80)
SPENT_100 = BudgetAlert(AlertKind.SPENT, 100)
FORECAST = BudgetAlert(AlertKind.FORECAST)


def budget(
    project: str = "web",
    amount: str = "1000",
    channel: str = "C1",
    thresholds: tuple[int, ...] = (80, 100),
) -> Budget:
    return Budget(
        name=project,
        amount=D(amount),
        thresholds=thresholds,
        channel=channel,
        set_by="U1",
        set_at=SET_AT,
    )


def figures(spent: str, high: str | None = None, amount: str = "1000") -> BudgetFigures:
    forecast = None
    if high is not None:
        forecast = Forecast("USD", D(high), D(high), D(10), D(20), TODAY, DEC_1)
    return BudgetFigures("2026-11", D(spent), forecast, D(amount), "USD")


# --- the rule -------------------------------------------------------------------------------


def claims(due: list[DueAlert]) -> list[tuple[str, bool]]:
    return [(d.alert.claim, d.post) for d in due]


@pytest.mark.parametrize(
    ("spent", "high", "sent", "expected"),
    [
        ("0", None, set(), []),
        ("799.99", "999.99", set(), []),
        ("800", None, set(), [("80%", True)]),  # reaching counts
        ("800", "1000", set(), [("80%", True), ("estimate-100%", True)]),
        ("999.99", "1500", {"80%", "estimate-100%"}, []),
        ("1000", "1500", {"80%", "estimate-100%"}, [("100%", True)]),
        # both at once: only the higher is news
        ("1200", None, set(), [("80%", False), ("100%", True)]),
        ("1200", "1300", set(), [("80%", False), ("100%", True), ("estimate-100%", False)]),
        ("1200", "1300", {"80%", "100%", "estimate-100%"}, []),
        ("10", "1000.00", set(), [("estimate-100%", True)]),  # early in the month, trending over
        ("10", "999.99", {"estimate-100%"}, [("recovered", True)]),
        ("10", "999.99", {"estimate-100%", "recovered"}, []),
        ("10", "1000", {"estimate-100%", "recovered"}, [("estimate-100%#2", True)]),
    ],
)
def test_due_alerts_with_the_default_thresholds(
    spent: str, high: str | None, sent: set[str], expected: list[tuple[str, bool]]
) -> None:
    assert claims(due_alerts(budget(), figures(spent, high), sent)) == expected


@pytest.mark.parametrize(
    ("thresholds", "spent", "sent", "expected"),
    [
        ((50, 75, 90, 100, 120), "749.99", set(), [("50%", True)]),
        ((50, 75, 90, 100, 120), "750", {"50%"}, [("75%", True)]),
        (
            (50, 75, 90, 100, 120),
            "1199.99",
            {"50%"},
            [("75%", False), ("90%", False), ("100%", True)],
        ),
        ((50, 75, 90, 100, 120), "1200", {"50%", "75%", "90%", "100%"}, [("120%", True)]),
        ((1,), "10", set(), [("1%", True)]),
        ((1000,), "9999.99", set(), []),
        ((1000,), "10000", set(), [("1000%", True)]),
        ((33,), "330", set(), [("33%", True)]),  # 33% of 1000 exactly
        ((33,), "329.99", set(), []),
    ],
)
def test_due_alerts_with_a_threshold_list(
    thresholds: tuple[int, ...], spent: str, sent: set[str], expected: list[tuple[str, bool]]
) -> None:
    web = budget(thresholds=thresholds)
    assert claims(due_alerts(web, figures(spent), sent)) == expected


def test_a_threshold_list_is_kept_sorted_and_distinct() -> None:
    assert budget(thresholds=(100, 50, 100)).thresholds == (50, 100)
    with pytest.raises(ValueError, match="percentages"):
        budget(thresholds=())


@pytest.mark.parametrize(
    ("spent", "target", "per_day", "expected"),
    [
        ("500", "1000", "100", date(2026, 11, 26)),  # 5 days exactly
        ("500", "1000", "99.99", date(2026, 11, 27)),  # a cent short on the 5th day
        ("500", "1000", "55.56", date(2026, 11, 30)),  # 9 days: the last of the month
        ("500", "1000", "55.55", None),  # 10 days: not this month
        ("1000", "1000", "0", TODAY),  # reached already
        ("999.99", "1000", "0", None),  # a standstill never reaches it
        ("0", "0.01", "0.000001", None),
    ],
)
def test_the_day_a_budget_is_reached(
    spent: str, target: str, per_day: str, expected: date | None
) -> None:
    assert day_reached(D(spent), D(target), D(per_day), TODAY, DEC_1) == expected


def test_the_crossing_dates_come_from_the_higher_and_the_lower_daily_average() -> None:
    # 600 spent, 10 to 20 a day: 1,000 in 20 days (not this month) or 40; 700 in 5 or 10 days
    f = figures("600", "780")
    assert f.reached() == (None, None)
    assert f.reached(70) == (date(2026, 11, 26), None)
    assert f.reached(61) == (date(2026, 11, 22), date(2026, 11, 22))
    assert f.reached(60) == (TODAY, TODAY)
    assert figures("600").reached() is None  # no forecast: no date
    assert figures("850").share == D("0.85")


def test_month_keys() -> None:
    assert month_key(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == "2026-11"
    assert month_key(datetime(2026, 12, 1, tzinfo=UTC)) == "2026-12"
    with pytest.raises(ValueError, match="time zone"):
        month_key(datetime(2026, 12, 1))


# --- each scope's spend ---------------------------------------------------------------------


def row(
    day: int, project: str, meter: str, method: str, cost: str, currency: str = "USD"
) -> SpendRow:
    return SpendRow(date(2026, 11, day), project, meter, method, D(cost), currency)


ROWS = [
    row(1, "web", "egress", "pm-azure", "10.005"),
    row(1, "web", "drm", "pm-azure", "0.995"),
    row(2, "web", "egress", "pm-aws", "20.10"),  # web moved to AWS on the 2nd
    row(2, "api", "egress", "pm-aws", "5.00"),
    row(3, "api", "egress", "pm-aws", "7.00"),
    row(3, "api", "storage", "pm-aws", "3.00", "EUR"),
    row(4, "web", "egress", "pm-aws", "30.00"),  # today, so far
]


def scoped(kind: ScopeKind, name: str = "", meter: str | None = None) -> Budget:
    return Budget(
        scope=kind, name=name, meter=meter, amount=D(100), channel="C1", set_by="U1", set_at=SET_AT
    )


@pytest.mark.parametrize(
    ("scope", "usd", "others"),
    [
        (scoped(ScopeKind.PROJECT, "web"), "61.100", ()),
        (scoped(ScopeKind.METER, "web", "egress"), "60.105", ()),
        (scoped(ScopeKind.METER, "web", "storage"), "0", ()),
        (scoped(ScopeKind.PAYMENT_METHOD, "pm-azure"), "11.000", ()),
        (scoped(ScopeKind.PAYMENT_METHOD, "pm-aws"), "62.10", (Money(D("3.00"), "EUR"),)),
        (scoped(ScopeKind.ORGANIZATION), "73.100", (Money(D("3.00"), "EUR"),)),
        (scoped(ScopeKind.PROJECT, "api"), "12.00", (Money(D("3.00"), "EUR"),)),
    ],
)
def test_each_scope_counts_its_own_rows_in_its_own_currency(
    scope: Budget, usd: str, others: tuple[Money, ...]
) -> None:
    month = BudgetMonth(date(2026, 11, 4), ROWS, frozenset({"web", "api"}))
    f = month.spend(scope).figures(scope, "2026-11")
    assert f.month_to_date == D(usd)
    assert f.other_currencies == others


def test_a_scopes_forecast_is_the_estimate_of_its_daily_costs() -> None:
    web = scoped(ScopeKind.PROJECT, "web")
    month = BudgetMonth(date(2026, 11, 4), ROWS, frozenset({"web"}))
    forecast = month.spend(web).figures(web, "2026-11").forecast
    # complete days 1-3: 11.000 + 20.10 + 0 = 31.100, so 31.1 / 3 a day for 26 more days
    assert forecast is not None
    with exact(rounds=True):
        assert forecast.daily_low == forecast.daily_high == D("31.100") / 3
        assert forecast.low == forecast.high == D("61.100") + D("31.100") * 26 / 3
    assert (forecast.today, forecast.month_end) == (date(2026, 11, 4), DEC_1)
    # none on the 2nd
    early = BudgetMonth(date(2026, 11, 2), ROWS[:2], frozenset({"web"}))
    assert early.spend(web).forecasts == ()


def test_a_contro_type_counts_its_summary_total_and_has_no_forecast() -> None:
    summary = UsageSummary(
        period="2026-11",
        items=[
            SummaryItem(type="card_issuance", total=D("12.50"), count=3),
            SummaryItem(type="transaction", total=D("99"), count=1),
        ],
    )
    month = BudgetMonth(TODAY, contro=summary)
    cards = scoped(ScopeKind.CONTRO_TYPE, "card_issuance")
    assert month.spend(cards).totals == Totals.of([Money(D("12.50"), "USD")])
    assert month.spend(cards).forecasts == ()
    unknown = scoped(ScopeKind.CONTRO_TYPE, "nope")
    assert month.spend(unknown).totals.get("USD").amount == 0


def record(kind: str, amount: str, created: datetime | None) -> UsageRecord:
    return UsageRecord(id=f"r{amount}", type=kind, amount=D(amount), createdAt=created)


def test_a_contro_types_forecast_is_the_estimate_of_its_records_days() -> None:
    def at(day: int, hour: int = 9) -> datetime:
        return datetime(2026, 11, day, hour, tzinfo=UTC)

    records = [
        record("card_issuance", "1.50", at(1)),
        record("card_issuance", "2.50", at(1, 23)),
        record("card_issuance", "4.00", at(2)),
        record("card_issuance", "2.00", at(3)),
        record("card_issuance", "1.25", at(4)),  # today: not a complete day
        record("card_issuance", "9.99", None),  # no day: left out
        record("transaction", "99", at(2)),  # another type
    ]
    rows = contro_spend_rows(records, frozenset({"card_issuance"}))
    assert [(r.day.day, r.cost) for r in rows] == [
        (1, D("4.00")),
        (2, D("4.00")),
        (3, D("2.00")),
        (4, D("1.25")),
    ]
    summary = UsageSummary(
        period="2026-11", items=[SummaryItem(type="card_issuance", total=D("11.25"), count=5)]
    )
    month = BudgetMonth(date(2026, 11, 4), contro=summary, contro_days=rows)
    cards = scoped(ScopeKind.CONTRO_TYPE, "card_issuance")
    spend = month.spend(cards)
    assert spend.totals == Totals.of([Money(D("11.25"), "USD")])  # the summary's total
    (forecast,) = spend.forecasts
    # complete days 1-3: 10.00, so 10/3 a day for the 26 days from today on
    with exact(rounds=True):
        assert forecast.daily_low == forecast.daily_high == D("10.00") / 3
        assert forecast.low == forecast.high == D("11.25") + D("10.00") * 26 / 3
    none = BudgetMonth(date(2026, 11, 4), contro=summary, contro_no_forecast="too many")
    assert none.spend(cards).figures(cards, "2026-11").no_forecast == "too many"


def test_a_contro_types_sums_are_exact_to_the_last_digit() -> None:
    """Contro's amounts may carry up to `MAX_DIGITS` (50) digits, more than Python's default
    decimal context (28) keeps: a budget's sums are made in `exact()`, never rounded."""
    long = "12.5000000000000000000000000000001"  # 33 significant digits
    summary = UsageSummary(
        period="2026-11", items=[SummaryItem(type="card_issuance", total=D(long), count=1)]
    )
    cards = scoped(ScopeKind.CONTRO_TYPE, "card_issuance")
    assert BudgetMonth(TODAY, contro=summary).spend(cards).totals.get("USD").amount == D(long)
    at = datetime(2026, 11, 1, 9, tzinfo=UTC)
    records = [record("card_issuance", "1", at), record("card_issuance", "1e-30", at)]
    (row,) = contro_spend_rows(records, frozenset({"card_issuance"}))
    assert row.cost == D("1.000000000000000000000000000001")


async def test_a_contro_forecast_reads_no_more_records_than_its_limit() -> None:
    """The summary's count decides whether the records are read; a Contro that then sends
    more than it counted is read no further than the limit (not up to the client's 100,000
    pages every hour), and there is no estimate."""
    pages: list[int] = []

    class EndlessContro:
        async def iter_pages(self, period: str) -> AsyncIterator[RecordsPage]:
            for n in range(10_000):
                pages.append(n)
                at = datetime(2026, 11, 1, 9, tzinfo=UTC)
                yield RecordsPage(records=[record("card_issuance", "1", at)] * 100)

    service = BillingService(
        mkio=None,
        contro=cast(ControClient, EndlessContro()),
        cache=MemoryCache(60),
        clock=lambda: datetime(2026, 11, 4, 9, tzinfo=UTC),
    )
    summary = UsageSummary(
        period="2026-11", items=[SummaryItem(type="card_issuance", total=D(5), count=5)]
    )
    month = await service._contro_days(BudgetMonth(TODAY), summary, frozenset({"card_issuance"}))
    assert month.contro_days is None
    assert month.contro_no_forecast is not None
    assert "more than 1,000 records" in month.contro_no_forecast
    assert len(pages) == CONTRO_FORECAST_MAX_RECORDS // 100 + 1


def test_a_budget_whose_project_is_gone_or_whose_source_failed_fails_alone() -> None:
    month = BudgetMonth(TODAY, ROWS, frozenset({"api"}))
    with pytest.raises(CommandError, match="no project `web`"):
        month.spend(scoped(ScopeKind.METER, "web", "egress"))
    assert month.spend(scoped(ScopeKind.ORGANIZATION)).totals
    broken = BudgetMonth(TODAY, contro_error=RuntimeError("Contro is down"))
    with pytest.raises(RuntimeError, match="Contro is down"):
        broken.spend(scoped(ScopeKind.CONTRO_TYPE, "card_issuance"))


def test_keys_keep_a_projects_budget_where_version_1_had_it() -> None:
    assert budget("web").key == "web"
    assert scoped(ScopeKind.METER, "web", "egress").key == "meter:web:egress"
    assert scoped(ScopeKind.PAYMENT_METHOD, "pm-1").key == "payment-method:pm-1"
    assert scoped(ScopeKind.ORGANIZATION).key == "organization:"
    assert scoped(ScopeKind.CONTRO_TYPE, "card_issuance").key == "contro:card_issuance"


# --- the stores -----------------------------------------------------------------------------


@pytest.fixture(params=STORE_KINDS)
async def store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    redis_server: RedisServer,  # noqa: F811
) -> AsyncIterator[BudgetStore]:
    kinds = StoreKinds[BudgetStore](
        memory=MemoryBudgetStore,
        sqlite=lambda: SqliteBudgetStore(tmp_path / "bot.sqlite3"),
        redis=lambda client: RedisBudgetStore(
            client, signer=Signer(KEY), namespace=new_namespace()
        ),
    )
    async with kinds.store(request.param, redis_server.url) as made:
        yield made


async def test_set_get_list_remove(store: BudgetStore) -> None:
    web, api = budget("web", "1000.50"), budget("api", "12500", channel="C2")
    await store.set(web)
    await store.set(api)
    assert await store.list() == [api, web]  # by key
    egress = scoped(ScopeKind.METER, "web", "egress").model_copy(
        update={"thresholds": (50, 90, 100), "notify": ("U7", "U8")}
    )
    method = scoped(ScopeKind.PAYMENT_METHOD, "pm-1").model_copy(update={"label": "Azure (C)"})
    await store.set(egress)
    await store.set(method)
    assert await store.get(egress.key) == egress
    assert await store.get(method.key) == method
    assert await store.list() == [api, egress, method, web]
    assert await store.remove(egress.key) is True
    assert await store.remove(method.key) is True
    assert await store.get("web") == web
    assert (await store.get("web") or web).amount == D("1000.50")
    assert await store.get("nope") is None
    raised = web.model_copy(update={"amount": D("2000")})
    await store.set(raised)
    assert await store.get("web") == raised
    assert await store.remove("web") is True
    assert await store.remove("web") is False
    assert await store.list() == [api]


async def test_each_alert_is_claimed_once_a_month(store: BudgetStore) -> None:
    await store.set(budget())
    assert await store.claim_alert("web", "2026-11", "80%") is True
    assert await store.claim_alert("web", "2026-11", "80%") is False
    assert await store.claim_alert("web", "2026-11", "100%") is True
    assert await store.sent("web", "2026-11") == {"80%", "100%"}
    assert await store.sent("web", "2026-12") == set()
    # next month, afresh; and November's are no longer kept
    assert await store.claim_alert("web", "2026-12", "80%") is True
    assert await store.sent("web", "2026-12") == {"80%"}
    assert await store.sent("web", "2026-11") == set()
    assert await store.claim_alert("nope", "2026-12", "80%") is False


async def test_a_new_budget_starts_afresh(store: BudgetStore) -> None:
    await store.set(budget())
    assert await store.claim_alert("web", "2026-11", "80%") is True
    await store.set(budget(amount="5000"))  # raised: its 80% is another figure
    assert await store.sent("web", "2026-11") == set()
    assert await store.claim_alert("web", "2026-11", "80%") is True
    await store.remove("web")
    assert await store.claim_alert("web", "2026-11", "100%") is False
    await store.set(budget())
    assert await store.sent("web", "2026-11") == set()


async def test_thresholds_fire_once_per_month_and_again_next_month(store: BudgetStore) -> None:
    """Hourly checks of a project trending over budget, as `Scheduler` makes them."""
    await store.set(budget(amount="1000"))
    fired: list[tuple[str, str]] = []
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for hour in range(0, 24 * 61, 6):  # two months, every six hours
        now = start + timedelta(hours=hour)
        month = month_key(now)
        day = now.day
        spent = D(40) * day  # 40 a day: 80% on the 20th, 100% on the 25th
        high = spent + D(40) * (30 - day) if day > 2 else None
        web = await store.get("web")
        assert web is not None
        f = figures(str(spent), None if high is None else str(high))
        for due in due_alerts(web, f, await store.sent("web", month)):
            if await store.claim_alert("web", month, due.alert.claim):
                fired.append((month, due.alert.claim))
    assert fired == [
        ("2026-11", "estimate-100%"),  # day 3: 120 + 27 × 40 = 1200
        ("2026-11", "80%"),
        ("2026-11", "100%"),
        ("2026-12", "estimate-100%"),
        ("2026-12", "80%"),
        ("2026-12", "100%"),
    ]


async def test_sqlite_budgets_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    first = SqliteBudgetStore(path)
    await first.set(budget(amount="99.99"))
    await first.claim_alert("web", "2026-11", "80%")
    await first.aclose()
    again = SqliteBudgetStore(path)
    try:
        assert await again.get("web") == budget(amount="99.99")
        assert await again.sent("web", "2026-11") == {"80%"}
    finally:
        await again.aclose()


async def test_redis_ignores_forged_budgets(redis_server: RedisServer) -> None:  # noqa: F811
    namespace = new_namespace()
    client = Redis.from_url(redis_server.url)
    try:
        store = RedisBudgetStore(client, signer=Signer(KEY), namespace=namespace)
        await store.set(budget())
        forged = budget(channel="C-EVIL").model_dump_json()
        await client.set(f"{namespace}budget:web", forged)
        assert await store.get("web") is None
        assert await store.list() == []
        await store.set(budget())
        await store.claim_alert("web", "2026-11", "80%")
        ttl = await client.ttl(f"{namespace}budget-alerts:web")
        assert 0 < ttl <= 40 * 24 * 3600
    finally:
        await client.aclose()


# --- one alert, whatever the number of processes ---------------------------------------------

ROUNDS = 100


async def _race(a: BudgetStore, b: BudgetStore) -> None:
    await a.set(budget())
    for n in range(ROUNDS):
        month = f"{2030 + n // 12}-{n % 12 + 1:02d}"
        for threshold in ("80%", "100%", "estimate-100%", "recovered", "new-month"):
            results = await asyncio.gather(
                a.claim_alert("web", month, threshold),
                b.claim_alert("web", month, threshold),
                a.claim_alert("web", month, threshold),
                b.claim_alert("web", month, threshold),
            )
            assert sorted(results) == [False, False, False, True], (month, threshold, results)


async def test_two_sqlite_stores_on_one_file_send_each_alert_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    a, b = SqliteBudgetStore(path), SqliteBudgetStore(path)
    try:
        await asyncio.gather(a.list(), b.list())
        await _race(a, b)
    finally:
        await asyncio.gather(a.aclose(), b.aclose())


async def test_two_redis_stores_send_each_alert_once(redis_server: RedisServer) -> None:  # noqa: F811
    namespace = new_namespace()
    client_a, client_b = Redis.from_url(redis_server.url), Redis.from_url(redis_server.url)
    try:
        await _race(
            RedisBudgetStore(client_a, signer=Signer(KEY), namespace=namespace),
            RedisBudgetStore(client_b, signer=Signer(KEY), namespace=namespace),
        )
    finally:
        await client_a.aclose()
        await client_b.aclose()


# --- version-1 budgets still load and behave -------------------------------------------------

V1_ROW = ("web", "1000.50", "USD", "C-OPS", "U1", "2026-11-02T09:00:00+00:00")


def _v1_file(path: Path) -> None:
    """A file as the bot wrote it before scopes: one budget, its 80% sent this month."""
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "CREATE TABLE budgets (project TEXT PRIMARY KEY, amount TEXT NOT NULL, "
            "currency TEXT NOT NULL, channel TEXT NOT NULL, set_by TEXT NOT NULL, "
            "set_at TEXT NOT NULL)"
        )
        connection.execute(
            "CREATE TABLE budget_alerts (project TEXT NOT NULL, month TEXT NOT NULL, "
            "threshold TEXT NOT NULL, sent_at TEXT NOT NULL, UNIQUE (project, month, threshold))"
        )
        connection.execute("INSERT INTO budgets VALUES (?, ?, ?, ?, ?, ?)", V1_ROW)
        connection.execute(
            "INSERT INTO budget_alerts VALUES ('web', '2026-11', '80%', '2026-11-20T08:00:00')"
        )
    connection.close()


def _v1_expected() -> Budget:
    return Budget(
        scope=ScopeKind.PROJECT,
        name="web",
        amount=D("1000.50"),
        thresholds=(80, 100),
        channel="C-OPS",
        set_by="U1",
        set_at=SET_AT,
    )


async def test_a_version_1_sqlite_budget_is_migrated_and_keeps_its_alerts(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _v1_file(path)
    store = SqliteBudgetStore(path)
    try:
        [web] = await store.list()
        assert web == _v1_expected()
        assert await store.sent("web", "2026-11") == {"80%"}
        due = due_alerts(
            web, figures("1000.50", amount="1000.50"), await store.sent("web", "2026-11")
        )
        assert claims(due) == [("100%", True)], "80% was sent before the upgrade"
        assert await store.claim_alert("web", "2026-11", "80%") is False
        assert await store.remove("web") is True
    finally:
        await store.aclose()
    again = SqliteBudgetStore(path)  # a removed budget does not come back from the old table
    try:
        assert await again.list() == []
    finally:
        await again.aclose()


async def test_a_version_1_redis_budget_still_reads(redis_server: RedisServer) -> None:  # noqa: F811
    namespace = new_namespace()
    client = Redis.from_url(redis_server.url)
    signer = Signer(KEY)
    try:
        v1 = json.dumps(
            {
                "project": "web",
                "amount": "1000.50",
                "currency": "USD",
                "channel": "C-OPS",
                "set_by": "U1",
                "set_at": "2026-11-02T09:00:00Z",
            }
        ).encode()
        key = f"{namespace}budget:web"
        await client.set(key, signer.sign(key, v1))
        await client.sadd(f"{namespace}budgets", "web")
        await client.hset(f"{namespace}budget-alerts:web", "2026-11:80%", "2026-11-20T08:00:00")
        store = RedisBudgetStore(client, signer=signer, namespace=namespace)
        assert await store.list() == [_v1_expected()]
        assert await store.sent("web", "2026-11") == {"80%"}
        assert await store.claim_alert("web", "2026-11", "80%") is False
        assert await store.claim_alert("web", "2026-11", "100%") is True
        # written again, it is version 2
        await store.set(_v1_expected())
        raw = await client.get(key)
        assert raw is not None
        assert b'"version":2' in raw
    finally:
        await client.aclose()
