"""Pydantic models of Contro's partner usage API (see docs/api-conformance.md).

Amounts are JSON numbers in USD; the client parses them with `parse_float=Decimal` so no
binary rounding ever happens. `type` is an open string: Contro's pages disagree on its values.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.apis.model import numbers_a_bill_can_hold

CURRENCY = "USD"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)
    check_numbers = model_validator(mode="after")(numbers_a_bill_can_hold)


class SummaryItem(_Model):
    type: str
    total: Decimal
    count: int


class UsageSummary(_Model):
    period: str
    items: list[SummaryItem] = []

    @property
    def total(self) -> Decimal:
        return sum((item.total for item in self.items), Decimal(0))


class UsageRecord(_Model):
    id: str
    type: str
    amount: Decimal
    reference_id: str | None = Field(None, alias="referenceId")
    billing_period: str | None = Field(None, alias="billingPeriod")
    created_at: datetime | None = Field(None, alias="createdAt")


class RecordsPage(_Model):
    """One page of records, whichever pagination style the API used.

    `next_token` is opaque to callers (it encodes a cursor or a page number) and None on the
    last page; `total` and `page`/`pages` are known only for page-number pagination.
    """

    records: list[UsageRecord]
    next_token: str | None = None
    total: int | None = None
    page: int | None = None
    pages: int | None = None
