"""Every shape Contro's docs allow (docs/api-conformance.md) is read.

Contro publishes no schema, so the strategies below are built from its documented shapes:
optional fields absent or null, extra fields, open `type` strings, whole-number counts sent as
`30.0`, the `{"success", "data"}` envelope, and both pagination styles (cursor and page
number). Bodies go over `httpx.MockTransport` through `ControClient`, `BillingService` and the
renderers: the user gets an answer, or a typed error (`BillingBotError`), never a crash.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.apis.contro import ControClient
from bot.apis.contro.models import UsageRecord
from bot.apis.http import RetryPolicy
from bot.core.answers import RecordsPageRef
from bot.core.billing import BillingService
from bot.core.cache import MemoryCache
from bot.errors import Unavailable
from bot.slack.render.common import Message
from bot.slack.render.contro import render_contro_records, render_contro_summary
from tests.unit.answering import answer_or_typed_error

NOW = datetime(2026, 3, 15, 12, 30, tzinfo=UTC)
PERIOD = "2026-03"
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TYPES = st.sampled_from(
    ["card_issuance", "transaction", "monthly_fee", "api_call", "kyc", "kyc_verification"]
) | st.text(min_size=1, max_size=20)
AMOUNTS = st.decimals(min_value=-(10**9), max_value=10**9, places=2).map(float) | st.integers(
    0, 10**6
)
EXTRA = st.dictionaries(
    st.sampled_from(["currency", "note", "meta"]), st.none() | st.text(max_size=5)
)


def optional(
    required: dict[str, st.SearchStrategy[Any]], maybe: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with every `required` key, each `maybe` key absent, null or set, and extras."""
    nullable = {k: st.none() | v for k, v in maybe.items()}
    return st.builds(
        lambda a, b, extra: extra | a | b,
        st.fixed_dictionaries(required),
        st.fixed_dictionaries({}, optional=nullable),
        EXTRA,
    )


ITEMS = st.fixed_dictionaries(
    {"type": TYPES, "total": AMOUNTS, "count": st.integers(0, 10**6) | st.just(30.0)}
)
SUMMARIES = optional({"period": st.just(PERIOD), "items": st.lists(ITEMS, max_size=6)}, {})
ENVELOPED = st.builds(lambda s: {"success": True, "data": s}, SUMMARIES)
RECORDS = optional(
    {"id": st.text(min_size=1, max_size=20), "type": TYPES, "amount": AMOUNTS},
    {
        "referenceId": st.text(max_size=20),
        "billingPeriod": st.just(PERIOD),
        "createdAt": st.sampled_from(
            ["2026-03-15T10:30:00Z", "2026-03-15T10:30:00.123+02:00", "2026-03-15T10:30:00"]
        ),
    },
)
CURSOR_PAGES = st.fixed_dictionaries(
    {"data": st.lists(RECORDS, max_size=5)},
    optional={"hasMore": st.booleans(), "nextCursor": st.none() | st.text(max_size=10)},
)
NUMBER_PAGES = st.fixed_dictionaries(
    {
        "data": st.lists(RECORDS, max_size=5),
        "total": st.integers(0, 500),
        "page": st.integers(1, 30),
        "limit": st.integers(1, 100),
    }
)


def service(body: Any) -> BillingService:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    client = ControClient(
        "https://api.contro.me/v1",
        SecretStr("sk_test_key"),
        transport=httpx.MockTransport(answer),
        retry=RetryPolicy.immediate(),
    )
    return BillingService(mkio=None, contro=client, cache=MemoryCache(60), clock=lambda: NOW)


@EXAMPLES
@given(SUMMARIES | ENVELOPED)
def test_every_documented_summary_is_answered(body: dict[str, Any]) -> None:
    billing = service(body)

    async def ask() -> Message:
        return render_contro_summary(await billing.contro_summary(PERIOD))

    result = answer_or_typed_error(ask)
    assert isinstance(result, Message), result.user_message


@EXAMPLES
@given(CURSOR_PAGES | NUMBER_PAGES)
def test_every_documented_records_page_is_answered(body: dict[str, Any]) -> None:
    billing = service(body)

    async def ask() -> Message:
        ref = RecordsPageRef(period=PERIOD, page_number=1)
        return render_contro_records(await billing.contro_records(ref))

    result = answer_or_typed_error(ask)
    more_without_cursor = body.get("hasMore") is True and not body.get("nextCursor")
    if more_without_cursor:  # "more pages, but no way to ask for them": not what Contro documents
        assert isinstance(result, Unavailable)
    else:
        assert isinstance(result, Message), result.user_message


@EXAMPLES
@given(RECORDS)
def test_a_record_reads_its_amount_exactly(record: dict[str, Any]) -> None:
    raw = json.loads(json.dumps(record), parse_float=Decimal)
    parsed = UsageRecord.model_validate(raw)
    assert parsed.amount == Decimal(str(raw["amount"]))
