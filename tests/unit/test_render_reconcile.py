"""`/billing reconcile`'s message: the verdict, the mismatched meter with its exact variance,
what is not compared, the drift, Contro's check, the provisional days, and hostile names."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

from bot.apis.contro.models import UsageSummary
from bot.apis.mkio.models import RateCard, ReportRow
from bot.core.reports.reconcile import (
    DEFAULT_TOLERANCE,
    Reconciliation,
    RecordTally,
    ReportedFold,
    UsageFold,
    check_contro,
    drift_of,
    price_lines,
)
from bot.slack.render.reconcile import render_reconciliation
from tests.unit.test_reconcile import CARDS, END, EUR_CARD, START, card, row
from tests.unit.test_render_common import dump, visible

AT = datetime(2026, 7, 20, 9, tzinfo=UTC)
HOSTILE = "<!channel>"


def answer(
    *rows: ReportRow,
    cards: Mapping[str, RateCard | str] = CARDS,
    today: date = date(2026, 8, 20),
    contro: bool = True,
) -> Reconciliation:
    usage, reported = UsageFold(START, END), ReportedFold(START)
    usage.add(rows)
    reported.add(rows)
    summary = UsageSummary.model_validate(
        {"period": "2026-07", "items": [{"type": "kyc", "total": Decimal("3"), "count": 2}]}
    )
    tally = RecordTally()
    tally.add([("kyc", Decimal("1.5")), ("kyc", Decimal("1.4"))])
    return Reconciliation(
        period="2026-07",
        start=START,
        end=END,
        project=None,
        lines=price_lines(usage, cards, {}),
        tolerance=DEFAULT_TOLERANCE,
        drift=drift_of(usage, reported),
        uncharged_days=tuple(sorted(usage.uncharged_days)),
        open_from=today if START <= today < END else None,
        fetched_at=AT,
        contro=check_contro(summary, tally, provisional=False) if contro else None,
        contro_note=None if contro else "Contro is not configured (`CONTRO_API_KEY`).",
    )


def test_a_clean_month_says_every_priced_meter_matches() -> None:
    shown = visible(
        render_reconciliation(
            answer(row("2.1", "100"), row("4.5", "100", meter="egress", sku="E1"))
        )
    )
    assert ":white_check_mark: *All 2 priced meters match* the rate card." in shown
    assert "Tolerance: 0.01 or 0.1% of the expected cost, whichever is larger." in shown
    assert "Mismatched" not in shown
    assert "Provisional" not in shown


def test_a_mismatched_meter_is_named_with_its_variance() -> None:
    message = render_reconciliation(
        answer(
            row("130.2", "6200", day=1),
            row("130.2", "6200", day=2),
            cards={**CARDS, "pm-usd": card({"storage": ("0.0189", "GB", "S1")})},
        )
    )
    shown = visible(message)
    assert ":x: *1 of 1 priced meters do not match* the rate card." in shown
    assert (
        "`p1` · `storage`: reported 260.40 USD, rate card 234.36 USD (12,400 GB × 0.0189 USD): "
        "variance *+26.04 USD* (+11.11%), exactly +26.04 USD"
    ) in shown
    assert message.text.startswith("Reconciliation — 2026-07: 1 mismatched")


def test_the_exact_variance_keeps_every_digit() -> None:
    shown = visible(render_reconciliation(answer(row("2.135", "100"))))  # expected 2.100
    assert "variance *+0.04 USD* (+1.67%), exactly +0.035 USD" in shown


def test_unpriced_and_entitled_meters_are_listed_apart_with_the_reason() -> None:
    shown = visible(
        render_reconciliation(
            answer(
                row("3", "100", meter="drm", sku="D1", unit="requests"),
                row("0", "50", day=2, entitlement="ent"),
            )
        )
    )
    assert "*Not compared*" in shown
    assert "`p1` · `drm`: 100 requests, reported 3.00 USD — not on the rate card" in shown
    assert "`p1` · `storage`: 50 GB, reported 0.00 USD under an entitlement" in shown
    assert "Meters: 1 unpriced, 1 under an entitlement." in shown


def test_several_currencies_are_never_added() -> None:
    shown = visible(
        render_reconciliation(
            answer(row("2.1", "100"), row("1.9", "100", method=EUR_CARD, currency="EUR"))
        )
    )
    assert "Reported: 2.10 USD + 1.90 EUR." in shown or "Reported: 1.90 EUR + 2.10 USD." in shown


def test_drift_and_contro_are_shown() -> None:
    shown = visible(render_reconciliation(answer(row("2.1", "100"))))
    assert "By usage date: 2.10 USD · by reported date (`filterOnReportedDate`): 2.10 USD" in shown
    assert "beyond what the dates explain" not in shown
    assert ":x: *Contro 2026-07: the summary does not match the sum of its records*" in shown
    assert "differs -0.10 USD" in shown
    without = visible(render_reconciliation(answer(row("2.1", "100"), contro=False)))
    assert "Contro is not configured" in without


def test_provisional_days_are_marked() -> None:
    message = render_reconciliation(
        answer(row("2.1", "100", day=18, processed=None), today=date(2026, 7, 20))
    )
    shown = visible(message)
    assert (
        "Provisional: usage not charged yet on 2026-07-18; 2026-07-20 to 2026-07-31 not over."
    ) in shown
    assert "storage *" in shown
    assert message.text.endswith("(provisional)")


def test_upstream_names_are_escaped() -> None:
    out = dump(
        render_reconciliation(
            answer(
                row("3", "100", project=HOSTILE, meter=HOSTILE, sku=HOSTILE, unit=HOSTILE),
                row("2.2", "100", project=HOSTILE),
            )
        )
    )
    assert HOSTILE not in out
    assert "&lt;!channel&gt;" in out


def test_a_variance_of_any_size_is_shown_exactly() -> None:
    """More digits than the default decimal context keeps (MK.IO's numbers may have 50)."""
    shown = visible(render_reconciliation(answer(row("1E+30", "100"))))  # expected 2.100
    assert f"exactly +{'9' * 29}7.90 USD" in shown
