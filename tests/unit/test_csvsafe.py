"""bot.apis.csvsafe: no cell of an uploaded CSV runs as a formula; numbers stay numbers."""

from __future__ import annotations

import csv
import io

import pytest

import bot.apis.csvsafe
from bot.apis.csvsafe import CsvNeutraliser, UnreadableCsv, neutralise_cell

FORMULAS = [
    "=1+1",
    '=HYPERLINK("https://evil.example/x","open")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\tx",
    "\rx",
    " =1+1",
    "\n=1+1",
    "\u00a0=1+1",  # NBSP
    "\u200b=1+1",  # zero-width space
    "\ufeff@SUM(1)",
    " \u200b \u00a0+1",
    "\uff1d1+1",  # fullwidth =
    "\uff0bcmd",
    "\uff0d1",
    "\uff20SUM(1)",
    "-",
    "+1",  # text such as an ID keeps its sign as text
]
KEPT = ["", "text", "my-project", "a=b", "x@example.com", "-12.50", "1e-5", "-1E+3", "0", ".5"]


@pytest.mark.parametrize("cell", FORMULAS)
def test_a_formula_gets_a_leading_quote(cell: str) -> None:
    assert neutralise_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", KEPT)
def test_text_and_numbers_are_kept(cell: str) -> None:
    assert neutralise_cell(cell) == cell


def rewrite(data: bytes, step: int) -> bytes:
    out = io.BytesIO()
    sink = CsvNeutraliser(out)
    for i in range(0, len(data), step):
        sink.write(data[i : i + step])
    sink.close()
    assert sink.bytes_written == len(out.getvalue())
    return out.getvalue()


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


SOURCE = [
    ["name", "note", "quantity", "cost"],
    ['=HYPERLINK("https://evil.example/x","open")', 'two\nlines "quoted"', "-12.50", "1e-5"],
    ["café ☕ \uff1dx", "+cmd|' /C calc'!A0", "3", "-0.000001"],
    ["@SUM(1+1)", "", "", "7"],
]


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64, 100_000])
def test_a_streamed_csv_comes_out_neutralised_whatever_its_chunking(step: int) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL).writerows(SOURCE)
    rows = rows_of(rewrite(buffer.getvalue().encode("utf-8"), step))
    assert rows == [[neutralise_cell(cell) for cell in row] for row in SOURCE]
    assert [row[0][0] for row in rows[1:]] == ["'", "c", "'"]
    assert [row[2:] for row in rows[1:]] == [["-12.50", "1e-5"], ["3", "-0.000001"], ["", "7"]]


def test_a_record_that_never_ends_is_refused_not_held(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.apis.csvsafe, "MAX_RECORD_CHARS", 1000)
    sink = CsvNeutraliser(io.BytesIO())
    sink.write(b'a,"unclosed\n' + b"more text\n" * 90)
    with pytest.raises(UnreadableCsv):
        sink.write(b"more text\n" * 10)
