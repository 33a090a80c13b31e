"""Money and quantities as a person reads them. `Decimal` only: a float is refused, never rounded.

- `format_money(Decimal("1234.567"), "USD")` -> "1,234.57 USD" (2 decimals, half up)
- `format_price(Decimal("0.0035"), "USD")` -> "0.0035 USD" (unit prices: exact, at least 2 decimals)
- `format_quantity(Decimal("1234.50"))` -> "1,234.5" (at most 3 decimals, trailing zeros trimmed)
- `to_cents(Decimal("2.345"))` -> Decimal("2.35") (the amount rounded half up to whole cents)

An amount with its currency is a `Money`; adding two currencies raises `CurrencyMismatch`, and
`Totals` keeps one sum per currency. Every currency shown goes through `currency_label`, which
escapes anything but an ISO-4217-like code. `round_to_total` is the one rounding rule for rows
shown with their total: the rows add up to the total shown, to the cent. `exact()` is the one
decimal context for money arithmetic (sums never round), `exact_sum` a sum made in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import (
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)

from bot.mrkdwn import escape

_CENT = Decimal("0.01")
_MILLI = Decimal("0.001")
EXACT_DIGITS = 100  # far more than any real amount needs: sums never round, quantize never fails


def _require_decimal(value: object, what: str) -> Decimal:
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite number")
    return value


def _round(value: Decimal, step: Decimal) -> Decimal:
    with exact(rounds=True):
        rounded = value.quantize(step, rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded.is_zero() else rounded  # never "-0.00"


def to_cents(amount: Decimal) -> Decimal:
    """`amount` rounded half up to 2 decimal places (whole cents), still a `Decimal`."""
    return _round(_require_decimal(amount, "amount"), _CENT)


def format_amount(amount: Decimal) -> str:
    """ "1,234.57": an amount with thousands separators and 2 decimals, without a currency."""
    return f"{to_cents(amount):,f}"


def format_money(amount: Decimal, currency: str) -> str:
    """ "1,234.57 USD", "-12.00 USD": rounded half up to cents; safe in mrkdwn (the currency
    goes through `currency_label`)."""
    return f"{format_amount(amount)} {currency_label(currency)}"


def format_price(amount: Decimal, currency: str) -> str:
    """A unit price, exactly as the API gave it, with at least 2 decimals: "0.0035 USD"."""
    value = _require_decimal(amount, "price")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked above
    if exponent > -2:
        value = _round(value, _CENT)  # exact: adds zeros only
    text = f"{value:,f}"
    integer, _, decimals = text.partition(".")
    decimals = decimals.rstrip("0").ljust(2, "0")
    if set(integer + decimals) <= set("-,0"):
        integer = integer.lstrip("-")  # never "-0.00"
    return f"{integer}.{decimals} {currency_label(currency)}"


def format_quantity(quantity: Decimal) -> str:
    """ "1,234.5", "12", "0.001": thousands separators, at most 3 decimals, no trailing zeros.

    A quantity too small to show with 3 decimals reads "<0.001" rather than a misleading "0".
    """
    value = _require_decimal(quantity, "quantity")
    rounded = _round(value, _MILLI)
    if rounded.is_zero() and not value.is_zero():
        return "<0.001" if value > 0 else ">-0.001"
    text = f"{rounded:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# -- amounts that carry their currency --------------------------------------------------------

_ISO_CURRENCY = re.compile(r"[A-Z]{3}")


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were added, subtracted or compared."""

    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"amounts in {left!r} and {right!r} are never added or compared")
        self.currencies = (left, right)


def currency_label(currency: str) -> str:
    """The currency as mrkdwn may show it: an ISO-4217-like code ("USD") as it is; anything
    else (an upstream string such as `<!channel>`) escaped with `bot.mrkdwn.escape`, so
    it can never mention, link or format."""
    if _ISO_CURRENCY.fullmatch(currency):
        return currency
    return escape(currency)


@contextmanager
def exact(*, rounds: bool = False) -> Iterator[Context]:
    """The one decimal context for money arithmetic: EXACT_DIGITS digits. By default it raises
    `decimal.Inexact` rather than round, so a sum is exact or fails loudly; `rounds=True` is
    for a quotient (a percent, a share) or a quantize to cents, which may round in its last
    digit, far below anything shown."""
    traps = [InvalidOperation, DivisionByZero, Overflow]
    with localcontext(
        Context(prec=EXACT_DIGITS, traps=traps if rounds else [*traps, Inexact])
    ) as ctx:
        yield ctx


def exact_sum(amounts: Iterable[Decimal]) -> Decimal:
    """The sum of `amounts`, never rounded (raises `decimal.Inexact` rather than round)."""
    total = Decimal(0)
    with exact():
        for amount in amounts:
            total += amount
    return total


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount and its currency. Adding, subtracting or comparing two `Money`s in
    different currencies raises `CurrencyMismatch`: a sum can never mix them. `str()` is the
    amount as shown, rounded half up to cents, with a currency safe in mrkdwn."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        _require_decimal(self.amount, "amount")
        if not isinstance(self.currency, str):
            raise TypeError("currency must be a str")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"a Money cannot be combined with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)
        return other

    def __add__(self, other: Money) -> Money:
        other = self._same(other)
        with exact():
            return Money(self.amount + other.amount, self.currency)

    def __radd__(self, other: object) -> Money:
        if isinstance(other, int) and other == 0:  # sum() starts from 0
            return self
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        other = self._same(other)
        with exact():
            return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def is_zero(self) -> bool:
        return self.amount.is_zero()

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


@dataclass(frozen=True, slots=True)
class Totals:
    """One exact sum per currency, never one across them. Ordered: the currency with the
    most amounts first, ties by code (the rule `bot.core.reports.summary` uses for a report's main
    currency), so the same amounts always read the same way. Build with `Totals.of`."""

    sums: tuple[Money, ...] = ()

    @classmethod
    def of(cls, amounts: Iterable[Money]) -> Totals:
        sums: dict[str, Decimal] = {}
        counts: dict[str, int] = {}
        with exact():
            for money in amounts:
                sums[money.currency] = sums.get(money.currency, Decimal(0)) + money.amount
                counts[money.currency] = counts.get(money.currency, 0) + 1
        order = sorted(sums, key=lambda code: (-counts[code], code))
        return cls(tuple(Money(sums[code], code) for code in order))

    def __iter__(self) -> Iterator[Money]:
        return iter(self.sums)

    def __len__(self) -> int:
        return len(self.sums)

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(money.currency for money in self.sums)

    def get(self, currency: str) -> Money:
        """The sum in `currency`; zero when there is none."""
        for money in self.sums:
            if money.currency == currency:
                return money
        return Money.zero(currency)

    def others(self, currency: str) -> tuple[Money, ...]:
        """The sums in every currency but `currency`."""
        return tuple(money for money in self.sums if money.currency != currency)

    def is_zero(self) -> bool:
        return all(money.is_zero() for money in self.sums)

    def text(self, *, empty_currency: str = "USD") -> str:
        """ "5,300.68 USD + 120.00 EUR"; "0.00 USD" (in `empty_currency`) when empty."""
        if not self.sums:
            return str(Money.zero(empty_currency))
        return " + ".join(str(money) for money in self.sums)

    def __str__(self) -> str:
        return self.text()


def round_to_total(amounts: Sequence[Decimal]) -> list[Decimal]:
    """`amounts` rounded to cents so that they add up exactly to their total rounded half up
    to cents: the rule every table that shows rows and their total follows.

    Largest remainder: each amount is first rounded down (towards -infinity) to cents; the
    cents still missing to reach the rounded total go, one each, to the amounts that lost
    the most in that first step (ties: the earlier row). So each row shown is within one
    cent of its exact amount, and the rows shown always sum to the total shown."""
    values = [_require_decimal(a, "amount") for a in amounts]
    with exact(rounds=True):
        floors = [v.quantize(_CENT, rounding=ROUND_FLOOR) for v in values]
        target = to_cents(sum(values, Decimal(0)))
        missing = int((target - sum(floors, Decimal(0))) / _CENT)
        order = sorted(range(len(values)), key=lambda i: (-(values[i] - floors[i]), i))
        shown = list(floors)
        for i in order[:missing]:
            shown[i] += _CENT
    return [value.copy_abs() if value.is_zero() else value for value in shown]


ROUNDING_NOTE = "Rows are rounded to cents so that they add up to the total shown."
