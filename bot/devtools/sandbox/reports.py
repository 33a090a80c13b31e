"""`POST /organization/reports/usage` and `GET /projects/{p}/usage`: validation and roll-ups.

Report rows are exact sums of usage facts grouped by (date bucket, processed bucket, project,
meter SKU, payment method, entitlement), so a month row is exactly the sum of its day rows and
a day row exactly the sum of its hour rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.devtools.sandbox import catalog
from bot.devtools.sandbox.errors import ApiError
from bot.devtools.sandbox.state import MkioState
from bot.devtools.sandbox.usage import MAX_LAG_DAYS, Fact, UsageEngine

GRANULARITIES = ("year", "month", "week", "day", "hour")
FORMATS = ("json", "csv")
MAX_DAYS = {"hour": 31, "day": 366}
"""Longest range per granularity, in days; the others are unbounded."""
CAP_STATUS = {"hour": 400, "day": 409}
"""The API rejects over-cap ranges with 400 or 409; the sandbox uses both."""
CSV_COLUMNS = (
    "date",
    "dateProcessed",
    "project",
    "paymentMethod",
    "paymentMethodName",
    "meterName",
    "meterSku",
    "family",
    "solution",
    "unit",
    "quantity",
    "price",
    "cost",
    "currency",
    "entitlement",
    "entitlementType",
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class ReportQuery:
    start: date
    end: date
    granularity: str
    project_names: tuple[str, ...] | None
    payment_method_ids: tuple[str, ...] | None
    meter_names: tuple[str, ...] | None
    group_by: tuple[str, ...]
    format: str
    download: bool
    reported: bool

    def supplemental(self, records: int) -> dict[str, Any]:
        return {
            "records": records,
            "filters": {
                "projectNames": list(self.project_names or ()),
                "paymentMethodIds": list(self.payment_method_ids or ()),
                "meterNames": list(self.meter_names or ()),
            },
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "format": self.format,
            "download": self.download,
            "granularity": self.granularity,
            "groupBy": list(self.group_by),
        }

    @property
    def filename(self) -> str:
        return f"usage-report_{self.start.isoformat()}_{self.end.isoformat()}.{self.format}"


@dataclass(slots=True)
class Row:
    date: datetime
    processed: datetime | None
    project: int
    meter: int
    method: str
    entitlement: str | None
    price: int
    quantity: int
    cost: int


def parse_query(body: object, state: MkioState) -> ReportQuery:
    """Validate a report request body the way the API does; raise ApiError when invalid."""
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    start = _date_field(body, "startDate")
    end = _date_field(body, "endDate")
    if start >= end:
        raise ApiError(400, "startDate must be before endDate (endDate is exclusive).")
    granularity = _choice(body, "granularity", GRANULARITIES, "day")
    projects = _strings(body, "projectNames")
    methods = _strings(body, "paymentMethodIds")
    if projects is not None and methods is not None:
        raise ApiError(400, "projectNames and paymentMethodIds are mutually exclusive.")
    for name in projects or ():
        state.project(name)
    for method_id in methods or ():
        state.method_key(method_id)
    group_by = _strings(body, "groupBy") or ("meter",)
    if any(field != "meter" for field in group_by):
        raise ApiError(400, "groupBy: only 'meter' is supported.")
    cap = MAX_DAYS.get(granularity)
    if cap is not None and (end - start).days > cap:
        raise ApiError(
            CAP_STATUS[granularity],
            f"The date range is too large for granularity '{granularity}': "
            f"at most {cap} days are allowed.",
            code="DateRangeTooLarge",
        )
    return ReportQuery(
        start=start,
        end=end,
        granularity=granularity,
        project_names=projects,
        payment_method_ids=methods,
        meter_names=_strings(body, "meterNames"),
        group_by=group_by,
        format=_choice(body, "format", FORMATS, "json"),
        download=_flag(body, "download"),
        reported=_flag(body, "filterOnReportedDate"),
    )


def _date_field(body: dict[str, Any], key: str) -> date:
    value = body.get(key)
    if value is None:
        raise ApiError(400, f"{key} is required.")
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ApiError(400, f"{key} must be a date in YYYY-MM-DD format.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"{key} '{value}' is not a valid date.") from None


def _choice(body: dict[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(key)
    if value is None:
        return default
    if value not in allowed:
        raise ApiError(400, f"{key} must be one of: {', '.join(allowed)}.")
    return str(value)


def _strings(body: dict[str, Any], key: str) -> tuple[str, ...] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ApiError(400, f"{key} must be a list of strings.")
    return tuple(value)


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise ApiError(400, f"{key} must be a boolean.")
    return value


def truncate(moment: datetime, granularity: str) -> datetime:
    """The start of the granularity bucket holding `moment` (weeks start on Monday)."""
    if granularity == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if granularity == "day":
        return day
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def rows(query: ReportQuery, engine: UsageEngine, state: MkioState, now: datetime) -> Iterator[Row]:
    """The report's rows, oldest bucket first, holding only a bucket's worth in memory."""
    first = query.start - timedelta(days=MAX_LAG_DAYS) if query.reported else query.start
    last = query.end - timedelta(days=1)
    facts = engine.facts(first, last, now, hourly=query.granularity == "hour")
    facts = _filtered(query, state, facts)
    if query.granularity in ("hour", "day"):
        for fact in facts:
            yield _row(fact, fact.start, fact.processed)
        return
    yield from _rolled_up(facts, query.granularity)


def _filtered(query: ReportQuery, state: MkioState, facts: Iterable[Fact]) -> Iterator[Fact]:
    projects = (
        {catalog.PROJECT_INDEX[name] for name in query.project_names}
        if query.project_names is not None
        else None
    )
    methods = (
        {state.method_key(method_id) for method_id in query.payment_method_ids}
        if query.payment_method_ids is not None
        else None
    )
    meters = set(query.meter_names) if query.meter_names is not None else None
    for fact in facts:
        if projects is not None and fact.project not in projects:
            continue
        if methods is not None and fact.method not in methods:
            continue
        if meters is not None and catalog.METERS[fact.meter].name not in meters:
            continue
        if query.reported:
            if fact.processed is None or not query.start <= fact.processed.date() < query.end:
                continue
        elif not query.start <= fact.start.date() < query.end:
            continue
        yield fact


def _row(fact: Fact, bucket: datetime, processed: datetime | None) -> Row:
    return Row(
        bucket,
        processed,
        fact.project,
        fact.meter,
        fact.method,
        fact.entitlement,
        fact.price,
        fact.quantity,
        fact.cost,
    )


def _rolled_up(facts: Iterable[Fact], granularity: str) -> Iterator[Row]:
    bucket: datetime | None = None
    groups: dict[tuple[Any, ...], Row] = {}
    for fact in facts:
        fact_bucket = truncate(fact.start, granularity)
        if fact_bucket != bucket:
            yield from _sorted(groups)
            groups = {}
            bucket = fact_bucket
        processed = truncate(fact.processed, granularity) if fact.processed else None
        key = (
            fact.project,
            fact.meter,
            processed is None,
            processed,
            fact.method,
            fact.entitlement,
        )
        row = groups.get(key)
        if row is None:
            groups[key] = _row(fact, fact_bucket, processed)
        else:
            row.quantity += fact.quantity
            row.cost += fact.cost
    yield from _sorted(groups)


def _sorted(groups: dict[tuple[Any, ...], Row]) -> list[Row]:
    return [groups[key] for key in sorted(groups, key=_group_order)]


def _group_order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    project, meter, unprocessed, processed, method, entitlement = key
    return (
        project,
        meter,
        unprocessed,
        processed or datetime.min.replace(tzinfo=UTC),
        method,
        entitlement or "",
    )


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def decimal_text(value: int, places: int) -> str:
    """An integer count of 10**-places units as an exact decimal string, e.g. "12.345600"."""
    sign = "-" if value < 0 else ""
    whole, fraction = divmod(abs(value), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}"


def meter_data(row: Row, state: MkioState) -> dict[str, Any]:
    """One MeterData object. Numbers are floats whose shortest repr is the exact decimal."""
    meter = catalog.METERS[row.meter]
    method = state.methods[row.method]
    return {
        "date": iso(row.date),
        "dateProcessed": iso(row.processed) if row.processed else None,
        "meterName": meter.name,
        "meterSku": meter.sku,
        "family": meter.family,
        "solution": meter.solution,
        "unit": meter.unit,
        "quantity": row.quantity / 1000,
        "price": row.price / 1_000_000,
        "cost": decimal_text(row.cost, 6),
        "currency": catalog.currency_of(meter),
        "project": catalog.PROJECTS[row.project].name,
        "paymentMethod": state.method_ids[row.method],
        "paymentMethodName": method.display_name,
        "entitlement": row.entitlement,
        "entitlementType": catalog.ENTITLEMENT_TYPE if row.entitlement else None,
    }


def csv_fields(row: Row, state: MkioState) -> list[str]:
    """One CSV line, in CSV_COLUMNS order, with exact decimal strings."""
    meter = catalog.METERS[row.meter]
    return [
        iso(row.date),
        iso(row.processed) if row.processed else "",
        catalog.PROJECTS[row.project].name,
        state.method_ids[row.method],
        state.methods[row.method].display_name,
        meter.name,
        meter.sku,
        meter.family,
        meter.solution,
        meter.unit,
        decimal_text(row.quantity, 3),
        decimal_text(row.price, 6),
        decimal_text(row.cost, 6),
        catalog.currency_of(meter),
        row.entitlement or "",
        catalog.ENTITLEMENT_TYPE if row.entitlement else "",
    ]


def project_usage(
    project_name: str, engine: UsageEngine, state: MkioState, now: datetime
) -> dict[str, Any]:
    """`GET /projects/{p}/usage`: month-to-date quantity per meter SKU, no cost."""
    project = state.project(project_name)
    index = catalog.PROJECT_INDEX[project.name]
    start = now.date().replace(day=1)
    totals: dict[int, int] = {}
    if project.definition.daily_units:
        for fact in engine.facts(start, now.date(), now, hourly=False):
            if fact.project == index:
                totals[fact.meter] = totals.get(fact.meter, 0) + fact.quantity
    value = [
        {
            "meterName": catalog.METERS[meter].name,
            "unit": catalog.METERS[meter].unit,
            "solution": catalog.METERS[meter].solution,
            "family": catalog.METERS[meter].family,
            "quantity": quantity / 1000,
        }
        for meter, quantity in sorted(totals.items())
    ]
    return {
        "supplemental": {
            "records": len(value),
            "start": start.isoformat(),
            "end": (now.date() + timedelta(days=1)).isoformat(),
            "project": project.name,
        },
        "value": value,
    }
