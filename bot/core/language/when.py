"""The ranges people name, read in one place for every way of asking (the slash command,
mentions and DMs, schedules): `today`, `yesterday`, `this-week`, `last-week`, `this-month`,
`last-month`, `this-year`, `last-year`, a month by name (`march`, `march 2026`), `2026/03`
or `03/2026`, and quarters (`q1`, `q1 2026`, `2026-q1`).

Pure and Slack-free. Dates are UTC; every range ends exclusive. Weeks run Monday to Sunday
(ISO). A month or quarter named without a year is the most recent one that has begun: in
December `march` is this year's March, in February last year's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.clock import month_start, month_to_date
from bot.core.language.vocabulary import DateRange, Period
from bot.core.language.words import BadWord, check_year, code

__all__ = ["MONTH_NAMES", "MOVING", "RELATIVE", "Spoken", "spoken_at"]

#: Ranges that move with the day they are read on: a schedule reads them again at each run.
MOVING = ("today", "yesterday", "this-week", "last-week", "this-month", "last-month")
#: Every range named by a word of its own (also typed as two words: `last week`).
RELATIVE = (*MOVING, "this-year", "last-year")
_UNITS = {"week": "week", "weeks": "week", "month": "month", "months": "month"}
_UNITS |= {"year": "year", "years": "year"}

MONTH_NAMES: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}

_YEAR = re.compile(r"[0-9]{4}")
_SLASHED = re.compile(r"([0-9]{4})/([0-9]{1,2})|([0-9]{1,2})/([0-9]{4})")
_QUARTER = re.compile(r"q([1-4])|q([1-4])-?([0-9]{4})|([0-9]{4})-?q([1-4])")


@dataclass(frozen=True)
class Spoken:
    """A range named at some word: the range, how many words named it, and the calendar
    month when it is exactly one (what a Contro period can be)."""

    range: DateRange
    width: int
    period: Period | None = None

    @property
    def moving(self) -> bool:
        return self.range.label in MOVING


def relative_range(label: str, today: date) -> DateRange:
    """One of RELATIVE, read on `today`. A range that includes today ends tomorrow: today's
    usage so far is in it."""
    tomorrow = today + timedelta(days=1)
    monday = today - timedelta(days=today.weekday())
    this_month = month_start(today)
    spans = {
        "today": (today, tomorrow),
        "yesterday": (today - timedelta(days=1), today),
        "this-week": (monday, tomorrow),
        "last-week": (monday - timedelta(days=7), monday),
        "this-month": month_to_date(today),
        "last-month": (month_start(this_month - timedelta(days=1)), this_month),
        "this-year": (date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        "last-year": (date(today.year - 1, 1, 1), date(today.year, 1, 1)),
    }
    start, end = spans[label]
    return DateRange(start, end, str(start.year) if label.endswith("-year") else label)


def _month(year: int, month: int) -> Spoken:
    period = Period(year, month)
    return Spoken(period.range, 1, period)


def _latest_year(first_month: int, today: date) -> int:
    """The year of the most recent month `first_month` that has begun by `today`."""
    return today.year if first_month <= today.month else today.year - 1


def _quarter(year: int, quarter: int) -> DateRange:
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return DateRange(start, end, f"{year}-Q{quarter}")


def spoken_at(words: Sequence[str], i: int, today: date) -> Spoken | None:
    """The range named at words[i] (and maybe words[i + 1]), or None if none is named there.
    Raises BadWord for a range named wrongly (`2026/13`, `march 1999`); its fix replaces
    words[i] alone."""
    if not 0 <= i < len(words):
        return None
    low = words[i].lower()
    after = words[i + 1].lower() if i + 1 < len(words) else ""
    if low in RELATIVE:
        return Spoken(relative_range(low, today), 1)
    if low in ("this", "last") and after in _UNITS:  # "last week"
        return Spoken(relative_range(f"{low}-{_UNITS[after]}", today), 2)
    name = low.rstrip(",")
    if name in MONTH_NAMES:
        month = MONTH_NAMES[name]
        if _YEAR.fullmatch(after):  # "march 2026"
            check_year(words[i + 1], int(after))
            spoken = _month(int(after), month)
            return Spoken(spoken.range, 2, spoken.period)
        return _month(_latest_year(month, today), month)
    slashed = _SLASHED.fullmatch(low)
    if slashed is not None:  # "2026/03", "03/2026"
        year, month = (
            (int(slashed[1]), int(slashed[2])) if slashed[1] else (int(slashed[4]), int(slashed[3]))
        )
        check_year(words[i], year)
        if not 1 <= month <= 12:
            raise BadWord(f"{code(words[i])} is not a month: the month must be 01 to 12.")
        return _month(year, month)
    quarter = _QUARTER.fullmatch(low)
    if quarter is not None:
        if quarter[1]:  # "q1", maybe "q1 2026"
            number = int(quarter[1])
            if _YEAR.fullmatch(after):
                check_year(words[i + 1], int(after))
                return Spoken(_quarter(int(after), number), 2)
            return Spoken(_quarter(_latest_year(3 * number - 2, today), number), 1)
        year, number = (
            (int(quarter[3]), int(quarter[2])) if quarter[2] else (int(quarter[4]), int(quarter[5]))
        )
        check_year(words[i], year)
        return Spoken(_quarter(year, number), 1)
    return None
