"""What a comparison of two periods holds: the baseline period and the changes, per project,
per meter and in total. Pure data, below both `summary` (whose `ReportSummary` carries a
`Comparison`) and `compare` (which makes one from two summaries).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from bot.money import exact, exact_sum

__all__ = ["Baseline", "BaselineKind", "Change", "Comparison"]


class BaselineKind(StrEnum):
    PREVIOUS_MONTHS = "previous-months"  # the same number of calendar months before
    PREVIOUS_DAYS = "previous-days"  # the same number of days before
    VERSUS = "versus"  # the range the command asked for
    SAME_DAYS = "same-days"  # `this-month`: the same days of the month before
    SAME_WEEKDAYS = "same-weekdays"  # `this-week`: the same days of the week before


@dataclass(frozen=True)
class Baseline:
    """The period compared with: UTC dates, `start` inclusive, `end` exclusive."""

    start: date
    end: date
    kind: BaselineKind
    length: int  # months for PREVIOUS_MONTHS, days otherwise

    @property
    def how(self) -> str:
        """ "the month before", "the 3 months before", "the 21 days before", or "the range
        asked for" (`vs`)."""
        if self.kind is BaselineKind.VERSUS:
            return "the range asked for"
        if self.kind is BaselineKind.SAME_DAYS:
            return "the same days of the month before"
        if self.kind is BaselineKind.SAME_WEEKDAYS:
            return "the same days of the week before"
        unit = "month" if self.kind is BaselineKind.PREVIOUS_MONTHS else "day"
        if self.length == 1:
            return f"the {unit} before"
        return f"the {self.length:,} {unit}s before"


@dataclass(frozen=True)
class Change:
    """A cost now and in the baseline period, in the report's currency."""

    name: str
    cost: Decimal
    previous: Decimal

    @property
    def change(self) -> Decimal:
        return exact_sum((self.cost, -self.previous))

    @property
    def percent(self) -> Decimal | None:
        """change ÷ |previous| × 100, unrounded; None when the previous cost is 0."""
        if self.previous.is_zero():
            return None
        with exact(rounds=True):
            return self.change * 100 / abs(self.previous)

    @property
    def is_new(self) -> bool:
        """A cost now where there was none before (the renderer says "new")."""
        return self.previous.is_zero() and not self.cost.is_zero()


@dataclass(frozen=True)
class Comparison:
    """A report's figures against the baseline period's. When the baseline could not be
    compared (`unavailable` says why, in the bot's words) the lists are empty and `total`
    holds only the current total."""

    baseline: Baseline
    currency: str
    total: Change
    by_project: list[Change]  # largest cost now first, then largest before, then by name
    by_meter: list[Change]  # the same order
    previous_rows: int
    previous_uncharged_rows: int
    previous_fetched_at: datetime | None
    unavailable: str | None = None
    # why the two periods are not like for like (the current one is not over, or the lengths
    # differ), in the bot's words; None when they are
    partial: str | None = None
