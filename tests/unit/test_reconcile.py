"""Reconciliation on exact data: matched, mismatched (exact variance), unpriced, entitled,
several currencies, the tolerance's edge, the date drift, provisional days, Contro's check,
and the command's words."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from bot.apis.contro.models import UsageSummary
from bot.apis.mkio.models import RateCard, ReportRow
from bot.core.language.commands import Period, Reconcile, parse
from bot.core.reports.reconcile import (
    DEFAULT_TOLERANCE,
    MeterLine,
    RecordTally,
    ReportedFold,
    Tolerance,
    UsageFold,
    Verdict,
    check_contro,
    drift_of,
    price_lines,
)
from bot.errors import CommandError
from bot.money import CurrencyMismatch, Money, Totals

START, END = date(2026, 7, 1), date(2026, 8, 1)
USD_CARD = "pm-usd"
EUR_CARD = "pm-eur"


def row(
    cost: str,
    quantity: str,
    *,
    meter: str = "storage",
    sku: str | None = "S1",
    project: str = "p1",
    method: str | None = USD_CARD,
    currency: str = "USD",
    unit: str | None = "GB",
    day: int = 1,
    processed: date | None = date(2026, 7, 2),
    entitlement: str | None = None,
    when: date | None = None,
) -> ReportRow:
    used = when or date(2026, 7, day)
    return ReportRow.model_validate(
        {
            "date": datetime(used.year, used.month, used.day, tzinfo=UTC),
            "dateProcessed": (
                None
                if processed is None
                else datetime(processed.year, processed.month, processed.day, tzinfo=UTC)
            ),
            "meterName": meter,
            "meterSku": sku,
            "unit": unit,
            "quantity": Decimal(quantity),
            "cost": Decimal(cost),
            "currency": currency,
            "project": project,
            "paymentMethod": method,
            "entitlement": entitlement,
        }
    )


def card(prices: dict[str, tuple[str, str, str]], currency: str = "USD") -> RateCard:
    """prices: name -> (price, unit, sku)."""
    return RateCard.model_validate(
        {
            "spec": {
                "currency": currency,
                "rateCard": [
                    {
                        "prices": [
                            {"name": name, "price": Decimal(price), "unit": unit, "sku": sku}
                            for name, (price, unit, sku) in prices.items()
                        ]
                    }
                ],
            }
        }
    )


CARDS: dict[str, RateCard | str] = {
    USD_CARD: card(
        {
            "storage": ("0.021", "GB", "S1"),
            "egress": ("0.045", "GB", "E1"),
            "sd(vod)": ("0.02", "minutes", "V1"),
            "hd(vod)": ("0.04", "minutes", "V2"),
        }
    ),
    EUR_CARD: card({"storage": ("0.019", "GB", "S1")}, "EUR"),
}


def fold(*rows: ReportRow) -> UsageFold:
    f = UsageFold(START, END)
    f.add(rows)
    return f


def only(rows: list[ReportRow], assigned: dict[str, str | None] | None = None) -> MeterLine:
    [line] = price_lines(fold(*rows), CARDS, assigned or {})
    return line


# -- matched and mismatched -------------------------------------------------------------------


def test_cost_equal_to_quantity_times_price_matches() -> None:
    line = only([row("2.100000", "100", day=1), row("0.420000", "20", day=2)])
    assert line.verdict is Verdict.MATCHED
    assert line.quantity == Decimal(120)
    assert line.price == Money(Decimal("0.021"), "USD")
    assert line.expected == Money(Decimal("2.520"), "USD")
    assert line.variance == Money(Decimal("0"), "USD")
    assert line.variance_percent == Decimal(0)


def test_a_mispriced_meter_has_its_exact_variance_in_money_and_percent() -> None:
    # 12,400 GB billed at 0.0210 against a card of 0.0189: 26.04 too much, 11.11…%
    rows = [row("130.200000", "6200", day=1), row("130.200000", "6200", day=2)]
    [line] = price_lines(fold(*rows), {USD_CARD: card({"storage": ("0.0189", "GB", "S1")})}, {})
    assert line.verdict is Verdict.MISMATCHED
    assert line.expected == Money(Decimal("234.36"), "USD")
    assert line.reported == Money(Decimal("260.40"), "USD")
    assert line.variance == Money(Decimal("26.04"), "USD")
    assert line.variance_percent is not None
    assert str(line.variance_percent)[:12] == "11.111111111"


def test_billed_less_than_the_card_is_a_negative_variance() -> None:
    line = only([row("1.000000", "100")])
    assert line.verdict is Verdict.MISMATCHED
    assert line.variance == Money(Decimal("-1.1"), "USD")
    assert line.variance_percent is not None
    assert line.variance_percent < 0


def test_one_line_per_project_meter_sku_and_method() -> None:
    lines = price_lines(
        fold(
            row("2.1", "100", project="a"),
            row("2.1", "100", project="b"),
            row("2.0", "100", meter="vod", sku="V1", unit="minutes"),  # priced by SKU
            row("4.0", "100", meter="vod", sku="V2", unit="minutes"),
        ),
        CARDS,
        {},
    )
    assert [(x.project, x.meter, x.sku, x.verdict) for x in lines] == [
        ("a", "storage", "S1", Verdict.MATCHED),
        ("b", "storage", "S1", Verdict.MATCHED),
        ("p1", "vod", "V1", Verdict.MATCHED),
        ("p1", "vod", "V2", Verdict.MATCHED),
    ]
    assert [x.shared_name for x in lines] == [False, False, True, True]


# -- unpriced and entitled ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "cards", "reason"),
    [
        ({"meter": "drm", "sku": "D1"}, CARDS, "not on the rate card"),
        ({"method": "pm-gone"}, CARDS, "no rate card"),
        (
            {},
            {USD_CARD: "rate card unavailable: MK.IO says no"},
            "rate card unavailable: MK.IO says no",
        ),
        ({"method": None}, CARDS, "no payment method known"),
        ({"unit": "TB"}, CARDS, "rate card per GB, usage in TB"),
        ({"currency": "EUR"}, CARDS, "rate card in USD, billed in EUR"),
    ],
)
def test_what_cannot_be_compared_is_unpriced_with_the_reason(
    kwargs: dict[str, Any], cards: dict[str, RateCard | str], reason: str
) -> None:
    [line] = price_lines(fold(row("2.1", "100", **kwargs)), cards, {})
    assert line.verdict is Verdict.UNPRICED
    assert line.reason == reason
    assert line.expected is None
    assert line.variance is None


def test_a_row_without_its_payment_method_is_priced_by_the_projects() -> None:
    line = only([row("1.9", "100", method=None, currency="EUR")], {"p1": EUR_CARD})
    assert line.verdict is Verdict.MATCHED
    assert line.payment_method == EUR_CARD
    assert fold(row("1", "1", method=None)).projects_without_method() == ["p1"]


def test_usage_under_an_entitlement_is_shown_apart_not_judged() -> None:
    lines = price_lines(
        fold(row("0", "100", entitlement="ent-1"), row("2.1", "100", day=5)), CARDS, {}
    )
    assert sorted(x.verdict for x in lines) == [Verdict.ENTITLED, Verdict.MATCHED]


# -- currencies -----------------------------------------------------------------------------


def test_each_currency_is_priced_and_totalled_on_its_own() -> None:
    f = fold(
        row("2.1", "100"),
        row("1.9", "100", method=EUR_CARD, currency="EUR"),
        row("3.8", "100", method=EUR_CARD, currency="EUR", project="p2"),  # twice the card
    )
    lines = price_lines(f, CARDS, {})
    by = {(x.project, x.reported.currency): x for x in lines}
    assert by[("p1", "USD")].verdict is Verdict.MATCHED
    assert by[("p1", "EUR")].verdict is Verdict.MATCHED
    mismatched = by[("p2", "EUR")]
    assert mismatched.verdict is Verdict.MISMATCHED
    assert mismatched.variance == Money(Decimal("1.9"), "EUR")
    totals = Totals.of(x.reported for x in lines)
    assert totals.get("EUR") == Money(Decimal("5.7"), "EUR")
    assert totals.get("USD") == Money(Decimal("2.1"), "USD")
    with pytest.raises(CurrencyMismatch):
        _ = by[("p1", "USD")].reported + by[("p1", "EUR")].reported


# -- the tolerance's edge -------------------------------------------------------------------


def test_the_tolerance_is_the_larger_of_a_cent_and_a_tenth_of_a_percent() -> None:
    t = DEFAULT_TOLERANCE
    assert t.text == "0.01 or 0.1% of the expected cost, whichever is larger"
    # small amounts: one cent either way
    assert t.allows(Decimal("0.01"), Decimal("2"))
    assert t.allows(Decimal("-0.01"), Decimal("2"))
    assert not t.allows(Decimal("0.010001"), Decimal("2"))
    # large amounts: 0.1% of 1,000.00 is 1.00
    assert t.allows(Decimal("1.00"), Decimal("1000"))
    assert not t.allows(Decimal("1.000001"), Decimal("1000"))
    assert Tolerance(Decimal(0), Decimal(0)).allows(Decimal(0), Decimal(5))
    assert not Tolerance(Decimal(0), Decimal(0)).allows(Decimal("0.000001"), Decimal(5))


@pytest.mark.parametrize(
    ("cost", "verdict"),
    [
        ("2.110000", Verdict.MATCHED),
        ("2.110001", Verdict.MISMATCHED),
        ("2.090000", Verdict.MATCHED),
    ],
)
def test_a_line_on_the_edge_of_the_tolerance(cost: str, verdict: Verdict) -> None:
    assert only([row(cost, "100")]).verdict is verdict  # expected 2.10


# -- drift and provisional days -------------------------------------------------------------


def test_drift_between_usage_date_and_reported_date_is_explained_by_the_dates() -> None:
    usage = fold(
        row("2.1", "100", day=1),
        row("2.1", "100", day=31, processed=date(2026, 8, 1)),  # charged after the month
        row("4.2", "200", day=30, processed=None),  # not charged yet
    )
    reported = ReportedFold(START)
    reported.add(
        [
            row("2.1", "100", day=1),
            row("1.05", "50", when=date(2026, 6, 30), processed=date(2026, 7, 1)),
        ]
    )
    d = drift_of(usage, reported)
    assert d.by_usage == Totals((Money(Decimal("8.4"), "USD"),))
    assert d.by_reported == Totals((Money(Decimal("3.15"), "USD"),))
    assert d.difference == Totals((Money(Decimal("-5.25"), "USD"),))
    assert d.charged_later == Totals((Money(Decimal("2.1"), "USD"),))
    assert d.not_charged == Totals((Money(Decimal("4.2"), "USD"),))
    assert d.charged_from_before == Totals((Money(Decimal("1.05"), "USD"),))
    assert d.unexplained == Totals()
    assert usage.uncharged_days == {date(2026, 7, 30)}
    [line] = price_lines(usage, CARDS, {})
    assert line.provisional


def test_drift_the_dates_do_not_explain_is_said() -> None:
    usage = fold(row("2.1", "100"))
    reported = ReportedFold(START)
    reported.add([row("2.2", "100")])
    d = drift_of(usage, reported)
    assert d.unexplained == Totals((Money(Decimal("0.1"), "USD"),))


# -- Contro ---------------------------------------------------------------------------------


def summary(*items: tuple[str, str, int]) -> UsageSummary:
    return UsageSummary.model_validate(
        {
            "period": "2026-07",
            "items": [{"type": t, "total": Decimal(total), "count": n} for t, total, n in items],
        }
    )


def tally(*records: tuple[str, str]) -> RecordTally:
    t = RecordTally()
    t.add((kind, Decimal(amount)) for kind, amount in records)
    return t


def test_contro_summary_equal_to_its_records_per_type_matches() -> None:
    check = check_contro(
        summary(("kyc", "3.00", 2), ("api_call", "0.02", 2)),
        tally(("kyc", "1.50"), ("api_call", "0.01"), ("kyc", "1.50"), ("api_call", "0.01")),
        provisional=False,
    )
    assert check.matches
    assert [t.type for t in check.types] == ["kyc", "api_call"]
    assert check.summary_total == check.records_total == Money(Decimal("3.02"), "USD")


def test_contro_differences_are_found_per_type() -> None:
    check = check_contro(
        summary(("kyc", "3.00", 2), ("api_call", "0.02", 2), ("card_issuance", "5", 1)),
        tally(("kyc", "1.50"), ("kyc", "1.49"), ("api_call", "0.01"), ("new_type", "7")),
        provisional=True,
    )
    assert not check.matches
    assert check.provisional
    by = {t.type: t for t in check.types}
    assert not by["kyc"].matches
    assert by["kyc"].difference == Money(Decimal("-0.01"), "USD")
    assert not by["api_call"].matches  # 0.01 of 0.02, 1 record of 2
    assert by["card_issuance"].records_count == 0
    assert by["new_type"].summary_total is None
    assert by["new_type"].difference == Money(Decimal(7), "USD")
    assert [t.type for t in check.types][-1] == "new_type"


def test_contro_counts_must_match_too() -> None:
    check = check_contro(summary(("kyc", "3.00", 3)), tally(("kyc", "3.00")), provisional=False)
    assert not check.matches


# -- the command's words --------------------------------------------------------------------

TODAY = date(2026, 11, 21)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("reconcile 2026-07", Reconcile(Period(2026, 7))),
        ("RECONCILE last-month", Reconcile(Period(2026, 10))),
        ("reconcile this month", Reconcile(Period(2026, 11))),
        ("reconcile 2026-07 project my-project", Reconcile(Period(2026, 7), "my-project")),
    ],
)
def test_reconcile_parses(text: str, command: Reconcile) -> None:
    assert parse(text, TODAY) == command


@pytest.mark.parametrize(
    ("text", "said", "suggested"),
    [
        ("reconcile", "needs a month", "/billing reconcile last-month"),
        ("reconcile 2026-12", "has not begun yet", "/billing reconcile this-month"),
        (
            "reconcile 2027-01 project a",
            "has not begun yet",
            "/billing reconcile this-month project a",
        ),
        ("reconcile 2026-7", "two-digit month", "/billing reconcile 2026-07"),
        ("reconcile 2026-13", "01 to 12", None),
        ("reconcile 2026-07 projet a", "Unknown word", "/billing reconcile 2026-07 project a"),
        ("reconcile 2026-07 project", "needs a project name", "/billing reconcile 2026-07"),
        ("reconcile project a", "needs a month", "/billing reconcile last-month project a"),
    ],
)
def test_bad_reconcile_words_get_a_clear_reply(text: str, said: str, suggested: str | None) -> None:
    with pytest.raises(CommandError) as caught:
        parse(text, TODAY)
    assert said in caught.value.user_message
    if suggested is not None:
        assert caught.value.suggestion == suggested
