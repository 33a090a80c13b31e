"""The log of requests that reached the billing APIs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web


class Headers(dict[str, str]):
    """Header names lower-cased; lookups ignore case (`headers["Authorization"]` works)."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(key.lower(), default)


@dataclass(slots=True)
class RecordedRequest:
    """One request as the sandbox received it.

    `path` excludes the query string; `query` keeps the last value of a repeated parameter;
    `json` is the parsed body, or None when the body is empty or not JSON; header names are
    lower-cased, and looked up regardless of case.
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any | None
    headers: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


async def record(request: web.Request) -> RecordedRequest:
    """Capture a request (reads and caches its body, so handlers can still read it)."""
    body = await request.read() if request.can_read_body else b""
    parsed: Any | None = None
    if body:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
    return RecordedRequest(
        method=request.method,
        path=request.path,
        query={key: value for key, value in request.query.items()},
        json=parsed,
        headers=Headers((key.lower(), value) for key, value in request.headers.items()),
    )
