"""The anomaly alert's words: hostile names stay inert; every state is shown."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bot.core.watch.anomalies import Day, Series, SeriesKey, Source, examine
from bot.core.watch.check import NoteKind
from bot.core.watch.lifecycle import Anomaly
from bot.slack.render.anomalies import render_alert, render_anomalies, render_details, render_note

DAY = date(2026, 11, 18)
NOW = datetime(2026, 11, 19, 9, tzinfo=UTC)
HOSTILE = "<!channel> <@U0ADMIN> `x` *bold*"


def hostile_anomaly() -> Anomaly:
    key = SeriesKey(Source.MKIO, HOSTILE, HOSTILE, "SKU", "USD")
    days = {DAY - timedelta(days=n): Day(Decimal(100), Decimal(1000)) for n in range(1, 36)}
    series = Series(
        key,
        {**days, DAY: Day(Decimal(900), Decimal(9000))},
        DAY - timedelta(days=35),
        unit=HOSTILE,
        unit_price=Decimal("0.1"),
        solution=HOSTILE,
    )
    finding = examine(series, DAY)
    assert finding is not None
    anomaly = Anomaly.of(finding, NOW, window_days=28)
    return anomaly.model_copy(
        update={
            "acknowledged_by": "U_MEMBER",
            "acknowledged_at": NOW,
            "expected_until": DAY + timedelta(days=5),
            "expected_by": HOSTILE,
            "expected_at": NOW,
            "recovered_on": DAY + timedelta(days=1),
            "closed_at": NOW,
        }
    )


def test_hostile_names_never_mention_or_format() -> None:
    anomaly = hostile_anomaly()
    for message in (
        render_alert(anomaly),
        render_details(anomaly),
        render_note(anomaly, NoteKind.RECOVERED),
        render_anomalies([anomaly], ["C1"]),
    ):
        dumped = json.dumps(message.to_slack())
        assert "<!channel>" not in dumped
        assert "<@U0ADMIN>" not in dumped


def test_the_state_is_shown_and_a_closed_alert_keeps_only_what_still_applies() -> None:
    anomaly = hostile_anomaly()
    shown = json.dumps(render_alert(anomaly).to_slack())
    assert "Acknowledged by <@U_MEMBER> at 2026-11-19 09:00 UTC" in shown
    assert "Expected until 2026-11-23" in shown
    assert "Recovered: back within its usual range on 2026-11-19" in shown
    assert "anomaly_acknowledge" not in shown  # acknowledged already
    assert "anomaly_snooze_day" not in shown  # closed: nothing to snooze
    assert "anomaly_details" in shown


def test_a_change_of_any_size_is_shown() -> None:
    """Against a tiny median a change is a huge percentage: more digits than the default
    decimal context keeps, still shown (and the alert still posted)."""
    anomaly = hostile_anomaly().model_copy(update={"percent": Decimal("1E+34")})
    text = json.dumps(render_alert(anomaly).to_slack())
    assert "(+10,000,000,000,000,000,000,000,000,000,000,000%)" in text
