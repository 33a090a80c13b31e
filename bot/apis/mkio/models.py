"""Pydantic models of MK.IO Management API shapes (OpenAPI 0.19.25, see docs/api-conformance.md).

Lenient on purpose: unknown fields are ignored and undocumented ones optional, so a new API
field never breaks an answer. Money is `Decimal`: `cost` arrives as a string, `price` and
`quantity` as JSON numbers, which the client parses with `parse_float=Decimal`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from bot.apis.model import numbers_a_bill_can_hold
from bot.clock import month_to_date
from bot.money import Money


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)
    check_numbers = model_validator(mode="after")(numbers_a_bill_can_hold)


# -- projects -------------------------------------------------------------------------------


class ProjectMetadata(_Model):
    id: str | None = None
    name: str | None = None
    display_name: str | None = Field(None, alias="displayName")


class ProjectSpec(_Model):
    name: str
    display_name: str | None = Field(None, alias="displayName")
    is_active: bool | None = Field(None, alias="isActive")
    location_name: str | None = Field(None, alias="locationName")
    assigned_payment_method_id: str | None = Field(None, alias="assignedPaymentMethodId")


class Project(_Model):
    kind: str | None = None
    metadata: ProjectMetadata | None = None
    spec: ProjectSpec

    @property
    def name(self) -> str:
        return self.spec.name


# -- project usage (GET /projects/{p}/usage): quantities only ---------------------------------


class UsageRow(_Model):
    meter_name: str = Field(alias="meterName")
    unit: str | None = None
    solution: str | None = None
    family: str | None = None
    quantity: Decimal


class UsageSupplemental(_Model):
    records: int | None = None
    start: str | None = None
    end: str | None = None
    project: str | None = None


class ProjectUsage(_Model):
    supplemental: UsageSupplemental = UsageSupplemental()
    value: list[UsageRow] = []


# -- usage reports (POST /organization/reports/usage) ---------------------------------------


class Granularity(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class ReportQuery(_Model):
    """A usage-report request. `end_date` is exclusive, both dates UTC, as the API takes them."""

    start_date: date
    end_date: date
    granularity: Granularity = Granularity.DAY
    project_names: tuple[str, ...] = ()
    payment_method_ids: tuple[str, ...] = ()
    meter_names: tuple[str, ...] = ()
    group_by_meter: bool = False
    filter_on_reported_date: bool = False

    @classmethod
    def month_to_date(
        cls, today: date, granularity: Granularity, *, projects: tuple[str, ...] = ()
    ) -> ReportQuery:
        """This month so far (1st to tomorrow, UTC), for every project or those named."""
        start, end = month_to_date(today)
        return cls(start_date=start, end_date=end, granularity=granularity, project_names=projects)

    def body(self, *, csv: bool = False) -> dict[str, object]:
        out: dict[str, object] = {
            "startDate": self.start_date.isoformat(),
            "endDate": self.end_date.isoformat(),
            "granularity": self.granularity.value,
        }
        if self.project_names:
            out["projectNames"] = list(self.project_names)
        if self.payment_method_ids:
            out["paymentMethodIds"] = list(self.payment_method_ids)
        if self.meter_names:
            out["meterNames"] = list(self.meter_names)
        if self.group_by_meter:
            out["groupBy"] = ["meter"]
        if self.filter_on_reported_date:
            out["filterOnReportedDate"] = True
        if csv:
            out["format"] = "csv"
            out["download"] = True
        return out


class ReportRow(BaseModel):
    """A report row as a streamed report is folded: `MeterData`'s fields, read the same way,
    without its per-row Python check of the numbers (a tenth of a million-row report's time):
    the reader checks `quantity`, `price` and `cost` itself (`bot.apis.mkio.report_stream`)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    date: datetime
    date_processed: datetime | None = Field(None, alias="dateProcessed")
    meter_name: str = Field(alias="meterName")
    meter_sku: str | None = Field(None, alias="meterSku")
    family: str | None = None
    solution: str | None = None
    unit: str | None = None
    quantity: Decimal
    price: Decimal | None = None
    cost: Decimal
    currency: str
    project: str | None = None
    payment_method: str | None = Field(None, alias="paymentMethod")
    payment_method_name: str | None = Field(None, alias="paymentMethodName")
    entitlement: str | None = None
    entitlement_type: str | None = Field(None, alias="entitlementType")

    @property
    def charged(self) -> bool:
        return self.date_processed is not None


class MeterData(ReportRow):
    """One report row: `cost` is authoritative money (a string upstream), `price` a unit price."""

    check_numbers = model_validator(mode="after")(numbers_a_bill_can_hold)

    @property
    def cost_money(self) -> Money:
        """`cost` with its currency: never added to an amount in another currency."""
        return Money(self.cost, self.currency)


class UsageReport(_Model):
    supplemental: dict[str, object] = {}
    value: list[MeterData] = []


# -- payment methods and rate cards ---------------------------------------------------------


class PaymentMethodMetadata(_Model):
    id: str
    display_name: str | None = Field(None, alias="displayName")
    organization_id: str | None = Field(None, alias="organizationId")


class PaymentMethodSpec(_Model):
    type: str | None = None  # azure | aws | direct | ... (open set)
    product_publication_name: str | None = Field(None, alias="productPublicationName")
    start_date: date | None = Field(None, alias="startDate")
    end_date: date | None = Field(None, alias="endDate")


class PaymentMethodStatus(_Model):
    is_active: bool | None = Field(None, alias="isActive")
    terms_and_conditions_accepted: bool | None = Field(None, alias="termsAndConditionsAccepted")


class PaymentMethodRelated(_Model):
    projects: list[str] = []


UNNAMED_METHOD = "unnamed payment method"


class PaymentMethod(_Model):
    # The document makes `metadata` optional: such a method has neither ID nor name.
    metadata: PaymentMethodMetadata | None = None
    spec: PaymentMethodSpec = PaymentMethodSpec()
    status: PaymentMethodStatus = PaymentMethodStatus()
    related: PaymentMethodRelated = PaymentMethodRelated()

    @property
    def id(self) -> str | None:
        return self.metadata.id if self.metadata else None

    @property
    def display_name(self) -> str | None:
        return self.metadata.display_name if self.metadata else None

    @property
    def name(self) -> str:
        """Its display name, else its ID, else words saying MK.IO gave neither."""
        return self.display_name or self.id or UNNAMED_METHOD

    def identified(self) -> IdentifiedPaymentMethod | None:
        """This method with its ID, or None when MK.IO's answer did not say which it is."""
        if self.metadata is None:
            return None
        return IdentifiedPaymentMethod(
            metadata=self.metadata, spec=self.spec, status=self.status, related=self.related
        )


class IdentifiedPaymentMethod(PaymentMethod):
    """A payment method MK.IO named by ID: one the bot can look up, price or assign."""

    metadata: PaymentMethodMetadata

    @property
    def id(self) -> str:
        return self.metadata.id


class LocationPrice(_Model):
    location_group: str = Field(alias="locationGroup")
    sku: str | None = None
    price: Decimal


class RatePrice(_Model):
    name: str
    display_name: str | None = Field(None, alias="displayName")
    unit: str | None = None
    sku: str | None = None
    price: Decimal
    location_prices: list[LocationPrice] = Field([], alias="locationPrices")

    def per(self, usage_unit: str | None) -> bool:
        """Is the price per the unit usage is counted in? True when either side does not say
        (nothing says otherwise); units compare case- and space-insensitively."""
        if not self.unit or not usage_unit:
            return True
        return self.unit.strip().casefold() == usage_unit.strip().casefold()


class RateCardEntry(_Model):
    family: str | None = None
    solution: str | None = None
    prices: list[RatePrice] = []


class RateCardMetadata(_Model):
    payment_method_id: str | None = Field(None, alias="paymentMethodId")
    product_publication_id: str | None = Field(None, alias="productPublicationId")
    product_publication_name: str | None = Field(None, alias="productPublicationName")
    is_private_offer: bool | None = Field(None, alias="isPrivateOffer")


class RateCardSpec(_Model):
    currency: str = "USD"
    rate_card: list[RateCardEntry] = Field([], alias="rateCard")


class RateCard(_Model):
    kind: str | None = None
    metadata: RateCardMetadata = RateCardMetadata()
    spec: RateCardSpec

    def price_for(self, meter_name: str, meter_sku: str | None = None) -> RatePrice | None:
        """The price of a usage meter: exact `name`, then `sku`; None rather than a guess."""
        prices = [p for entry in self.spec.rate_card for p in entry.prices]
        for p in prices:
            if p.name == meter_name:
                return p
        if meter_sku:
            for p in prices:
                if p.sku == meter_sku:
                    return p
        return None


# -- metrics export -------------------------------------------------------------------------


class MetricsSpec(_Model):
    enabled: bool


class MetricsStatus(_Model):
    url: str
    username: str
    password: SecretStr  # a secret: never rendered except to an admin, ephemerally


class MetricsEndpoint(_Model):
    kind: str | None = None
    spec: MetricsSpec
    status: MetricsStatus | None = None
