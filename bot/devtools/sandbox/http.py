"""Small HTTP helpers shared by the route modules."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.devtools.sandbox.core import SANDBOX_KEY, Sandbox
from bot.devtools.sandbox.errors import ApiError

dumps = functools.partial(json.dumps, separators=(",", ":"))


def sandbox_of(request: web.Request) -> Sandbox:
    return request.app[SANDBOX_KEY]


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=dumps)


async def json_body(request: web.Request) -> Any:
    """The request's JSON body; 400 when it is missing or not JSON."""
    raw = await request.read()
    if not raw:
        raise ApiError(400, "A JSON request body is required.")
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON.") from None
