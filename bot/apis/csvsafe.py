"""Every CSV the bot uploads goes through here, so no cell runs as a spreadsheet formula.

`neutralise_cell` is OWASP's rule ("CSV Injection"): a cell a spreadsheet could take for a
formula gets a leading `'`, which spreadsheets show as text. A formula is recognised after
what a reader does not see: leading whitespace (NBSP and line breaks included) and zero-width
characters, and in its fullwidth form too (`＝1+1`). Plain numbers (`-12.50`, `1e-5`) are
never changed: a spreadsheet reads them as numbers, not formulas, and a `'` would make them
text.

`CsvNeutraliser` applies it to a CSV arriving in chunks (MK.IO's report): it is a writable
sink that parses whole records as they complete, rewrites them, and passes them on, holding
at most one record in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from typing import BinaryIO, Final

#: What makes a cell a formula (OWASP), with the fullwidth and small forms some spreadsheets
#: also accept.
_FORMULA_FIRST: Final = frozenset("=+-@\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\u2212")
#: Cells starting with these are neutralised whatever follows (OWASP: tab, carriage return).
_CONTROL_FIRST: Final = ("\t", "\r")
#: What a reader does not see before the first visible character: whitespace (NBSP and line
#: breaks included) and zero-width characters.
_LEADING_UNSEEN: Final = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff\u00ad]*")
#: A number as an API writes one: `-12.50`, `1e-5`. (`+1` is not: as an ID it stays text.)
_PLAIN_NUMBER: Final = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

#: A record longer than this (an unclosed quote, or no line breaks at all) is refused rather
#: than held: memory stays bounded whatever the upstream sends.
MAX_RECORD_CHARS: Final = 1024 * 1024


class UnreadableCsv(ValueError):
    """The CSV could not be split into records within `MAX_RECORD_CHARS`."""


def neutralise_cell(value: str) -> str:
    """`value`, with a leading `'` if a spreadsheet could run it as a formula."""
    if not value or _PLAIN_NUMBER.fullmatch(value):
        return value
    if value.startswith(_CONTROL_FIRST):
        return "'" + value
    start = _LEADING_UNSEEN.match(value)
    first = value[start.end() : start.end() + 1] if start else value[:1]
    return "'" + value if first and first in _FORMULA_FIRST else value


class CsvNeutraliser:
    """A byte sink that writes the CSV it is fed, every cell neutralised, into `dest`.

    Feed it with `write(chunk)` in any chunking, then call `close()` once; `bytes_written`
    is the size of what reached `dest`. Input is UTF-8 (invalid bytes become U+FFFD); output
    is UTF-8 with CRLF record ends, quoted only where needed.
    """

    def __init__(self, dest: BinaryIO) -> None:
        self._dest = dest
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""  # text after the last complete record
        self._odd_quotes = False  # within `_pending`, so far: inside a quoted field?
        self._scanned = 0  # how much of `_pending` the quote count covers
        self.bytes_written = 0

    def write(self, chunk: bytes) -> int:
        self._feed(self._decoder.decode(chunk))
        return len(chunk)

    def close(self) -> None:
        self._feed(self._decoder.decode(b"", final=True))
        if self._pending:
            self._emit(self._pending)
            self._pending = ""

    def _feed(self, text: str) -> None:
        if not text:
            return
        self._pending += text
        end = self._record_end()
        if end:
            complete, self._pending = self._pending[:end], self._pending[end:]
            self._scanned -= end
            self._emit(complete)
        if len(self._pending) > MAX_RECORD_CHARS:
            raise UnreadableCsv(f"a CSV record longer than {MAX_RECORD_CHARS} characters")

    def _record_end(self) -> int:
        """Where the last complete record in `_pending` ends (after its newline), or 0.

        A newline ends a record when the quotes before it are balanced (`""` counts twice).
        """
        end = 0
        start = self._scanned
        while (newline := self._pending.find("\n", start)) != -1:
            if self._pending.count('"', start, newline) % 2:
                self._odd_quotes = not self._odd_quotes
            if not self._odd_quotes:
                end = newline + 1
            start = newline + 1
        self._scanned = start  # quotes after the last newline are counted next time
        return end

    def _emit(self, text: str) -> None:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        try:
            for row in csv.reader(io.StringIO(text, newline="")):
                writer.writerow([neutralise_cell(cell) for cell in row])
        except csv.Error as exc:  # e.g. a field over csv.field_size_limit()
            raise UnreadableCsv(str(exc)) from None
        data = out.getvalue().encode("utf-8")
        self._dest.write(data)
        self.bytes_written += len(data)
