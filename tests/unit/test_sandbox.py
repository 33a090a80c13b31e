"""The sandbox server: auth, the request log, faults, delays and the /_sandbox control plane."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest

from bot.devtools.sandbox import RecordedRequest, Sandbox, serve_forever, start

NOW = datetime(2026, 3, 15, 12, 30, tzinfo=UTC)
MKIO = {"Authorization": "Bearer sandbox-mkio-token"}
CONTRO = {"x-contro-api-key": "sk_test_sandbox"}


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(clock=lambda: NOW)


@pytest.fixture
async def base(sandbox: Sandbox) -> AsyncIterator[str]:
    runner, url = await start(sandbox)
    try:
        yield url
    finally:
        await runner.cleanup()


# Long enough for any request to the sandbox on a slow machine; a test that needs a request to
# time out passes a short timeout of its own, against a hang far longer still.
PATIENCE = 300.0


@pytest.fixture
async def client(base: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base, timeout=PATIENCE) as client:
        yield client


def is_mkio_error(body: object, status: int) -> bool:
    return (
        isinstance(body, dict)
        and set(body) == {"error", "status", "ref"}
        and set(body["error"]) == {"code", "detail"}
        and body["status"] == status
        and isinstance(body["ref"], str)
        and bool(body["ref"])
    )


async def test_start_returns_a_loopback_base_url(base: str) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)


async def test_mkio_auth(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "sandbox-mkio-token"}):
        response = await client.get("/api/v1/projects", headers=headers)
        assert response.status_code == 401
        assert is_mkio_error(response.json(), 401)
        assert response.json()["error"]["code"] == "Unauthorized"
    assert (await client.get("/api/v1/projects", headers=MKIO)).status_code == 200
    # MK.IO credentials are no good for Contro, and the other way round
    assert (await client.get("/v1/partner/usage/summary", headers=MKIO)).status_code == 401
    assert (await client.get("/api/v1/projects", headers=CONTRO)).status_code == 401


async def test_contro_auth(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"x-contro-api-key": "wrong"}):
        response = await client.get("/v1/partner/usage/summary", headers=headers)
        assert response.status_code == 401
        body = response.json()
        assert body["success"] is False
        assert isinstance(body["error"], str)
    live = await client.get("/v1/partner/usage/summary", headers={"x-contro-api-key": "sk_live_x"})
    assert live.status_code == 403
    assert isinstance(live.json()["error"], str)
    any_test_key = {"x-contro-api-key": "sk_test_anything"}
    assert (await client.get("/v1/partner/usage/summary", headers=any_test_key)).status_code == 200


async def test_unknown_routes_answer_in_each_apis_shape(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing/here", headers=MKIO)
    assert missing.status_code == 404
    assert is_mkio_error(missing.json(), 404)
    wrong_method = await client.delete("/api/v1/projects", headers=MKIO)
    assert wrong_method.status_code == 405
    assert is_mkio_error(wrong_method.json(), 405)
    contro = await client.get("/v1/partner/nothing", headers=CONTRO)
    assert contro.status_code == 404
    assert contro.json() == {"success": False, "error": "Not found."}


async def test_request_log(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await client.get("/api/v1/projects", params={"$top": "2"}, headers=MKIO)
    body = {"startDate": "2026-03-01", "endDate": "2026-03-02"}
    await client.post("/api/v1/organization/reports/usage", json=body, headers=MKIO)
    await client.get("/v1/partner/usage/records", params={"limit": 5}, headers=CONTRO)
    await client.get("/api/v1/projects")  # refused, but it reached the sandbox
    await client.get("/_sandbox/requests")  # the control plane is not logged
    assert [(r.method, r.path) for r in sandbox.requests] == [
        ("GET", "/api/v1/projects"),
        ("POST", "/api/v1/organization/reports/usage"),
        ("GET", "/v1/partner/usage/records"),
        ("GET", "/api/v1/projects"),
    ]
    first, report, records, refused = sandbox.requests
    assert first == RecordedRequest("GET", "/api/v1/projects", {"$top": "2"}, None, first.headers)
    assert first.headers["authorization"] == "Bearer sandbox-mkio-token"
    assert first.headers["Authorization"] == first.headers.get("AUTHORIZATION")
    assert "Authorization" in first.headers
    assert report.json == body
    assert records.query == {"limit": "5"}
    assert records.headers["x-contro-api-key"]
    assert "authorization" not in refused.headers
    over_http = (await client.get("/_sandbox/requests")).json()
    assert over_http[1] == {
        "method": "POST",
        "path": "/api/v1/organization/reports/usage",
        "query": {},
        "json": body,
        "headers": report.headers,
    }
    assert (await client.delete("/_sandbox/requests")).status_code == 204
    assert sandbox.requests == []


async def test_status_faults(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.add_fault(path="/api/v1/projects", status=429, retry_after="7", times=2)
    for _ in range(2):
        response = await client.get("/api/v1/projects", headers=MKIO)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
        assert is_mkio_error(response.json(), 429)
    assert (await client.get("/api/v1/projects", headers=MKIO)).status_code == 200

    sandbox.add_fault(method="POST", path="/organization/reports", status=503)
    assert (await client.get("/api/v1/projects", headers=MKIO)).status_code == 200
    body = {"startDate": "2026-03-01", "endDate": "2026-03-02"}
    report = await client.post("/api/v1/organization/reports/usage", json=body, headers=MKIO)
    assert report.status_code == 503
    assert "Retry-After" not in report.headers
    assert is_mkio_error(report.json(), 503)

    sandbox.add_fault(path="/v1/partner", status=429)
    limited = await client.get("/v1/partner/usage/summary", headers=CONTRO)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert limited.json()["success"] is False
    assert isinstance(limited.json()["error"], str)
    sandbox.add_fault(path="/partner", status=400)
    bad = await client.get("/v1/partner/usage/summary", headers=CONTRO)
    assert set(bad.json()["error"]) == {"code", "message"}

    sandbox.add_fault(status=500, body=b"<html>oops</html>")
    raw = await client.get("/v1/partner/usage/summary", headers=CONTRO)
    assert raw.status_code == 500
    assert raw.text == "<html>oops</html>"
    assert raw.headers["content-type"].startswith("text/plain")
    assert (await client.get("/v1/partner/usage/summary", headers=CONTRO)).status_code == 200


async def test_reset_malformed_and_hang_faults(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.add_fault(path="/api/v1/projects", kind="reset")
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get("/api/v1/projects", headers=MKIO)
    assert (await client.get("/api/v1/projects", headers=MKIO)).status_code == 200

    sandbox.add_fault(path="/v1/", kind="malformed")
    malformed = await client.get("/v1/partner/usage/summary", headers=CONTRO)
    assert malformed.status_code == 200
    assert malformed.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        malformed.json()

    sandbox.add_fault(kind="hang", delay=0.3)
    started = time.perf_counter()
    slow = await client.get("/api/v1/projects", headers=MKIO)
    assert slow.status_code == 200
    assert time.perf_counter() - started >= 0.3

    sandbox.add_fault(kind="hang", delay=30)
    with pytest.raises(httpx.ReadTimeout):
        await client.get("/api/v1/projects", headers=MKIO, timeout=0.2)
    assert len(sandbox.requests) == 5  # a reset or a hang still reached the sandbox


async def test_delay(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.delay = 0.25
    started = time.perf_counter()
    assert (await client.get("/v1/partner/usage/summary", headers=CONTRO)).status_code == 200
    assert time.perf_counter() - started >= 0.25
    # A delay far longer than the client waits: the billing APIs are held, the control plane
    # is not, and setting it back to 0 lets the APIs answer again.
    sandbox.delay = 10 * PATIENCE
    with pytest.raises(httpx.ReadTimeout):
        await client.get("/v1/partner/usage/summary", headers=CONTRO, timeout=0.2)
    assert (await client.get("/_sandbox/requests")).status_code == 200
    sandbox.delay = 0
    assert (await client.get("/v1/partner/usage/summary", headers=CONTRO)).status_code == 200


async def test_hold_keeps_requests_unanswered_until_release(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.hold()
    assert sandbox.holding
    first = asyncio.ensure_future(client.get("/api/v1/projects", headers=MKIO))
    second = asyncio.ensure_future(client.get("/v1/partner/usage/summary", headers=CONTRO))
    held = await sandbox.wait_held(2)
    assert sorted(r.path for r in held) == ["/api/v1/projects", "/v1/partner/usage/summary"]
    assert [r.path for r in await sandbox.wait_held(path="/v1/partner")] == [
        "/v1/partner/usage/summary"
    ]
    assert (await client.get("/_sandbox/requests")).status_code == 200, "never held"
    assert not first.done()
    assert not second.done()

    sandbox.release()
    assert [(await first).status_code, (await second).status_code] == [200, 200]
    assert sandbox.held == []
    assert not sandbox.holding
    assert (await client.get("/api/v1/projects", headers=MKIO)).status_code == 200
    with pytest.raises(TimeoutError, match="holding: False"):
        await sandbox.wait_held(timeout=0.05)


async def test_a_held_fault_still_fails_after_release(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.add_fault(status=503, times=1)
    sandbox.hold()
    pending = asyncio.ensure_future(client.get("/api/v1/projects", headers=MKIO))
    await sandbox.wait_held()
    sandbox.release()
    assert (await pending).status_code == 503


async def test_clear_forgets_requests_and_faults(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.add_fault(status=500, times=5)
    await client.get("/api/v1/projects", headers=MKIO)
    sandbox.clear()
    assert sandbox.requests == []
    assert (await client.get("/api/v1/projects", headers=MKIO)).status_code == 200


async def test_control_plane(client: httpx.AsyncClient, sandbox: Sandbox, base: str) -> None:
    info = (await client.get("/_sandbox")).json()
    assert info["mkio"] == {"baseUrl": base + "/api/v1", "token": "sandbox-mkio-token"}
    assert info["contro"]["baseUrl"] == base + "/v1"
    fault = {"path": "/v1", "status": 429, "retry_after": 3, "times": 1}
    assert (await client.post("/_sandbox/faults", json=fault)).status_code == 204
    assert len((await client.get("/_sandbox/faults")).json()) == 1
    limited = await client.get("/v1/partner/usage/summary", headers=CONTRO)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "3"
    await client.post("/_sandbox/faults", json={"kind": "malformed"})
    assert (await client.delete("/_sandbox/faults")).status_code == 204
    assert (await client.get("/v1/partner/usage/summary", headers=CONTRO)).status_code == 200
    for bad in ({"kind": "explode"}, {"times": 0}, {"status": "x"}, [1], {"delay": -1}):
        assert (await client.post("/_sandbox/faults", json=bad)).status_code == 400

    assert (await client.post("/_sandbox/delay", json={"seconds": 0.1})).status_code == 204
    assert sandbox.delay == 0.1
    assert (await client.post("/_sandbox/delay", json={"seconds": "x"})).status_code == 400

    records = {"period": "2026-10", "count": 1_000_000}
    assert (await client.post("/_sandbox/contro-records", json=records)).status_code == 204
    summary = await client.get("/v1/partner/usage/summary?period=2026-10", headers=CONTRO)
    assert sum(item["count"] for item in summary.json()["items"]) == 1_000_000
    for bad_records in ({"period": "2026-13", "count": 1}, {"period": "2026-10"}, {}):
        response = await client.post("/_sandbox/contro-records", json=bad_records)
        assert response.status_code == 400

    slow = await client.post("/_sandbox/slow-down", json={"project": "video-platform", "days": 3})
    assert slow.json() == {"project": "video-platform", "from": "2026-03-12"}
    for bad_slow in ({}, {"project": "nope"}, {"project": "video-platform", "days": 0}):
        assert (await client.post("/_sandbox/slow-down", json=bad_slow)).status_code == 400
    assert all(not r.path.startswith("/_sandbox") for r in sandbox.requests)


def test_a_slowed_down_project_uses_a_tenth_from_that_day_on() -> None:
    def egress(sandbox: Sandbox, day: date) -> float:
        query = {
            "startDate": day.isoformat(),
            "endDate": date.fromordinal(day.toordinal() + 1).isoformat(),
            "granularity": "day",
            "projectNames": ["video-platform"],
        }
        rows = sandbox.report_rows(query)
        return sum(float(r["quantity"]) for r in rows if r["meterName"] == "streaming_egress")

    usual, slowed = Sandbox(clock=lambda: NOW), Sandbox(clock=lambda: NOW)
    assert slowed.slow_down("video-platform", days=3) == date(2026, 3, 12)
    before, first = date(2026, 3, 11), date(2026, 3, 12)
    assert egress(slowed, before) == egress(usual, before) > 0
    assert 0 < egress(slowed, first) <= egress(usual, first) / 10


async def test_serve_forever_prints_urls_and_credentials(
    capsys: pytest.CaptureFixture[str],
) -> None:
    task = asyncio.create_task(serve_forever("127.0.0.1", 0, clock=lambda: NOW, seed=3))
    try:
        printed = ""
        deadline = asyncio.get_running_loop().time() + PATIENCE
        while "CONTRO_API_KEY=" not in printed and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
            assert not task.done(), "serve_forever stopped"
            printed += capsys.readouterr().out
        match = re.search(r"MKIO_API_URL=(http://127\.0\.0\.1:\d+/api/v1)", printed)
        assert match, printed
        assert "MKIO_TOKEN=sandbox-mkio-token" in printed
        assert "CONTRO_API_KEY=sk_test_sandbox" in printed
        assert re.search(r"CONTRO_API_URL=http://127\.0\.0\.1:\d+/v1\b", printed)
        async with httpx.AsyncClient(timeout=PATIENCE) as client:
            response = await client.get(match.group(1) + "/projects", headers=MKIO)
            assert response.status_code == 200
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_constructor_rejects_bad_options() -> None:
    with pytest.raises(ValueError, match="contro_pagination"):
        Sandbox(contro_pagination="offset")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mkio_page_size"):
        Sandbox(mkio_page_size=0)
