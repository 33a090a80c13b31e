from collections.abc import Callable
from decimal import Decimal

import pytest

from bot.money import format_amount, format_money, format_price, format_quantity, to_cents


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1234.567", "1,234.57 USD"),
        ("-12", "-12.00 USD"),
        ("0.005", "0.01 USD"),  # half up, where banker's rounding would give 0.00
        ("2.675", "2.68 USD"),
        ("-2.675", "-2.68 USD"),
        ("-0.004", "0.00 USD"),  # never "-0.00"
        ("1E+3", "1,000.00 USD"),
        ("1234567.891", "1,234,567.89 USD"),
        ("0", "0.00 USD"),
    ],
)
def test_format_money(amount: str, expected: str) -> None:
    assert format_money(Decimal(amount), "USD") == expected


def test_format_money_uses_the_given_currency() -> None:
    assert format_money(Decimal("5"), "EUR") == "5.00 EUR"
    assert format_amount(Decimal("9876.543")) == "9,876.54"


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        ("1234.50", "1,234.5"),
        ("12", "12"),
        ("12.000", "12"),
        ("0.001", "0.001"),
        ("0.0015", "0.002"),
        ("1234567.8915", "1,234,567.892"),
        ("-1234.5", "-1,234.5"),
        ("0", "0"),
        ("0.0004", "<0.001"),
        ("1E+3", "1,000"),
    ],
)
def test_format_quantity(quantity: str, expected: str) -> None:
    assert format_quantity(Decimal(quantity)) == expected


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("0.0035", "0.0035 USD"),  # a unit price is never rounded to cents
        ("0.00350000", "0.0035 USD"),
        ("3.5E-3", "0.0035 USD"),
        ("1.5", "1.50 USD"),
        ("1200", "1,200.00 USD"),
        ("12345.678901", "12,345.678901 USD"),
        ("-0.0000", "0.00 USD"),
    ],
)
def test_format_price_is_exact(price: str, expected: str) -> None:
    assert format_price(Decimal(price), "USD") == expected


def test_to_cents_rounds_half_up_and_stays_decimal() -> None:
    cents = to_cents(Decimal("2.345"))
    assert isinstance(cents, Decimal)
    assert cents == Decimal("2.35")
    assert cents.as_tuple().exponent == -2
    assert to_cents(Decimal("-2.345")) == Decimal("-2.35")
    assert to_cents(Decimal("7")) == Decimal("7.00")


@pytest.mark.parametrize(
    "call",
    [
        lambda: format_money(1.5, "USD"),  # type: ignore[arg-type]
        lambda: format_amount(1.5),  # type: ignore[arg-type]
        lambda: format_price(0.0035, "USD"),  # type: ignore[arg-type]
        lambda: format_quantity(2.5),  # type: ignore[arg-type]
        lambda: to_cents(0.1),  # type: ignore[arg-type]
        lambda: format_money("1.5", "USD"),  # type: ignore[arg-type]
    ],
)
def test_non_decimal_input_is_refused(call: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match="must be a Decimal"):
        call()


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_input_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="finite"):
        format_money(Decimal(value), "USD")
