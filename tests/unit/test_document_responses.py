"""Every response MK.IO's OpenAPI document allows, generated from its schemas, is read.

For each endpoint the bot reads, the response schema is resolved out of the document into a
self-contained JSON Schema and handed to hypothesis-jsonschema, which generates bodies with
optional fields absent, nullable ones null, extra fields, any currency and any next link. Each
body goes (a) through the pydantic model and (b) over `httpx.MockTransport` through
`MkioClient`, `BillingService` (or `ChangeService`) and the renderer: the user gets an answer,
or a typed error (`BillingBotError`) where the document allows what no bot could read.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from pydantic import BaseModel, SecretStr, ValidationError

from bot.apis.http import RetryPolicy
from bot.apis.mkio import MkioClient
from bot.apis.mkio.models import (
    Granularity,
    MetricsEndpoint,
    PaymentMethod,
    ProjectUsage,
    RateCard,
    ReportQuery,
    UsageReport,
)
from bot.apis.model import MAX_MAGNITUDE
from bot.core.billing import BillingService
from bot.core.cache import MemoryCache
from bot.core.changes.model import MemoryPendingStore
from bot.core.changes.service import ChangeService
from bot.errors import BillingBotError, Unavailable
from bot.slack.render.changes import render_payment_method_preview
from bot.slack.render.common import Message
from bot.slack.render.metrics import render_metrics
from bot.slack.render.payment_methods import render_payment_methods, render_project_payment_method
from bot.slack.render.rate_card import render_rate_card
from bot.slack.render.report import render_report
from bot.slack.render.usage import render_usage
from tests.unit.answering import answer_or_typed_error

OPENAPI = Path(__file__).resolve().parents[1] / "schemas" / "mkio-management-api.json"
DOCUMENT: dict[str, Any] = json.loads(OPENAPI.read_text())
BASE = "https://app.mk.io/api/v1"
NOW = datetime(2026, 3, 15, 12, 30, tzinfo=UTC)
PROJECT = "my-project"
METHOD_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
MAX_ITEMS = 3
# hypothesis-jsonschema draws an object's keys one by one and rejects clashes: suppress the
# health check that counts those rejections (payment methods have many optional keys).
EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# Real answers: `cost` (`type: string`, no pattern) holds a decimal number, and numbers are
# what a bill can hold (`bot.apis.model`); the document as written allows any string and 1e308.
DECIMAL_STRING = r"^-?[0-9]{1,12}(\.[0-9]{1,6})?$"
LARGEST = 10**15
SMALLEST = 1e-9
# The 200 responses the bot reads, by path and method.
RESPONSES = {
    "usage": ("/api/v1/projects/{project_name}/usage", "get"),
    "report": ("/api/v1/organization/reports/usage", "post"),
    "methods": ("/api/v1/organization/paymentMethods", "get"),
    "rate card": ("/api/v1/organization/paymentMethods/{paymentmethod_id}/rateCard", "get"),
    "project method": ("/api/v1/projects/{project_name}/paymentMethod", "get"),
    "metrics": ("/api/v1/projects/{project_name}/metricsEndpoint", "get"),
    "projects": ("/api/v1/projects", "get"),
}


# -- the document's schemas, self-contained, as JSON Schema --------------------------------


def _resolve(node: Any, *, realistic: bool) -> Any:
    """`node` with every `$ref` inlined and OpenAPI 3.0's dialect turned into JSON Schema:
    `nullable` becomes a null type, a discriminated `oneOf` (whose variants overlap) an
    `anyOf`, arrays hold at most `MAX_ITEMS` to keep examples small, and objects at most
    `_most_keys`."""
    if isinstance(node, list):
        return [_resolve(item, realistic=realistic) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/components/schemas/")
        target = DOCUMENT["components"]["schemas"][name]
        out = _resolve(target, realistic=realistic)
        if realistic and name == "MeterData":
            out["properties"]["cost"] = {"type": "string", "pattern": DECIMAL_STRING}
        return out
    skip = {"description", "example", "examples", "readOnly", "writeOnly", "title", "nullable"}
    out = {
        key: (
            {k: _resolve(v, realistic=realistic) for k, v in value.items()}
            if key == "properties"
            else _resolve(value, realistic=realistic)
        )
        for key, value in node.items()
        if key not in skip and key != "discriminator"
    }
    if "discriminator" in node and "oneOf" in out:
        out["anyOf"] = out.pop("oneOf")
    if out.get("type") == "array":
        out.setdefault("maxItems", MAX_ITEMS)
    if "properties" in out and not _OPEN_ENDED.intersection(out):
        out["maxProperties"] = _most_keys(out)
    if realistic and out.get("type") in ("number", "integer"):
        out |= {"minimum": -LARGEST, "maximum": LARGEST}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


#: Objects whose keys `_most_keys` does not bound: what they allow is left as the document says.
_OPEN_ENDED = frozenset(
    {"additionalProperties", "patternProperties", "maxProperties", "anyOf", "allOf", "oneOf"}
)


def _most_keys(node: dict[str, Any]) -> int:
    """How many keys an object's bodies hold at most: as many as it has properties, or one
    more (an extra field) when every property is required.

    The document sets no bound, so any number of extra fields is allowed, and extra fields
    still come (in place of absent optional ones). The bound is for the generator:
    hypothesis-jsonschema draws a key, then another, and a draw that wants an optional name
    when every one is taken aborts the whole example. Unbounded, most examples of payment
    methods (lists of objects with few optional names) were aborted and drawn again."""
    optional = node["properties"].keys() - set(node.get("required", ()))
    return len(node["properties"]) + (0 if optional else 1)


def response_schema(what: str, *, realistic: bool = True) -> dict[str, Any]:
    path, method = RESPONSES[what]
    content = DOCUMENT["paths"][path][method]["responses"]["200"]["content"]
    schema: dict[str, Any] = _resolve(content["application/json"]["schema"], realistic=realistic)
    assert "$ref" not in json.dumps(schema)
    return schema


def _a_bills(node: Any) -> Any:
    """`node` with numbers too small for a bill (1e-300) as 0: the bot refuses exponents
    beyond ±100 (`bot.apis.http`), as it should, and the realistic bodies are for answers."""
    if isinstance(node, dict):
        return {key: _a_bills(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_a_bills(item) for item in node]
    if isinstance(node, float) and abs(node) < SMALLEST:
        return 0.0
    return node


@functools.cache
def bodies(what: str, *, realistic: bool = True) -> st.SearchStrategy[Any]:
    generated = from_schema(response_schema(what, realistic=realistic))
    return generated.map(_a_bills) if realistic else generated


def test_the_resolved_schemas_are_self_contained_and_follow_the_document() -> None:
    report = response_schema("report")
    row = report["properties"]["value"]["items"]
    assert row["required"] == ["date", "meterName", "cost", "currency", "quantity"]
    assert row["properties"]["dateProcessed"]["type"] == ["string", "null"]
    method = response_schema("project method")
    assert method["required"] == ["spec"], "metadata is optional in the document"
    assert len(method["properties"]["spec"]["anyOf"]) == 3
    raw_cost = response_schema("report", realistic=False)["properties"]["value"]["items"]
    assert raw_cost["properties"]["cost"] == {"type": "string"}


# -- (a) the models read every body --------------------------------------------------------


def _parse(body: Any, model: type[BaseModel]) -> BaseModel:
    # as the client decodes JSON: numbers as Decimal, never float
    return model.model_validate(json.loads(json.dumps(body), parse_float=Decimal))


@EXAMPLES
@given(st.data())
@pytest.mark.parametrize(
    ("what", "model"),
    [
        ("usage", ProjectUsage),
        ("report", UsageReport),
        ("rate card", RateCard),
        ("project method", PaymentMethod),
        ("metrics", MetricsEndpoint),
    ],
)
def test_models_read_every_documented_body(
    what: str, model: type[BaseModel], data: st.DataObject
) -> None:
    _parse(data.draw(bodies(what)), model)


@EXAMPLES
@given(bodies("methods"))
def test_every_documented_payment_method_list_item_is_read(body: dict[str, Any]) -> None:
    for item in body["value"]:
        method = _parse(item, PaymentMethod)
        assert isinstance(method, PaymentMethod)
        assert method.name, "a method is always named somehow"
        assert (method.id is None) == ("metadata" not in item)


@EXAMPLES
@given(bodies("report", realistic=False))
def test_a_report_is_read_when_its_numbers_are_a_bills_and_refused_otherwise(
    body: dict[str, Any],
) -> None:
    try:
        _parse(body, UsageReport)
    except ValidationError:
        assert not all(map(_readable, body["value"]))
    else:
        assert all(map(_readable, body["value"]))


def _readable(row: dict[str, Any]) -> bool:
    """Whether a report row's cost is a decimal number and its numbers a bill's."""
    try:
        numbers = [Decimal(row["cost"]), Decimal(repr(row["quantity"]))]
    except ArithmeticError:
        return False
    if "price" in row:
        numbers.append(Decimal(repr(row["price"])))
    return all(n.is_finite() and abs(n) < MAX_MAGNITUDE for n in numbers)


# -- (b) clients, services and renderers answer every body ---------------------------------


class Mkio:
    """A scripted MK.IO: one body per endpoint. A list's next link, wherever it points on
    MK.IO's server, gets that list's last page: the same body without a next link."""

    LISTS = ("methods", "projects")

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []
        self._listing: str | None = None

    def _route(self, request: httpx.Request) -> str | None:
        path = request.url.path
        if request.method == "POST" and path.endswith("/organization/reports/usage"):
            return "report"
        for suffix, what in (
            ("/usage", "usage"),
            ("/rateCard", "rate card"),
            ("/paymentMethod", "project method"),
            ("/metricsEndpoint", "metrics"),
            ("/organization/paymentMethods", "methods"),
            ("/projects", "projects"),
        ):
            if path.endswith(suffix) and not (what in self.LISTS and request.url.query):
                return what
        return None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        what = self._route(request)
        if what is None:  # a next page
            assert self._listing is not None, f"unexpected {request.method} {request.url}"
            body = self.answers[self._listing]
            return httpx.Response(
                200, json={k: v for k, v in body.items() if k != "@odata.nextLink"}
            )
        if what in self.LISTS:
            self._listing = what
        return httpx.Response(200, json=self.answers[what])

    def service(self) -> BillingService:
        client = MkioClient(
            BASE,
            SecretStr("token"),
            transport=httpx.MockTransport(self),
            retry=RetryPolicy.immediate(),
        )
        return BillingService(mkio=client, contro=None, cache=MemoryCache(60), clock=lambda: NOW)


def answered(ask: Callable[[], Awaitable[Message]]) -> Message:
    result = answer_or_typed_error(ask)
    assert isinstance(result, Message), result.user_message
    return result


def with_metadata(method: dict[str, Any], method_id: str = METHOD_ID) -> dict[str, Any]:
    metadata = {"id": method_id, "organizationId": None} | method.get("metadata", {})
    return method | {"metadata": metadata | {"id": method_id}}


def a_list(*items: dict[str, Any], link: str | None = None) -> dict[str, Any]:
    pagination = {"start": 0, "end": len(items), "records": len(items), "total": len(items)}
    body: dict[str, Any] = {
        "value": list(items),
        "supplemental": {"kind": "x", "count": len(items), "operation": "list"}
        | {"pagination": pagination},
    }
    if link is not None:
        body["@odata.nextLink"] = link
    return body


@EXAMPLES
@given(bodies("usage"), bodies("report"))
def test_usage_answers_every_documented_usage_and_report(
    usage: dict[str, Any], report: dict[str, Any]
) -> None:
    service = Mkio({"usage": usage, "report": report}).service()

    async def ask() -> Message:
        return render_usage(await service.usage(PROJECT))

    message = answered(ask)
    assert PROJECT in message.text


@EXAMPLES
@given(bodies("report", realistic=False))
def test_report_answers_or_says_it_could_not_read_the_numbers(report: dict[str, Any]) -> None:
    service = Mkio({"report": report}).service()
    query = ReportQuery.month_to_date(NOW.date(), Granularity.DAY)

    async def ask() -> Message:
        return render_report(await service.report(query, ()))

    result = answer_or_typed_error(ask)
    if all(map(_readable, report["value"])):
        assert isinstance(result, Message), result
    else:
        assert isinstance(result, Unavailable)
        assert "could not read" in result.user_message


@EXAMPLES
@given(bodies("methods"))
def test_payment_methods_answers_every_documented_list(body: dict[str, Any]) -> None:
    """The generated `@odata.nextLink` is any string: a link the bot may follow gets the
    last page; any other (another server, not a URL) is a typed error."""
    mkio = Mkio({"methods": body})

    async def ask() -> Message:
        return render_payment_methods(await mkio.service().payment_methods())

    result = answer_or_typed_error(ask)
    if "@odata.nextLink" not in body or body["@odata.nextLink"] == "":
        assert isinstance(result, Message), result
    elif isinstance(result, BillingBotError):
        assert isinstance(result, Unavailable)
    else:
        assert len(mkio.requests) == 2


@pytest.mark.parametrize(
    "link",
    [
        f"{BASE}/organization/paymentMethods?$top=1&$skiptoken=MQ",
        "/api/v1/organization/paymentMethods?$top=1&$skiptoken=MQ",
        "organization/paymentMethods?$top=1&$skiptoken=MQ",
        "?$top=1&$skiptoken=MQ",
        "HTTPS://APP.MK.IO:443/api/v1/organization/paymentMethods?$skiptoken=MQ",
    ],
)
def test_relative_and_absolute_next_links_are_followed(link: str) -> None:
    first = with_metadata({"spec": {"type": "azure"}}, "11111111-1111-4111-8111-111111111111")
    mkio = Mkio({"methods": a_list(first, link=link)})

    async def ask() -> Message:
        return render_payment_methods(await mkio.service().payment_methods())

    answered(ask)
    assert [r.url.host for r in mkio.requests] == ["app.mk.io", "app.mk.io"]
    assert mkio.requests[1].url.params.get("$skiptoken") == "MQ"


# Payment methods' overlapping `oneOf` makes each body slow to draw: fewer, for the suite's time.
@settings(EXAMPLES, max_examples=8)
@given(bodies("methods"), bodies("rate card"))
def test_ratecard_answers_every_documented_card_and_list(
    methods: dict[str, Any], card: dict[str, Any]
) -> None:
    listed = [*methods["value"], with_metadata(methods["value"][0] if methods["value"] else {})]
    service = Mkio({"methods": a_list(*listed), "rate card": card}).service()

    async def ask() -> Message:
        return render_rate_card(await service.rate_card(METHOD_ID))

    answered(ask)


@EXAMPLES
@given(bodies("project method"))
def test_payment_method_answers_every_documented_method(method: dict[str, Any]) -> None:
    service = Mkio({"project method": method}).service()

    async def ask() -> Message:
        return render_project_payment_method(await service.project_payment_method(PROJECT))

    message = answered(ask)
    assert PROJECT in message.text


@EXAMPLES
@given(bodies("metrics"), st.booleans())
def test_metrics_answers_every_documented_endpoint(body: dict[str, Any], secrets: bool) -> None:
    service = Mkio({"metrics": body}).service()

    async def ask() -> Message:
        return render_metrics(await service.metrics(PROJECT, show_secrets=secrets))

    message = answered(ask)
    if not secrets and "status" in body:
        # the words shown, not the JSON around them (a password `true` is in `"verbatim": true`)
        shown = " ".join(strings(message.to_slack()))
        assert body["status"]["password"] not in shown or len(body["status"]["password"]) < 4, (
            "the password shows only to an admin"
        )


def strings(value: object) -> list[str]:
    """Every string inside `value` (a Slack payload), keys left out."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


@settings(EXAMPLES, max_examples=4)  # four bodies per example, two of them payment methods
@given(bodies("project method"), bodies("methods"), bodies("rate card"), bodies("report"))
def test_the_change_preview_answers_every_documented_body(
    current: dict[str, Any],
    methods: dict[str, Any],
    card: dict[str, Any],
    report: dict[str, Any],
) -> None:
    new = with_metadata(methods["value"][0] if methods["value"] else {"spec": {"type": "aws"}})
    mkio = Mkio(
        {
            "projects": a_list({"spec": {"name": PROJECT}}),
            "project method": current,
            "methods": a_list(*methods["value"], new, current),
            "rate card": card,
            "report": report,
        }
    )
    billing = mkio.service()
    changes = ChangeService(billing, MemoryPendingStore(), lambda: NOW, admins=frozenset({"U1"}))

    async def ask() -> Message:
        preview = await changes.preview_payment_method(PROJECT, METHOD_ID, user="U1", channel="C")
        return render_payment_method_preview(preview, now=NOW)

    result = answer_or_typed_error(ask)
    if isinstance(result, BillingBotError):
        # the one refusal the document allows: the project already uses that method
        assert current.get("metadata", {}).get("id") == METHOD_ID, result.user_message
        assert "nothing to change" in result.user_message
