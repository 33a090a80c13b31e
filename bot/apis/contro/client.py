"""Contro partner usage API client (its documented shapes: docs/api-conformance.md).

Contro paginates records in one of two styles and the client accepts both, unasked:
cursor (`{"data", "hasMore", "nextCursor"}`, next request with `cursor=`) and page number
(`{"data", "total", "page", "limit"}`, over when `page*limit >= total`, next with `page=`).
`RecordsPage.next_token` hides which: `"c:<cursor>"` or `"p:<page>"`.

While Contro rotates keys, both can be configured (CONTRO_API_KEY, CONTRO_API_KEY_NEXT): a
request the key in use gets a 401 for is sent again with the other one, and once the other is
taken, this process keeps to it (the old key was revoked) and says so in the log, once.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

import httpx
from pydantic import SecretStr

from bot.apis.contro.models import RecordsPage, UsageRecord, UsageSummary
from bot.apis.http import Answer, Api, ApiClient, Limits, RetryPolicy
from bot.apis.pacing import RequestRate
from bot.errors import CommandError, Unauthorized
from bot.observe.metrics import Metrics

log = logging.getLogger(__name__)

CONTRO: Final = Api(
    name="Contro",
    credential="key",
    variable="CONTRO_API_KEY",
    refused_hint="check the key; a test key (sk_test_…) on the live host is refused.",
)

# The same API, when the key refused is the second one.
NEXT_KEY: Final = dataclasses.replace(CONTRO, variable="CONTRO_API_KEY_NEXT")

MAX_LIMIT: Final = 100
#: `iter_pages` stops (with `Unavailable`) after this many pages: ten million records at
#: limit=100, far past any real period. A repeated token stops a looping API much sooner.
MAX_PAGES: Final = 100_000

#: Requests in flight at once (CONTRO_MAX_CONCURRENCY): an export's per-type chains, and
#: enough that at 2 s an answer the pace (not this bound) limits a burst.
MAX_CONCURRENCY: Final = 32
#: Requests per minute (CONTRO_MAX_REQUESTS_PER_MINUTE): Contro allows 1,000 per key; the
#: rest is left for retries and for anything else using the key.
MAX_REQUESTS_PER_MINUTE: Final = 900

_CURSOR = "c:"
_PAGE = "p:"


class ControClient:
    def __init__(
        self,
        base_url: str,
        api_key: SecretStr,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        limits: Limits | None = None,
        concurrency: int = MAX_CONCURRENCY,
        requests_per_minute: int | None = MAX_REQUESTS_PER_MINUTE,
        rate: RequestRate | None = None,
        next_key: SecretStr | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        """`requests_per_minute` None or 0: no pacing (a test, or a bench at full speed);
        `rate` replaces it (a test's fake clock). `next_key`: the key Contro rotates to, tried
        when `api_key` is refused with a 401."""
        key = api_key.get_secret_value()
        following = next_key.get_secret_value() if next_key is not None else ""
        if rate is None and requests_per_minute:
            rate = RequestRate(requests_per_minute)

        def client(api: Api, key: str) -> ApiClient:
            return ApiClient(
                api,
                base_url,
                {"x-contro-api-key": key, "Accept": "application/json"},
                secrets=(key, following),
                transport=transport,
                retry=retry,
                timeout=timeout,
                limits=limits,
                concurrency=concurrency,
                rate=rate,  # one pace for both: Contro counts requests per partner
                metrics=metrics,
            )

        self._api = client(CONTRO, key)
        self._clients = [self._api]
        if following.strip() and following != key:
            self._clients.append(client(NEXT_KEY, following))
        self.concurrency = concurrency

    @property
    def queued(self) -> int:
        """Requests waiting for a turn (`ApiClient.gate`)."""
        return sum(api.gate.queued for api in self._clients)

    async def aclose(self) -> None:
        for api in self._clients:
            await api.aclose()

    async def _read(
        self, method: str, url: str, *, params: Mapping[str, str | int], what: str
    ) -> Answer:
        """A read with the key in use; on its 401, once more with the other key."""
        api = self._api
        try:
            return await api.read(method, url, params=params, what=what)
        except Unauthorized as refused:
            other = next((c for c in self._clients if c is not api), None)
            if other is None or refused.status != 401:
                raise
            try:
                answer = await other.read(method, url, params=params, what=what)
            except Unauthorized:
                raise refused from None
        if self._api is api:
            self._api = other
            log.warning(
                "Contro refused %s (401) and accepted %s: this process uses %s from now on; "
                "once the rotation is over, set CONTRO_API_KEY to the new key and unset "
                'CONTRO_API_KEY_NEXT (docs/deployment.md, "Rotating the Contro key")',
                api.api.variable,
                other.api.variable,
                other.api.variable,
            )
        return answer

    async def __aenter__(self) -> ControClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def summary(self, period: str) -> UsageSummary:
        answer = await self._read(
            "GET", "/partner/usage/summary", params={"period": period}, what="usage summary"
        )
        data = answer.data
        # Tolerate a `{"success": true, "data": {...}}` envelope around the documented shape.
        if isinstance(data, dict) and "items" not in data and isinstance(data.get("data"), dict):
            data = data["data"]
        return self._api.validate(UsageSummary, data, answer)

    async def records_page(
        self,
        period: str,
        *,
        type: str | None = None,
        token: str | None = None,
        limit: int = 20,
    ) -> RecordsPage:
        """One page of records. `token` is a previous page's `next_token` (None: the first)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        params: dict[str, str | int] = {"period": period, "limit": limit}
        if type:
            params["type"] = type
        cursor: str | None = None
        if token is not None:
            style, value = decode_token(token)
            if style == "cursor":
                cursor = str(value)
                params["cursor"] = cursor
            else:
                params["page"] = value
        answer = await self._read(
            "GET", "/partner/usage/records", params=params, what="usage records"
        )
        page = self._page(answer, limit)
        if cursor is not None and page.next_token == encode_cursor(cursor):
            raise self._endless()
        return page

    async def iter_pages(
        self, period: str, *, type: str | None = None, limit: int = MAX_LIMIT
    ) -> AsyncIterator[RecordsPage]:
        """Every page of the period's records, in order, one request per page."""
        token: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            page = await self.records_page(period, type=type, token=token, limit=limit)
            yield page
            token = page.next_token
            if token is None:
                return
            if token in seen:
                raise self._endless()
            seen.add(token)
        raise self._api.unavailable(
            f"kept sending more pages of records (over {MAX_PAGES}); the bot stopped."
        )

    # -- helpers ----------------------------------------------------------------------------

    def _page(self, answer: Answer, requested_limit: int) -> RecordsPage:
        data: Any = answer.data
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise self._api.unreadable(answer.status, why="records without `data`")
        records = [self._api.validate(UsageRecord, item, answer) for item in data["data"]]

        if "hasMore" in data or "nextCursor" in data:  # cursor style
            next_cursor = data.get("nextCursor")
            if data.get("hasMore") is True:
                if not isinstance(next_cursor, str) or not next_cursor:
                    raise self._api.unreadable(answer.status, why="hasMore without nextCursor")
                return RecordsPage(records=records, next_token=encode_cursor(next_cursor))
            return RecordsPage(records=records)

        if "total" in data or "page" in data:  # page-number style
            total = _int(data.get("total"))
            page = _int(data.get("page")) or 1
            limit = _int(data.get("limit")) or requested_limit
            if total is None or page < 1 or limit < 1:
                raise self._api.unreadable(answer.status, why="page without total/page/limit")
            more = page * limit < total and bool(records)
            return RecordsPage(
                records=records,
                next_token=encode_page(page + 1) if more else None,
                total=total,
                page=page,
                pages=max(1, math.ceil(total / limit)),
            )

        return RecordsPage(records=records)  # no pagination fields: a single page

    def _endless(self) -> Exception:
        return self._api.unavailable(
            "sent the same page of records twice; the bot stopped to avoid a loop."
        )


def encode_cursor(cursor: str) -> str:
    return _CURSOR + cursor


def encode_page(page: int) -> str:
    return f"{_PAGE}{page}"


def decode_token(token: str) -> tuple[str, str | int]:
    """("cursor", str) or ("page", int) from a `RecordsPage.next_token`.

    Raises `CommandError` for anything else (e.g. a stale or hand-edited button value).
    """
    if token.startswith(_CURSOR) and len(token) > len(_CURSOR):
        return "cursor", token[len(_CURSOR) :]
    if token.startswith(_PAGE):
        digits = token[len(_PAGE) :]
        if digits.isascii() and digits.isdigit() and int(digits) >= 1:
            return "page", int(digits)
    raise CommandError(
        "That page link is no longer valid. Run the records command again to start over.",
        suggestion="/billing contro records",
    )


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(str(value))
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None
