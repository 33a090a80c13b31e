"""MkioClient against httpx.MockTransport: requests sent, answers parsed, errors mapped."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.apis.http import RetryPolicy
from bot.apis.mkio import MkioClient
from bot.apis.mkio import client as mkio_client
from bot.apis.mkio.models import Granularity, ReportQuery
from bot.errors import NotFound, Unauthorized, Unavailable, UpstreamError
from bot.logs import redactor

TOKEN = "mkio-token-very-secret-0123456789"
BASE = "https://app.mk.io/api/v1"
PM_ID = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"


class Server:
    """Routes (method, raw path) to scripted answers and records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, raw_path: str, *responses: httpx.Response) -> None:
        self.routes[(method, raw_path)] = list(responses)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        script = self.routes.get((request.method, request.url.raw_path.decode()))
        if script is None:
            return httpx.Response(404, json={"error": {"code": "NoRoute", "detail": "no"}})
        return script.pop(0) if len(script) > 1 else script[0]

    def client(self) -> MkioClient:
        return MkioClient(
            BASE,
            SecretStr(TOKEN),
            transport=httpx.MockTransport(self),
            retry=RetryPolicy.immediate(),
        )


@pytest.fixture
def server() -> Server:
    return Server()


def ok(body: Any) -> httpx.Response:
    return httpx.Response(200, json=body)


def sent_json(request: httpx.Request) -> Any:
    return json.loads(request.content)


def assert_auth(request: httpx.Request) -> None:
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def project(name: str) -> dict[str, Any]:
    return {
        "kind": "Project",
        "metadata": {"id": f"id-{name}", "name": name, "displayName": name.title()},
        "spec": {"name": name, "isActive": True, "assignedPaymentMethodId": PM_ID},
    }


def payment_method(pm_id: str = PM_ID) -> dict[str, Any]:
    return {
        "metadata": {"id": pm_id, "displayName": "Azure MP", "organizationId": "org"},
        "spec": {"type": "azure", "startDate": "2025-01-01"},
        "status": {"isActive": True, "termsAndConditionsAccepted": True},
        "related": {"projects": ["alpha"]},
    }


def meter(cost: str, name: str = "video_encoding_ondemand") -> dict[str, Any]:
    return {
        "date": "2026-03-01T00:00:00Z",
        "dateProcessed": None,
        "meterName": name,
        "family": "encoding",
        "solution": "vod",
        "quantity": 12.5,
        "price": 0.1,
        "cost": cost,
        "currency": "USD",
        "project": "alpha",
        "paymentMethod": PM_ID,
    }


QUERY = ReportQuery(
    start_date=date(2026, 3, 1),
    end_date=date(2026, 4, 1),
    granularity=Granularity.MONTH,
    project_names=("alpha",),
)


# -- projects -------------------------------------------------------------------------------


async def test_list_projects_follows_next_link(server: Server) -> None:
    server.on(
        "GET",
        "/api/v1/projects",
        ok({"value": [project("alpha")], "@odata.nextLink": f"{BASE}/projects?$skiptoken=2"}),
    )
    server.on("GET", "/api/v1/projects?$skiptoken=2", ok({"value": [project("beta")]}))
    projects = await server.client().list_projects()
    assert [p.name for p in projects] == ["alpha", "beta"]
    assert [r.url.raw_path for r in server.requests] == [
        b"/api/v1/projects",
        b"/api/v1/projects?$skiptoken=2",
    ]
    for r in server.requests:
        assert r.method == "GET"
        assert_auth(r)


async def test_next_link_on_another_host_is_refused(server: Server) -> None:
    server.on(
        "GET",
        "/api/v1/projects",
        ok({"value": [project("a")], "@odata.nextLink": "https://evil.test/api/v1/projects?p=2"}),
    )
    with pytest.raises(Unavailable) as info:
        await server.client().list_projects()
    assert "another server (evil.test)" in info.value.user_message
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "link",
    [
        "http://app.mk.io/api/v1/projects?p=2",  # scheme
        "https://app.mk.io:8443/api/v1/projects?p=2",  # port
        "https://app.mk.io.evil.test/api/v1/projects?p=2",  # host
        "//evil.test/x",  # scheme-relative
    ],
)
async def test_next_link_must_keep_scheme_host_port(server: Server, link: str) -> None:
    server.on("GET", "/api/v1/projects", ok({"value": [], "@odata.nextLink": link}))
    with pytest.raises(Unavailable):
        await server.client().list_projects()
    assert len(server.requests) == 1


async def test_next_link_with_explicit_default_port_is_followed(server: Server) -> None:
    server.on(
        "GET",
        "/api/v1/projects",
        ok({"value": [], "@odata.nextLink": "https://APP.mk.io:443/api/v1/projects?p=2"}),
    )
    server.on("GET", "/api/v1/projects?p=2", ok({"value": [project("b")]}))
    assert [p.name for p in await server.client().list_projects()] == ["b"]


async def test_next_link_loop_is_stopped(server: Server) -> None:
    server.on(
        "GET",
        "/api/v1/projects",
        ok({"value": [], "@odata.nextLink": f"{BASE}/projects?p=2"}),
    )
    server.on(
        "GET",
        "/api/v1/projects?p=2",
        ok({"value": [project("b")], "@odata.nextLink": f"{BASE}/projects?p=2"}),
    )
    with pytest.raises(Unavailable) as info:
        await server.client().list_projects()
    assert "same page" in info.value.user_message
    assert len(server.requests) == 2  # stopped before asking for the same page again


async def test_endless_pages_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mkio_client, "MAX_PAGES", 5)
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        n = len(requests)
        return ok({"value": [], "@odata.nextLink": f"{BASE}/projects?p={n + 1}"})

    client = MkioClient(
        BASE,
        SecretStr(TOKEN),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy.immediate(),
    )
    with pytest.raises(Unavailable) as info:
        await client.list_projects()
    assert len(requests) == 5
    assert "kept sending more pages" in info.value.user_message


async def test_project_usage(server: Server) -> None:
    body = {
        "supplemental": {"records": 2, "project": "alpha"},
        "value": [
            {"meterName": "m", "unit": "min", "quantity": 0.1},
            {"meterName": "m", "unit": "min", "quantity": 0.2},
        ],
    }
    server.on("GET", "/api/v1/projects/alpha/usage", ok(body))
    usage = await server.client().project_usage("alpha")
    assert sum(row.quantity for row in usage.value) == Decimal("0.3")
    assert usage.supplemental.project == "alpha"
    assert_auth(server.requests[0])


async def test_project_name_is_quoted(server: Server) -> None:
    server.on("GET", "/api/v1/projects/..%2Fx/usage", ok({"value": []}))
    await server.client().project_usage("../x")
    assert server.requests[0].url.raw_path == b"/api/v1/projects/..%2Fx/usage"


async def test_project_usage_not_found(server: Server) -> None:
    body = {
        "error": {"code": "NotFound", "detail": "Project not found"},
        "status": 404,
        "ref": "abc",
    }
    server.on("GET", "/api/v1/projects/ghost/usage", httpx.Response(404, json=body))
    with pytest.raises(NotFound) as info:
        await server.client().project_usage("ghost")
    e = info.value
    assert e.user_message == "MK.IO has no project `ghost` (404): Project not found"
    assert (e.api, e.status, e.code, e.ref) == ("MK.IO", 404, "NotFound", "abc")
    assert len(server.requests) == 1


# -- reports --------------------------------------------------------------------------------


async def test_usage_report_request_and_decimal_costs(server: Server) -> None:
    server.on(
        "POST",
        "/api/v1/organization/reports/usage",
        ok({"supplemental": {"records": 2}, "value": [meter("0.1"), meter("0.2")]}),
    )
    report = await server.client().usage_report(QUERY)
    request = server.requests[0]
    assert_auth(request)
    assert request.headers["content-type"] == "application/json"
    assert sent_json(request) == {
        "startDate": "2026-03-01",
        "endDate": "2026-04-01",
        "granularity": "month",
        "projectNames": ["alpha"],
    }
    total = sum((row.cost for row in report.value), Decimal(0))
    assert total == Decimal("0.3")
    assert report.value[0].quantity == Decimal("12.5")
    assert report.value[0].price == Decimal("0.1")
    assert not report.value[0].charged


async def test_usage_report_is_retried_as_a_read(server: Server) -> None:
    server.on(
        "POST",
        "/api/v1/organization/reports/usage",
        httpx.Response(500),
        ok({"value": [meter("1.5")]}),
    )
    report = await server.client().usage_report(QUERY)
    assert report.value[0].cost == Decimal("1.5")
    assert len(server.requests) == 2


async def test_usage_report_503_always(server: Server) -> None:
    server.on("POST", "/api/v1/organization/reports/usage", httpx.Response(503))
    with pytest.raises(Unavailable) as info:
        await server.client().usage_report(QUERY)
    assert len(server.requests) == 3
    assert info.value.user_message == (
        "MK.IO is not answering right now (503) — try again in a minute."
    )


async def test_usage_report_409_shows_detail(server: Server) -> None:
    body = {"error": {"code": "RangeTooLarge", "detail": "Range too large"}, "status": 409}
    server.on("POST", "/api/v1/organization/reports/usage", httpx.Response(409, json=body))
    with pytest.raises(UpstreamError) as info:
        await server.client().usage_report(QUERY)
    assert info.value.user_message == "MK.IO rejected the request (409): Range too large"
    assert len(server.requests) == 1


async def test_usage_report_wrong_shape_is_unavailable(server: Server) -> None:
    server.on(
        "POST", "/api/v1/organization/reports/usage", ok({"value": [{"meterName": "no cost"}]})
    )
    with pytest.raises(Unavailable) as info:
        await server.client().usage_report(QUERY)
    assert "could not read" in info.value.user_message


async def test_usage_report_csv_streams_exact_bytes(server: Server) -> None:
    csv = b"date,meterName,cost\r\n" + b"".join(
        f"2026-03-{d:02d},m,0.{d}\r\n".encode() for d in range(1, 29)
    )

    async def chunks() -> Any:
        for i in range(0, len(csv), 17):
            yield csv[i : i + 17]

    class Stream(httpx.AsyncByteStream):
        async def __aiter__(self) -> Any:
            async for c in chunks():
                yield c

    server.on(
        "POST",
        "/api/v1/organization/reports/usage",
        httpx.Response(200, headers={"content-type": "text/csv"}, stream=Stream()),
    )
    dest = io.BytesIO()
    written = await server.client().usage_report_csv(QUERY, dest)
    assert dest.getvalue() == csv
    assert written == len(csv)
    body = sent_json(server.requests[0])
    assert body["format"] == "csv"
    assert body["download"] is True
    assert body["projectNames"] == ["alpha"]


async def test_usage_report_csv_error(server: Server) -> None:
    server.on("POST", "/api/v1/organization/reports/usage", httpx.Response(503))
    dest = io.BytesIO()
    with pytest.raises(Unavailable):
        await server.client().usage_report_csv(QUERY, dest)
    assert dest.getvalue() == b""
    assert len(server.requests) == 3


# -- payment methods ------------------------------------------------------------------------


async def test_payment_methods_follow_next_link(server: Server) -> None:
    other = "0f0f0f0f-0000-0000-0000-000000000000"
    server.on(
        "GET",
        "/api/v1/organization/paymentMethods",
        ok(
            {
                "value": [payment_method()],
                "@odata.nextLink": f"{BASE}/organization/paymentMethods?$skiptoken=x",
            }
        ),
    )
    server.on(
        "GET",
        "/api/v1/organization/paymentMethods?$skiptoken=x",
        ok({"value": [payment_method(other)]}),
    )
    methods = await server.client().payment_methods()
    assert [m.id for m in methods] == [PM_ID, other]
    assert methods[0].name == "Azure MP"
    assert methods[0].related.projects == ["alpha"]


async def test_rate_card(server: Server) -> None:
    body = {
        "kind": "RateCard",
        "metadata": {"paymentMethodId": PM_ID},
        "spec": {
            "currency": "USD",
            "rateCard": [
                {
                    "family": "encoding",
                    "prices": [
                        {"name": "video_encoding_ondemand", "price": 0.015, "unit": "min"},
                    ],
                }
            ],
        },
    }
    server.on("GET", f"/api/v1/organization/paymentMethods/{PM_ID}/rateCard", ok(body))
    card = await server.client().rate_card(PM_ID)
    price = card.price_for("video_encoding_ondemand")
    assert price is not None
    assert price.price == Decimal("0.015")


async def test_rate_card_not_found(server: Server) -> None:
    server.on(
        "GET",
        "/api/v1/organization/paymentMethods/nope/rateCard",
        httpx.Response(404, json={"error": {"code": "NotFound", "detail": "x"}}),
    )
    with pytest.raises(NotFound) as info:
        await server.client().rate_card("nope")
    assert info.value.user_message.startswith("MK.IO has no payment method `nope`")


async def test_project_payment_method(server: Server) -> None:
    server.on("GET", "/api/v1/projects/alpha/paymentMethod", ok(payment_method()))
    method = await server.client().project_payment_method("alpha")
    assert method.id == PM_ID
    assert method.spec.type == "azure"


async def test_set_project_payment_method(server: Server) -> None:
    server.on("POST", "/api/v1/projects/alpha/paymentMethod", httpx.Response(200))
    await server.client().set_project_payment_method("alpha", PM_ID)
    (request,) = server.requests
    assert_auth(request)
    assert sent_json(request) == {"paymentMethodId": PM_ID}


async def test_set_project_payment_method_500_is_not_retried(server: Server) -> None:
    server.on("POST", "/api/v1/projects/alpha/paymentMethod", httpx.Response(500))
    with pytest.raises(Unavailable) as info:
        await server.client().set_project_payment_method("alpha", PM_ID)
    assert len(server.requests) == 1
    assert info.value.status == 500


async def test_set_project_payment_method_429_is_retried(server: Server) -> None:
    server.on(
        "POST",
        "/api/v1/projects/alpha/paymentMethod",
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.Response(200),
    )
    await server.client().set_project_payment_method("alpha", PM_ID)
    assert len(server.requests) == 2


# -- metrics --------------------------------------------------------------------------------


async def test_metrics_endpoint_disabled(server: Server) -> None:
    server.on(
        "GET",
        "/api/v1/projects/alpha/metricsEndpoint",
        ok({"kind": "M", "spec": {"enabled": False}}),
    )
    endpoint = await server.client().metrics_endpoint("alpha")
    assert endpoint.spec.enabled is False
    assert endpoint.status is None


async def test_enable_metrics_endpoint(server: Server) -> None:
    body = {
        "kind": "MetricsEndpoint",
        "spec": {"enabled": True},
        "status": {"url": "https://metrics.test/alpha", "username": "u", "password": "pw-secret"},
    }
    server.on("PATCH", "/api/v1/projects/alpha/metricsEndpoint", ok(body))
    endpoint = await server.client().enable_metrics_endpoint("alpha")
    (request,) = server.requests
    assert request.headers["content-type"] == "application/json"
    assert sent_json(request) == {"spec": {"enabled": True}}
    assert endpoint.status is not None
    assert endpoint.status.password.get_secret_value() == "pw-secret"
    assert "pw-secret" not in repr(endpoint)


async def test_fetched_connection_details_are_not_masked_in_logs_until_shown(
    server: Server,
) -> None:
    """F13: a member's question (details fetched, never shown) registers nothing, so an
    upstream value such as `payment-method` cannot blank that word out of audit lines."""
    status = {"url": "https://m.test/a", "username": "done", "password": "payment-method"}
    body = {"kind": "M", "spec": {"enabled": True}, "status": status}
    server.on("GET", "/api/v1/projects/alpha/metricsEndpoint", ok(body))
    await server.client().metrics_endpoint("alpha")
    line = "billing-change kind=payment-method result=done"
    assert redactor.clean(line) == line


async def test_enable_metrics_endpoint_503_is_not_retried(server: Server) -> None:
    server.on("PATCH", "/api/v1/projects/alpha/metricsEndpoint", httpx.Response(503))
    with pytest.raises(Unavailable):
        await server.client().enable_metrics_endpoint("alpha")
    assert len(server.requests) == 1


# -- credentials ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_token(server: Server, status: int) -> None:
    body = {"error": {"code": "Unauthorized", "detail": f"Bad token {TOKEN}"}, "status": status}
    server.on("GET", "/api/v1/projects", httpx.Response(status, json=body))
    with pytest.raises(Unauthorized) as info:
        await server.client().list_projects()
    msg = info.value.user_message
    assert msg.startswith(f"MK.IO refused the configured token (MKIO_TOKEN) with {status}")
    assert TOKEN not in msg
    assert TOKEN not in (info.value.detail or "")
    assert len(server.requests) == 1


ERRORS: list[tuple[Callable[[], httpx.Response] | Exception, type[Exception]]] = [
    (lambda: httpx.Response(404, json={"error": {"detail": TOKEN}}), NotFound),
    (lambda: httpx.Response(400, json={"error": {"detail": TOKEN}}), UpstreamError),
    (lambda: httpx.Response(500, text=TOKEN), Unavailable),
    (lambda: httpx.Response(429, json={"error": {"detail": TOKEN}}), Unavailable),
    (lambda: httpx.Response(200, text=f"not json {TOKEN}"), Unavailable),
    (httpx.ConnectError(f"could not connect {TOKEN}"), Unavailable),
    (httpx.ConnectTimeout("slow"), Unavailable),
]


@pytest.mark.parametrize(("answer", "error"), ERRORS)
async def test_no_error_message_contains_the_token(
    answer: Callable[[], httpx.Response] | Exception, error: type[Exception]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer()

    client = MkioClient(
        BASE,
        SecretStr(TOKEN),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy.immediate(),
    )
    with pytest.raises(error) as info:
        await client.project_usage("alpha")
    e = info.value
    assert TOKEN not in str(e)
    assert TOKEN not in getattr(e, "user_message", "")
    assert TOKEN not in (getattr(e, "detail", None) or "")


async def test_connect_timeout_message(server: Server) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow")

    client = MkioClient(
        BASE,
        SecretStr(TOKEN),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy.immediate(),
    )
    with pytest.raises(Unavailable) as info:
        await client.list_projects()
    assert info.value.user_message == "MK.IO did not answer within 3 s — try again in a minute."


async def test_aclose_and_context_manager(server: Server) -> None:
    server.on("GET", "/api/v1/projects", ok({"value": []}))
    async with server.client() as client:
        assert await client.list_projects() == []
