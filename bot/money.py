"""Money and quantities as a person reads them. `Decimal` only: a float is refused, never rounded.

- `format_money(Decimal("1234.567"), "USD")` -> "1,234.57 USD" (2 decimals, half up)
- `format_price(Decimal("0.0035"), "USD")` -> "0.0035 USD" (unit prices: exact, at least 2 decimals)
- `format_quantity(Decimal("1234.50"))` -> "1,234.5" (at most 3 decimals, trailing zeros trimmed)
- `to_cents(Decimal("2.345"))` -> Decimal("2.35") (the amount rounded half up to whole cents)
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

_CENT = Decimal("0.01")
_MILLI = Decimal("0.001")
_PRECISION = 60  # enough digits that quantize never fails on a real-world amount


def _require_decimal(value: object, what: str) -> Decimal:
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{what} must be a finite number")
    return value


def _round(value: Decimal, step: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        rounded = value.quantize(step, rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded.is_zero() else rounded  # never "-0.00"


def to_cents(amount: Decimal) -> Decimal:
    """`amount` rounded half up to 2 decimal places (whole cents), still a `Decimal`."""
    return _round(_require_decimal(amount, "amount"), _CENT)


def format_amount(amount: Decimal) -> str:
    """ "1,234.57": an amount with thousands separators and 2 decimals, without a currency."""
    return f"{to_cents(amount):,f}"


def format_money(amount: Decimal, currency: str) -> str:
    """ "1,234.57 USD", "-12.00 USD": rounded half up to cents."""
    return f"{format_amount(amount)} {currency}"


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
    return f"{integer}.{decimals} {currency}"


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
