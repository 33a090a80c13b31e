import decimal
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.money import (
    EXACT_DIGITS,
    CurrencyMismatch,
    Money,
    Totals,
    currency_label,
    exact,
    exact_sum,
    format_amount,
    format_money,
    format_price,
    format_quantity,
    round_to_total,
    to_cents,
)
from bot.mrkdwn import escape


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


# -- Money, Totals and the rounding rule ------------------------------------------------------


def test_money_in_two_currencies_never_adds_up() -> None:
    usd, eur = Money(Decimal("1.50"), "USD"), Money(Decimal("2"), "EUR")
    assert usd + Money(Decimal("1"), "USD") == Money(Decimal("2.50"), "USD")
    assert sum([usd, usd]) == Money(Decimal("3.00"), "USD")
    with pytest.raises(CurrencyMismatch):
        _ = usd + eur
    with pytest.raises(CurrencyMismatch):
        _ = usd - eur
    with pytest.raises(CurrencyMismatch):
        sum([usd, eur])
    with pytest.raises(CurrencyMismatch):
        _ = usd < eur
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]


def test_totals_keep_one_sum_per_currency_in_a_fixed_order() -> None:
    amounts = [
        Money(Decimal("100"), "JPY"),
        Money(Decimal("1.005"), "USD"),
        Money(Decimal("2"), "USD"),
    ]
    totals = Totals.of(amounts)
    assert totals.currencies == ("USD", "JPY")  # most amounts first
    assert totals.get("USD") == Money(Decimal("3.005"), "USD")
    assert totals.get("EUR") == Money.zero("EUR")
    assert totals.others("USD") == (Money(Decimal("100"), "JPY"),)
    assert totals.text() == "3.01 USD + 100.00 JPY"
    assert Totals.of(reversed(amounts)) == totals
    assert Totals().text(empty_currency="EUR") == "0.00 EUR"


def test_a_currency_that_is_not_a_code_is_escaped() -> None:
    assert format_money(Decimal(1), "<!channel>") == "1.00 &lt;!channel&gt;"
    assert str(Money(Decimal(1), "a&b")) == "1.00 a&amp;b"
    assert currency_label("EUR") == "EUR"


def test_round_to_total_gives_the_lost_cent_to_the_largest_remainder() -> None:
    thirds = [Decimal("0.333"), Decimal("0.333"), Decimal("0.334")]
    assert round_to_total(thirds) == [Decimal("0.33"), Decimal("0.33"), Decimal("0.34")]
    # each half up: 0.01 + 0.01 + 0.01 = 0.03, but the total 0.015 shows as 0.02
    halves = [Decimal("0.005"), Decimal("0.005"), Decimal("0.005")]
    assert round_to_total(halves) == [Decimal("0.01"), Decimal("0.01"), Decimal("0.00")]
    assert round_to_total([]) == []


@given(
    st.lists(
        st.integers(min_value=-(10**9), max_value=10**9).map(lambda n: Decimal(n).scaleb(-4)),
        max_size=40,
    )
)
def test_rows_shown_always_add_up_to_the_total_shown(amounts: list[Decimal]) -> None:
    shown = round_to_total(amounts)
    assert sum(shown, Decimal(0)) == to_cents(sum(amounts, Decimal(0)))
    for amount, cents in zip(amounts, shown, strict=True):
        assert cents == cents.quantize(Decimal("0.01"))
        assert abs(cents - amount) < Decimal("0.01")


# -- the one exact context ---------------------------------------------------------------------


def test_exact_sums_never_round() -> None:
    tiny = Decimal("1e-60")
    assert exact_sum([Decimal("1e30"), tiny, -Decimal("1e30")]) == tiny  # 91 digits, kept
    with pytest.raises(decimal.Inexact):
        exact_sum([Decimal("1e80"), Decimal("1e-80")])  # 161 digits: refused, not rounded


def test_exact_context_has_the_digits_and_refuses_to_round() -> None:
    with exact() as ctx:
        assert ctx.prec == EXACT_DIGITS
        with pytest.raises(decimal.Inexact):
            _ = Decimal(1) / Decimal(3)


def test_exact_context_that_rounds_takes_quotients_and_quantize() -> None:
    with exact(rounds=True) as ctx:
        third = Decimal(1) / Decimal(3)
        assert ctx.prec == EXACT_DIGITS
        assert len(third.as_tuple().digits) == EXACT_DIGITS
        assert (Decimal("1e40") / 3).quantize(Decimal("0.1")) > 0  # never InvalidOperation


def test_exact_context_leaves_the_callers_context_alone() -> None:
    before = decimal.getcontext().prec
    with exact():
        pass
    assert decimal.getcontext().prec == before


def test_currency_label_escapes_with_the_one_escape() -> None:
    assert currency_label("<!channel>") == escape("<!channel>") == "&lt;!channel&gt;"
