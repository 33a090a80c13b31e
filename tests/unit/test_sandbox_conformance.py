"""The sandbox's MK.IO API, served on a loopback port, checked by schemathesis against MK.IO's
OpenAPI document: for every operation the sandbox serves, requests generated from the document
(its examples, its coverage cases with missing auth, wrong methods and bad values, and a few
fuzzed ones) get answers with a documented status and content type, whose bodies conform to the
document, and never a server error.

Where the document itself is loose, see docs/api-conformance.md.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.devtools.sandbox import Sandbox, create_app, start
from bot.devtools.sandbox.mkio import PREFIX

NOW = datetime(2026, 3, 15, 12, 30, tzinfo=UTC)
OPENAPI = Path(__file__).resolve().parents[1] / "schemas" / "mkio-management-api.json"
TOKEN = "sandbox-mkio-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

SERVED = {
    ("GET", "/api/v1/projects"),
    ("GET", "/api/v1/projects/{project_name}/usage"),
    ("GET", "/api/v1/projects/{project_name}/paymentMethod"),
    ("POST", "/api/v1/projects/{project_name}/paymentMethod"),
    ("GET", "/api/v1/projects/{project_name}/metricsEndpoint"),
    ("PATCH", "/api/v1/projects/{project_name}/metricsEndpoint"),
    ("POST", "/api/v1/organization/reports/usage"),
    ("GET", "/api/v1/organization/paymentMethods"),
    ("GET", "/api/v1/organization/paymentMethods/{paymentmethod_id}"),
    ("GET", "/api/v1/organization/paymentMethods/{paymentmethod_id}/rateCard"),
    ("GET", "/api/v1/user/rbac"),
    ("GET", "/api/v1/organization/tokens"),
}
"""The operations of the document the sandbox serves; the others are skipped, and listed."""


def _document() -> dict[str, Any]:
    """MK.IO's document, with its one overlapping `oneOf` read as its discriminator means it.

    `PaymentMethodSummarySchema.spec` is `oneOf` three variants that share their required
    fields and allow extra ones, so a plain validator finds any spec valid under all three and
    `oneOf` fails (docs/api-conformance.md). Here each variant applies when `type` names it,
    as the `discriminator` says; everything else is checked as written.
    """
    document: dict[str, Any] = json.loads(OPENAPI.read_text())
    spec = document["components"]["schemas"]["PaymentMethodSummarySchema"]["properties"]["spec"]
    mapping = spec["discriminator"]["mapping"]
    del spec["oneOf"]
    spec["anyOf"] = [
        {"allOf": [{"properties": {"type": {"enum": [name]}}}, {"$ref": ref}]}
        for name, ref in mapping.items()
    ]
    return document


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT).include(
    lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in SERVED
)

_DATA = Sandbox(clock=lambda: NOW)
KNOWN = {
    "project_name": _DATA.project_names(),
    "paymentmethod_id": list(_DATA.payment_method_ids().values()),
}


@schema.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Half the time a project or payment method the sandbox has, so that not all is 404."""
    if not path_parameters:
        return st.just(path_parameters)
    return st.fixed_dictionaries(
        {
            name: st.sampled_from(KNOWN[name]) | st.just(value) if name in KNOWN else st.just(value)
            for name, value in path_parameters.items()
        }
    )


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    """An assignment's payment method is one the sandbox has, half the time."""
    if isinstance(body, dict) and "paymentMethodId" in body:
        ids = st.sampled_from(KNOWN["paymentmethod_id"]) | st.just(body["paymentMethodId"])
        return ids.map(lambda method_id: {**body, "paymentMethodId": method_id})
    return st.just(body)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The sandbox on a loopback port, served from a thread (schemathesis calls are blocking)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner, base = asyncio.run_coroutine_threadsafe(
        start(Sandbox(clock=lambda: NOW)), loop
    ).result()
    try:
        yield base
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


@schema.parametrize()
@hypothesis.settings(max_examples=10)
def test_sandbox_answers_conform(case: schemathesis.Case[Any], base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers=AUTH, checks=CHECKS)


@pytest.mark.parametrize("top", ["¹", "٣", "-1", "2.0"])
def test_a_top_that_is_not_ascii_digits_is_a_documented_400(base_url: str, top: str) -> None:
    # "¹".isdigit() is true, yet int("¹") fails: the sandbox answered 500 in plain text
    case = schema["/api/v1/projects"]["GET"].Case(query={"$top": top})
    response = case.call_and_validate(base_url=base_url, headers=AUTH, checks=CHECKS)
    assert response.status_code == 400


# what is and is not checked


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_served_operations_are_the_sandbox_routes_and_in_the_document() -> None:
    app = create_app(Sandbox(clock=lambda: NOW))
    routes = {
        (route.method, _template(route.resource.canonical))
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith(PREFIX + "/")
        and route.method != "HEAD"
    }
    assert routes == {(method, _template(path)) for method, path in SERVED}
    for method, path in SERVED:
        assert method.lower() in DOCUMENT["paths"][path]


NOT_SERVED = sorted(
    (method.upper(), path)
    for path, item in DOCUMENT["paths"].items()
    for method in item
    if method in ("get", "put", "post", "patch", "delete") and (method.upper(), path) not in SERVED
)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param(method, path, marks=pytest.mark.skip(f"{method} {path}: not in the sandbox"))
        for method, path in NOT_SERVED
    ],
)
def test_operation_not_served_by_the_sandbox(method: str, path: str) -> None:
    raise AssertionError("never run: listed so that a run shows what is not checked")
