"""MK.IO Management API routes, under /api/v1."""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from bot.devtools.sandbox import reports
from bot.devtools.sandbox.errors import ApiError
from bot.devtools.sandbox.http import json_body, json_response, sandbox_of
from bot.devtools.sandbox.state import MkioState

PREFIX = "/api/v1"
CSV_CHUNK_ROWS = 500


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(f"{PREFIX}/projects", list_projects)
    router.add_get(f"{PREFIX}/projects/{{project}}/usage", project_usage)
    router.add_get(f"{PREFIX}/projects/{{project}}/paymentMethod", get_project_payment_method)
    router.add_post(f"{PREFIX}/projects/{{project}}/paymentMethod", set_project_payment_method)
    router.add_get(f"{PREFIX}/projects/{{project}}/metricsEndpoint", get_metrics_endpoint)
    router.add_patch(f"{PREFIX}/projects/{{project}}/metricsEndpoint", patch_metrics_endpoint)
    router.add_post(f"{PREFIX}/organization/reports/usage", usage_report)
    router.add_get(f"{PREFIX}/organization/paymentMethods", list_payment_methods)
    router.add_get(f"{PREFIX}/organization/paymentMethods/{{method}}", get_payment_method)
    router.add_get(f"{PREFIX}/organization/paymentMethods/{{method}}/rateCard", rate_card)
    router.add_get(f"{PREFIX}/user/rbac", user_rbac)
    router.add_get(f"{PREFIX}/organization/tokens", organization_tokens)


# lists


def _encode_skiptoken(offset: int) -> str:
    return base64.urlsafe_b64encode(f"skip:{offset}".encode()).decode().rstrip("=")


def _decode_skiptoken(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        label, _, number = text.partition(":")
        offset = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        offset = -1
        label = ""
    if label != "skip" or offset < 0:
        raise ApiError(400, f"Invalid $skiptoken '{token}'.")
    return offset


def odata_list(
    request: web.Request, items: list[dict[str, Any]], kind: str, page_size: int
) -> dict[str, Any]:
    """A page of `items` honouring `$top` and `$skiptoken`.

    As the schema says, `@odata.nextLink` is present when the page is full, so a collection
    whose size is a multiple of `$top` ends with an empty page.
    """
    top_text = request.query.get("$top")
    top = page_size
    if top_text is not None:
        if not (top_text.isascii() and top_text.isdigit()):  # "¹".isdigit(), yet int() refuses it
            raise ApiError(400, f"Invalid $top '{top_text}': expected a non-negative integer.")
        top = int(top_text)
    token = request.query.get("$skiptoken")
    offset = _decode_skiptoken(token) if token else 0
    page = items[offset : offset + top]
    answer: dict[str, Any] = {
        "value": page,
        "supplemental": {
            "count": len(page),
            "kind": kind,
            "operation": "list",
            "pagination": {
                "start": offset,
                "end": offset + len(page),
                "records": len(page),
                "total": len(items),
            },
        },
    }
    if top > 0 and len(page) == top:
        next_link = request.url.update_query(
            {"$top": str(top), "$skiptoken": _encode_skiptoken(offset + top)}
        )
        answer["@odata.nextLink"] = str(next_link)
    return answer


async def list_projects(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    return json_response(odata_list(request, sandbox.projects(), "Project", sandbox.mkio_page_size))


async def list_payment_methods(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    methods = sandbox.payment_methods()
    return json_response(odata_list(request, methods, "PaymentMethod", sandbox.mkio_page_size))


# single objects


async def get_payment_method(request: web.Request) -> web.Response:
    state = sandbox_of(request).state
    key = state.method_key(request.match_info["method"])
    return json_response(state.payment_method_object(key))


async def rate_card(request: web.Request) -> web.Response:
    return json_response(sandbox_of(request).rate_card(request.match_info["method"]))


async def project_usage(request: web.Request) -> web.Response:
    return json_response(sandbox_of(request).project_usage(request.match_info["project"]))


async def get_project_payment_method(request: web.Request) -> web.Response:
    name = request.match_info["project"]
    method = sandbox_of(request).project_payment_method(name)
    if method is None:
        raise ApiError(
            404,
            f"Project '{name}' has no payment method assigned.",
            code="PaymentMethodNotAssigned",
        )
    return json_response(method)


async def set_project_payment_method(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    name = request.match_info["project"]
    sandbox.state.project(name)
    body = await json_body(request)
    method_id = body.get("paymentMethodId") if isinstance(body, dict) else None
    if not isinstance(method_id, str):
        raise ApiError(400, "paymentMethodId (a uuid) is required.")
    sandbox.state.assign(name, method_id, sandbox.now().date())
    return web.Response(status=200)


async def get_metrics_endpoint(request: web.Request) -> web.Response:
    return json_response(sandbox_of(request).metrics_endpoint(request.match_info["project"]))


async def patch_metrics_endpoint(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    name = request.match_info["project"]
    sandbox.state.project(name)
    body = await json_body(request)
    spec = body.get("spec") if isinstance(body, dict) else None
    enabled = spec.get("enabled") if isinstance(spec, dict) else None
    if not isinstance(enabled, bool):
        raise ApiError(400, 'Expected {"spec": {"enabled": true|false}}.')
    sandbox.state.set_metrics(name, enabled)
    return json_response(sandbox.metrics_endpoint(name))


async def user_rbac(request: web.Request) -> web.Response:
    """The token's capabilities. The document gives no shape beyond the capability names its
    endpoints require (`core.project.get`) and a token's `permissions` object; this answers
    those names as a list under `capabilities`."""
    return json_response({"capabilities": list(sandbox_of(request).capabilities)})


async def organization_tokens(request: web.Request) -> web.Response:
    """The organization's tokens, for a token with `core.token.get` (the document's rule)."""
    sandbox = sandbox_of(request)
    if not sandbox.granted("core.token.get"):
        raise ApiError(403, "The token lacks the capability core.token.get.")
    return json_response(sandbox.organization_tokens())


# reports


async def usage_report(request: web.Request) -> web.StreamResponse:
    sandbox = sandbox_of(request)
    query = reports.parse_query(await json_body(request), sandbox.state)
    rows = reports.rows(query, sandbox.usage, sandbox.state, sandbox.now())
    headers = {}
    if query.download:
        headers["Content-Disposition"] = f'attachment; filename="{query.filename}"'
    if query.format == "csv":
        return await _stream_csv(request, rows, sandbox.state, headers)
    value = [reports.meter_data(row, sandbox.state) for row in rows]
    return json_response(
        {"supplemental": query.supplemental(len(value)), "value": value}, headers=headers
    )


async def _stream_csv(
    request: web.Request,
    rows: Iterable[reports.Row],
    state: MkioState,
    headers: dict[str, str],
) -> web.StreamResponse:
    """Write the CSV in chunks as rows are computed; the whole file never exists in memory."""
    response = web.StreamResponse(status=200, headers=headers)
    response.content_type = "text/csv"
    response.charset = "utf-8"
    await response.prepare(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(reports.CSV_COLUMNS)
    for count, row in enumerate(rows, start=1):
        writer.writerow(reports.csv_fields(row, state))
        if count % CSV_CHUNK_ROWS == 0:
            await response.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
    await response.write(buffer.getvalue().encode())
    await response.write_eof()
    return response
