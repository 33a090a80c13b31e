"""Does the bill add up? A month's reported cost against quantity × rate-card price, the
drift between usage date and reported date, and Contro's summary against its records.

Pure and Slack-free; exact `Decimal`, every amount with its currency (`bot.money`): a line
never compares a cost with a price in another currency, and totals are kept per currency.

- `UsageFold` sums a usage-dated report (rows by `date`, as they stream in) per line: project,
  meter, SKU, payment method, currency, and whether an entitlement covered it. It also keeps
  the days with usage not charged yet (`dateProcessed` null: provisional) and, for the drift,
  what was charged after the month or not yet. `ReportedFold` sums the same month's report by
  reported date (`filterOnReportedDate`), and what in it was used before the month.
- `price_lines` prices each line with the rate card of the line's payment method (the row's
  `paymentMethod`, else the project's assigned method): quantity × the card's unit price,
  matched by exact name then SKU (`RateCard.price_for`: no guessing). A line is *matched* when
  |reported − expected| is within the `Tolerance`, *mismatched* otherwise (variance in money
  and percent of the expected cost), *unpriced* when there is nothing to compare with (no
  price on the card, no card, a card in another currency or priced per another unit), and
  *entitled* when an entitlement covered it (MK.IO's `cost` then depends on the entitlement's
  type, so it is shown, not judged). MK.IO's document has one unit price per meter, no tiers;
  location prices are not used (which location group a project falls in is undocumented).
- `check_contro` compares Contro's period summary with the sum of its records, per type:
  totals exactly equal, counts equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from bot.apis.contro.models import CURRENCY as CONTRO_CURRENCY
from bot.apis.contro.models import UsageSummary
from bot.apis.mkio.models import RateCard, ReportRow
from bot.clock import as_utc
from bot.money import Money, Totals, exact

__all__ = [
    "DEFAULT_TOLERANCE",
    "ControCheck",
    "ControTypeCheck",
    "Drift",
    "MeterLine",
    "Reconciliation",
    "RecordTally",
    "ReportedFold",
    "Tolerance",
    "UsageFold",
    "Verdict",
    "check_contro",
    "drift_of",
    "price_lines",
]

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Tolerance:
    """A line matches when |reported − expected| ≤ the larger of `absolute` (in the line's
    currency) and `relative` × |expected|: MK.IO rounds each row's cost, so a month of daily
    rows may differ from one multiplication by a fraction of a cent per row."""

    absolute: Decimal
    relative: Decimal

    def allows(self, variance: Decimal, expected: Decimal) -> bool:
        with exact(rounds=True):
            limit = max(self.absolute, self.relative * abs(expected))
        return abs(variance) <= limit

    @property
    def text(self) -> str:
        """ "0.01 or 0.1% of the expected cost, whichever is larger"."""
        with exact(rounds=True):
            percent = (self.relative * _HUNDRED).normalize()
        return f"{self.absolute:f} or {percent:f}% of the expected cost, whichever is larger"


DEFAULT_TOLERANCE = Tolerance(absolute=Decimal("0.01"), relative=Decimal("0.001"))


class Verdict(StrEnum):
    MATCHED = "matched"
    MISMATCHED = "mismatched"
    UNPRICED = "unpriced"
    ENTITLED = "entitled"


# -- folding the reports as they stream in ----------------------------------------------------


@dataclass(frozen=True, order=True)
class _Key:
    project: str
    meter: str
    sku: str
    method: str  # the row's payment method ID; "" when the row does not say
    currency: str
    entitled: bool


@dataclass
class _Line:
    quantity: Decimal = _ZERO
    cost: Decimal = _ZERO
    unit: str | None = None
    method_name: str | None = None
    uncharged: bool = False


def _day(moment: datetime) -> date:
    return as_utc(moment).date()


class UsageFold:
    """A report by usage date (`granularity` `day`) for [start, end), summed per line."""

    def __init__(self, start: date, end: date) -> None:
        self.start, self.end = start, end
        self.lines: dict[_Key, _Line] = {}
        self.uncharged_days: set[date] = set()
        self.total: list[Money] = []
        self.charged_later: list[Money] = []  # usage of the month charged after it
        self.not_charged: list[Money] = []  # usage of the month not charged yet

    def add(self, rows: Sequence[ReportRow]) -> None:
        with exact():
            for row in rows:
                key = _Key(
                    project=row.project or "",
                    meter=row.meter_name,
                    sku=row.meter_sku or "",
                    method=row.payment_method or "",
                    currency=row.currency,
                    entitled=bool(row.entitlement or row.entitlement_type),
                )
                line = self.lines.setdefault(key, _Line())
                line.quantity += row.quantity
                line.cost += row.cost
                line.unit = line.unit or row.unit
                line.method_name = line.method_name or row.payment_method_name
                money = Money(row.cost, row.currency)
                self.total.append(money)
                if row.date_processed is None:
                    line.uncharged = True
                    self.uncharged_days.add(_day(row.date))
                    self.not_charged.append(money)
                elif _day(row.date_processed) >= self.end:
                    self.charged_later.append(money)

    def projects_without_method(self) -> list[str]:
        """Projects with rows that do not name their payment method."""
        return sorted({k.project for k in self.lines if not k.method and k.project})

    def method_ids(self) -> set[str]:
        return {k.method for k in self.lines if k.method}


class ReportedFold:
    """The same month's report by reported date: its total, and what in it was used before
    the month began (charged late, inside the month)."""

    def __init__(self, start: date) -> None:
        self.start = start
        self.total: list[Money] = []
        self.charged_from_before: list[Money] = []

    def add(self, rows: Sequence[ReportRow]) -> None:
        for row in rows:
            money = Money(row.cost, row.currency)
            self.total.append(money)
            if _day(row.date) < self.start:
                self.charged_from_before.append(money)


# -- the answer -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MeterLine:
    """One project's meter (SKU) under one payment method, in one currency."""

    project: str
    meter: str
    sku: str | None
    payment_method: str | None  # its ID; None when neither the rows nor the project say
    payment_method_name: str | None
    unit: str | None
    quantity: Decimal
    reported: Money  # MK.IO's cost, the exact sum of the rows'
    price: Money | None  # the rate card's unit price, when there is one to compare with
    verdict: Verdict
    reason: str | None = None  # why a line is unpriced: plain words, escaped when shown
    provisional: bool = False  # some of its usage is not charged yet
    shared_name: bool = False  # other lines have this meter name under another SKU

    @property
    def expected(self) -> Money | None:
        """quantity × the rate card's price, exactly."""
        if self.price is None:
            return None
        with exact():
            return Money(self.quantity * self.price.amount, self.price.currency)

    @property
    def variance(self) -> Money | None:
        """reported − expected (positive: billed more than the rate card says)."""
        expected = self.expected
        return None if expected is None else self.reported - expected

    @property
    def variance_percent(self) -> Decimal | None:
        """The variance as a percent of the expected cost; None when that is 0."""
        variance, expected = self.variance, self.expected
        if variance is None or expected is None or expected.is_zero():
            return None
        with exact(rounds=True):
            return variance.amount / abs(expected.amount) * _HUNDRED


@dataclass(frozen=True)
class Drift:
    """The month by usage date against the month by reported date, per currency."""

    by_usage: Totals
    by_reported: Totals
    charged_later: Totals  # usage of the month charged after it ended
    not_charged: Totals  # usage of the month not charged yet
    charged_from_before: Totals  # usage before the month, charged in it

    @property
    def difference(self) -> Totals:
        """by reported date − by usage date."""
        return _nonzero(Totals.of([*self.by_reported, *(-m for m in self.by_usage)]))

    @property
    def unexplained(self) -> Totals:
        """What the dates do not explain: by reported − (by usage − charged later − not
        charged + charged from before). Zero when MK.IO's two views agree."""
        return _nonzero(
            Totals.of(
                [
                    *self.by_reported,
                    *(-m for m in self.by_usage),
                    *self.charged_later,
                    *self.not_charged,
                    *(-m for m in self.charged_from_before),
                ]
            )
        )


def _nonzero(totals: Totals) -> Totals:
    return Totals(tuple(m for m in totals if not m.is_zero()))


@dataclass(frozen=True)
class ControTypeCheck:
    type: str
    summary_total: Decimal | None  # None: the summary does not list the type
    summary_count: int | None
    records_total: Decimal
    records_count: int

    @property
    def matches(self) -> bool:
        return self.summary_total == self.records_total and self.summary_count == (
            self.records_count
        )

    @property
    def difference(self) -> Money:
        """records − summary."""
        with exact():
            return Money(self.records_total - (self.summary_total or _ZERO), CONTRO_CURRENCY)


@dataclass(frozen=True)
class ControCheck:
    period: str
    types: tuple[ControTypeCheck, ...]
    provisional: bool  # the period is not over: both may still grow

    @property
    def matches(self) -> bool:
        return all(t.matches for t in self.types)

    @property
    def summary_total(self) -> Money:
        with exact():
            return Money(
                sum((t.summary_total or _ZERO for t in self.types), _ZERO), CONTRO_CURRENCY
            )

    @property
    def records_total(self) -> Money:
        with exact():
            return Money(sum((t.records_total for t in self.types), _ZERO), CONTRO_CURRENCY)


@dataclass(frozen=True)
class Reconciliation:
    period: str  # YYYY-MM
    start: date
    end: date  # exclusive: the month's end, even while it runs
    project: str | None
    lines: tuple[MeterLine, ...]
    tolerance: Tolerance
    drift: Drift
    uncharged_days: tuple[date, ...]  # days with usage not charged yet: provisional
    open_from: date | None  # this month: from today on, the days are not over (provisional)
    fetched_at: datetime
    contro: ControCheck | None = None
    contro_note: str | None = None  # why there is no Contro check

    def of(self, verdict: Verdict) -> tuple[MeterLine, ...]:
        return tuple(line for line in self.lines if line.verdict is verdict)

    @property
    def reported(self) -> Totals:
        return Totals.of(line.reported for line in self.lines)

    @property
    def provisional(self) -> bool:
        return bool(self.uncharged_days) or self.open_from is not None


# -- pricing --------------------------------------------------------------------------------


def _priced(
    key: _Key, line: _Line, method: str | None, cards: Mapping[str, RateCard | str]
) -> tuple[Money | None, Verdict | None, str | None]:
    """The card's price for a line, or (None, UNPRICED, why)."""
    if method is None:
        return None, Verdict.UNPRICED, "no payment method known"
    card = cards.get(method)
    if card is None:
        return None, Verdict.UNPRICED, "no rate card"
    if isinstance(card, str):
        return None, Verdict.UNPRICED, card
    price = card.price_for(key.meter, key.sku or None)
    if price is None:
        return None, Verdict.UNPRICED, "not on the rate card"
    if card.spec.currency != key.currency:
        return (
            None,
            Verdict.UNPRICED,
            f"rate card in {card.spec.currency}, billed in {key.currency}",
        )
    if not price.per(line.unit):
        return None, Verdict.UNPRICED, f"rate card per {price.unit}, usage in {line.unit}"
    return Money(price.price, card.spec.currency), None, None


def price_lines(
    fold: UsageFold,
    cards: Mapping[str, RateCard | str],
    assigned: Mapping[str, str | None],
    tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> tuple[MeterLine, ...]:
    """Every line of `fold` priced and judged. `cards`: payment method ID → its rate card, or
    why there is none; `assigned`: project → its assigned method, for rows that name none."""
    skus: dict[str, set[str]] = {}
    for key in fold.lines:
        skus.setdefault(key.meter, set()).add(key.sku)
    out: list[MeterLine] = []
    for key in sorted(fold.lines):
        line = fold.lines[key]
        method = key.method or assigned.get(key.project)
        price, verdict, reason = _priced(key, line, method, cards)
        reported = Money(line.cost, key.currency)
        if key.entitled:
            verdict, reason = Verdict.ENTITLED, None
        elif verdict is None:
            assert price is not None
            with exact():
                variance = line.cost - line.quantity * price.amount
                expected = line.quantity * price.amount
            matched = tolerance.allows(variance, expected)
            verdict = Verdict.MATCHED if matched else Verdict.MISMATCHED
        out.append(
            MeterLine(
                project=key.project,
                meter=key.meter,
                sku=key.sku or None,
                payment_method=method,
                payment_method_name=line.method_name,
                unit=line.unit,
                quantity=line.quantity,
                reported=reported,
                price=price,
                verdict=verdict,
                reason=reason,
                provisional=line.uncharged,
                shared_name=len(skus[key.meter]) > 1,
            )
        )
    return tuple(out)


def drift_of(usage: UsageFold, reported: ReportedFold) -> Drift:
    return Drift(
        by_usage=Totals.of(usage.total),
        by_reported=Totals.of(reported.total),
        charged_later=Totals.of(usage.charged_later),
        not_charged=Totals.of(usage.not_charged),
        charged_from_before=Totals.of(reported.charged_from_before),
    )


# -- Contro ---------------------------------------------------------------------------------


@dataclass
class RecordTally:
    """Contro records summed per type as their pages arrive."""

    totals: dict[str, Decimal] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, records: Iterable[tuple[str, Decimal]]) -> None:
        with exact():
            for kind, amount in records:
                self.totals[kind] = self.totals.get(kind, _ZERO) + amount
                self.counts[kind] = self.counts.get(kind, 0) + 1


def check_contro(summary: UsageSummary, tally: RecordTally, *, provisional: bool) -> ControCheck:
    """Per type, the summary's total and count against the records'; the summary's types
    first, in its order, then types only the records have. A type listed twice in the
    summary is summed."""
    totals: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    with exact():
        for item in summary.items:
            totals[item.type] = totals.get(item.type, _ZERO) + item.total
            counts[item.type] = counts.get(item.type, 0) + item.count
    kinds = [*totals, *(k for k in sorted(tally.totals) if k not in totals)]
    return ControCheck(
        period=summary.period,
        types=tuple(
            ControTypeCheck(
                type=kind,
                summary_total=totals.get(kind),
                summary_count=counts.get(kind),
                records_total=tally.totals.get(kind, _ZERO),
                records_count=tally.counts.get(kind, 0),
            )
            for kind in kinds
        ),
        provisional=provisional,
    )
