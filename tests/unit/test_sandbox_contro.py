"""The sandbox's Contro partner usage API over HTTP."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from bot.devtools.sandbox import Sandbox, start

NOW = datetime(2026, 3, 15, 12, 30, tzinfo=UTC)
KEY = "sk_test_sandbox"
PERIODS = ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
RECORD_FIELDS = {"id", "type", "amount", "referenceId", "billingPeriod", "createdAt"}


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(clock=lambda: NOW)


async def _client(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    runner, base = await start(sandbox)
    try:
        headers = {"x-contro-api-key": KEY}
        async with httpx.AsyncClient(base_url=base + "/v1", headers=headers) as client:
            yield client
    finally:
        await runner.cleanup()


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(sandbox):
        yield client


@pytest.fixture
async def page_client() -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(Sandbox(clock=lambda: NOW, contro_pagination="page")):
        yield client


def decimal_json(response: httpx.Response) -> Any:
    return json.loads(response.content, parse_float=Decimal)


async def walk_cursor(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {"limit": 100, **params} | ({"cursor": cursor} if cursor else {})
        response = await client.get("/partner/usage/records", params=query)
        assert response.status_code == 200, response.text
        body = decimal_json(response)
        assert set(body) == {"data", "hasMore", "nextCursor"}
        records += body["data"]
        if not body["hasMore"]:
            assert body["nextCursor"] is None
            return records
        cursor = body["nextCursor"]
        assert isinstance(cursor, str)
        assert cursor


async def walk_pages(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    page = 1
    while True:
        query = {"limit": 100, **params, "page": page}
        response = await client.get("/partner/usage/records", params=query)
        assert response.status_code == 200, response.text
        body = decimal_json(response)
        assert set(body) == {"data", "total", "page", "limit"}
        assert (body["page"], body["limit"]) == (page, 100)
        records += body["data"]
        if page * body["limit"] >= body["total"]:
            assert len(records) == body["total"]
            return records
        page += 1


def totals(records: list[dict[str, Any]]) -> dict[str, tuple[Decimal, int]]:
    sums: dict[str, tuple[Decimal, int]] = {}
    for record in records:
        total, count = sums.get(record["type"], (Decimal(0), 0))
        sums[record["type"]] = (total + record["amount"], count + 1)
    return sums


async def test_summary(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    response = await client.get("/partner/usage/summary")
    assert response.status_code == 200
    body = response.json()
    assert body == sandbox.contro_summary("2026-03")
    assert body["period"] == "2026-03"
    for item in body["items"]:
        assert set(item) == {"type", "total", "count"}
        assert isinstance(item["total"], int | float)
        assert isinstance(item["count"], int)
    empty = await client.get("/partner/usage/summary", params={"period": "2019-01"})
    assert empty.json() == {"period": "2019-01", "items": []}


@pytest.mark.parametrize("period", ["2026-13", "2026-3", "march", "2026-03-01"])
async def test_bad_period_is_an_object_error(client: httpx.AsyncClient, period: str) -> None:
    for path in ("/partner/usage/summary", "/partner/usage/records"):
        response = await client.get(path, params={"period": period})
        assert response.status_code == 400
        body = response.json()
        assert body["success"] is False
        assert set(body["error"]) == {"code", "message"}


async def test_cursor_walk_matches_summary(client: httpx.AsyncClient) -> None:
    seen: set[str] = set()
    for period in PERIODS:
        records = await walk_cursor(client, period=period)
        summary = decimal_json(
            await client.get("/partner/usage/summary", params={"period": period})
        )
        assert totals(records) == {i["type"]: (i["total"], i["count"]) for i in summary["items"]}
        assert all(set(record) == RECORD_FIELDS for record in records)
        assert all(record["billingPeriod"] == period for record in records)
        stamps = [record["createdAt"] for record in records]
        assert stamps == sorted(stamps)
        assert all(s.endswith("Z") for s in stamps)
        ids = {record["id"] for record in records}
        assert len(ids) == len(records)
        assert not ids & seen
        seen |= ids
    assert len(seen) > 2500


async def test_page_mode_walks_the_same_records(
    client: httpx.AsyncClient, page_client: httpx.AsyncClient
) -> None:
    for period in ("2026-01", "2026-03"):
        by_cursor = await walk_cursor(client, period=period)
        assert await walk_pages(page_client, period=period) == by_cursor
        assert await walk_pages(client, period=period) == by_cursor  # `page` switches modes
    default = (await page_client.get("/partner/usage/records")).json()
    assert set(default) == {"data", "total", "page", "limit"}
    assert (default["page"], default["limit"], len(default["data"])) == (1, 20, 20)
    beyond = await page_client.get("/partner/usage/records", params={"page": 10_000})
    assert beyond.json()["data"] == []
    assert (await page_client.get("/partner/usage/records", params={"page": 0})).status_code == 400


async def test_limits_and_cursors(client: httpx.AsyncClient) -> None:
    first = (await client.get("/partner/usage/records")).json()
    assert len(first["data"]) == 20
    assert first["hasMore"] is True
    for limit in ("0", "101", "-5", "ten"):
        response = await client.get("/partner/usage/records", params={"limit": limit})
        assert response.status_code == 400
        assert set(response.json()["error"]) == {"code", "message"}
    assert len((await client.get("/partner/usage/records?limit=100")).json()["data"]) == 100
    for cursor in ("garbage", "!!!", first["nextCursor"] + "x"):
        response = await client.get("/partner/usage/records", params={"cursor": cursor})
        assert response.status_code == 400, cursor
    other_query = {"cursor": first["nextCursor"], "type": "transaction"}
    assert (await client.get("/partner/usage/records", params=other_query)).status_code == 400


async def test_type_and_time_filters(client: httpx.AsyncClient) -> None:
    everything = await walk_cursor(client, period="2026-02")
    kycs = await walk_cursor(client, period="2026-02", type="kyc")
    assert kycs == [record for record in everything if record["type"] == "kyc"]
    low, high = everything[10]["createdAt"], everything[60]["createdAt"]
    window = await walk_cursor(client, period="2026-02", **{"from": low, "to": high})
    assert window == [r for r in everything if low <= r["createdAt"] <= high]
    assert window[0] == everything[10]
    assert window[-1] == everything[60]
    day = await walk_cursor(client, period="2026-02", **{"from": "2026-02-10", "to": "2026-02-10"})
    assert day == [r for r in everything if r["createdAt"].startswith("2026-02-10")]
    unencoded = f"/partner/usage/records?period=2026-02&limit=100&from={low[:-1]}+00:00"
    assert decimal_json(await client.get(unencoded))["data"][0] == everything[10]
    bad = await client.get("/partner/usage/records", params={"from": "yesterday"})
    assert bad.status_code == 400
    unknown_type = await walk_cursor(client, period="2026-02", type="no_such_type")
    assert unknown_type == []


async def test_million_synthetic_records_paginate_lazily(sandbox: Sandbox) -> None:
    async for client in _client(sandbox):
        tracemalloc.start()
        try:
            sandbox.set_contro_records("2026-10", 1_000_000)
            summary = decimal_json(
                await client.get("/partner/usage/summary", params={"period": "2026-10"})
            )
            pages = []
            cursor: str | None = None
            for _ in range(3):
                params: dict[str, str | int] = {"period": "2026-10", "limit": 100}
                if cursor:
                    params["cursor"] = cursor
                page = (await client.get("/partner/usage/records", params=params)).json()
                pages.append(page)
                cursor = page["nextCursor"]
            middle = (
                await client.get(
                    "/partner/usage/records",
                    params={"period": "2026-10", "limit": 100, "page": 5000},
                )
            ).json()
            last = (
                await client.get(
                    "/partner/usage/records",
                    params={"period": "2026-10", "limit": 100, "page": 10_000},
                )
            ).json()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 8_000_000  # a list of a million records would take hundreds of MB
        assert sum(item["count"] for item in summary["items"]) == 1_000_000
        assert all(len(page["data"]) == 100 and page["hasMore"] for page in pages)
        ids = [record["id"] for page in pages for record in page["data"]]
        assert len(set(ids)) == 300
        assert middle["total"] == 1_000_000
        assert len(middle["data"]) == 100
        assert middle["data"][0]["id"] == "usage_20261000499900"
        assert len(last["data"]) == 100
        assert last["data"][-1]["createdAt"] < "2026-11-01"
        assert {record["billingPeriod"] for record in last["data"]} == {"2026-10"}


async def test_synthetic_walk_totals_match_summary(sandbox: Sandbox) -> None:
    sandbox.set_contro_records("2026-10", 1_234)
    async for client in _client(sandbox):
        records = await walk_cursor(client, period="2026-10")
        summary = decimal_json(await client.get("/partner/usage/summary?period=2026-10"))
        assert totals(records) == {i["type"]: (i["total"], i["count"]) for i in summary["items"]}
        assert len(records) == 1_234
