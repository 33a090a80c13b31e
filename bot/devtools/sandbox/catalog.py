"""The sandbox organization as static data: meters, projects, payment methods and rate cards.

Money is held in integers: prices and costs in micro-dollars (1e-6 USD), quantities in
milli-units (1e-3 of the meter's unit). Only the edges turn them into JSON numbers or strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

CURRENCY = "USD"
METER_CURRENCIES: dict[str, str] = {}
"""Meter key -> the currency its report rows are billed in, when not `CURRENCY` (tests set it
to see an organization billed in two currencies)."""
DATA_START = date(2025, 1, 1)
"""The first day the sandbox has usage for."""

ORGANIZATION_NAME = "sandbox-org"
LOCATION_NAME = "westeurope"
LOCATION_DISPLAY_NAME = "West Europe"
CLOUD_NAME = "azure"
CLOUD_DISPLAY_NAME = "Azure"
CREATOR_NAME = "Sandbox Admin"
CREATOR_EMAIL = "admin@sandbox.example"


@dataclass(frozen=True, slots=True)
class Meter:
    """One billable line: a meter name plus the SKU it is charged under.

    Two `Meter`s may share a `name` (e.g. SD and HD on-demand encoding): the usage endpoint then
    shows the meter name in two rows and clients must sum by name.
    """

    key: str
    name: str
    family: str
    solution: str
    unit: str
    sku: str
    price_name: str
    """The rate card's `name` for this SKU: either the meter name or `tier(meter_name)`."""
    display_name: str
    list_price: int
    """Micro-dollars per unit."""
    quantity_step: int = 1
    """Smallest quantity in milli-units (1000 for meters counted in whole units)."""


METERS: tuple[Meter, ...] = (
    Meter(
        "vod_sd",
        "video_encoding_ondemand",
        "Video Processing",
        "VOD Encoding SD",
        "minutes",
        "AAS1010154",
        "advanced_sd(video_encoding_ondemand)",
        "Advanced SD",
        20_000,
    ),
    Meter(
        "vod_hd",
        "video_encoding_ondemand",
        "Video Processing",
        "VOD Encoding HD",
        "minutes",
        "AAS1010155",
        "advanced_hd(video_encoding_ondemand)",
        "Advanced HD",
        40_000,
    ),
    Meter(
        "live",
        "live_encoding",
        "Video Processing",
        "Live Encoding",
        "minutes",
        "AAS1010201",
        "live_encoding",
        "Live Encoding",
        60_000,
    ),
    Meter(
        "egress",
        "streaming_egress",
        "Delivery",
        "Streaming",
        "GB",
        "AAS1030101",
        "streaming_egress",
        "Streaming Egress",
        45_000,
    ),
    Meter(
        "packaging",
        "packaging",
        "Delivery",
        "Dynamic Packaging",
        "GB",
        "AAS1030201",
        "packaging",
        "Dynamic Packaging",
        10_000,
    ),
    Meter(
        "storage",
        "storage",
        "Storage",
        "Media Storage",
        "GB-month",
        "AAS1040101",
        "storage",
        "Media Storage",
        21_000,
    ),
    Meter(
        "drm",
        "drm_licenses",
        "Content Protection",
        "DRM",
        "requests",
        "AAS1050101",
        "drm_licenses",
        "DRM Licenses",
        400,
        quantity_step=1000,
    ),
)
METER_INDEX: dict[str, int] = {meter.key: index for index, meter in enumerate(METERS)}
METER_NAMES: tuple[str, ...] = tuple(dict.fromkeys(meter.name for meter in METERS))


@dataclass(frozen=True, slots=True)
class PaymentMethodDef:
    key: str
    type: str
    display_name: str
    publication_name: str
    price_percent: int
    """Price of every meter on this card, as a percentage of the list price."""
    missing_prices: frozenset[str] = frozenset()
    """Meter keys this rate card has no price for."""
    is_private_offer: bool = False
    start_date: str | None = "2024-12-01"
    end_date: str | None = None


PAYMENT_METHODS: tuple[PaymentMethodDef, ...] = (
    PaymentMethodDef(
        "azure",
        "azure",
        "Azure Marketplace (Contoso Media)",
        "mkio-azure-marketplace-payg",
        100,
    ),
    PaymentMethodDef(
        "aws",
        "aws",
        "AWS Marketplace (Contoso Media)",
        "mkio-aws-marketplace-payg",
        104,
        missing_prices=frozenset({"drm"}),
    ),
    PaymentMethodDef(
        "direct",
        "direct",
        "Direct invoice SO-10042",
        "mkio-direct-enterprise-2025",
        90,
        is_private_offer=True,
        start_date="2025-01-01",
        end_date="2027-01-01",
    ),
)


@dataclass(frozen=True, slots=True)
class ProjectDef:
    name: str
    display_name: str
    payment_method: str | None
    """Key of the initially assigned payment method; None: none assigned."""
    active: bool
    daily_units: dict[str, int] = field(default_factory=dict)
    """Typical daily quantity per meter key, in whole units."""
    growth: bool = False
    """Usage grows linearly: twice the base after one year."""
    weekend_percent: int = 70
    entitlement_meter: str | None = None
    """A meter covered by a license entitlement on the first days of every month."""
    created: str = "2024-12-02T09:30:00Z"


PROJECTS: tuple[ProjectDef, ...] = (
    ProjectDef(
        "my-project",
        "My Project",
        "azure",
        True,
        {
            "vod_sd": 600,
            "vod_hd": 250,
            "egress": 180,
            "packaging": 120,
            "storage": 40,
            "drm": 15_000,
        },
    ),
    ProjectDef(
        "video-platform",
        "Video Platform",
        "azure",
        True,
        {
            "vod_sd": 1500,
            "vod_hd": 900,
            "egress": 900,
            "packaging": 600,
            "storage": 120,
            "drm": 60_000,
        },
        growth=True,
    ),
    ProjectDef(
        "live-events",
        "Live Events",
        "aws",
        True,
        {"live": 2880, "egress": 1200, "packaging": 800, "storage": 10, "drm": 40_000},
        weekend_percent=140,
        entitlement_meter="live",
    ),
    ProjectDef(
        "archive",
        "Archive",
        "direct",
        True,
        {"storage": 400, "egress": 15, "vod_sd": 30},
    ),
    ProjectDef("staging", "Staging", None, False, created="2025-06-10T14:00:00Z"),
)
PROJECT_INDEX: dict[str, int] = {project.name: index for index, project in enumerate(PROJECTS)}

ENTITLEMENT_DAYS = 3
"""The entitlement covers days 1..ENTITLEMENT_DAYS of every month."""
ENTITLEMENT_TYPE = "license"

HOUR_WEIGHTS: tuple[int, ...] = (
    3,
    2,
    2,
    2,
    2,
    3,
    4,
    5,
    6,
    7,
    7,
    7,
    7,
    7,
    7,
    7,
    7,
    8,
    9,
    10,
    10,
    9,
    6,
    4,
)
"""How a day's usage spreads over its 24 UTC hours."""


def price_for(method: PaymentMethodDef, meter: Meter) -> int | None:
    """The rate card price in micro-dollars, or None when the card has no price for the meter."""
    if meter.key in method.missing_prices:
        return None
    return meter.list_price * method.price_percent // 100


def charged_price(method: PaymentMethodDef, meter: Meter) -> int:
    """The unit price usage is charged at: the card's, or the list price when the card has none."""
    price = price_for(method, meter)
    return meter.list_price if price is None else price


MISPRICED: dict[tuple[str, str, str], int] = {("archive", "storage", "2026-07"): 21_000}
"""(project, meter key, YYYY-MM) -> the unit price in micro-dollars that month's usage was
charged at instead of its rate card's: `archive` on the direct private offer (90% of list)
was billed its storage at list price in July 2026, for `/billing reconcile` to find."""


def billed_price(method: PaymentMethodDef, meter: Meter, project: str, day: date) -> int:
    """The unit price a project's usage of `meter` on `day` is charged at."""
    wrong = MISPRICED.get((project, meter.key, f"{day:%Y-%m}"))
    return charged_price(method, meter) if wrong is None else wrong


def currency_of(meter: Meter) -> str:
    """The currency `meter`'s report rows carry (the amounts are the same integers)."""
    return METER_CURRENCIES.get(meter.key, CURRENCY)
