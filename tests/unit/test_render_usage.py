from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from bot.apis.mkio.models import ProjectUsage
from bot.core.answers import MeterUsage, UsageAnswer
from bot.money import Money, Totals
from bot.slack.render.usage import render_usage
from tests.unit.test_render_common import code_lines, dump, texts, visible

AT = datetime(2026, 11, 21, 20, 15, 3, tzinfo=UTC)


def _answer(
    meters: list[MeterUsage], total: str, *, project: str = "acme-prod", uncharged: bool = False
) -> UsageAnswer:
    return UsageAnswer(
        project=project,
        start=date(2026, 11, 1),
        end=date(2026, 11, 22),
        meters=meters,
        totals=usd(total),
        uncharged=uncharged,
        fetched_at=AT,
    )


def usd(amount: str) -> Totals:
    return Totals.of([Money(Decimal(amount), "USD")])


def _meters() -> list[MeterUsage]:
    usage = ProjectUsage.model_validate(
        {
            "supplemental": {"records": 2, "project": "acme-prod"},
            "value": [
                {
                    "meterName": "video_encoding_ondemand",
                    "unit": "minutes",
                    "quantity": Decimal("12345.5"),
                },
                {"meterName": "storage_gb", "unit": "GB", "quantity": Decimal("80.25")},
            ],
        }
    )
    enc, sto = usage.value
    return [
        MeterUsage(enc.meter_name, enc.quantity, enc.unit, usd("1234.567")),
        MeterUsage(sto.meter_name, sto.quantity, sto.unit, usd("2.004")),
    ]


def test_usage_table_reads_as_a_person_would() -> None:
    message = render_usage(_answer(_meters(), "1236.571"))
    lines = code_lines(message)
    assert lines[0].split() == ["Meter", "Quantity", "Unit", "Cost"]
    assert lines[2].split() == ["video_encoding_ondemand", "12,345.5", "minutes", "1,234.57", "USD"]
    assert lines[3].split() == ["storage_gb", "80.25", "GB", "2.00", "USD"]
    assert len(lines[2]) == len(lines[3])  # cost column right-aligned
    shown = visible(message)
    assert "Usage — acme-prod" in texts(message)[0]
    assert "*Total month to date: 1,236.57 USD*" in shown
    assert "Period: 2026-11-01 → 2026-11-22 (UTC, end exclusive)" in shown
    assert "Fetched 2026-11-21 20:15:03 UTC" in shown
    assert "not charged yet" not in shown
    assert "no cost in the report" not in shown.lower()
    assert (
        message.text
        == "Usage for acme-prod (2026-11-01 → 2026-11-22, UTC): 1,236.57 USD month to date"
    )


def test_total_is_the_answers_total_not_a_sum_of_the_rows() -> None:
    # The rows add up to 1,236.57; the answer's (report's) total is what the Total line shows.
    message = render_usage(_answer(_meters(), "999.995"))
    assert "*Total month to date: 1,000.00 USD*" in visible(message)
    assert "1,236.57" not in visible(message)


def test_uncharged_usage_says_figures_may_change() -> None:
    message = render_usage(_answer(_meters(), "1", uncharged=True))
    assert "Some usage is not charged yet: figures may still change." in visible(message)


def test_meter_without_cost_is_marked_and_explained() -> None:
    meters = [*_meters(), MeterUsage("live_events", Decimal("3"), "hours", None)]
    message = render_usage(_answer(meters, "1236.571"))
    row = next(ln for ln in code_lines(message) if ln.startswith("live_events"))
    assert row.split() == ["live_events", "3", "hours", "—"]
    assert "No cost in the report yet for: live_events." in visible(message)


def test_empty_project_reads_well() -> None:
    message = render_usage(_answer([], "0", project="quiet"))
    shown = visible(message)
    assert "No usage this month for `quiet`." in shown
    assert "```" not in shown
    assert "Total" not in shown
    assert "Period: 2026-11-01 → 2026-11-22 (UTC, end exclusive)" in shown
    assert message.text.endswith("no usage this month")


def test_names_from_users_and_the_api_cannot_mention_anyone() -> None:
    meters = [MeterUsage("<!here> meter", Decimal("1"), "<@U1>", None)]
    message = render_usage(_answer(meters, "0", project="<!channel>"))
    out = dump(message)
    for mention in ("<!here>", "<!channel>", "<@U1>"):
        assert mention not in out
    assert "&lt;!here&gt; meter" in out
    assert "&lt;!channel&gt;" in message.text


def test_each_note_is_a_line_of_its_own() -> None:
    # Slack flows a context's elements into one line: the notes are one element, a line each.
    meters = [*_meters(), MeterUsage("live_events", Decimal("3"), "hours", None)]
    message = render_usage(_answer(meters, "1", uncharged=True))
    [notes] = [
        block["elements"]
        for block in message.to_slack()["blocks"]
        if block["type"] == "context" and "hourglass" in str(block)
    ]
    assert [element["text"] for element in notes] == [
        ":hourglass: Some usage is not charged yet: figures may still change.\n"
        "No cost in the report yet for: live_events."
    ]
