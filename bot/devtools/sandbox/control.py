"""The control plane under /_sandbox, so another process can drive a running sandbox."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.devtools.sandbox.faults import FAULT_KINDS, FaultKind
from bot.devtools.sandbox.http import json_response, sandbox_of

PREFIX = "/_sandbox"


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(PREFIX, info)
    router.add_get(f"{PREFIX}/requests", list_requests)
    router.add_delete(f"{PREFIX}/requests", clear_requests)
    router.add_get(f"{PREFIX}/faults", list_faults)
    router.add_post(f"{PREFIX}/faults", add_fault)
    router.add_delete(f"{PREFIX}/faults", clear_faults)
    router.add_post(f"{PREFIX}/delay", set_delay)
    router.add_post(f"{PREFIX}/contro-records", set_contro_records)
    router.add_post(f"{PREFIX}/rbac", set_rbac)
    router.add_post(f"{PREFIX}/slow-down", slow_down)
    router.add_post(f"{PREFIX}/token", set_token)


class _Invalid(Exception):
    pass


def _problem(message: str) -> web.Response:
    return json_response({"error": message}, status=400)


async def _object(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        raise _Invalid("the body must be JSON") from None
    if not isinstance(body, dict):
        raise _Invalid("the body must be a JSON object")
    return body


async def info(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    origin = str(request.url.origin())
    return json_response(
        {
            "mkio": {"baseUrl": f"{origin}/api/v1", "token": sandbox.mkio_token},
            "contro": {
                "baseUrl": f"{origin}/v1",
                "apiKey": sandbox.contro_key,
                "pagination": sandbox.contro_pagination,
            },
            "projects": sandbox.project_names(),
            "paymentMethods": sandbox.payment_method_ids(),
            "now": sandbox.now().isoformat(),
            "anomalyDay": sandbox.anomaly_day.isoformat() if sandbox.anomaly_day else None,
        }
    )


async def list_requests(request: web.Request) -> web.Response:
    return json_response([recorded.to_json() for recorded in sandbox_of(request).requests])


async def clear_requests(request: web.Request) -> web.Response:
    sandbox_of(request).requests.clear()
    return web.Response(status=204)


async def list_faults(request: web.Request) -> web.Response:
    return json_response([fault.to_json() for fault in sandbox_of(request).faults.pending()])


async def clear_faults(request: web.Request) -> web.Response:
    sandbox_of(request).faults.clear()
    return web.Response(status=204)


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise _Invalid(f"{key} must be a string")
    return value


def _number(body: dict[str, Any], key: str, default: float) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _Invalid(f"{key} must be a non-negative number")
    return float(value)


def _int(body: dict[str, Any], key: str, default: int | None = None) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"{key} must be an integer")
    return value


def _kind(body: dict[str, Any]) -> FaultKind:
    value = body.get("kind", "status")
    for kind in FAULT_KINDS:
        if value == kind:
            return kind
    raise _Invalid(f"kind must be one of {', '.join(FAULT_KINDS)}")


async def add_fault(request: web.Request) -> web.Response:
    """Body: the `Sandbox.add_fault` fields; `body` is a string (sent as UTF-8)."""
    try:
        body = await _object(request)
        raw_body = _optional_str(body, "body")
        retry_after = body.get("retry_after")
        if isinstance(retry_after, int) and not isinstance(retry_after, bool):
            retry_after = str(retry_after)
        elif retry_after is not None and not isinstance(retry_after, str):
            raise _Invalid("retry_after must be a string or an integer")
        sandbox_of(request).add_fault(
            method=_optional_str(body, "method"),
            path=_optional_str(body, "path") or "",
            status=_int(body, "status", 500),
            times=_int(body, "times", 1),
            retry_after=retry_after,
            body=None if raw_body is None else raw_body.encode(),
            kind=_kind(body),
            delay=_number(body, "delay", 0.0),
        )
    except (_Invalid, ValueError) as error:
        return _problem(str(error))
    return web.Response(status=204)


async def set_delay(request: web.Request) -> web.Response:
    try:
        sandbox_of(request).delay = _number(await _object(request), "seconds", 0.0)
    except _Invalid as error:
        return _problem(str(error))
    return web.Response(status=204)


async def set_contro_records(request: web.Request) -> web.Response:
    try:
        body = await _object(request)
        period = _optional_str(body, "period")
        if period is None:
            raise _Invalid("period is required")
        sandbox_of(request).set_contro_records(period, _int(body, "count"))
    except (_Invalid, ValueError) as error:
        return _problem(str(error))
    return web.Response(status=204)


async def slow_down(request: web.Request) -> web.Response:
    """Body: {"project": ..., "days": 7}: the project's usage a tenth from that many days ago
    on, so that its month-end estimate falls (a budget's "recovered")."""
    try:
        body = await _object(request)
        project = _optional_str(body, "project")
        if project is None:
            raise _Invalid("project is required")
        first = sandbox_of(request).slow_down(project, days=_int(body, "days", 7))
    except (_Invalid, ValueError) as error:
        return _problem(str(error))
    return json_response({"project": project, "from": first.isoformat()})


async def set_rbac(request: web.Request) -> web.Response:
    """Body: {"capabilities": [...]}, what `GET /api/v1/user/rbac` answers from now on."""
    try:
        capabilities = (await _object(request)).get("capabilities")
        if not isinstance(capabilities, list) or not all(isinstance(c, str) for c in capabilities):
            raise _Invalid("capabilities must be a list of strings")
    except _Invalid as error:
        return _problem(str(error))
    sandbox_of(request).capabilities = capabilities
    return web.Response(status=204)


async def set_token(request: web.Request) -> web.Response:
    """Body: {"expires": "<ISO date-time>" | null, "revoked": bool}, what
    `GET /api/v1/organization/tokens` says of the sandbox's token from now on (`expires`
    null: its JWT `exp`, or a year away)."""
    try:
        body = await _object(request)
        expires = _optional_str(body, "expires")
        revoked = body.get("revoked", False)
        if not isinstance(revoked, bool):
            raise _Invalid("revoked must be true or false")
        moment = datetime.fromisoformat(expires) if expires is not None else None
        if moment is not None and moment.tzinfo is None:
            raise _Invalid("expires needs a time zone (Z or +00:00)")
    except (_Invalid, ValueError) as error:
        return _problem(str(error))
    sandbox = sandbox_of(request)
    sandbox.mkio_token_expires = moment
    sandbox.mkio_token_revoked = revoked
    return web.Response(status=204)
