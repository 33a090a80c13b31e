"""The sandbox's aiohttp application: recording, holds, delays, faults, auth around routes."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypedDict, Unpack

from aiohttp import web

from bot.devtools.sandbox import contro, control, mkio
from bot.devtools.sandbox.core import SANDBOX_KEY, ControPagination, Sandbox
from bot.devtools.sandbox.errors import Api, ApiError, default_message, error_body
from bot.devtools.sandbox.faults import MALFORMED_BODY, Fault
from bot.devtools.sandbox.http import json_response
from bot.devtools.sandbox.recording import record

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SHUTDOWN_TIMEOUT = 1.0
"""Seconds `runner.cleanup()` waits for requests still being answered (e.g. a hang fault)."""


class SandboxOptions(TypedDict, total=False):
    clock: Callable[[], datetime]
    seed: int
    mkio_token: str
    contro_key: str
    contro_pagination: ControPagination
    mkio_page_size: int
    anomalies: bool


_PREFIXES: tuple[tuple[Api, str], ...] = (("mkio", mkio.PREFIX), ("contro", contro.PREFIX))


def locate(path: str) -> tuple[Api, str] | None:
    """Which API a path belongs to, and the path under that API's base."""
    for api, prefix in _PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            return api, path[len(prefix) :]
    return None


def _error_response(api: Api, error: ApiError, sandbox: Sandbox) -> web.Response:
    return json_response(
        error_body(api, error, sandbox.next_ref()), status=error.status, headers=error.headers
    )


def _authenticate(api: Api, request: web.Request, sandbox: Sandbox) -> None:
    if api == "mkio":
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            raise ApiError(
                401, "Missing Authorization header.", headers={"WWW-Authenticate": "Bearer"}
            )
        if scheme.lower() != "bearer" or token.strip() != sandbox.mkio_token:
            raise ApiError(401, "Invalid or expired token.", headers={"WWW-Authenticate": "Bearer"})
        return
    key = request.headers.get("x-contro-api-key", "")
    if not key:
        raise ApiError(401, "Missing API key. Send it in the x-contro-api-key header.")
    if key in sandbox.revoked_contro_keys:
        raise ApiError(401, "This API key was revoked.")
    if key == sandbox.contro_key or key.startswith("sk_test_"):
        return
    if key.startswith("sk_live_"):
        raise ApiError(403, "Live keys cannot be used with the sandbox; use an sk_test_ key.")
    raise ApiError(401, "Invalid API key.")


async def _apply_fault(
    fault: Fault, request: web.Request, api: Api, sandbox: Sandbox
) -> web.StreamResponse | None:
    """The faulty answer, or None to go on and answer normally (after a hang)."""
    if fault.kind == "hang":
        await asyncio.sleep(fault.delay)
        return None
    if fault.kind == "reset":
        request.protocol.force_close()
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=503)  # never reaches the client
    if fault.kind == "malformed":
        return web.Response(status=200, body=MALFORMED_BODY, content_type="application/json")
    if fault.kind == "drip":
        return await _drip(request, fault.status, fault.body or MALFORMED_BODY, fault.delay)
    headers = {}
    retry_after = fault.retry_after
    if retry_after is None and api == "contro" and fault.status == 429:
        retry_after = "1"
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    if fault.body is None:
        error = ApiError(fault.status, default_message(fault.status), headers=headers)
        return _error_response(api, error, sandbox)
    try:
        json.loads(fault.body)
        content_type = "application/json"
    except ValueError:
        content_type = "text/plain"
    return web.Response(
        status=fault.status, body=fault.body, headers=headers, content_type=content_type
    )


async def _drip(request: web.Request, status: int, body: bytes, every: float) -> web.StreamResponse:
    """Status and headers at once, then the body one byte every `every` seconds."""
    response = web.StreamResponse(status=status, headers={"Content-Type": "application/json"})
    await response.prepare(request)
    try:
        for byte in body:
            await response.write(bytes([byte]))
            await asyncio.sleep(every)
        await response.write_eof()
    except ConnectionResetError:  # the client gave up
        pass
    return response


@web.middleware
async def billing_api(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Record, hold, delay, fault, authenticate, then answer; errors in the API's own shape."""
    located = locate(request.path)
    if located is None:
        return await handler(request)
    api, api_path = located
    sandbox = request.app[SANDBOX_KEY]
    recorded = await record(request)
    sandbox.requests.append(recorded)
    await sandbox.pass_gate(recorded)
    if sandbox.delay > 0:
        await asyncio.sleep(sandbox.delay)
    try:
        fault = sandbox.faults.take(request.method, request.path, api_path)
        if fault is not None:
            answer = await _apply_fault(fault, request, api, sandbox)
            if answer is not None:
                return answer
        _authenticate(api, request, sandbox)
        return await handler(request)
    except ApiError as error:
        return _error_response(api, error, sandbox)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        headers = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        return _error_response(
            api, ApiError(error.status, default_message(error.status), headers=headers), sandbox
        )


def create_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(middlewares=[billing_api])
    app[SANDBOX_KEY] = sandbox
    mkio.add_routes(app.router)
    contro.add_routes(app.router)
    control.add_routes(app.router)
    return app


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):  # noqa: S104 - mapping the wildcard to something connectable
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


async def start(
    sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, str]:
    """Serve the sandbox; returns the runner (call `cleanup()`) and "http://HOST:PORT".

    MK.IO is under {base}/api/v1, Contro under {base}/v1, the control plane under
    {base}/_sandbox. Port 0 picks a free port.
    """
    runner = web.AppRunner(
        create_app(sandbox),
        access_log=None,
        handler_cancellation=True,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = runner.addresses[0][1]
    return runner, f"http://{_url_host(host)}:{bound_port}"


def banner(sandbox: Sandbox, base: str) -> str:
    return "\n".join(
        [
            f"MK.IO sandbox:   {base}{mkio.PREFIX}  (Authorization: Bearer {sandbox.mkio_token})",
            f"Contro sandbox:  {base}{contro.PREFIX}  (x-contro-api-key: {sandbox.contro_key})",
            f"Control plane:   {base}{control.PREFIX}",
            "",
            "Point billing-bot at it with:",
            f"  MKIO_API_URL={base}{mkio.PREFIX}",
            f"  MKIO_TOKEN={sandbox.mkio_token}",
            f"  CONTRO_API_URL={base}{contro.PREFIX}",
            f"  CONTRO_API_KEY={sandbox.contro_key}",
            *(
                [
                    "",
                    f"Anomalies on {sandbox.anomaly_day}: a spike, a drop, a new meter and a new "
                    "Contro type. In Slack: /billing anomalies on, then /billing anomalies check.",
                ]
                if sandbox.anomaly_day
                else []
            ),
        ]
    )


async def serve_forever(
    host: str = "127.0.0.1", port: int = 8787, **sandbox_kwargs: Unpack[SandboxOptions]
) -> None:
    """Serve a new sandbox until cancelled; prints the base URLs and credentials on start."""
    sandbox = Sandbox(**sandbox_kwargs)
    runner, base = await start(sandbox, host, port)
    try:
        sys.stdout.write(banner(sandbox, base) + "\n")
        sys.stdout.flush()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
