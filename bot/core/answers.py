"""What the core hands to the renderers: API data plus the facts every answer shows
(the period it covers, UTC with an exclusive end, and when it was fetched)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.apis.contro.models import RecordsPage, UsageSummary
from bot.apis.mkio.models import IdentifiedPaymentMethod, MetricsEndpoint, PaymentMethod, RateCard
from bot.core.reports.estimate import MonthEndEstimate
from bot.errors import CommandError
from bot.money import Totals

# Page tokens kept for Previous: about 40 bytes each, well inside a button's 2,000 characters.
MAX_BACK_PAGES = 30


@dataclass(frozen=True)
class MeterUsage:
    meter: str
    quantity: Decimal
    unit: str | None
    cost: Totals | None  # per currency; None: the month-to-date report has no row for it


@dataclass(frozen=True)
class ProjectsAnswer:
    """The organization's project names, for "did you mean" (never shown as an answer)."""

    names: tuple[str, ...]
    fetched_at: datetime


@dataclass(frozen=True)
class UsageAnswer:
    project: str
    start: date  # inclusive, UTC
    end: date  # exclusive, UTC
    meters: list[MeterUsage]  # largest cost first
    totals: Totals  # exact sum of the report rows' costs, one per currency
    uncharged: bool  # some report rows are not charged yet (dateProcessed null)
    fetched_at: datetime
    # one per currency, in `totals`' order; none in a month's first two days
    # (bot.core.reports.estimate)
    estimates: tuple[MonthEndEstimate, ...] = ()


@dataclass(frozen=True)
class PaymentMethodsAnswer:
    methods: list[IdentifiedPaymentMethod]
    fetched_at: datetime
    unidentified: list[PaymentMethod] = field(default_factory=list)
    """Methods listed without the metadata that names them (the document allows it)."""


@dataclass(frozen=True)
class RateCardAnswer:
    method: IdentifiedPaymentMethod | None  # None when the list could not name it
    card: RateCard
    fetched_at: datetime


@dataclass(frozen=True)
class ProjectPaymentMethodAnswer:
    project: str
    method: PaymentMethod
    fetched_at: datetime


@dataclass(frozen=True)
class MetricsAnswer:
    project: str
    endpoint: MetricsEndpoint
    show_secrets: bool  # True only for an admin, and only rendered ephemerally
    fetched_at: datetime


@dataclass(frozen=True)
class ControSummaryAnswer:
    summary: UsageSummary
    fetched_at: datetime


@dataclass(frozen=True)
class ControRecordsAnswer:
    period: str
    type: str | None
    page: RecordsPage
    page_number: int  # 1-based, counted by the bot for both pagination styles
    token: str | None  # the token that fetched this page (None: the first page)
    fetched_at: datetime
    back: tuple[str | None, ...] = ()  # tokens of the pages before this one

    @property
    def ref(self) -> RecordsPageRef:
        return RecordsPageRef(
            period=self.period,
            type=self.type,
            token=self.token,
            page_number=self.page_number,
            back=self.back,
        )


class RecordsPageRef(BaseModel):
    """Which records page a button asks for; carried in the button's `value` (max 2,000 chars).

    `back` holds the tokens of the pages before this one (None for the first page), so the
    Previous button can go back through cursor pagination too; only the latest
    MAX_BACK_PAGES are kept. Decoding is strict: a tampered value is refused, never half-used.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    type: str | None = Field(None, max_length=100)
    token: str | None = Field(None, max_length=200)
    page_number: int = Field(ge=1)
    back: tuple[str | None, ...] = Field((), max_length=MAX_BACK_PAGES)

    def encode(self) -> str:
        return self.model_dump_json(exclude_none=True, exclude_defaults=True)

    @classmethod
    def decode(cls, value: str) -> RecordsPageRef:
        try:
            return cls.model_validate_json(value)
        except ValidationError:
            raise CommandError("That button is no longer valid: run the command again.") from None

    def next(self, token: str) -> RecordsPageRef:
        back = (*self.back, self.token)[-MAX_BACK_PAGES:]
        return self.model_copy(
            update={"token": token, "page_number": self.page_number + 1, "back": back}
        )

    def previous(self) -> RecordsPageRef | None:
        """None when the way back is not known (first page, or history trimmed)."""
        if self.page_number <= 1 or not self.back:
            return None
        return self.model_copy(
            update={
                "token": self.back[-1],
                "page_number": self.page_number - 1,
                "back": self.back[:-1],
            }
        )
