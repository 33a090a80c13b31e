"""Contro partner usage API routes, under /v1."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import UTC, datetime, time

from aiohttp import web

from bot.devtools.sandbox.contro_data import RecordFilter, is_period
from bot.devtools.sandbox.errors import ApiError
from bot.devtools.sandbox.http import json_response, sandbox_of
from bot.devtools.sandbox.ids import stable_hex

PREFIX = "/v1"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNENCODED_PLUS = re.compile(r" (\d{2}:?\d{2})$")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(f"{PREFIX}/partner/usage/summary", usage_summary)
    router.add_get(f"{PREFIX}/partner/usage/records", usage_records)


def _bad_request(code: str, message: str) -> ApiError:
    return ApiError(400, message, code=code)


def _period(query: Mapping[str, str], default: str) -> str:
    period = query.get("period") or default
    if not is_period(period):
        raise _bad_request("invalid_period", f"period must be in YYYY-MM format, not '{period}'.")
    return period


async def usage_summary(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    period = _period(request.query, sandbox.current_period())
    return json_response(sandbox.contro_summary(period))


def _integer(query: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    text = query.get(key)
    if text is None or text == "":
        return default
    if not re.fullmatch(r"-?\d+", text) or not low <= int(text) <= high:
        bounds = f"between {low} and {high}" if high < 10**9 else f"at least {low}"
        raise _bad_request(f"invalid_{key}", f"{key} must be an integer {bounds}.")
    return int(text)


def _instant(query: Mapping[str, str], key: str) -> datetime | None:
    """An ISO 8601 bound on createdAt. A bare date as `to` means the end of that day."""
    text = query.get(key)
    if not text:
        return None
    text = _UNENCODED_PLUS.sub(r"+\1", text)  # "+00:00" sent without URL-encoding the "+"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _bad_request(f"invalid_{key}", f"{key} must be an ISO 8601 date-time.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if key == "to" and _DATE_ONLY.fullmatch(text):
        moment = datetime.combine(moment.date(), time.max, UTC)
    return moment.astimezone(UTC)


def _fingerprint(sandbox_seed: int, period: str, record_filter: RecordFilter) -> str:
    return stable_hex(
        sandbox_seed, "cursor", period, record_filter.type, record_filter.start, record_filter.end
    )


def encode_cursor(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(f"{offset}:{fingerprint}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, fingerprint: str) -> int:
    """The offset a cursor stands for; 400 if it is garbage or was made for another query."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        number, _, owner = text.partition(":")
        offset = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        offset, owner = -1, ""
    if offset < 0 or owner != fingerprint:
        raise _bad_request("invalid_cursor", "cursor is invalid or belongs to another query.")
    return offset


async def usage_records(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    query = request.query
    limit = _integer(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    period = _period(query, sandbox.current_period())
    record_filter = RecordFilter(
        query.get("type") or None, _instant(query, "from"), _instant(query, "to")
    )
    selection = sandbox.contro.period(period, sandbox.now()).select(record_filter)

    if "page" in query or sandbox.contro_pagination == "page":
        page = _integer(query, "page", 1, 1, 10**12)
        records = selection.page((page - 1) * limit, limit)
        return json_response(
            {
                "data": [record.to_json() for record in records],
                "total": len(selection),
                "page": page,
                "limit": limit,
            }
        )

    fingerprint = _fingerprint(sandbox.seed, period, record_filter)
    cursor = query.get("cursor")
    offset = decode_cursor(cursor, fingerprint) if cursor else 0
    records = selection.page(offset, limit)
    end = offset + len(records)
    has_more = end < len(selection)
    return json_response(
        {
            "data": [record.to_json() for record in records],
            "hasMore": has_more,
            "nextCursor": encode_cursor(end, fingerprint) if has_more else None,
        }
    )
