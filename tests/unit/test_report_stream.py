"""Usage reports read as they stream in (`MkioClient.usage_report_rows` + `ReportFold`): the
same summary and chart as the whole-body path, a clear refusal past `REPORT_MAX_ROWS`, and
other work answered while a report is being folded."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.apis.http import RetryPolicy
from bot.apis.mkio import MkioClient
from bot.apis.mkio.models import Granularity, ReportQuery
from bot.core.billing import BillingService
from bot.core.cache import MemoryCache
from bot.core.reports.charts import chart_series
from bot.core.reports.fold import ReportFold
from bot.core.reports.summary import ReportSummary, summarize
from bot.errors import TooManyRows, Unavailable

AT = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
QUERY = ReportQuery(
    start_date=date(2026, 3, 1), end_date=date(2026, 3, 4), granularity=Granularity.HOUR
)


class Pieces(httpx.AsyncByteStream):
    """A body served in small pieces, never suspending: like a loopback burst already in
    the socket's buffer. `served` is called with each piece's index."""

    def __init__(self, body: bytes, size: int, served: Callable[[int], None]) -> None:
        self.pieces = [body[i : i + size] for i in range(0, len(body), size)]
        self.served = served

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for index, piece in enumerate(self.pieces):
            self.served(index)
            yield piece


def client_serving(
    body: bytes, *, size: int = 997, served: Callable[[int], None] = lambda _: None
) -> MkioClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Pieces(body, size, served))

    return MkioClient(
        "https://mkio.test/api/v1",
        SecretStr("token"),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy.immediate(),
    )


def row(rng: random.Random, **fields: Any) -> dict[str, Any]:
    hour = rng.randrange(72)
    out: dict[str, Any] = {
        "date": f"2026-03-{1 + hour // 24:02d}T{hour % 24:02d}:00:00Z",
        "dateProcessed": rng.choice([None, "2026-03-05T00:00:00Z"]),
        "meterName": rng.choice(["Encoding HD", "Streaming", "Storage"]),
        "meterSku": rng.choice([None, "SKU-1"]),
        "quantity": rng.randrange(1, 10_000) / 1000,
        "price": rng.choice([None, 0.0125]),
        "cost": f"{rng.randrange(-500, 100_000) / 1_000_000:.6f}",
        "currency": "USD",
        "project": rng.choice([None, "alpha", "beta", "gamma", *(f"p{i}" for i in range(9))]),
        "somethingNew": rng.choice([None, {"nested": [1, 2.5]}, "x"]),  # an extra field
    }
    out.update(fields)
    return out


def mixed_rows(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Mostly USD; some EUR and GBP; costs as strings and as numbers; other time zones."""
    rng = random.Random(seed)
    rows = [row(rng) for _ in range(count)]
    for i in range(0, count, 7):
        rows[i]["currency"] = "EUR"
    for i in range(3, count, 11):
        rows[i]["currency"] = "GBP"
        rows[i]["cost"] = 1.25  # a JSON number, as some rows may carry
    rows.append(row(rng, date="2026-03-02T01:30:00+01:00", project=None, cost="-0.000000"))
    return rows


def body_of(rows: list[dict[str, Any]], **top: Any) -> bytes:
    return json.dumps({"supplemental": {"records": len(rows)}, **top, "value": rows}).encode()


async def both_paths(body: bytes) -> tuple[ReportSummary, ReportSummary]:
    """(whole body as before: `usage_report` + `summarize` + `chart_series`, streamed)."""
    async with client_serving(body) as mkio:
        report = await mkio.usage_report(QUERY)
        old = summarize(report, QUERY, filter_names=(), fetched_at=AT)
        old = dataclasses.replace(old, chart=chart_series(report, QUERY.granularity))
        fold = ReportFold(QUERY.granularity)
        count = await mkio.usage_report_rows(QUERY, fold.add, max_rows=10**6)
        assert count == len(report.value)
        new = fold.summary(QUERY, filter_names=(), fetched_at=AT)
    return old, new


@pytest.mark.parametrize("count", [0, 1, 2, 300, 2_000])
async def test_the_streamed_report_sums_exactly_as_the_whole_body(count: int) -> None:
    old, new = await both_paths(body_of(mixed_rows(count)))
    assert new == old
    if count >= 300:  # the case is what it says: several currencies, a chart, folded projects
        assert {o.currency for o in new.other_currencies} == {"EUR", "GBP"}
        assert new.chart is not None
        assert new.chart.others is not None
        assert new.uncharged_rows
        assert new.rows < count


async def test_a_tie_between_currencies_goes_to_the_first_code_in_both_paths() -> None:
    rng = random.Random(1)
    rows = [row(rng, currency="USD"), row(rng, currency="EUR")]
    old, new = await both_paths(body_of(rows))
    assert new == old
    assert new.currency == "EUR"


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"",
        b'{"value": [{"date": "2026-03-01T00:00:00Z"}]}',  # no cost, currency, ...
        body_of([{**row(random.Random(2)), "cost": "a lot"}]),
        body_of([{**row(random.Random(2)), "cost": "1e30"}]),  # no bill holds that
        body_of([{**row(random.Random(2)), "quantity": 1e-200}]),
        body_of(mixed_rows(50))[:-30],  # cut short
    ],
)
async def test_what_the_whole_body_path_refuses_the_stream_refuses(body: bytes) -> None:
    async with client_serving(body) as mkio:
        with pytest.raises(Unavailable, match="could not read"):
            await mkio.usage_report(QUERY)
        with pytest.raises(Unavailable, match="could not read"):
            await mkio.usage_report_rows(QUERY, lambda rows: None, max_rows=10**6)


def service(mkio: MkioClient, *, max_rows: int = 2_000_000) -> BillingService:
    return BillingService(
        mkio=mkio, contro=None, cache=MemoryCache(60), clock=lambda: AT, report_max_rows=max_rows
    )


async def test_a_report_past_the_row_cap_is_refused_with_what_to_ask_instead() -> None:
    served: list[int] = []
    body = body_of(mixed_rows(3_000))
    async with client_serving(body, size=4096, served=served.append) as mkio:
        assert (await service(mkio, max_rows=3_001).report(QUERY, ())).rows > 0
        with pytest.raises(TooManyRows) as caught:
            await service(mkio, max_rows=1_000).report(QUERY, ())
    message = caught.value.user_message
    assert "more than 1,000 rows" in message
    assert "coarser granularity" in message
    assert "narrower filter" in message
    # it stopped reading once past the cap, not at the end of the body
    pieces = len(Pieces(body, 4096, served.append).pieces)
    assert len(served) < 2 * pieces


async def test_other_work_is_answered_while_a_report_is_being_folded() -> None:
    """The body arrives without the transport ever suspending (a burst on loopback): the
    whole-body path parsed and summed it in one go, and nothing else ran meanwhile."""
    events: list[str] = []
    loop = asyncio.get_running_loop()
    body = body_of(mixed_rows(2_000))
    last = len(Pieces(body, 4096, lambda _: None).pieces) - 1

    def served(index: int) -> None:
        if index == 0:  # another user's request is ready to be answered
            loop.call_soon(events.append, "other answered")
        if index == last:
            events.append("last piece served")

    async with client_serving(body, size=4096, served=served) as mkio:
        summary = await service(mkio).report(QUERY, ())
    events.append("report summed")
    assert summary.rows > 0
    assert events == ["other answered", "last piece served", "report summed"]
