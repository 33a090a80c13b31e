"""`bot.slack.render.report`: the in-channel usage summary, its progress, failure and upload
comment."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from slack_sdk.models.blocks import ContextBlock, HeaderBlock, SectionBlock

from bot.apis.mkio.models import Granularity, ReportQuery, UsageReport
from bot.core.reports.summary import ReportSummary, report_filename, summarize
from bot.errors import UpstreamError
from bot.slack.render.common import MAX_BLOCKS, MAX_SECTION, Message
from bot.slack.render.errors import render_error
from bot.slack.render.report import (
    format_period,
    range_label,
    render_report,
    render_report_failed,
    render_report_progress,
    render_upload_comment,
)
from tests.unit.test_render_common import code_lines, dump, texts, visible

AT = datetime(2026, 4, 2, 9, 30, 5, tzinfo=UTC)


def _query(**kwargs: Any) -> ReportQuery:
    fields: dict[str, Any] = {"start_date": date(2026, 3, 1), "end_date": date(2026, 4, 1)}
    return ReportQuery(**(fields | kwargs))


def _row(
    cost: str,
    project: str = "alpha",
    meter: str = "video_encoding_ondemand",
    day: str = "2026-03-01T00:00:00Z",
    *,
    charged: bool = True,
    currency: str = "USD",
) -> dict[str, Any]:
    return {
        "date": day,
        "dateProcessed": "2026-04-01T02:00:00Z" if charged else None,
        "meterName": meter,
        "quantity": 1,
        "price": 0.1,
        "cost": cost,
        "currency": currency,
        "project": project,
    }


def _summary(
    rows: list[dict[str, Any]],
    query: ReportQuery | None = None,
    filter_names: tuple[str, ...] = (),
) -> ReportSummary:
    report = UsageReport.model_validate({"supplemental": {"records": len(rows)}, "value": rows})
    return summarize(report, query or _query(), filter_names=filter_names, fetched_at=AT)


def _lines_starting(message: Message, first: str) -> list[list[str]]:
    return [line.split() for line in code_lines(message) if line.split()[0] == first]


def assert_within_slack_limits(message: Message) -> None:
    payload = message.to_slack()  # slack-sdk validates every block here
    assert len(payload["blocks"]) <= MAX_BLOCKS
    for block in message.blocks:
        if isinstance(block, SectionBlock) and block.text is not None:
            assert len(block.text.text) <= MAX_SECTION
    assert "not shown" not in visible(message)  # the guard did not have to fold anything


# -- the summary ----------------------------------------------------------------------------


def test_summary_reads_at_a_glance() -> None:
    s = _summary(
        [
            _row("0.1", "alpha", "storage_gb"),
            _row("0.2", "beta", "storage_gb", "2026-03-02T00:00:00Z"),
            _row("1234.26", "alpha", "video_encoding_ondemand", "2026-03-02T00:00:00Z"),
        ]
    )
    message = render_report(s)
    shown = visible(message)
    assert texts(message)[0] == "Usage report — 2026-03"
    assert "*Total: 1,234.56 USD* (3 rows)" in shown
    assert message.text == "Usage report 2026-03: 1,234.56 USD"
    assert _lines_starting(message, "alpha") == [["alpha", "1,234.36", "USD", "100.0%"]]
    assert _lines_starting(message, "beta") == [["beta", "0.20", "USD", "0.0%"]]
    assert _lines_starting(message, "video_encoding_ondemand") == [
        ["video_encoding_ondemand", "1,234.26", "USD", "100.0%"]
    ]
    assert _lines_starting(message, "storage_gb") == [["storage_gb", "0.30", "USD", "0.0%"]]
    assert "*Cost per project*" in shown
    assert "*Cost per meter*" in shown
    assert "Period: 2026-03-01 → 2026-04-01 (UTC, end exclusive)" in shown
    assert "Fetched 2026-04-02 09:30:05 UTC" in shown
    assert "not charged yet" not in shown
    assert isinstance(message.blocks[0], HeaderBlock)
    assert_within_slack_limits(message)


def test_total_is_exact_to_the_cent() -> None:
    # 0.1 + 0.2 as floats is 0.30000000000000004; three times 0.005 rounds half up once.
    message = render_report(_summary([_row("0.1"), _row("0.2"), *[_row("0.005")] * 3]))
    assert "*Total: 0.32 USD* (5 rows)" in visible(message)


def test_largest_first_and_the_rest_folded_into_others_with_an_exact_sum() -> None:
    rows = [_row(f"{100 - i}", f"project-{i:02d}", f"meter-{i:02d}") for i in range(10)]
    rows += [_row("0.005", f"project-{i}", f"meter-{i}") for i in (10, 11, 12)]
    message = render_report(_summary(rows))
    projects = [line.split()[0] for line in code_lines(message) if line.startswith("project-")]
    assert projects == [f"project-{i:02d}" for i in range(10)]  # the 10 largest, largest first
    # 3 x 0.005 = 0.015 exactly, rounded once: 0.02 (rounding each line first would give 0.03)
    others = [line.split() for line in code_lines(message) if line.startswith("others")]
    assert others == [["others", "(3)", "0.02", "USD", "0.0%"]] * 2  # projects, then meters
    assert "*Total: 955.02 USD* (13 rows)" in visible(message)


def test_no_others_line_when_nothing_is_folded() -> None:
    rows = [_row("1", f"p{i}", f"m{i}") for i in range(11)]  # 10 + 1: folding saves nothing
    assert "others" not in visible(render_report(_summary(rows)))


def test_a_single_period_has_no_period_table() -> None:
    message = render_report(_summary([_row("1"), _row("2", meter="storage_gb")]))
    assert "Cost per day" not in visible(message)


@pytest.mark.parametrize(
    ("granularity", "days", "heading", "labels"),
    [
        (
            Granularity.HOUR,
            ["2026-03-01T13:00:00Z", "2026-03-01T14:00:00Z"],
            "*Cost per hour*",
            ["2026-03-01 13:00", "2026-03-01 14:00"],
        ),
        (
            Granularity.DAY,
            ["2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"],
            "*Cost per day*",
            ["2026-03-01", "2026-03-02"],
        ),
        (
            Granularity.WEEK,
            ["2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"],
            "*Cost per week*",
            ["2026 Mar 2–8", "2026 Mar 9–15"],  # the range spans years: each says its own
        ),
        (
            Granularity.MONTH,
            ["2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"],
            "*Cost per month*",
            ["2026-03", "2026-04"],
        ),
        (
            Granularity.YEAR,
            ["2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"],
            "*Cost per year*",
            ["2025", "2026"],
        ),
    ],
)
def test_periods_are_formatted_by_granularity(
    granularity: Granularity, days: list[str], heading: str, labels: list[str]
) -> None:
    query = _query(start_date=date(2025, 1, 1), end_date=date(2027, 1, 1), granularity=granularity)
    # given out of order: shown chronologically
    message = render_report(_summary([_row("2.5", day=days[1]), _row("1", day=days[0])], query))
    assert heading in visible(message)
    period_lines = [line for line in code_lines(message) if line.endswith(" USD")][-2:]
    assert [re.split(r"\s{2,}", line) for line in period_lines] == [
        [labels[0], "1.00 USD"],
        [labels[1], "2.50 USD"],
    ]


def test_weeks_are_labelled_with_their_days_in_the_range() -> None:
    november = (date(2026, 11, 1), date(2026, 12, 1))
    at = datetime(2026, 10, 26, tzinfo=UTC)  # the Monday of the week holding Sunday 1 November
    assert format_period(at, Granularity.WEEK, november) == "Nov 1"
    assert format_period(datetime(2026, 11, 2), Granularity.WEEK, november) == "Nov 2–8"
    assert format_period(datetime(2026, 11, 30), Granularity.WEEK, november) == "Nov 30"
    october_1_to_15 = (date(2026, 10, 1), date(2026, 10, 16))
    assert format_period(datetime(2026, 9, 28), Granularity.WEEK, october_1_to_15) == "Oct 1–4"
    assert format_period(datetime(2026, 10, 12), Granularity.WEEK, october_1_to_15) == "Oct 12–15"
    assert format_period(datetime(2026, 10, 26), Granularity.WEEK) == "Oct 26–Nov 1"
    new_year = (date(2025, 12, 1), date(2026, 2, 1))
    assert format_period(datetime(2025, 12, 29), Granularity.WEEK, new_year) == "2025 Dec 29–Jan 4"


def test_period_labels_are_utc() -> None:
    at = datetime(2026, 3, 2, 4, 0, tzinfo=timezone(timedelta(hours=5)))  # 2026-03-01 23:00 UTC
    assert format_period(at, Granularity.HOUR) == "2026-03-01 23:00"
    assert format_period(at, Granularity.DAY) == "2026-03-01"
    assert format_period(datetime(2026, 3, 1, 23), Granularity.DAY) == "2026-03-01"


def test_many_hours_are_summed_per_day_and_say_so() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [_row("0.01", day=(start + timedelta(hours=h)).isoformat()) for h in range(31 * 24)]
    query = _query(granularity=Granularity.HOUR)
    message = render_report(_summary(rows, query))
    shown = visible(message)
    assert "*Cost per day* — 744 hours summed per day" in shown
    days = [line for line in code_lines(message) if line.startswith("2026-03-")]
    assert len(days) == 31
    assert days[0] == "2026-03-01  0.24 USD"
    assert "*Total: 7.44 USD*" in shown
    assert_within_slack_limits(message)


def test_many_weeks_say_where_a_week_is_counted() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
    rows = [_row("1", day=(start + timedelta(weeks=w)).isoformat()) for w in range(104)]
    query = _query(
        start_date=date(2024, 1, 1), end_date=date(2026, 1, 1), granularity=Granularity.WEEK
    )
    shown = visible(render_report(_summary(rows, query)))
    assert "104 weeks summed per month (each week in the month it starts)" in shown


def test_the_query_is_shown_with_its_filters() -> None:
    query = _query(
        start_date=date(2026, 3, 1),
        end_date=date(2026, 3, 15),
        granularity=Granularity.WEEK,
        payment_method_ids=("6f1c2a9e-3b4d-4c8e-9a7f-2d5b8e0c1f34",),
        filter_on_reported_date=True,
    )
    message = render_report(_summary([_row("1")], query, ("Main Azure",)))
    shown = visible(message)
    assert texts(message)[0] == "Usage report — 2026-03-01 → 2026-03-14 (inclusive)"
    assert "Period: 2026-03-01 → 2026-03-15 (UTC, end exclusive)" in shown
    assert (
        "Per week · payment methods `Main Azure` · by reported date "
        "(usage charged in this range, even if it happened earlier)"
    ) in shown
    assert "6f1c2a9e" not in shown  # the name, not the ID


def test_an_unfiltered_query_by_usage_date() -> None:
    shown = visible(render_report(_summary([_row("1")])))
    assert "Per day · all projects · by usage date" in shown
    assert "reported" not in shown


def test_project_filters_are_listed() -> None:
    query = _query(project_names=("alpha", "beta"))
    shown = visible(render_report(_summary([_row("1")], query)))
    assert "Per day · projects `alpha`, `beta` · by usage date" in shown


def test_a_long_filter_list_is_cut() -> None:
    names = tuple(f"p{i}" for i in range(25))
    shown = visible(render_report(_summary([_row("1")], _query(project_names=names))))
    assert "`p19` and 5 more ·" in shown
    assert "`p20`" not in shown


def test_uncharged_rows_are_noted() -> None:
    rows = [_row("1"), _row("2.5", charged=False), _row("0.004", charged=False)]
    shown = visible(render_report(_summary(rows)))
    assert ":hourglass: 2 rows (2.50 USD) not charged yet: figures may still change." in shown
    one = visible(render_report(_summary([_row("1"), _row("3", charged=False)])))
    assert "1 row (3.00 USD) not charged yet" in one


def test_other_currencies_are_named_not_added() -> None:
    rows = [_row("1"), _row("2"), _row("40", currency="EUR")]
    message = render_report(_summary(rows))
    shown = visible(message)
    assert "*Total: 3.00 USD* (2 rows)" in shown
    assert "also holds 40.00 EUR (1 row) in other currencies, not in these totals" in shown


def test_an_empty_report() -> None:
    message = render_report(_summary([]))
    assert "*Total: 0.00 USD*: no usage in this range." in visible(message)
    assert code_lines(message) == []
    assert message.text == "Usage report 2026-03: 0.00 USD"


def test_hostile_names_cannot_mention_or_link() -> None:
    hostile = "<!channel> <https://evil.example|click> & `x`"
    query = _query(project_names=(hostile,))
    message = render_report(_summary([_row("1", hostile, hostile)], query))
    sent = dump(message)
    assert "<!channel>" not in sent
    assert "<https://" not in sent
    assert "&lt;!channel&gt;" in sent
    comment = render_upload_comment(
        _summary([_row("1")], query), report_filename(query, (hostile,))
    )
    assert "<" not in comment
    assert "&lt;!channel&gt;" in comment


def test_500_meters_and_projects_stay_within_slack_limits() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [
        _row(f"{i}.{i:03d}", f"project-{i:03d}", f"meter-{i:03d}", f"{start + timedelta(hours=i)}")
        for i in range(500)
    ]
    s = _summary(rows, _query(granularity=Granularity.HOUR))
    message = render_report(s)
    assert_within_slack_limits(message)
    # the 490 smallest (0.000 .. 489.489) folded, exactly: 0 + 1.001 + … + 489.489
    folded = sum(Decimal(f"{i}.{i:03d}") for i in range(490))
    assert folded == Decimal("119924.805")
    # each row rounded half up would show 119,924.81 here and the rows would add up to
    # 124,874.76, a cent over the total: the largest remainder rule gives the cent elsewhere
    assert code_lines(message).count("others (490)  119,924.80 USD  96.0%") == 2
    shown = visible(message)
    assert "*Total: 124,874.75 USD* (500 rows)" in shown
    assert "Fetched 2026-04-02 09:30:05 UTC" in shown
    assert "Cost per day" in shown


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (date(2026, 3, 1), date(2026, 4, 1), "2026-03"),
        (date(2026, 12, 1), date(2027, 1, 1), "2026-12"),
        (date(2026, 1, 1), date(2027, 1, 1), "2026"),
        (date(2026, 3, 5), date(2026, 3, 6), "2026-03-05"),
        # The last day included, as people read a range; the context line keeps the
        # exclusive end and says so.
        (date(2026, 3, 1), date(2026, 3, 22), "2026-03-01 → 2026-03-21 (inclusive)"),
        (date(2026, 3, 2), date(2026, 4, 1), "2026-03-02 → 2026-03-31 (inclusive)"),
        (date(2026, 11, 23), date(2026, 11, 30), "2026-11-23 → 2026-11-29 (inclusive)"),
        (date(2026, 1, 1), date(2026, 7, 1), "2026-01 → 2026-06"),
        (date(2025, 11, 1), date(2026, 2, 1), "2025-11 → 2026-01"),
    ],
)
def test_range_label(start: date, end: date, label: str) -> None:
    assert range_label(start, end) == label


# -- progress, failure, upload --------------------------------------------------------------


def test_progress_says_what_is_happening() -> None:
    query = _query(project_names=("alpha",))
    message = render_report_progress(
        "writing the CSV file: 1.2 MB so far", query=query, detail="3 pages fetched"
    )
    shown = visible(message)
    assert "*Preparing the usage report — 2026-03…*\nWriting the CSV file: 1.2 MB so far" in shown
    assert "3 pages fetched" in shown
    assert "Period: 2026-03-01 → 2026-04-01 (UTC, end exclusive)" in shown
    assert "Per day · projects `alpha` · by usage date" in shown
    assert message.text == (
        "Preparing the usage report 2026-03: writing the CSV file: 1.2 MB so far"
    )
    assert "pages fetched" not in visible(render_report_progress("asking MK.IO", query=query))


def test_progress_phrases_cannot_mention() -> None:
    message = render_report_progress("<!here> stage", query=_query(), detail="<@U123>")
    assert "<!here>" not in dump(message)
    assert "<@U123>" not in dump(message)


def test_failure_replaces_progress_with_the_reason() -> None:
    reason = render_error(
        UpstreamError("MK.IO", "MK.IO refused the report.", detail="range too long <x>", ref="r-1")
    )
    message = render_report_failed(_query(filter_on_reported_date=True), reason)
    shown = visible(message)
    assert ":x: *Could not prepare the usage report — 2026-03*" in shown
    assert "MK.IO refused the report." in shown
    assert "MK.IO said: range too long &lt;x&gt;" in shown
    assert "Reference: `r-1`" in shown
    assert "by reported date" in shown
    assert message.text.startswith("Usage report 2026-03 failed: MK.IO refused")
    assert "&amp;lt;" not in dump(message)  # the reason is not escaped twice
    assert any(isinstance(b, ContextBlock) for b in message.blocks)


def test_upload_comment_names_the_file_range_granularity_and_filters() -> None:
    query = _query(
        granularity=Granularity.MONTH,
        payment_method_ids=("6f1c2a9e-3b4d-4c8e-9a7f-2d5b8e0c1f34",),
        filter_on_reported_date=True,
    )
    s = _summary([_row("1")], query, ("Main Azure",))
    filename = report_filename(query, s.filter_names)
    comment = render_upload_comment(s, filename)
    assert comment == (
        ":page_facing_up: "
        "`mkio-usage_2026-03-01_to_2026-04-01-excl_by-month_reported-date_"
        "payment-methods-Main-Azure.csv`: MK.IO usage report, 2026-03-01 → 2026-04-01 "
        "(UTC, end exclusive) · per month · payment methods `Main Azure` · by reported date "
        "(usage charged in this range, even if it happened earlier)"
    )
