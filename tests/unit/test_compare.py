"""`bot.core.reports.compare`: which period a report is compared with, the figures, how `report`
shows
them, and `BillingService.report(…, compare_to=…)` fetching both at once."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

import pytest

from bot.apis.mkio.client import MkioClient
from bot.apis.mkio.models import Granularity, ReportQuery, ReportRow, UsageReport
from bot.core.billing import BillingService
from bot.core.cache import MemoryCache
from bot.core.language.commands import DateRange
from bot.core.reports.compare import (
    Baseline,
    BaselineKind,
    Change,
    baseline_for,
    baseline_query,
    compare,
    fold_changes,
    previous_period,
)
from bot.core.reports.summary import ReportSummary, summarize
from bot.errors import Unavailable
from bot.slack.render.report import change_percent, render_report, signed_amount
from tests.unit.test_render_common import code_lines, visible

AT = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
OCTOBER = ReportQuery(start_date=date(2026, 10, 1), end_date=date(2026, 11, 1))
SEPTEMBER = Baseline(date(2026, 9, 1), date(2026, 10, 1), BaselineKind.PREVIOUS_MONTHS, 1)


# -- which period ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected", "kind", "length"),
    [
        # a calendar month: the month before, whatever their lengths
        ((2026, 3, 1), (2026, 4, 1), ((2026, 2, 1), (2026, 3, 1)), "previous-months", 1),
        ((2026, 1, 1), (2026, 2, 1), ((2025, 12, 1), (2026, 1, 1)), "previous-months", 1),
        ((2024, 3, 1), (2024, 4, 1), ((2024, 2, 1), (2024, 3, 1)), "previous-months", 1),
        ((2024, 2, 1), (2024, 3, 1), ((2024, 1, 1), (2024, 2, 1)), "previous-months", 1),
        # whole months: as many months before; a year is the year before, leap or not
        ((2026, 4, 1), (2026, 7, 1), ((2026, 1, 1), (2026, 4, 1)), "previous-months", 3),
        ((2025, 1, 1), (2026, 1, 1), ((2024, 1, 1), (2025, 1, 1)), "previous-months", 12),
        ((2024, 1, 1), (2025, 1, 1), ((2023, 1, 1), (2024, 1, 1)), "previous-months", 12),
        # anything else: the same number of days just before
        ((2026, 3, 10), (2026, 3, 20), ((2026, 2, 28), (2026, 3, 10)), "previous-days", 10),
        ((2024, 3, 1), (2024, 3, 10), ((2024, 2, 21), (2024, 3, 1)), "previous-days", 9),
        ((2024, 3, 10), (2024, 3, 11), ((2024, 3, 9), (2024, 3, 10)), "previous-days", 1),
        ((2024, 3, 1), (2024, 3, 2), ((2024, 2, 29), (2024, 3, 1)), "previous-days", 1),
        # this month so far (the 1st to tomorrow): the 21 days before, not last month
        ((2026, 11, 1), (2026, 11, 22), ((2026, 10, 11), (2026, 11, 1)), "previous-days", 21),
        # a calendar month's days, starting mid-month: days, not months
        ((2026, 3, 15), (2026, 4, 15), ((2026, 2, 12), (2026, 3, 15)), "previous-days", 31),
    ],
)
def test_the_previous_period_has_the_same_length_and_ends_where_the_range_starts(
    start: tuple[int, int, int],
    end: tuple[int, int, int],
    expected: tuple[tuple[int, int, int], tuple[int, int, int]],
    kind: str,
    length: int,
) -> None:
    b = previous_period(date(*start), date(*end))
    assert (b.start, b.end) == (date(*expected[0]), date(*expected[1]))
    assert (b.kind.value, b.length) == (kind, length)
    assert b.end == date(*start)
    if kind == "previous-days":
        assert (b.end - b.start) == (date(*end) - date(*start))


def test_versus_is_any_range_and_otherwise_the_previous_period() -> None:
    march = DateRange(date(2026, 3, 1), date(2026, 4, 1), "2026-03")
    last_year = DateRange(date(2025, 1, 1), date(2025, 3, 15), "2025-01-01..2025-03-15")
    assert baseline_for(march) == previous_period(march.start, march.end)
    b = baseline_for(march, last_year)
    assert (b.start, b.end, b.kind, b.length) == (
        last_year.start,
        last_year.end,
        BaselineKind.VERSUS,
        73,
    )
    assert b.how == "the range asked for"
    assert baseline_for(march).how == "the month before"
    assert previous_period(date(2026, 4, 1), date(2026, 7, 1)).how == "the 3 months before"
    assert previous_period(date(2026, 3, 1), date(2026, 3, 2)).how == "the day before"
    assert previous_period(date(2026, 3, 1), date(2026, 3, 22)).how == "the 21 days before"


def test_the_baseline_query_keeps_the_filters_and_a_granularity_the_api_takes() -> None:
    query = ReportQuery(
        start_date=date(2026, 3, 1),
        end_date=date(2026, 4, 1),
        granularity=Granularity.WEEK,
        project_names=("a", "b"),
        meter_names=("m",),
        filter_on_reported_date=True,
    )
    b = baseline_for(DateRange(query.start_date, query.end_date, "2026-03"))
    other = baseline_query(query, b)
    assert other == query.model_copy(
        update={"start_date": date(2026, 2, 1), "end_date": date(2026, 3, 1)}
    )
    by_hour = query.model_copy(update={"granularity": Granularity.HOUR})
    assert baseline_query(by_hour, b).granularity is Granularity.DAY  # same totals, fewer rows
    by_day = query.model_copy(update={"granularity": Granularity.DAY})
    assert baseline_query(by_day, b).granularity is Granularity.DAY
    two_years = Baseline(date(2023, 1, 1), date(2025, 1, 1), BaselineKind.VERSUS, 731)
    assert baseline_query(by_day, two_years).granularity is Granularity.MONTH  # over 366 days
    year = Baseline(date(2024, 1, 1), date(2025, 1, 1), BaselineKind.VERSUS, 366)
    assert baseline_query(by_day, year).granularity is Granularity.DAY


# -- the figures ----------------------------------------------------------------------------


def _row(cost: str, project: str = "alpha", meter: str = "enc", **kw: Any) -> dict[str, Any]:
    return {
        "date": kw.get("day", "2026-10-01T00:00:00Z"),
        "dateProcessed": None if kw.get("uncharged") else "2026-10-02T00:00:00Z",
        "meterName": meter,
        "quantity": 1,
        "cost": cost,
        "currency": kw.get("currency", "USD"),
        "project": project,
    }


def _summary(rows: list[dict[str, Any]], query: ReportQuery = OCTOBER) -> ReportSummary:
    report = UsageReport.model_validate({"value": rows})
    return summarize(report, query, filter_names=(), fetched_at=AT)


def _by(changes: list[Change]) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    return {c.name: (c.cost, c.previous, c.change) for c in changes}


NOW_ROWS = [
    _row("100.10", "alpha", "enc"),
    _row("20", "alpha", "storage"),
    _row("5", "beta", "enc"),
    _row("7.5", "gamma", "egress"),  # new
]
BEFORE_ROWS = [
    _row("80", "alpha", "enc", day="2026-09-03T00:00:00Z"),
    _row("20", "alpha", "storage", day="2026-09-03T00:00:00Z"),
    _row("10", "beta", "enc", day="2026-09-03T00:00:00Z", uncharged=True),
    _row("3", "delta", "enc", day="2026-09-03T00:00:00Z"),  # gone
]


def _comparison() -> ReportSummary:
    current, previous = _summary(NOW_ROWS), _summary(BEFORE_ROWS)
    return ReportSummary(
        **{**vars(current), "comparison": compare(current, previous, SEPTEMBER)},
    )


def test_figures_per_project_per_meter_and_in_total() -> None:
    c = compare(_summary(NOW_ROWS), _summary(BEFORE_ROWS), SEPTEMBER)
    assert c.unavailable is None
    assert (c.total.cost, c.total.previous, c.total.change) == (
        Decimal("132.60"),
        Decimal("113"),
        Decimal("19.60"),
    )
    assert _by(c.by_project) == {
        "alpha": (Decimal("120.10"), Decimal("100"), Decimal("20.10")),
        "beta": (Decimal("5"), Decimal("10"), Decimal("-5")),
        "gamma": (Decimal("7.5"), Decimal("0"), Decimal("7.5")),
        "delta": (Decimal("0"), Decimal("3"), Decimal("-3")),
    }
    assert [x.name for x in c.by_project] == ["alpha", "gamma", "beta", "delta"]
    assert _by(c.by_meter) == {
        "enc": (Decimal("105.10"), Decimal("93"), Decimal("12.10")),
        "storage": (Decimal("20"), Decimal("20"), Decimal("0")),
        "egress": (Decimal("7.5"), Decimal("0"), Decimal("7.5")),
    }
    assert (c.previous_rows, c.previous_uncharged_rows, c.previous_fetched_at) == (4, 1, AT)


def test_percent_rules() -> None:
    assert Change("a", Decimal("112.2"), Decimal("100")).percent == Decimal("12.2")
    assert Change("a", Decimal("0"), Decimal("3")).percent == Decimal("-100")
    # no percent of nothing: "new" when there is a cost now, nothing when there is none
    new = Change("a", Decimal("7.5"), Decimal("0"))
    assert (new.percent, new.is_new) == (None, True)
    nothing = Change("a", Decimal("0"), Decimal("0.00"))
    assert (nothing.percent, nothing.is_new) == (None, False)
    # a credit base: the sign follows the change, not the base
    assert Change("a", Decimal("-5"), Decimal("-10")).percent == Decimal("50")
    assert Change("a", Decimal("-20"), Decimal("-10")).percent == Decimal("-100")
    third = Change("a", Decimal("4"), Decimal("3")).percent
    assert third is not None
    assert str(third).startswith("33.33333333")
    assert [change_percent(Change("a", Decimal(n), Decimal(d))) for n, d in CASES] == [
        "+12.2%",
        "-100.0%",
        "new",
        "—",
        "0.0%",
        "+33.3%",
        "+0.1%",  # 0.05% rounds half up
        "-0.1%",
        "0.0%",  # -0.04%: no "-0.0%"
        "+1,000.0%",
    ]


CASES = [
    ("112.2", "100"),
    ("0", "3"),
    ("7.5", "0"),
    ("0", "0"),
    ("5", "5"),
    ("4", "3"),
    ("100.05", "100"),
    ("99.95", "100"),
    ("99.96", "100"),
    ("11", "1"),
]


def test_signed_amounts_are_rounded_to_cents_with_their_sign() -> None:
    assert signed_amount(Decimal("19.6")) == "+19.60"
    assert signed_amount(Decimal("-5")) == "-5.00"
    assert signed_amount(Decimal("0.004")) == "0.00"
    assert signed_amount(Decimal("-0.004")) == "0.00"
    assert signed_amount(Decimal("1234.565")) == "+1,234.57"


def test_different_currencies_are_never_compared() -> None:
    euros = _summary([_row("10", currency="EUR")])
    c = compare(_summary(NOW_ROWS), euros, SEPTEMBER)
    assert c.unavailable is not None
    assert "EUR" in c.unavailable
    assert (c.by_project, c.by_meter) == ([], [])
    # an empty previous period is counted in the default currency: still comparable
    empty = compare(_summary([_row("10", currency="EUR")]), _summary([]), SEPTEMBER)
    assert empty.unavailable is None
    assert empty.total.is_new


def test_folding_sums_both_periods_exactly() -> None:
    changes = [Change(f"p{i:02}", Decimal(i), Decimal(i) + Decimal("0.01")) for i in range(14)]
    folded = fold_changes(changes, 10)
    assert [c.name for c in folded[:3]] == ["p13", "p12", "p11"]
    assert folded[-1] == Change("others (4)", Decimal(6), Decimal("6.04"))
    assert fold_changes(changes[:11], 10) == sorted(changes[:11], key=lambda c: -c.cost)
    with pytest.raises(ValueError, match="keep"):
        fold_changes(changes, -1)


# -- shown in `report` ----------------------------------------------------------------------


def test_report_shows_the_previous_cost_and_change_next_to_each_figure() -> None:
    message = render_report(_comparison())
    lines = [line.split() for line in code_lines(message)]
    assert ["Project", "Cost", "Share", "Previous", "Change", "Change", "%"] in lines
    assert ["alpha", "120.10", "USD", "90.6%", "100.00", "+20.10", "+20.1%"] in lines
    assert ["gamma", "7.50", "USD", "5.7%", "0.00", "+7.50", "new"] in lines
    assert ["beta", "5.00", "USD", "3.8%", "10.00", "-5.00", "-50.0%"] in lines
    assert ["delta", "0.00", "USD", "0.0%", "3.00", "-3.00", "-100.0%"] in lines
    assert ["Meter", "Cost", "Share", "Previous", "Change", "Change", "%"] in lines
    assert ["storage", "20.00", "USD", "15.1%", "20.00", "0.00", "0.0%"] in lines
    shown = visible(message)
    assert "*Total: 132.60 USD* (4 rows)" in shown
    assert "vs 2026-09: 113.00 USD · change +19.60 USD (+17.3%)" in shown
    assert "previous and change vs 2026-09, in USD" in shown
    assert (
        "Compared with 2026-09, the month before (2026-09-01 → 2026-10-01, UTC, end exclusive)"
        in shown
    )
    assert "1 row of 2026-09 not charged yet" in shown
    assert message.text == ("Usage report 2026-10: 132.60 USD (+19.60 USD, +17.3% vs 2026-09)")


def test_report_without_a_comparison_is_as_before() -> None:
    message = render_report(_summary(NOW_ROWS))
    assert ["Project", "Cost", "Share"] in [line.split() for line in code_lines(message)]
    assert "Compared" not in visible(message)
    assert "vs" not in message.text


def test_an_empty_range_still_says_what_it_is_compared_with() -> None:
    current, previous = _summary([]), _summary(BEFORE_ROWS)
    s = ReportSummary(**{**vars(current), "comparison": compare(current, previous, SEPTEMBER)})
    shown = visible(render_report(s))
    assert "no usage in this range." in shown
    assert "vs 2026-09: 113.00 USD · change -113.00 USD (-100.0%)" in shown


def test_an_unavailable_comparison_is_said_and_the_report_shown_as_ever() -> None:
    current = _summary(NOW_ROWS)
    c = compare(current, _summary([_row("1", currency="EUR")]), SEPTEMBER)
    message = render_report(ReportSummary(**{**vars(current), "comparison": c}))
    shown = visible(message)
    assert ":warning: No comparison with 2026-09: its costs are in EUR and these in USD" in shown
    assert ["Project", "Cost", "Share"] in [line.split() for line in code_lines(message)]
    assert "Previous" not in shown


# -- the service: both periods at once ------------------------------------------------------


class FakeMkio:
    """`usage_report` answering from canned rows per start date; counts calls in flight."""

    def __init__(
        self, rows: dict[date, list[dict[str, Any]]], fail: frozenset[date] = frozenset()
    ) -> None:
        self.rows = rows
        self.fail = fail
        self.asked: list[ReportQuery] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def usage_report(self, query: ReportQuery) -> UsageReport:
        self.asked.append(query)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            if query.start_date in self.fail:
                raise Unavailable("MK.IO", "MK.IO is not answering right now.")
            return UsageReport.model_validate({"value": self.rows[query.start_date]})
        finally:
            self.in_flight -= 1

    async def usage_report_rows(
        self, query: ReportQuery, on_rows: Callable[[Sequence[ReportRow]], object], *, max_rows: int
    ) -> int:
        rows = (await self.usage_report(query)).value
        on_rows(rows)
        return len(rows)


def _service(mkio: FakeMkio) -> BillingService:
    return BillingService(
        mkio=cast(MkioClient, mkio), contro=None, cache=MemoryCache(60), clock=lambda: AT
    )


async def test_the_service_fetches_both_periods_at_once_and_caches_each() -> None:
    mkio = FakeMkio({OCTOBER.start_date: NOW_ROWS, SEPTEMBER.start: BEFORE_ROWS})
    service = _service(mkio)
    s = await service.report(OCTOBER, (), compare_to=SEPTEMBER)
    assert mkio.most_in_flight == 2
    assert [(q.start_date, q.end_date) for q in mkio.asked] == [
        (OCTOBER.start_date, OCTOBER.end_date),
        (SEPTEMBER.start, SEPTEMBER.end),
    ]
    assert s.comparison is not None
    assert s.comparison.total.previous == Decimal(113)
    # each period is cached on its own; the plain summary has no comparison
    plain = await service.report(OCTOBER, ())
    assert plain.comparison is None
    assert plain == ReportSummary(**{**vars(s), "comparison": None})
    september = await service.report(baseline_query(OCTOBER, SEPTEMBER), ())
    assert september.total == Decimal(113)
    assert len(mkio.asked) == 2


async def test_a_baseline_that_fails_leaves_the_report_without_figures_but_says_why() -> None:
    mkio = FakeMkio(
        {OCTOBER.start_date: NOW_ROWS, SEPTEMBER.start: BEFORE_ROWS},
        fail=frozenset({SEPTEMBER.start}),
    )
    s = await _service(mkio).report(OCTOBER, (), compare_to=SEPTEMBER)
    assert s.total == Decimal("132.60")
    assert s.comparison is not None
    assert s.comparison.unavailable == "MK.IO is not answering right now."
    shown = visible(render_report(s))
    assert "No comparison with 2026-09: MK.IO is not answering right now." in shown


async def test_a_report_that_fails_fails_as_ever() -> None:
    mkio = FakeMkio(
        {OCTOBER.start_date: NOW_ROWS, SEPTEMBER.start: BEFORE_ROWS},
        fail=frozenset({OCTOBER.start_date}),
    )
    with pytest.raises(Unavailable):
        await _service(mkio).report(OCTOBER, (), compare_to=SEPTEMBER)


# -- like for like ----------------------------------------------------------------------------


def test_this_month_is_compared_with_the_same_days_of_the_month_before() -> None:
    so_far = DateRange(date(2026, 11, 1), date(2026, 11, 22), "this-month")
    b = baseline_for(so_far)
    assert (b.start, b.end, b.kind) == (
        date(2026, 10, 1),
        date(2026, 10, 22),
        BaselineKind.SAME_DAYS,
    )
    assert b.how == "the same days of the month before"
    # the 31st: the month before has 30 days, and the comparison never runs into this month
    last = baseline_for(DateRange(date(2026, 12, 1), date(2027, 1, 1), "this-month"))
    assert (last.start, last.end) == (date(2026, 11, 1), date(2026, 12, 1))


def test_a_range_in_the_future_says_so_instead_of_a_fall_of_100_percent() -> None:
    fetched = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    january = ReportQuery(
        start_date=date(2027, 1, 1), end_date=date(2027, 2, 1), granularity=Granularity.DAY
    )
    current = dataclasses.replace(_summary([], january), fetched_at=fetched)
    december = previous_period(january.start_date, january.end_date)
    c = compare(current, _summary([_row("30")]), december)
    assert c.partial == (
        "this period has not begun: it starts after today (2026-12-03, UTC), so it holds no "
        "usage yet"
    )
    shown = visible(render_report(dataclasses.replace(current, comparison=c)))
    assert (
        "*Total: 0.00 USD*: this range is in the future (it starts after today, 2026-12-03 "
        "UTC), so there is no usage in it yet."
    ) in shown
    assert "-100.0%" not in shown
    assert "not over" not in shown


def test_a_period_not_over_or_of_another_length_says_it_is_not_like_for_like() -> None:
    fetched = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
    so_far = ReportQuery(
        start_date=date(2026, 11, 1), end_date=date(2026, 11, 22), granularity=Granularity.DAY
    )
    current = dataclasses.replace(_summary([_row("10")], so_far), fetched_at=fetched)
    previous = _summary([_row("30")])
    whole_october = Baseline(date(2026, 10, 1), date(2026, 11, 1), BaselineKind.VERSUS, 31)
    c = compare(current, previous, whole_october)
    assert c.partial is not None
    assert "not over" in c.partial
    assert "21 days against 31" in c.partial
    message = render_report(dataclasses.replace(current, comparison=c))
    shown = visible(message)
    assert ":warning: Not like for like: this period is not over" in shown
    # Each note on a line of its own (Slack flows a context's elements into one line).
    [notes] = [b["elements"] for b in message.to_slack()["blocks"] if "Not like for like" in str(b)]
    assert len(notes) == 1
    assert "\n:warning: Not like for like" in notes[0]["text"]
    done = compare(
        _summary([_row("10")]), previous, previous_period(date(2026, 10, 1), date(2026, 11, 1))
    )
    assert done.partial is None


def test_this_week_is_compared_with_the_same_days_of_the_week_before() -> None:
    # Monday 2026-11-30 to Thursday 2026-12-03 included
    so_far = DateRange(date(2026, 11, 30), date(2026, 12, 4), "this-week")
    b = baseline_for(so_far)
    assert (b.start, b.end) == (date(2026, 11, 23), date(2026, 11, 27))
    assert b.how == "the same days of the week before"
