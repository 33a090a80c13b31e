"""ControClient against httpx.MockTransport: both pagination styles, Decimal amounts, errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.apis.contro import ControClient
from bot.apis.contro import client as contro_client
from bot.apis.contro.client import decode_token
from bot.apis.http import RetryPolicy
from bot.apis.pacing import RequestRate
from bot.errors import CommandError, NotFound, Unauthorized, Unavailable, UpstreamError
from tests.unit.test_pacing import FakeClock

KEY = "sk_live_0123456789abcdefSECRET"
BASE = "https://api.contro.me/v1"


def record(i: int, amount: Any = 1, type: str = "card_issuance") -> dict[str, Any]:
    return {
        "id": f"rec_{i}",
        "type": type,
        "amount": amount,
        "referenceId": f"ref_{i}",
        "billingPeriod": "2026-03",
        "createdAt": "2026-03-02T10:00:00Z",
    }


class Server:
    """Answers with a function of the request; records every request. The client's pacer
    runs on `clock`: its waits pass at once, and `clock.slept` holds each one."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []
        self.clock = FakeClock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        result = self.answer(request)
        return result if isinstance(result, httpx.Response) else httpx.Response(200, json=result)

    def client(self) -> ControClient:
        return ControClient(
            BASE,
            SecretStr(KEY),
            transport=httpx.MockTransport(self),
            retry=RetryPolicy.immediate(),
            rate=RequestRate(
                contro_client.MAX_REQUESTS_PER_MINUTE, clock=self.clock, sleep=self.clock.sleep
            ),
        )

    def params(self, i: int) -> dict[str, str]:
        return dict(self.requests[i].url.params)


def cursor_api(pages: int, per_page: int = 2) -> Server:
    """Cursor pagination: cursor `cN` is page N (0-based; no cursor = page 0)."""

    def answer(request: httpx.Request) -> dict[str, Any]:
        cursor = request.url.params.get("cursor")
        n = int(cursor[1:]) if cursor else 0
        last = n == pages - 1
        return {
            "data": [record(n * per_page + i) for i in range(per_page)],
            "hasMore": not last,
            "nextCursor": None if last else f"c{n + 1}",
        }

    return Server(answer)


def page_api(total: int) -> Server:
    """Page-number pagination over `total` records."""

    def answer(request: httpx.Request) -> dict[str, Any]:
        page = int(request.url.params.get("page", "1"))
        limit = int(request.url.params["limit"])
        start = (page - 1) * limit
        ids = range(start, min(start + limit, total))
        return {"data": [record(i) for i in ids], "total": total, "page": page, "limit": limit}

    return Server(answer)


# -- summary --------------------------------------------------------------------------------


async def test_summary_request_and_decimals() -> None:
    server = Server(
        lambda r: {
            "period": "2026-03",
            "items": [
                {"type": "card_issuance", "total": 0.1, "count": 1},
                {"type": "something_new", "total": 0.2, "count": 2},
            ],
        }
    )
    summary = await server.client().summary("2026-03")
    (request,) = server.requests
    assert request.method == "GET"
    assert request.url.path == "/v1/partner/usage/summary"
    assert server.params(0) == {"period": "2026-03"}
    assert request.headers["x-contro-api-key"] == KEY
    assert "authorization" not in request.headers
    assert summary.items[0].total == Decimal("0.1")
    assert summary.total == Decimal("0.3")
    assert [i.type for i in summary.items] == ["card_issuance", "something_new"]


async def test_summary_in_success_envelope() -> None:
    server = Server(lambda r: {"success": True, "data": {"period": "2026-03", "items": []}})
    summary = await server.client().summary("2026-03")
    assert summary.period == "2026-03"
    assert summary.items == []


# -- records: cursor style ------------------------------------------------------------------


async def test_records_page_cursor_style() -> None:
    server = cursor_api(pages=3)
    client = server.client()
    first = await client.records_page("2026-03", type="transaction", limit=2)
    assert server.params(0) == {"period": "2026-03", "limit": "2", "type": "transaction"}
    assert [r.id for r in first.records] == ["rec_0", "rec_1"]
    assert first.next_token is not None
    assert (first.total, first.page, first.pages) == (None, None, None)

    second = await client.records_page("2026-03", type="transaction", token=first.next_token)
    assert server.params(1)["cursor"] == "c1"
    assert "page" not in server.params(1)
    assert [r.id for r in second.records] == ["rec_2", "rec_3"]


async def test_iter_pages_cursor_style() -> None:
    server = cursor_api(pages=3)
    pages = [p async for p in server.client().iter_pages("2026-03")]
    assert len(pages) == 3
    assert len(server.requests) == 3
    assert [r.id for p in pages for r in p.records] == [f"rec_{i}" for i in range(6)]
    assert pages[-1].next_token is None
    assert [server.params(i).get("cursor") for i in range(3)] == [None, "c1", "c2"]
    assert all(server.params(i)["limit"] == "100" for i in range(3))


async def test_cursor_repeated_is_stopped() -> None:
    server = Server(lambda r: {"data": [record(1)], "hasMore": True, "nextCursor": "same"})
    with pytest.raises(Unavailable) as info:
        _ = [p async for p in server.client().iter_pages("2026-03")]
    assert "same page of records twice" in info.value.user_message
    assert len(server.requests) == 2


async def test_has_more_without_cursor_is_unreadable() -> None:
    server = Server(lambda r: {"data": [], "hasMore": True, "nextCursor": None})
    with pytest.raises(Unavailable):
        await server.client().records_page("2026-03")


# -- records: page style --------------------------------------------------------------------


async def test_records_page_page_style() -> None:
    server = page_api(total=45)
    client = server.client()
    first = await client.records_page("2026-03", limit=20)
    assert (first.total, first.page, first.pages) == (45, 1, 3)
    assert first.next_token is not None
    third = await client.records_page("2026-03", token="p:3", limit=20)
    assert server.params(1)["page"] == "3"
    assert len(third.records) == 5
    assert third.next_token is None
    assert third.page == 3


async def test_iter_pages_page_style() -> None:
    server = page_api(total=250)
    pages = [p async for p in server.client().iter_pages("2026-03", type="kyc")]
    assert [len(p.records) for p in pages] == [100, 100, 50]
    assert [server.params(i).get("page") for i in range(3)] == [None, "2", "3"]
    assert all(server.params(i)["type"] == "kyc" for i in range(3))
    assert pages[0].pages == 3


async def test_iter_pages_page_style_exact_multiple() -> None:
    server = page_api(total=200)
    pages = [p async for p in server.client().iter_pages("2026-03")]
    assert len(pages) == 2
    assert len(server.requests) == 2


async def test_page_server_ignoring_page_param_is_stopped() -> None:
    server = Server(lambda r: {"data": [record(1)], "total": 500, "page": 1, "limit": 100})
    with pytest.raises(Unavailable):
        _ = [p async for p in server.client().iter_pages("2026-03")]
    assert len(server.requests) == 2


async def test_endless_pages_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contro_client, "MAX_PAGES", 4)
    count = 0

    def answer(request: httpx.Request) -> dict[str, Any]:
        nonlocal count
        count += 1
        return {"data": [record(1)], "hasMore": True, "nextCursor": f"x{count}"}

    server = Server(answer)
    with pytest.raises(Unavailable) as info:
        _ = [p async for p in server.client().iter_pages("2026-03")]
    assert len(server.requests) == 4
    assert "kept sending more pages" in info.value.user_message


async def test_unpaginated_answer_is_one_page() -> None:
    server = Server(lambda r: {"data": [record(1)]})
    pages = [p async for p in server.client().iter_pages("2026-03")]
    assert len(pages) == 1
    assert pages[0].next_token is None


async def test_record_amounts_are_exact() -> None:
    server = Server(
        lambda r: {
            "data": [record(1, amount=0.1), record(2, amount=0.2)],
            "hasMore": False,
            "nextCursor": None,
        }
    )
    page = await server.client().records_page("2026-03")
    assert page.records[0].amount == Decimal("0.1")
    assert sum((r.amount for r in page.records), Decimal(0)) == Decimal("0.3")


# -- tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "c:", "p:", "p:0", "p:-1", "p:x", "zz", "p:1.5", "p:²"])
async def test_malformed_token(token: str) -> None:
    server = page_api(total=10)
    with pytest.raises(CommandError) as info:
        await server.client().records_page("2026-03", token=token)
    assert "no longer valid" in info.value.user_message
    assert server.requests == []


def test_token_roundtrip() -> None:
    assert decode_token("c:abc:def") == ("cursor", "abc:def")
    assert decode_token("p:7") == ("page", 7)


async def test_limit_bounds() -> None:
    server = page_api(total=10)
    with pytest.raises(ValueError, match="limit"):
        await server.client().records_page("2026-03", limit=101)


# -- retries and errors ---------------------------------------------------------------------


async def test_500_then_200() -> None:
    answers = [httpx.Response(500), {"period": "2026-03", "items": []}]
    server = Server(lambda r: answers.pop(0))
    summary = await server.client().summary("2026-03")
    assert summary.period == "2026-03"
    assert len(server.requests) == 2


async def test_429_with_retry_after() -> None:
    answers = [httpx.Response(429, headers={"Retry-After": "1"}), {"data": []}]
    server = Server(lambda r: answers.pop(0))
    page = await server.client().records_page("2026-03")
    assert page.records == []
    assert len(server.requests) == 2
    assert server.clock.slept == [1.0], "the retry waited as Retry-After asked"


async def test_500_always() -> None:
    server = Server(lambda r: httpx.Response(500, json={"success": False, "error": "boom"}))
    with pytest.raises(Unavailable) as info:
        await server.client().summary("2026-03")
    assert len(server.requests) == 3
    assert info.value.user_message == (
        "Contro is not answering right now (500) — try again in a minute."
    )
    assert info.value.detail == "boom"


async def test_400_string_error() -> None:
    server = Server(
        lambda r: httpx.Response(400, json={"success": False, "error": "Invalid period format"})
    )
    with pytest.raises(UpstreamError) as info:
        await server.client().summary("2026-13")
    assert info.value.user_message == "Contro rejected the request (400): Invalid period format"
    assert len(server.requests) == 1


async def test_404_object_error() -> None:
    body = {"success": False, "error": {"code": "not_found", "message": "No such period"}}
    server = Server(lambda r: httpx.Response(404, json=body))
    with pytest.raises(NotFound) as info:
        await server.client().summary("2026-03")
    assert info.value.code == "not_found"
    assert info.value.detail == "No such period"
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_key(status: int) -> None:
    body = {"success": False, "error": f"Test key {KEY} not allowed on live host"}
    server = Server(lambda r: httpx.Response(status, json=body))
    with pytest.raises(Unauthorized) as info:
        await server.client().summary("2026-03")
    msg = info.value.user_message
    assert msg == (
        f"Contro refused the configured key (CONTRO_API_KEY) with {status} — "
        "check the key; a test key (sk_test_…) on the live host is refused."
    )
    assert KEY not in msg
    assert KEY not in str(info.value.detail)


async def test_malformed_json() -> None:
    server = Server(lambda r: httpx.Response(200, text="{'period': oops"))
    with pytest.raises(Unavailable) as info:
        await server.client().summary("2026-03")
    assert "Contro sent an answer the bot could not read (HTTP 200)" in info.value.user_message


async def test_wrong_shape() -> None:
    server = Server(lambda r: {"records": []})
    with pytest.raises(Unavailable):
        await server.client().records_page("2026-03")


async def test_timeout() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    server = Server(answer)
    with pytest.raises(Unavailable) as info:
        await server.client().summary("2026-03")
    assert info.value.user_message == "Contro did not answer within 15 s — try again in a minute."
    assert KEY not in info.value.user_message
