"""MK.IO's usage report read as it arrives: the JSON body is parsed chunk by chunk (ijson, its
C backend when installed), each row checked as `MeterData` would be and handed on in batches,
so neither the body nor the rows are ever held whole.

A report has no pagination: a year by day or a month by hour is a million rows and hundreds
of MB in one body. Read this way, memory stays flat whatever the report's size, and the event
loop gets a turn after every chunk (a few hundred rows), so other users' answers are not held
while one report is folded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Final

import ijson
from pydantic import ValidationError

from bot.apis.http import ApiClient, NumberOutOfBounds, check_decimal
from bot.apis.mkio.models import ReportRow
from bot.apis.model import MAX_MAGNITUDE
from bot.errors import TooManyRows

#: Where the rows are in `{"supplemental": {...}, "value": [row, ...]}`.
ROWS: Final = "value.item"
_WHITESPACE: Final = b" \t\r\n"


class ReportReader:
    """Feed it the body's chunks (`feed`), then `close()`; every row goes to `on_rows`.

    Errors are the client's: a body that is not a report, or a row `MeterData` would refuse,
    is `Unavailable` (unreadable); more than `max_rows` rows is `TooManyRows`, raised as soon
    as the row past the cap is parsed.
    """

    def __init__(
        self,
        api: ApiClient,
        on_rows: Callable[[Sequence[ReportRow]], object],
        *,
        max_rows: int,
    ) -> None:
        self._api = api
        self._on_rows = on_rows
        self._max_rows = max_rows
        self._parsed = ijson.sendable_list()
        self._parser = ijson.items_coro(self._parsed, ROWS)
        self._started = False
        self.rows = 0

    async def feed(self, chunk: bytes) -> None:
        if not self._started:
            start = chunk.lstrip(_WHITESPACE)
            if not start:
                return
            if not start.startswith(b"{"):
                raise self._api.unreadable(200, why="usage report not a JSON object")
            self._started = True
        try:
            self._parser.send(chunk)
        except (ijson.JSONError, ValueError):  # ValueError: an integer too long to convert
            raise self._api.unreadable(200) from None
        self._take()
        await asyncio.sleep(0)  # the other users' turn: a chunk is a few hundred rows

    def close(self) -> None:
        """The body is complete: a report cut short is unreadable."""
        if not self._started:
            raise self._api.unreadable(200, why="empty usage report")
        try:
            self._parser.close()
        except (ijson.JSONError, ValueError):
            raise self._api.unreadable(200) from None
        self._take()

    def _take(self) -> None:
        parsed = self._parsed
        if not parsed:
            return
        self.rows += len(parsed)
        if self.rows > self._max_rows:
            raise TooManyRows(self._max_rows)
        rows = [self._row(item) for item in parsed]
        del parsed[:]
        self._on_rows(rows)

    def _row(self, item: object) -> ReportRow:
        try:
            row = ReportRow.model_validate(item)
        except ValidationError:
            raise self._api.unreadable(200) from None
        for value in (row.quantity, row.price, row.cost):
            if value is None:
                continue
            # What `MeterData`'s validator refuses, then what `ApiClient.validate` does.
            if not (value.is_finite() and abs(value) < MAX_MAGNITUDE):
                raise self._api.unreadable(200)
            try:
                check_decimal(value)
            except NumberOutOfBounds as exc:
                raise self._api.unreadable(200, why=str(exc), numbers=True) from None
        return row
