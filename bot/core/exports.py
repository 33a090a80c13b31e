"""Streaming CSV exports, independent of Slack.

`export_contro_records` follows Contro's pagination to the end (`limit=100`: the fewest
requests, either pagination style) and writes each page's rows into a binary file as it
arrives, so memory stays flat whatever the number of records.

Given the period's types (from Contro's summary) and no type filter, it follows one chain of
pages per type (`type=<t>`), all at once, each into its own temporary file, then joins them:
the file holds the types in sorted order (by code point), each type's records in Contro's
order. Contro's pace and concurrency bounds live in its client (`ControClient`), so the
chains never ask faster than the key allows; the wall time is then the longest chain's, not
the sum of all pages. The result carries what the
upload message needs (row count, exact total, totals per type) and what a benchmark or a
test checks (requests made, bytes written); `reconcile` compares it with the period's summary.

The file is UTF-8 CSV (RFC 4180, CRLF line ends) with the columns of `CONTRO_COLUMNS`:
amounts exactly as Contro sent them (a `Decimal`, never in exponent notation), written with
six decimals as MK.IO's CSV writes costs (more if Contro sent more: never rounded), beside
their currency (Contro's amounts are in USD, its documentation says, with no currency field);
timestamps in UTC ISO 8601 with a `Z`. A text cell that a spreadsheet would run as a formula
gets a leading `'` (`bot.apis.csvsafe.neutralise_cell`, the rule for every CSV the bot
uploads); amounts are never altered.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from time import monotonic
from typing import BinaryIO, Final

from bot.apis.contro.client import MAX_LIMIT, ControClient
from bot.apis.contro.models import CURRENCY, UsageRecord, UsageSummary
from bot.apis.csvsafe import neutralise_cell
from bot.clock import as_utc
from bot.money import exact, format_money

CONTRO_COLUMNS: Final = (
    "id",
    "type",
    "amount",
    "currency",
    "referenceId",
    "billingPeriod",
    "createdAt",
)
# Decimal places of an amount, as MK.IO's CSV writes costs; more when Contro sent more.
AMOUNT_PLACES: Final = 6

_UNSAFE_NAME: Final = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME_PART: Final = 60


@dataclass(frozen=True)
class ExportProgress:
    """How far an export has got: pages fetched, data rows written, bytes written so far."""

    pages: int
    rows: int
    bytes_written: int


@dataclass(frozen=True)
class ControExport:
    """A finished Contro records export."""

    period: str
    type: str | None
    rows: int
    requests: int
    """Pages fetched: one upstream request each (retries of a page not counted)."""
    total: Decimal
    """The exact sum of the amounts written."""
    totals_by_type: dict[str, Decimal]
    bytes_written: int
    """The whole file, header included."""
    counts_by_type: dict[str, int] = field(default_factory=dict)
    """Rows written per type (same keys as `totals_by_type`)."""


ProgressCallback = Callable[[ExportProgress], Awaitable[None]]


class _Tally:
    """What the chains of one export have fetched and written so far, and when it was last
    reported."""

    def __init__(self, on_progress: ProgressCallback | None, every: float) -> None:
        self.pages = self.rows = self.bytes_written = 0
        self.total = Decimal(0)
        self.totals: dict[str, Decimal] = {}
        self.counts: dict[str, int] = {}
        self._on_progress = on_progress
        self._every = every
        self._last_report = monotonic()
        self._reporting = False

    def add(self, records: Sequence[UsageRecord], written: int) -> None:
        self.pages += 1
        with exact():  # sums never round
            for record in records:
                self.total += record.amount
                kind = record.type
                self.totals[kind] = self.totals.get(kind, Decimal(0)) + record.amount
                self.counts[kind] = self.counts.get(kind, 0) + 1
        self.rows += len(records)
        self.bytes_written += written

    async def maybe_report(self) -> None:
        # One report at a time: a chain does not wait for another chain's report to finish.
        if self._on_progress is None or self._reporting:
            return
        if monotonic() - self._last_report < self._every:
            return
        self._reporting = True
        try:
            await self._on_progress(ExportProgress(self.pages, self.rows, self.bytes_written))
        finally:
            self._reporting = False
            self._last_report = monotonic()

    def result(self, period: str, type: str | None) -> ControExport:
        return ControExport(
            period=period,
            type=type,
            rows=self.rows,
            requests=self.pages,
            total=self.total,
            totals_by_type=self.totals,
            bytes_written=self.bytes_written,
            counts_by_type=self.counts,
        )


async def export_contro_records(
    contro: ControClient,
    period: str,
    dest: BinaryIO,
    *,
    type: str | None = None,
    types: Sequence[str] = (),
    on_progress: ProgressCallback | None = None,
    progress_every: float = 2.0,
) -> ControExport:
    """Write every record of `period` (of one `type`, if given) as CSV into `dest`.

    Pages are fetched with `limit=100` and written as they come; only one page per chain is
    ever held in memory. `dest` is written to, never closed or rewound. A record of another
    type than its chain asked for (an upstream that ignored the filter) is left out.

    `types`, used only without `type`: the period's types (Contro's summary), fetched as
    concurrent chains and joined in sorted order (see the module docstring). Without them,
    one chain of every record, in Contro's order. A record of a type not listed is then not
    fetched: the caller reconciles with the same summary.

    `on_progress` is awaited after a page when at least `progress_every` seconds (by
    `time.monotonic`) have passed since the export started or since its previous call, so
    at most one call per `progress_every` seconds; not after the last page (the returned
    `ControExport` says the rest). Its exceptions, like the client's (`bot.errors`), end the
    export and propagate; `dest` then holds a partial file.
    """
    tally = _Tally(on_progress, progress_every)
    tally.bytes_written = _write(dest, _csv_rows([CONTRO_COLUMNS]))
    chains = sorted(set(types)) if type is None else []
    if len(chains) < 2:
        only = type if type is not None else (chains[0] if chains else None)
        await _chain(contro, period, only, dest, tally)
        return tally.result(period, type)

    spools = [tempfile.TemporaryFile() for _ in chains]  # noqa: SIM115 (closed below)
    try:
        async with asyncio.TaskGroup() as group:
            for kind, spool in zip(chains, spools, strict=True):
                group.create_task(_chain(contro, period, kind, spool, tally))
        for spool in spools:
            spool.seek(0)
            shutil.copyfileobj(spool, dest)
    except ExceptionGroup as failures:  # the first failure is the one to report
        raise _first(failures) from None
    finally:
        for spool in spools:
            spool.close()
    return tally.result(period, type)


async def _chain(
    contro: ControClient, period: str, type: str | None, dest: BinaryIO, tally: _Tally
) -> None:
    """One chain of pages (of `type`, or of every type) into `dest`."""
    async for page in contro.iter_pages(period, type=type, limit=MAX_LIMIT):
        records = [r for r in page.records if type is None or r.type == type]
        tally.add(records, _write(dest, _csv_rows(_row(record) for record in records)))
        if page.next_token is not None:
            await tally.maybe_report()


def contro_export_filename(period: str, type: str | None) -> str:
    """ "contro-usage-records_2026-10.csv", or "..._type-kyc.csv" with a type filter.

    Anything but letters, digits, `.`, `_` and `-` becomes `-`, so a typed or upstream value
    can never make a path, a hidden file or an odd extension.
    """
    parts = ["contro-usage-records", _name_part(period) or "period"]
    if type:
        parts.append(f"type-{_name_part(type) or 'other'}")
    return "_".join(parts) + ".csv"


def reconcile(export: ControExport, summary: UsageSummary) -> str | None:
    """None when the export matches the summary, else one line saying how they differ.

    Without a type filter every type of the summary is compared, with one only that type.
    Totals must be exactly equal (`Decimal`, not rounded) and so must the record counts.
    """
    if summary.period != export.period:
        return (
            f"the summary is for {summary.period} but the export is for {export.period}, "
            "so they cannot be compared"
        )
    items = [i for i in summary.items if export.type is None or i.type == export.type]
    expected_total = sum((i.total for i in items), Decimal(0))
    expected_count = sum(i.count for i in items)
    differing = _differing_types(export, summary) if export.type is None else []
    if expected_total == export.total and expected_count == export.rows and not differing:
        return None

    export_money = format_money(export.total, CURRENCY)
    summary_money = format_money(expected_total, CURRENCY)
    if expected_total == export.total and expected_count == export.rows:
        return (
            f"the export totals {export_money} over {_records(export.rows)} as the summary "
            f"does, but not per type: {', '.join(differing)} differ"
        )
    line = (
        f"the export totals {export_money} over {_records(export.rows)}, "
        f"the summary says {summary_money} over {_count(expected_count)}"
    )
    if export_money == summary_money and expected_total != export.total:
        line += f" (they differ by {format(export.total - expected_total, 'f')} {CURRENCY})"
    if differing:
        line += f"; types that differ: {', '.join(differing)}"
    return line


# -- helpers ----------------------------------------------------------------------------------


def _first(group: BaseExceptionGroup[Exception]) -> Exception:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first


def _row(record: UsageRecord) -> tuple[str, ...]:
    return (
        neutralise_cell(record.id),
        neutralise_cell(record.type),
        amount_text(record.amount),
        CURRENCY,
        neutralise_cell(record.reference_id or ""),
        neutralise_cell(record.billing_period or ""),
        _utc_iso(record.created_at),
    )


def amount_text(amount: Decimal) -> str:
    """ "50.000000", "0.150000", "0.000000001": at least AMOUNT_PLACES decimals, exactly (a
    padded figure, never a rounded one)."""
    exponent = amount.as_tuple().exponent
    places = max(AMOUNT_PLACES, -exponent if isinstance(exponent, int) else 0)
    return f"{amount:.{places}f}"


def _csv_rows(rows: Iterable[Iterable[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _write(dest: BinaryIO, data: bytes) -> int:
    if data:
        dest.write(data)
    return len(data)


def _utc_iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def _name_part(value: str) -> str:
    return _UNSAFE_NAME.sub("-", value).strip(".-_")[:_MAX_NAME_PART].strip(".-_")


def _records(count: int) -> str:
    return "1 record" if count == 1 else f"{count:,} records"


def _count(count: int) -> str:
    return f"{count:,}"


def _differing_types(export: ControExport, summary: UsageSummary) -> list[str]:
    """Types whose total (and count, when the export has counts) differ from the summary's."""
    with_counts = bool(export.counts_by_type) or export.rows == 0
    expected = {item.type: (item.total, item.count) for item in summary.items}
    types = list(expected) + [t for t in export.totals_by_type if t not in expected]
    differing = []
    for kind in types:
        total, count = expected.get(kind, (Decimal(0), 0))
        if export.totals_by_type.get(kind, Decimal(0)) != total or (
            with_counts and export.counts_by_type.get(kind, 0) != count
        ):
            differing.append(kind)
    return differing
