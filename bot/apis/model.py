"""What every billing API model checks of its numbers, whatever its shape.

An API document that says `number` (or `string`, for an MK.IO cost) allows 1e308, which no
bill holds and no formatting can show. A model reads a number only when it is finite and
within what any bill can hold; anything else makes the answer unreadable, as any other shape
the bot cannot use.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final, TypeVar

from pydantic import BaseModel

#: Larger than any quantity or amount on a bill, small enough to format exactly.
MAX_MAGNITUDE: Final = Decimal(10) ** 18

M = TypeVar("M", bound=BaseModel)


def numbers_a_bill_can_hold(model: M) -> M:
    """An after-validator for a model's own fields (nested models check theirs)."""
    for name, value in model:
        if isinstance(value, Decimal) and not (value.is_finite() and abs(value) < MAX_MAGNITUDE):
            raise ValueError(f"{name} is not a number a bill can hold")
    return model
