"""The sandbox's anomalies to find (`Sandbox(anomalies=True)`; the demo turns them on).

All on one day, the day before the sandbox was made (`day`): so the bot's first check finds
them, and a check a day later sees every series back to usual (a recovery) but the new ones.

- a spike: `video-platform`'s streaming egress, four times its usual on `day`;
- a drop: `video-platform`'s HD encoding, a tenth of its usual on `day`;
- a new meter: `archive` starts live encoding on `day` (it never did before), and goes on;
- a new Contro usage type: twelve `chargeback` records on `day`, never seen before.

Every other series is as without them. Off by default, so the figures other tests know stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.devtools.sandbox.contro_data import UsageRecord, period_of

__all__ = ["NEW_CONTRO_TYPE", "UsageEvent", "contro_records", "usage_events"]

NEW_CONTRO_TYPE = "chargeback"
_CHARGEBACKS = 12
_CHARGEBACK_CENTS = 1500


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """A project's daily units of one meter changed from `start` (for `days`, or on)."""

    project: str
    meter: str  # catalog meter key
    start: date
    days: int | None  # None: from `start` on
    numerator: int = 1  # the usual units times numerator / denominator
    denominator: int = 1
    units: int = 0  # or these units a day, for a meter the project did not use

    def applies(self, project: str, meter: str, day: date) -> bool:
        if project != self.project or meter != self.meter or day < self.start:
            return False
        return self.days is None or day < self.start + timedelta(days=self.days)

    def daily_units(self, usual: int) -> int:
        return self.units if self.units else usual * self.numerator // self.denominator


def usage_events(day: date) -> tuple[UsageEvent, ...]:
    return (
        UsageEvent("video-platform", "egress", day, 1, numerator=4),
        UsageEvent("video-platform", "vod_hd", day, 1, denominator=10),
        UsageEvent("archive", "live", day, None, units=1500),
    )


def contro_records(day: date) -> list[UsageRecord]:
    midnight = datetime.combine(day, time(9), UTC)
    return [
        UsageRecord(
            id=f"usage_chargeback{index:04x}",
            type=NEW_CONTRO_TYPE,
            amount=_CHARGEBACK_CENTS,
            reference_id=f"cbk_{day:%Y%m%d}{index:04d}",
            period=period_of(midnight),
            created_at=midnight + timedelta(minutes=37 * index),
        )
        for index in range(_CHARGEBACKS)
    ]
