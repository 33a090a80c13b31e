"""`as_utc`, the one rule for "as UTC"; `aware_utc`, a clock reading that must say its zone."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.clock import as_utc, aware_utc


def test_a_naive_time_is_taken_as_utc_not_as_local_time() -> None:
    at = as_utc(datetime(2026, 3, 1, 23, 30))
    assert at == datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert at.tzinfo is UTC


def test_an_aware_time_is_converted_to_utc() -> None:
    east = timezone(timedelta(hours=5))
    at = as_utc(datetime(2026, 3, 2, 4, 0, tzinfo=east))
    assert (at, at.tzinfo) == (datetime(2026, 3, 1, 23, 0, tzinfo=UTC), UTC)
    assert at.date().isoformat() == "2026-03-01"  # the UTC day, not the local one


def test_a_utc_time_is_unchanged() -> None:
    at = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert as_utc(at) == at


def test_a_clock_reading_without_a_time_zone_is_refused_not_guessed() -> None:
    assert aware_utc(datetime(2026, 11, 1, 9, tzinfo=timezone(timedelta(hours=1)))) == datetime(
        2026, 11, 1, 8, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="time zone"):
        aware_utc(datetime(2026, 11, 1, 9))
