"""The sandbox's MK.IO API over HTTP, checked against MK.IO's OpenAPI component schemas."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from bot.devtools.sandbox import Sandbox, start

NOW = datetime(2026, 3, 15, 12, 30, tzinfo=UTC)
OPENAPI = Path(__file__).resolve().parents[1] / "schemas" / "mkio-management-api.json"
TOKEN = "sandbox-mkio-token"
REPORT = "/organization/reports/usage"
METER_DATA_FIELDS = {
    "date",
    "dateProcessed",
    "meterName",
    "meterSku",
    "family",
    "solution",
    "unit",
    "quantity",
    "price",
    "cost",
    "currency",
    "project",
    "paymentMethod",
    "paymentMethodName",
    "entitlement",
    "entitlementType",
}


# OpenAPI 3.0 -> JSON Schema 2020-12, strict about unknown fields


def _convert(node: Any) -> Any:
    if isinstance(node, list):
        return [_convert(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("nullable", "discriminator", "example", "examples"):
            continue
        if key == "properties":
            out[key] = {name: _convert(schema) for name, schema in value.items()}
        else:
            out[key] = _convert(value)
    discriminator = node.get("discriminator")
    if discriminator and "oneOf" in out:
        # jsonschema ignores `discriminator`; the variants overlap, so plain oneOf would fail.
        prop, mapping = discriminator["propertyName"], discriminator["mapping"]
        del out["oneOf"]
        out["required"] = [prop]
        out["properties"] = {prop: {"enum": list(mapping)}}
        out["allOf"] = [
            {"if": {"properties": {prop: {"const": name}}}, "then": {"$ref": ref}}
            for name, ref in mapping.items()
        ]
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    if "properties" in out and "additionalProperties" not in out:
        out["unevaluatedProperties"] = False
    return out


_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if isinstance(value, str):
        if not _DATE_TIME.fullmatch(value):
            raise ValueError(value)
        datetime.fromisoformat(value)
    return True


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        date.fromisoformat(value)
    return True


@FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    if isinstance(value, str):
        uuid.UUID(value)
    return True


_DOCUMENT = json.loads(OPENAPI.read_text())
_REGISTRY: Registry[Any] = Registry().with_resource(
    "urn:mkio", DRAFT202012.create_resource({"components": _convert(_DOCUMENT["components"])})
)


def assert_schema(instance: Any, name: str) -> None:
    validator = Draft202012Validator(
        {"$ref": f"urn:mkio#/components/schemas/{name}"},
        registry=_REGISTRY,
        format_checker=FORMATS,
    )
    errors = sorted(validator.iter_errors(instance), key=lambda error: list(error.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_schema_helper_catches_mistakes() -> None:
    good = {"kind": "MetricsEndpoint", "spec": {"enabled": False}}
    assert_schema(good, "MetricsSchema")
    bad_bodies: list[dict[str, Any]] = [
        {"spec": {}},
        {"spec": {"enabled": True}, "extra": 1},
        {"spec": {"enabled": "y"}},
    ]
    for bad in bad_bodies:
        with pytest.raises(AssertionError):
            assert_schema(bad, "MetricsSchema")
    row = {"date": "2026-01-01", "meterName": "m", "cost": "1", "currency": "USD", "quantity": 1}
    with pytest.raises(AssertionError):
        assert_schema(row, "MeterData")  # a date where a date-time is due
    method = Sandbox(clock=lambda: NOW).payment_methods()[0]
    assert_schema(method, "PaymentMethodSummarySchema")
    for spec in ({**method["spec"], "awsAccountId": "1"}, {**method["spec"], "type": "paypal"}):
        with pytest.raises(AssertionError):
            assert_schema({**method, "spec": spec}, "PaymentMethodSummarySchema")


# fixtures


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(clock=lambda: NOW)


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    runner, base = await start(sandbox)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with httpx.AsyncClient(base_url=base + "/api/v1", headers=headers) as client:
            yield client
    finally:
        await runner.cleanup()


# lists


async def _walk(client: httpx.AsyncClient, url: str) -> tuple[list[Any], list[dict[str, Any]]]:
    items: list[Any] = []
    pages: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        response = await client.get(next_url)
        assert response.status_code == 200
        page = response.json()
        pages.append(page)
        items += page["value"]
        next_url = page.get("@odata.nextLink")
    return items, pages


async def test_projects_list_shape_and_paging(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    everything, pages = await _walk(client, "/projects")
    assert len(pages) == 1
    assert_schema(pages[0], "ProjectListSchema")
    assert [p["metadata"]["name"] for p in everything] == sandbox.project_names()
    assert sandbox.project_names() == [
        "my-project",
        "video-platform",
        "live-events",
        "archive",
        "staging",
    ]
    staging = everything[-1]["spec"]
    assert staging["isActive"] is False
    assert staging["assignedPaymentMethodId"] is None

    paged, pages = await _walk(client, "/projects?$top=2")
    assert paged == everything
    assert [p["supplemental"]["pagination"] for p in pages] == [
        {"start": 0, "end": 2, "records": 2, "total": 5},
        {"start": 2, "end": 4, "records": 2, "total": 5},
        {"start": 4, "end": 5, "records": 1, "total": 5},
    ]
    for page in pages:
        assert_schema(page, "ProjectListSchema")
        if "@odata.nextLink" in page:
            assert page["@odata.nextLink"].startswith(str(client.base_url))
    # a full last page still carries a nextLink, to an empty page, as the schema describes
    paged, pages = await _walk(client, "/projects?$top=5")
    assert paged == everything
    assert len(pages) == 2
    assert pages[1]["value"] == []


async def test_list_page_size_and_bad_paging() -> None:
    sandbox = Sandbox(clock=lambda: NOW, mkio_page_size=2)
    runner, base = await start(sandbox)
    try:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            items, pages = await _walk(client, base + "/api/v1/organization/paymentMethods")
            assert len(items) == 3
            assert len(pages) == 2
            for query in ("$top=-1", "$top=abc", "$skiptoken=garbage"):
                response = await client.get(f"{base}/api/v1/projects?{query}")
                assert response.status_code == 400
                assert_schema(response.json(), "Error")
    finally:
        await runner.cleanup()


async def test_payment_methods(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    response = await client.get("/organization/paymentMethods")
    body = response.json()
    assert_schema(body, "PaymentMethodListSchema")
    assert body["value"] == sandbox.payment_methods()
    assert sorted(m["spec"]["type"] for m in body["value"]) == ["aws", "azure", "direct"]
    assert len({m["metadata"]["displayName"] for m in body["value"]}) == 3
    assert any(len(m["related"]["projects"]) >= 2 for m in body["value"])
    for method in body["value"]:
        single = await client.get(f"/organization/paymentMethods/{method['metadata']['id']}")
        assert single.json() == method


async def test_rate_cards(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    skus_used = {
        row["meterSku"]: (row["meterName"], row["project"], row["paymentMethod"])
        for row in sandbox.report_rows({"startDate": "2026-03-01", "endDate": "2026-03-08"})
    }
    missing: list[tuple[str, str]] = []
    for name, method_id in sandbox.payment_method_ids().items():
        response = await client.get(f"/organization/paymentMethods/{method_id}/rateCard")
        assert response.status_code == 200
        card = response.json()
        assert_schema(card, "PaymentsMethodRateCardSchema")
        assert card["metadata"]["paymentMethodId"] == method_id
        assert card["spec"]["currency"] == "USD"
        prices = [price for entry in card["spec"]["rateCard"] for price in entry["prices"]]
        by_sku = {price["sku"]: price for price in prices}
        names = {price["name"] for price in prices}
        assert "advanced_sd(video_encoding_ondemand)" in names
        assert "storage" in names
        for sku, (meter, _project, used_method) in skus_used.items():
            if used_method != method_id:
                continue
            if sku in by_sku:
                assert by_sku[sku]["name"] in (
                    meter,
                    f"{by_sku[sku]['name'].split('(')[0]}({meter})",
                )
            else:
                missing.append((name, meter))
    assert ("AWS Marketplace (Contoso Media)", "drm_licenses") in missing
    unknown = await client.get(f"/organization/paymentMethods/{uuid.uuid4()}/rateCard")
    assert unknown.status_code == 404
    assert_schema(unknown.json(), "Error")
    malformed = await client.get("/organization/paymentMethods/not-a-uuid/rateCard")
    assert malformed.status_code == 400


# usage


async def test_project_usage(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    response = await client.get("/projects/my-project/usage")
    body = response.json()
    assert_schema(body, "ProjectUsageReportSchema")
    assert body == sandbox.project_usage("my-project")
    assert body["supplemental"]["start"] == "2026-03-01"
    assert [row["meterName"] for row in body["value"]].count("video_encoding_ondemand") == 2
    assert all("cost" not in row for row in body["value"])
    staging = await client.get("/projects/staging/usage")
    assert staging.json()["value"] == []
    missing = await client.get("/projects/nope/usage")
    assert missing.status_code == 404
    assert_schema(missing.json(), "Error")


async def test_report_json(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    query = {"startDate": "2026-02-01", "endDate": "2026-03-01", "granularity": "day"}
    response = await client.post(REPORT, json=query)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert_schema(body, "CustomerUsageDataJsonSchema")
    assert body["value"] == sandbox.report_rows(query)
    assert body["supplemental"] == {
        "records": len(body["value"]),
        "filters": {"projectNames": [], "paymentMethodIds": [], "meterNames": []},
        "start": "2026-02-01",
        "end": "2026-03-01",
        "format": "json",
        "download": False,
        "granularity": "day",
        "groupBy": ["meter"],
    }
    assert all(set(row) == METER_DATA_FIELDS for row in body["value"])
    assert all(isinstance(row["cost"], str) for row in body["value"])
    assert {row["project"] for row in body["value"]} == {
        "my-project",
        "video-platform",
        "live-events",
        "archive",
    }
    # exact decimals survive a Decimal-parsing client
    exact = json.loads(response.content, parse_float=Decimal)
    for row, parsed in zip(body["value"], exact["value"], strict=True):
        assert parsed["quantity"] == Decimal(repr(row["quantity"]))


async def test_report_filters(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    aws = sandbox.payment_method_ids()["AWS Marketplace (Contoso Media)"]
    base = {"startDate": "2026-03-01", "endDate": "2026-03-08"}
    by_method = (await client.post(REPORT, json=base | {"paymentMethodIds": [aws]})).json()
    assert {row["project"] for row in by_method["value"]} == {"live-events"}
    assert by_method["supplemental"]["filters"]["paymentMethodIds"] == [aws]
    meters = base | {"projectNames": ["my-project"], "meterNames": ["storage"]}
    by_meter = (await client.post(REPORT, json=meters)).json()
    assert {(r["project"], r["meterName"]) for r in by_meter["value"]} == {
        ("my-project", "storage")
    }
    reported = base | {"granularity": "week", "filterOnReportedDate": True}
    body = (await client.post(REPORT, json=reported)).json()
    assert_schema(body, "CustomerUsageDataJsonSchema")
    assert body["value"] == sandbox.report_rows(reported)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"startDate": "2026-01-01", "endDate": "2026-02-02", "granularity": "hour"}, 400),
        ({"startDate": "2025-01-01", "endDate": "2026-01-03", "granularity": "day"}, 409),
        ({"startDate": "2026-01-01", "endDate": "2026-01-01"}, 400),
        ({"startDate": "2026/01/01", "endDate": "2026-02-01"}, 400),
        ({"startDate": "2026-01-01", "endDate": "2026-02-01", "format": "xml"}, 400),
        ({"startDate": "2026-01-01", "endDate": "2026-02-01", "groupBy": ["project"]}, 400),
        ({"startDate": "2026-01-01", "endDate": "2026-02-01", "projectNames": ["nope"]}, 404),
        ({"startDate": "2026-01-01", "endDate": "2026-02-01", "download": "yes"}, 400),
    ],
)
async def test_report_rejections(
    client: httpx.AsyncClient, query: dict[str, Any], status: int
) -> None:
    response = await client.post(REPORT, json=query)
    assert response.status_code == status
    assert_schema(response.json(), "Error")
    assert response.json()["status"] == status


async def test_report_rejects_both_filters_and_bad_bodies(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    ids = list(sandbox.payment_method_ids().values())
    both: dict[str, Any] = {"startDate": "2026-01-01", "endDate": "2026-02-01"}
    both |= {"projectNames": ["archive"], "paymentMethodIds": ids}
    response = await client.post(REPORT, json=both)
    assert response.status_code == 400
    assert "mutually exclusive" in response.json()["error"]["detail"]
    for content in (b"not json", b"", b"[1, 2]"):
        bad = await client.post(REPORT, content=content)
        assert bad.status_code == 400
        assert_schema(bad.json(), "Error")
    refs = {(await client.post(REPORT, content=b"x")).json()["ref"] for _ in range(3)}
    assert len(refs) == 3


async def test_report_caps_allow_the_limits(client: httpx.AsyncClient) -> None:
    hour = {"startDate": "2026-01-01", "endDate": "2026-02-01", "granularity": "hour"}
    day = {"startDate": "2024-03-15", "endDate": "2025-03-16", "granularity": "day"}  # 366 days
    week = {"startDate": "2020-01-01", "endDate": "2030-01-01", "granularity": "week"}
    for query in (hour, day, week):
        assert (await client.post(REPORT, json=query)).status_code == 200


async def test_report_csv(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    query = {"startDate": "2026-02-01", "endDate": "2026-03-01", "granularity": "day"}
    response = await client.post(REPORT, json=query | {"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers.get("transfer-encoding") == "chunked"
    assert "content-disposition" not in response.headers
    lines = list(csv.DictReader(io.StringIO(response.text)))
    rows = sandbox.report_rows(query)
    assert len(lines) == len(rows) > 500
    for line, row in zip(lines, rows, strict=True):
        assert line["date"] == row["date"]
        assert line["dateProcessed"] == (row["dateProcessed"] or "")
        assert Decimal(line["cost"]) == Decimal(row["cost"])
        assert Decimal(line["quantity"]) == Decimal(repr(row["quantity"]))
        assert (line["project"], line["meterSku"]) == (row["project"], row["meterSku"])
    download = await client.post(REPORT, json=query | {"format": "csv", "download": True})
    disposition = download.headers["content-disposition"]
    assert disposition == 'attachment; filename="usage-report_2026-02-01_2026-03-01.csv"'
    assert download.text == response.text


# payment method assignment


async def test_project_payment_method(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    response = await client.get("/projects/archive/paymentMethod")
    assert response.status_code == 200
    assert_schema(response.json(), "PaymentMethodSummarySchema")
    assert response.json()["metadata"]["displayName"] == "Direct invoice SO-10042"
    none = await client.get("/projects/staging/paymentMethod")
    assert none.status_code == 404
    assert "no payment method" in none.json()["error"]["detail"]
    assert_schema(none.json(), "Error")
    assert (await client.get("/projects/nope/paymentMethod")).status_code == 404


async def test_assign_payment_method(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    direct = sandbox.payment_method_ids()["Direct invoice SO-10042"]
    response = await client.post(
        "/projects/staging/paymentMethod", json={"paymentMethodId": direct}
    )
    assert response.status_code == 200
    assert response.content == b""
    assigned = (await client.get("/projects/staging/paymentMethod")).json()
    assert assigned["metadata"]["id"] == direct
    assert assigned["related"]["projects"] == ["archive", "staging"]
    projects, _ = await _walk(client, "/projects")
    staging = next(p for p in projects if p["metadata"]["name"] == "staging")["spec"]
    assert staging == staging | {"isActive": True, "assignedPaymentMethodId": direct}

    unknown = {"paymentMethodId": str(uuid.uuid4())}
    assert (await client.post("/projects/archive/paymentMethod", json=unknown)).status_code == 404
    bad_assignments: list[dict[str, Any]] = [{}, {"paymentMethodId": 5}, {"paymentMethodId": "x"}]
    for bad in bad_assignments:
        assert (await client.post("/projects/archive/paymentMethod", json=bad)).status_code == 400
    missing = await client.post("/projects/nope/paymentMethod", json={"paymentMethodId": direct})
    assert missing.status_code == 404


# metrics endpoint


async def test_metrics_endpoint(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    off = await client.get("/projects/my-project/metricsEndpoint")
    assert off.json() == {"kind": "MetricsEndpoint", "spec": {"enabled": False}}
    assert_schema(off.json(), "MetricsSchema")
    on = await client.patch(
        "/projects/my-project/metricsEndpoint", json={"spec": {"enabled": True}}
    )
    assert on.status_code == 200
    assert_schema(on.json(), "MetricsSchema")
    status = on.json()["status"]
    assert set(status) == {"url", "username", "password"}
    assert status["url"].startswith("https://")
    again = await client.get("/projects/my-project/metricsEndpoint")
    assert again.json() == on.json()
    same_seed = Sandbox(clock=lambda: NOW)
    same_seed.state.set_metrics("my-project", True)
    assert same_seed.metrics_endpoint("my-project")["status"] == status
    bad_patches: list[dict[str, Any]] = [
        {},
        {"spec": {}},
        {"spec": {"enabled": "yes"}},
        {"enabled": True},
    ]
    for bad in bad_patches:
        response = await client.patch("/projects/my-project/metricsEndpoint", json=bad)
        assert response.status_code == 400
    assert (await client.get("/projects/nope/metricsEndpoint")).status_code == 404
