"""bot.core.exports against the real sandbox over HTTP, in both of Contro's pagination styles."""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.apis.contro import ControClient
from bot.apis.contro.models import SummaryItem, UsageSummary
from bot.apis.http import RetryPolicy
from bot.apis.pacing import RequestRate
from bot.core import exports
from bot.core.exports import (
    CONTRO_COLUMNS,
    ControExport,
    ExportProgress,
    contro_export_filename,
    export_contro_records,
    reconcile,
)
from bot.devtools.sandbox import Sandbox, start
from bot.errors import UpstreamError
from tests.unit.test_pacing import FakeClock

KEY = SecretStr("sk_test_sandbox")
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
GENERATED = "2026-02"  # a whole generated month before NOW: several hundred records, all types
SYNTHETIC = "2026-10"
RECORDS_PATH = "/v1/partner/usage/records"


@dataclass
class Env:
    sandbox: Sandbox
    contro: ControClient

    def record_requests(self) -> list[dict[str, str]]:
        return [r.query for r in self.sandbox.requests if r.path == RECORDS_PATH]

    async def summary(self, period: str) -> UsageSummary:
        return await self.contro.summary(period)


@pytest.fixture(params=["cursor", "page"])
async def env(request: pytest.FixtureRequest) -> AsyncIterator[Env]:
    sandbox = Sandbox(clock=lambda: NOW, contro_pagination=request.param)
    runner, base = await start(sandbox, "127.0.0.1", 0)
    contro = ControClient(f"{base}/v1", KEY, retry=RetryPolicy.immediate())
    try:
        yield Env(sandbox, contro)
    finally:
        await contro.aclose()
        await runner.cleanup()


def parse(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def summary_of(summary: UsageSummary, type: str | None = None) -> tuple[Decimal, int]:
    items = [i for i in summary.items if type is None or i.type == type]
    return sum((i.total for i in items), Decimal(0)), sum(i.count for i in items)


# -- the whole period ------------------------------------------------------------------------


async def test_generated_period_round_trips_and_matches_the_summary(env: Env) -> None:
    dest = io.BytesIO()
    export = await export_contro_records(env.contro, GENERATED, dest)
    data = dest.getvalue()
    header, rows = parse(data)
    summary = await env.summary(GENERATED)
    total, count = summary_of(summary)

    assert header == list(CONTRO_COLUMNS)
    assert data.startswith(b"id,type,amount,currency,referenceId,billingPeriod,createdAt\r\n")
    assert len(rows) == export.rows == count > 100
    assert len({row["id"] for row in rows}) == count
    assert sum((Decimal(row["amount"]) for row in rows), Decimal(0)) == export.total == total
    assert export.bytes_written == len(data)
    assert export.period == GENERATED
    assert export.type is None
    assert reconcile(export, summary) is None

    # per type, exactly as the summary says, and as the file says
    file_totals: dict[str, Decimal] = {}
    for row in rows:
        file_totals[row["type"]] = file_totals.get(row["type"], Decimal(0)) + Decimal(row["amount"])
    assert export.totals_by_type == file_totals
    assert export.totals_by_type == {i.type: i.total for i in summary.items}
    assert export.counts_by_type == {i.type: i.count for i in summary.items}
    assert dict(Counter(row["type"] for row in rows)) == export.counts_by_type

    # rows as the sandbox has them, in its order
    expected = env.sandbox.contro_records(GENERATED)
    assert [row["id"] for row in rows] == [r["id"] for r in expected]
    assert [row["referenceId"] for row in rows] == [r["referenceId"] for r in expected]
    assert all(row["billingPeriod"] == GENERATED for row in rows)
    assert all(
        row["createdAt"].endswith("Z") and row["createdAt"].startswith(GENERATED) for row in rows
    )
    assert {row["createdAt"] for row in rows} == {r["createdAt"] for r in expected}


async def test_requests_are_the_fewest_possible(env: Env) -> None:
    env.sandbox.set_contro_records(SYNTHETIC, 1234)
    env.sandbox.clear()
    export = await export_contro_records(env.contro, SYNTHETIC, io.BytesIO())

    queries = env.record_requests()
    assert export.requests == len(queries) == math.ceil(1234 / 100) == 13
    assert all(q["limit"] == "100" and q["period"] == SYNTHETIC for q in queries)
    assert len(env.sandbox.requests) == 13  # nothing else was asked
    assert export.rows == 1234


async def test_exactly_a_multiple_of_the_page_size(env: Env) -> None:
    env.sandbox.set_contro_records(SYNTHETIC, 300)
    env.sandbox.clear()
    export = await export_contro_records(env.contro, SYNTHETIC, io.BytesIO())
    assert (export.rows, export.requests, len(env.record_requests())) == (300, 3, 3)


async def test_an_empty_period_gives_the_header_alone(env: Env) -> None:
    env.sandbox.set_contro_records(SYNTHETIC, 0)
    env.sandbox.clear()
    dest = io.BytesIO()
    export = await export_contro_records(env.contro, SYNTHETIC, dest)
    assert dest.getvalue() == b"id,type,amount,currency,referenceId,billingPeriod,createdAt\r\n"
    assert (export.rows, export.requests, export.total) == (0, 1, Decimal(0))
    assert export.totals_by_type == {}
    assert reconcile(export, await env.summary(SYNTHETIC)) is None


async def test_2501_records_take_26_requests(env: Env) -> None:
    env.sandbox.set_contro_records(SYNTHETIC, 2_501)  # 25 full pages and one of a single record
    env.sandbox.clear()
    dest = io.BytesIO()
    export = await export_contro_records(env.contro, SYNTHETIC, dest)
    summary = await env.summary(SYNTHETIC)
    total, count = summary_of(summary)

    assert export.requests == len(env.record_requests()) == 26
    assert export.rows == count == 2_501
    assert export.total == total
    assert reconcile(export, summary) is None
    _, rows = parse(dest.getvalue())
    assert len(rows) == 2_501
    assert sum((Decimal(row["amount"]) for row in rows), Decimal(0)) == total
    assert rows[-1]["id"] == "usage_20261000002500"


# -- a type filter ---------------------------------------------------------------------------


async def test_type_filter(env: Env) -> None:
    env.sandbox.set_contro_records(SYNTHETIC, 2507)  # kyc is record 6 of every 8: 313 of them
    env.sandbox.clear()
    dest = io.BytesIO()
    export = await export_contro_records(env.contro, SYNTHETIC, dest, type="kyc")
    summary = await env.summary(SYNTHETIC)
    total, count = summary_of(summary, "kyc")
    _, rows = parse(dest.getvalue())

    assert count == 313
    assert {row["type"] for row in rows} == {"kyc"}
    assert len(rows) == export.rows == count
    assert export.total == total == sum((Decimal(row["amount"]) for row in rows), Decimal(0))
    assert export.type == "kyc"
    assert export.totals_by_type == {"kyc": total}
    queries = env.record_requests()
    assert export.requests == len(queries) == math.ceil(313 / 100)
    assert all(q["type"] == "kyc" and q["limit"] == "100" for q in queries)
    assert reconcile(export, summary) is None  # only kyc is compared


async def test_type_filter_on_a_generated_month(env: Env) -> None:
    summary = await env.summary(GENERATED)
    for item in summary.items:
        export = await export_contro_records(env.contro, GENERATED, io.BytesIO(), type=item.type)
        assert (export.total, export.rows) == (item.total, item.count)
        assert reconcile(export, summary) is None


async def test_an_unknown_type_exports_nothing_and_reconciles(env: Env) -> None:
    summary = await env.summary(GENERATED)
    export = await export_contro_records(env.contro, GENERATED, io.BytesIO(), type="no_such")
    assert (export.rows, export.requests) == (0, 1)
    assert reconcile(export, summary) is None


# -- progress and streaming -------------------------------------------------------------------


async def test_progress_is_reported_while_rows_are_already_in_the_file(env: Env) -> None:
    env.sandbox.set_contro_records(SYNTHETIC, 950)
    dest = io.BytesIO()
    seen: list[ExportProgress] = []

    async def on_progress(progress: ExportProgress) -> None:
        # the rows are written as the pages come, not at the end
        assert len(dest.getvalue()) == progress.bytes_written
        assert dest.getvalue().count(b"\n") == progress.rows + 1
        seen.append(progress)

    export = await export_contro_records(
        env.contro, SYNTHETIC, dest, on_progress=on_progress, progress_every=0
    )
    # after every page but the last (the result says the rest)
    assert [p.pages for p in seen] == list(range(1, 10))
    assert [p.rows for p in seen] == [100 * n for n in range(1, 10)]
    assert export.requests == 10
    assert seen[-1].bytes_written < export.bytes_written == len(dest.getvalue())


async def test_progress_is_throttled(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    env.sandbox.set_contro_records(SYNTHETIC, 2000)
    clock = iter(float(n) for n in range(10_000))  # every reading is one second later
    now = [0.0]

    def monotonic() -> float:
        now[0] = next(clock)
        return now[0]

    monkeypatch.setattr(exports, "monotonic", monotonic)
    called_at: list[float] = []

    async def on_progress(progress: ExportProgress) -> None:
        called_at.append(now[0])

    export = await export_contro_records(
        env.contro, SYNTHETIC, io.BytesIO(), on_progress=on_progress, progress_every=5.0
    )
    assert export.requests == 20
    assert 1 < len(called_at) < 19
    assert all(b - a >= 5.0 for a, b in itertools.pairwise(called_at))


async def test_no_progress_when_the_export_is_quick(env: Env) -> None:
    env.sandbox.set_contro_records(SYNTHETIC, 500)
    calls: list[ExportProgress] = []

    async def on_progress(progress: ExportProgress) -> None:
        calls.append(progress)

    await export_contro_records(
        env.contro, SYNTHETIC, io.BytesIO(), on_progress=on_progress, progress_every=3600
    )
    assert calls == []


async def test_an_upstream_failure_midway_propagates(env: Env) -> None:
    env.sandbox.set_contro_records(SYNTHETIC, 1000)
    dest = io.BytesIO()

    async def on_progress(progress: ExportProgress) -> None:
        if progress.pages == 3:
            env.sandbox.add_fault(path="/partner/usage/records", status=400)

    with pytest.raises(UpstreamError):
        await export_contro_records(
            env.contro, SYNTHETIC, dest, on_progress=on_progress, progress_every=0
        )
    assert dest.getvalue().count(b"\n") == 301  # the header and three pages


# -- cell formatting (a stand-in Contro, for values the sandbox never sends) ------------------


def _one_page(records: list[dict[str, Any]]) -> ControClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": records, "hasMore": False, "nextCursor": None})

    return ControClient(
        "https://api.contro.me/v1",
        SecretStr("sk_test_x"),
        transport=httpx.MockTransport(answer),
        retry=RetryPolicy.immediate(),
    )


async def test_cells_are_exact_and_safe() -> None:
    body = (
        b'{"data": ['
        b'{"id": "a", "type": "kyc", "amount": 1e2, "referenceId": "=HYPERLINK(1)",'
        b' "billingPeriod": "2026-03", "createdAt": "2026-03-02T10:00:00+02:00"},'
        b'{"id": "-b", "type": "odd, \\"quoted\\"", "amount": 0.10,'
        b' "createdAt": "2026-03-02T10:00:00.250Z"},'
        b'{"id": "c", "type": "refund", "amount": -5.005, "referenceId": "@x",'
        b' "billingPeriod": "2026-03", "createdAt": "2026-03-02T10:00:00"},'
        b'{"id": "d", "type": "api_call", "amount": 0.000000001, "referenceId": "+1",'
        b' "createdAt": null}'
        b'], "hasMore": false, "nextCursor": null}'
    )

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    contro = ControClient(
        "https://api.contro.me/v1",
        SecretStr("sk_test_x"),
        transport=httpx.MockTransport(answer),
        retry=RetryPolicy.immediate(),
    )
    dest = io.BytesIO()
    async with contro:
        export = await export_contro_records(contro, "2026-03", dest)
    _, rows = parse(dest.getvalue())

    # Six decimals as MK.IO's CSV writes costs, more when Contro sent more: never rounded.
    assert [row["amount"] for row in rows] == ["100.000000", "0.100000", "-5.005000", "0.000000001"]
    assert {row["currency"] for row in rows} == {"USD"}  # Contro's amounts are in USD
    assert export.total == Decimal("95.095000001")
    assert [row["createdAt"] for row in rows] == [
        "2026-03-02T08:00:00Z",
        "2026-03-02T10:00:00.250000Z",
        "2026-03-02T10:00:00Z",
        "",
    ]
    # formula-like text gets a leading quote; amounts never do
    assert [row["referenceId"] for row in rows] == ["'=HYPERLINK(1)", "", "'@x", "'+1"]
    assert [row["id"] for row in rows] == ["a", "'-b", "c", "d"]
    assert rows[1]["type"] == 'odd, "quoted"'
    assert rows[1]["billingPeriod"] == ""
    # totals by type use the real type, not the cell
    assert export.totals_by_type['odd, "quoted"'] == Decimal("0.10")


async def test_records_of_another_type_are_left_out_when_filtering() -> None:
    records = [
        {"id": "1", "type": "kyc", "amount": 3},
        {"id": "2", "type": "transaction", "amount": 1},  # an upstream that ignored `type`
        {"id": "3", "type": "kyc", "amount": 3},
    ]
    dest = io.BytesIO()
    async with _one_page(records) as contro:
        export = await export_contro_records(contro, "2026-03", dest, type="kyc")
    _, rows = parse(dest.getvalue())
    assert [row["id"] for row in rows] == ["1", "3"]
    assert (export.rows, export.total, export.requests) == (2, Decimal(6), 1)


# -- file names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "type", "name"),
    [
        ("2026-10", None, "contro-usage-records_2026-10.csv"),
        ("2026-10", "kyc", "contro-usage-records_2026-10_type-kyc.csv"),
        ("2026-10", "card_issuance", "contro-usage-records_2026-10_type-card_issuance.csv"),
        ("2026-10", "../../etc/passwd", "contro-usage-records_2026-10_type-etc-passwd.csv"),
        ("2026-10", "a b/c\\d:e*f", "contro-usage-records_2026-10_type-a-b-c-d-e-f.csv"),
        ("2026-10", "...", "contro-usage-records_2026-10_type-other.csv"),
        ("2026-10", "", "contro-usage-records_2026-10.csv"),
        ("../x", None, "contro-usage-records_x.csv"),
    ],
)
def test_filename(period: str, type: str | None, name: str) -> None:
    assert contro_export_filename(period, type) == name


def test_filename_is_bounded() -> None:
    name = contro_export_filename("2026-10", "k" * 500)
    assert len(name) < 120
    assert name.endswith(".csv")


# -- reconcile -------------------------------------------------------------------------------


def _summary(*items: tuple[str, str, int], period: str = "2026-10") -> UsageSummary:
    return UsageSummary(
        period=period,
        items=[SummaryItem(type=t, total=Decimal(total), count=c) for t, total, c in items],
    )


def _export(
    totals: dict[str, tuple[str, int]], *, type: str | None = None, period: str = "2026-10"
) -> ControExport:
    return ControExport(
        period=period,
        type=type,
        rows=sum(c for _, c in totals.values()),
        requests=1,
        total=sum((Decimal(t) for t, _ in totals.values()), Decimal(0)),
        totals_by_type={k: Decimal(t) for k, (t, _) in totals.items()},
        bytes_written=0,
        counts_by_type={k: c for k, (_, c) in totals.items()},
    )


def test_reconcile_equal() -> None:
    summary = _summary(("kyc", "30.00", 10), ("transaction", "1204", 3))
    assert reconcile(_export({"kyc": ("30", 10), "transaction": ("1204.0", 3)}), summary) is None


def test_reconcile_different_total() -> None:
    summary = _summary(("kyc", "1240.00", 11))
    message = reconcile(_export({"kyc": ("1234", 10)}), summary)
    assert message == (
        "the export totals 1,234.00 USD over 10 records, the summary says 1,240.00 USD over 11"
        "; types that differ: kyc"
    )


def test_reconcile_with_a_type_compares_that_type_only() -> None:
    summary = _summary(("kyc", "30", 10), ("transaction", "5", 1))
    assert reconcile(_export({"kyc": ("30", 10)}, type="kyc"), summary) is None
    message = reconcile(_export({"kyc": ("27", 9)}, type="kyc"), summary)
    assert message == (
        "the export totals 27.00 USD over 9 records, the summary says 30.00 USD over 10"
    )


def test_reconcile_count_only() -> None:
    message = reconcile(_export({"kyc": ("30", 10)}), _summary(("kyc", "30", 11)))
    assert message is not None
    assert "over 10 records" in message
    assert "over 11" in message
    assert "differ by" not in message


def test_reconcile_sub_cent_difference_is_spelled_out() -> None:
    message = reconcile(_export({"kyc": ("30.001", 1)}), _summary(("kyc", "30", 1)))
    assert message == (
        "the export totals 30.00 USD over 1 record, the summary says 30.00 USD over 1"
        " (they differ by 0.001 USD); types that differ: kyc"
    )


def test_reconcile_names_missing_and_extra_types() -> None:
    summary = _summary(("kyc", "30", 10), ("api_call", "1", 100))
    message = reconcile(_export({"kyc": ("30", 10), "refund": ("1", 100)}), summary)
    assert message == (
        "the export totals 31.00 USD over 110 records as the summary does, "
        "but not per type: api_call, refund differ"
    )
    message = reconcile(_export({"kyc": ("30", 10), "refund": ("2", 100)}), summary)
    assert message is not None
    assert message.endswith("over 110; types that differ: api_call, refund")


def test_reconcile_another_period() -> None:
    message = reconcile(_export({}), _summary(period="2026-09"))
    assert message is not None
    assert "2026-09" in message
    assert "2026-10" in message


# -- concurrent chains, one per type ------------------------------------------------------------


def _by_type(data: bytes) -> bytes:
    """The CSV of one unfiltered chain, its rows stably sorted by type: what chains give."""
    header, *lines = data.decode("utf-8").split("\r\n")
    rows = [line for line in lines if line]
    rows.sort(key=lambda line: next(csv.reader([line]))[1])
    return "\r\n".join([header, *rows, ""]).encode("utf-8")


@pytest.mark.parametrize("period", [GENERATED, SYNTHETIC])
async def test_concurrent_chains_give_the_file_of_one_chain_sorted_by_type(
    env: Env, period: str
) -> None:
    env.sandbox.set_contro_records(SYNTHETIC, 1234)
    summary = await env.summary(period)
    types = [item.type for item in summary.items]
    assert len(types) > 1

    one = io.BytesIO()
    single = await export_contro_records(env.contro, period, one)
    env.sandbox.clear()
    chains = io.BytesIO()
    export = await export_contro_records(env.contro, period, chains, types=types)

    assert chains.getvalue() == _by_type(one.getvalue())
    assert (export.rows, export.total, export.bytes_written) == (
        single.rows,
        single.total,
        single.bytes_written,
    )
    assert export.totals_by_type == single.totals_by_type
    assert reconcile(export, summary) is None
    # one chain per type, each asking only for its type
    asked = Counter(q.get("type") for q in env.record_requests())
    assert asked == {i.type: math.ceil(i.count / 100) or 1 for i in summary.items}
    assert export.requests == asked.total()


async def test_chains_run_at_once_and_one_at_a_time_give_the_same_bytes(env: Env) -> None:
    env.sandbox.set_contro_records(SYNTHETIC, 777)
    base = str(env.contro._api.base_url)
    types = [item.type for item in (await env.summary(SYNTHETIC)).items]
    files = []
    for concurrency in (1, 16):
        dest = io.BytesIO()
        async with ControClient(
            base, KEY, retry=RetryPolicy.immediate(), concurrency=concurrency
        ) as contro:
            await export_contro_records(contro, SYNTHETIC, dest, types=types)
        files.append(dest.getvalue())
    assert files[0] == files[1]


async def test_a_429_on_one_chain_pauses_for_its_retry_after_and_the_file_is_whole() -> None:
    clock = FakeClock()
    rate = RequestRate(1000, clock=clock, sleep=clock.sleep)
    records = {
        kind: [{"id": f"{kind}-{n}", "type": kind, "amount": n} for n in range(250)]
        for kind in ("kyc", "transaction")
    }
    sent: list[tuple[float, str, str | None]] = []
    refused = False

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal refused
        kind = request.url.params["type"]
        cursor = request.url.params.get("cursor")
        sent.append((clock(), kind, cursor))
        if kind == "kyc" and cursor == "100" and not refused:
            refused = True
            return httpx.Response(429, headers={"Retry-After": "30"}, json={"error": "slow"})
        start = int(cursor or 0)
        data = records[kind][start : start + 100]
        more = start + 100 < len(records[kind])
        return httpx.Response(
            200,
            json={"data": data, "hasMore": more, "nextCursor": str(start + 100) if more else None},
        )

    dest = io.BytesIO()
    async with ControClient(
        "https://api.contro.me/v1",
        KEY,
        transport=httpx.MockTransport(answer),
        retry=RetryPolicy.immediate(),
        rate=rate,
    ) as contro:
        export = await export_contro_records(contro, "2026-03", dest, types=["transaction", "kyc"])

    _, rows = parse(dest.getvalue())
    assert [r["id"] for r in rows] == [r["id"] for r in records["kyc"] + records["transaction"]]
    assert export.rows == 500
    [(refused_at, _, _)] = [s for s in sent if s[1:] == ("kyc", "100")][:1]
    after = [t for t, _, _ in sent if t > refused_at]
    assert after
    assert min(after) >= refused_at + 30  # no chain asked again before Retry-After passed
