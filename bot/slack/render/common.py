"""Pieces every renderer shares: the `Message`, safe text, aligned tables, the period/fetched
facts every answer shows, and the guard that keeps any message inside Slack's limits.

Rules for renderers:
- every API- or user-provided string shown in mrkdwn goes through `escape` (or `code`, or a
  table cell), so it can never become a mention (`<!channel>`) or a link; bot-written mrkdwn
  that may be escaped already (error messages, progress phrases) goes through `inert`;
- mrkdwn text objects are made with `md`, which sets `verbatim` so Slack does not auto-link or
  auto-mention anything in them either;
- build blocks with slack-sdk's models, never dicts, and return `Message`s; `to_slack()` runs
  `fit` so whatever a renderer built is posted within Slack's limits;
- a secret (a password, connection details) is shown only as `SecretText`: the `Message`
  holding it is then `secret`, and `to_slack()` refuses it for anything but an ephemeral
  message to its asker, whoever posts it and wherever.
"""

from __future__ import annotations

import copy
import itertools
import logging
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    RawTextObject,
    SectionBlock,
    TableBlock,
    TableBlockColumnSettings,
    TextObject,
)

from bot.clock import as_utc, next_month_start
from bot.errors import SecretNotPostable
from bot.logs import redact
from bot.mrkdwn import escape as escape  # the one escaping function, re-exported

log = logging.getLogger(__name__)

# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks).
MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION = 3000
MAX_FIELDS = 10
MAX_FIELD = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_CONTEXT_TEXT = 3000
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK = 3000

ELLIPSIS = "…"
FENCE = "```"
DEFAULT_MAX_ROWS = 100
# A monospace table wider than this wraps in Slack on a phone, or a laptop with the sidebar
# open, and its columns fall apart: `table` keeps every line within it.
MAX_TABLE_WIDTH = 60
MIN_WRAPPED_WIDTH = 8  # a text column is not wrapped narrower than this
MIN_KEY_WIDTH = 24  # nor the first column (what each row is): splitting the table comes first

_T = TypeVar("_T", bound=TextObject)


class SecretText(PlainTextObject):
    """Plain text that is a secret. Any block holding one makes its message `secret`."""

    def __init__(self, *, text: str) -> None:
        super().__init__(text=text, emoji=False)  # shown exactly: no emoji, no mrkdwn, no links


class PrivateBlocks(list[dict[str, Any]]):
    """The `blocks` of a secret message, made for an ephemeral reply: a `respond` that would
    turn it into a stored message (`refuse_private`) can tell, since `**payload` passes this
    very list along."""


def _secrets_in(value: object) -> Iterator[SecretText | PrivateBlocks]:
    if isinstance(value, SecretText | PrivateBlocks):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secrets_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secrets_in(item)
    elif isinstance(value, JsonObject):  # a block, element, text object or view
        yield from _secrets_in(list(vars(value).values()))


def holds_secret(value: object) -> bool:
    """Whether `value` (blocks, a view, a payload) holds a `SecretText` or `PrivateBlocks`."""
    return next(_secrets_in(value), None) is not None


def refuse_secret(value: object, where: str) -> None:
    """Raise `SecretNotPostable` (and log it) if `value` holds a secret: for every post that
    others can see or that Slack keeps (`where` names it, for the log)."""
    if holds_secret(value):
        log.warning("refused to post a message holding a secret: %s", where)
        raise SecretNotPostable()


@dataclass(frozen=True)
class Message:
    """One Slack message: `text` is the fallback for notifications and screen readers."""

    text: str
    blocks: list[Block]

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a Message needs a meaningful fallback text")

    @property
    def secret(self) -> bool:
        """It holds a secret: it may only be an ephemeral message to the one who asked."""
        return holds_secret(self.blocks)

    def to_slack(self, *, ephemeral: bool = False) -> dict[str, Any]:
        """The `text` and `blocks` arguments of chat.postMessage / a response_url, within limits.

        `ephemeral`: the caller sends it only to its asker, as an ephemeral message (a
        response_url's "ephemeral" response, chat.postEphemeral). A `secret` message can
        only be sent so: otherwise this raises `SecretNotPostable`.

        Where the workspace shows Slack's `table` block (`use_table_blocks`), the message's
        first table is sent as one; the others stay monospace (Slack takes one a message)."""
        if not ephemeral:
            refuse_secret(self.blocks, "a message others could see")
        elif self.secret:
            # Shown now, so masked in every log line from now on (slack-sdk's DEBUG dump of
            # this very request included); a secret never shown is never registered.
            redact(*(s.text for s in _secrets_in(self.blocks) if isinstance(s, SecretText)))
        fitted = fit(with_table_block(self) if TABLE_BLOCKS.enabled else self)
        blocks = [block.to_dict() for block in fitted.blocks]
        return {"text": fitted.text, "blocks": PrivateBlocks(blocks) if self.secret else blocks}


# -- safe text ------------------------------------------------------------------------------


def inert(text: str) -> str:
    """For bot-written mrkdwn that may already be escaped (e.g. `CommandError` messages that
    quote user words): escapes any `<` and `>` left, so it cannot mention or link, and leaves
    `&` alone so text escaped once is not escaped twice."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _clean(text: str) -> str:
    """One line, no backticks: what may go inside a code span or a table cell."""
    text = text.replace("`", "ˋ")
    return "".join(" " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in text)


def code(text: str) -> str:
    """`text` as inline code that it cannot break out of; escaped."""
    cleaned = _clean(text).strip()
    return f"`{escape(cleaned)}`" if cleaned else '""'


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in "…" when cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:] and len(cut) - amp < 6:
        cut = cut[:amp]  # do not leave half an escape such as "&am"
    return cut + ELLIPSIS


def md(text: str) -> MarkdownTextObject:
    """A mrkdwn text object Slack will not auto-link or auto-mention (`verbatim`)."""
    return MarkdownTextObject(text=text, verbatim=True)


def header(text: str) -> HeaderBlock:
    """A header (plain text). Angle brackets become look-alikes: whether Slack decodes `&lt;`
    in plain text is undocumented, and a header must never read as a mention either way."""
    inert = text.replace("<", "‹").replace(">", "›").strip()
    return HeaderBlock(text=PlainTextObject(text=truncate(inert, MAX_HEADER) or ELLIPSIS))


def section(text: str) -> SectionBlock:
    return SectionBlock(text=md(_truncate_mrkdwn(text, MAX_SECTION)))


def context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[md(text) for text in texts])


def divider() -> DividerBlock:
    return DividerBlock()


# -- the two facts every answer shows -------------------------------------------------------


def period_text(start: date, end: date) -> str:
    """ "Period: 2026-11-01 → 2026-11-22 (UTC, end exclusive)"."""
    return f"Period: {start.isoformat()} → {end.isoformat()} (UTC, end exclusive)"


def month_bounds(period: str) -> tuple[date, date] | None:
    """ "2026-03" -> (2026-03-01, 2026-04-01); None when `period` is not a `YYYY-MM` month."""
    try:
        start = datetime.strptime(period, "%Y-%m").date()
    except ValueError:
        return None
    return start, next_month_start(start)


def local_time(at: datetime, *, seconds: bool = False) -> str:
    """`at` in each reader's own time zone, as Slack shows `<!date^…>` ("Nov 21, 2026 9:15
    PM"); the fallback text (old clients, notifications, the demo) is UTC:
    "2026-11-21 20:15 UTC". A naive time is taken as UTC. The one way a time is shown;
    files (CSV) and report bounds stay UTC."""
    utc = as_utc(at)
    clock = "{time_secs}" if seconds else "{time}"
    fallback = f"{utc:%Y-%m-%d %H:%M:%S} UTC" if seconds else f"{utc:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(utc.timestamp())}^{{date_short_pretty}} {clock}|{fallback}>"


def fetched_text(at: datetime) -> str:
    """ "Fetched Nov 21, 2026 8:15:03 PM" in the reader's zone (fallback "Fetched 2026-11-21
    20:15:03 UTC")."""
    return f"Fetched {local_time(at, seconds=True)}"


def facts(fetched_at: datetime, period: tuple[date, date] | str | None = None) -> ContextBlock:
    """The context line: the period covered, if any, and when the data was fetched.

    `period` may be a (start, end-exclusive) pair, a `YYYY-MM` month, or None for data that
    is as of its fetch (payment methods, a rate card): then only the fetch time is said.
    """
    if period is None:
        return context(fetched_text(fetched_at))
    if isinstance(period, str):
        bounds = month_bounds(period)
        covered = period_text(*bounds) if bounds else f"Period: {escape(period)}"
    else:
        covered = period_text(*period)
    return context(covered, fetched_text(fetched_at))


# -- tables ---------------------------------------------------------------------------------


class Align(StrEnum):
    LEFT = "left"
    RIGHT = "right"


@dataclass(frozen=True)
class Column:
    """A table column. A left-aligned (text) column is wrapped onto more lines when the table
    would be wider than MAX_TABLE_WIDTH; a right-aligned one (numbers) never is."""

    header: str
    align: Align = Align.LEFT
    max_width: int = 40  # longer cells are cut with "…" so the table stays readable


@dataclass(frozen=True)
class TableData:
    """A whole table, as `table` was given it (cells cleaned, not cut): for a `table` block."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    title: str | None


class TableSection(SectionBlock):
    """A section showing part of a table in a code block; knows how many rows it holds, and
    which table it is part of (`data`, the same object in every section of one table)."""

    def __init__(self, *, text: str, row_count: int, data: TableData | None = None) -> None:
        super().__init__(text=md(text))
        self.row_count = row_count
        self.data = data


@dataclass
class TableBlocks:
    """Whether the workspace shows Slack's `table` block: set once at start
    (`SLACK_TABLE_BLOCKS`)."""

    enabled: bool = False


TABLE_BLOCKS = TableBlocks()
MAX_TABLE_BLOCK_ROWS = 100  # Slack: rows of a table block, its heading row included
MAX_TABLE_BLOCK_COLUMNS = 20


def use_table_blocks(enabled: bool) -> None:
    TABLE_BLOCKS.enabled = enabled


def _table_block(data: TableData) -> TableBlock:
    def cell(text: str) -> RawTextObject:
        # Raw text is shown as it is; whether Slack could still read `<!here>` in it is
        # undocumented, so angle brackets become look-alikes, as in a header.
        shown = text.replace("<", "‹").replace(">", "›").strip()
        return RawTextObject(text=shown or " ")

    settings = [
        TableBlockColumnSettings(align=c.align.value, is_wrapped=c.align is Align.LEFT)
        for c in data.columns
    ]
    rows = [[cell(c.header) for c in data.columns], *([cell(v) for v in r] for r in data.rows)]
    return TableBlock(rows=rows, column_settings=settings)


def with_table_block(message: Message) -> Message:
    """`message` with its first table that a `table` block can hold sent as one: its title
    (if any) in a section above it; every other table stays as it is."""
    data = next(
        (
            b.data
            for b in message.blocks
            if isinstance(b, TableSection)
            and b.data is not None
            and len(b.data.rows) < MAX_TABLE_BLOCK_ROWS
            and len(b.data.columns) <= MAX_TABLE_BLOCK_COLUMNS
        ),
        None,
    )
    if data is None:
        return message
    blocks: list[Block] = []
    placed = False
    for block in message.blocks:
        if not (isinstance(block, TableSection) and block.data is data):
            blocks.append(block)
        elif not placed:
            blocks += [section(data.title)] if data.title else []
            blocks.append(_table_block(data))
            placed = True
    return Message(text=message.text, blocks=blocks)


def _width(text: str) -> int:
    """Columns `text` takes in a monospace font (wide East Asian characters take two)."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _cell(value: str, max_width: int) -> str:
    text = _clean(value).rstrip()
    if _width(text) <= max_width:
        return text
    out = ""
    for ch in text:
        if _width(out + ch) > max_width - 1:
            break
        out += ch
    return out + ELLIPSIS


def _pad(text: str, width: int, align: Align) -> str:
    gap = " " * (width - _width(text))
    return gap + text if align is Align.RIGHT else text + gap


def _wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns, broken after a space, `_`, `-`, `/` or
    `,`, or before a `(`, when one is near; else anywhere."""
    out: list[str] = []
    rest = text
    while _width(rest) > width:
        cut = ""
        for ch in rest:
            if _width(cut + ch) > width:
                break
            cut += ch
        soft = max([i + 1 for i, ch in enumerate(cut) if ch in " _-/,"] + [cut.rfind("(")])
        if soft >= width // 2:
            cut = cut[:soft]
        out.append(cut.rstrip())
        rest = rest[len(cut) :].lstrip()
    if rest or not out:
        out.append(rest)
    return out


def _fit_widths(columns: Sequence[Column], natural: list[int]) -> list[int] | None:
    """Column widths within MAX_TABLE_WIDTH, the widest text columns narrowed first (never
    a number column, nor a text column below MIN_WRAPPED_WIDTH, nor the first one below
    MIN_KEY_WIDTH); None when that cannot fit."""
    widths = list(natural)
    floors = [min(w, MIN_KEY_WIDTH if i == 0 else MIN_WRAPPED_WIDTH) for i, w in enumerate(widths)]
    budget = MAX_TABLE_WIDTH - 2 * (len(widths) - 1)
    while sum(widths) > budget:
        narrowable = [
            i for i, c in enumerate(columns) if c.align is Align.LEFT and widths[i] > floors[i]
        ]
        if not narrowable:
            return None
        widest = max(narrowable, key=lambda i: widths[i])
        second = max([widths[i] for i in narrowable if i != widest] + [floors[widest]])
        excess = sum(widths) - budget
        widths[widest] -= max(1, min(excess, widths[widest] - second))
    return widths


def _key_columns(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> int:
    """How many leading columns a split table repeats: the first, and the text columns after
    it until they tell every row apart (a project whose rows are its meters needs both)."""
    keys = 1
    while (
        keys < len(columns) - 1
        and columns[keys].align is Align.LEFT
        and len({tuple(row[:keys]) for row in rows}) < len(rows)
    ):
        keys += 1
    return keys


def _column_groups(columns: Sequence[Column], natural: list[int], keys: int) -> list[list[int]]:
    """The columns (by index) split into as few tables as fit, as evenly as they go: every
    one repeats the `keys` leading columns, so each row can still be told apart."""

    def fits(group: list[int]) -> bool:
        return _fit_widths([columns[k] for k in group], [natural[k] for k in group]) is not None

    key = list(range(keys))
    rest = list(range(keys, len(columns)))
    for parts in range(2, len(rest) + 1):
        size, extra = divmod(len(rest), parts)
        bounds = [k * size + min(k, extra) for k in range(parts + 1)]
        groups = [[*key, *rest[a:b]] for a, b in itertools.pairwise(bounds)]
        if all(fits(g) for g in groups):
            return groups
    return [[*key, k] for k in rest]


def table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    noun: str = "rows",
) -> list[Block]:
    """The one way a table is shown: an aligned monospace table, at most MAX_TABLE_WIDTH
    characters wide, in code-formatted sections of at most 3,000 characters each (the column
    headings repeat in every section); rows past `max_rows` become a final "…and N more
    <noun>" note. `title` (mrkdwn, escaped by the caller) opens the first section.

    A table wider than MAX_TABLE_WIDTH has its widest text columns wrapped onto more lines;
    if the number columns alone are too wide for that, the columns are split into several
    tables that each repeat the columns that tell the rows apart (`_key_columns`).

    Cells may hold anything: backticks and line breaks are replaced and `&<>` escaped, so a
    cell cannot leave the code block or mention anyone.
    """
    shown = rows[:max_rows]
    headings = [_cell(c.header, c.max_width) for c in columns]
    cells = [
        [_cell(value, c.max_width) for value, c in zip(row, columns, strict=True)] for row in shown
    ]
    natural = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headings)]
    data = TableData(
        tuple(columns), tuple(tuple(_clean(v).strip() for v in row) for row in shown), title
    )
    keys = _key_columns(columns, cells)
    if _fit_widths(columns, natural) is None and len(columns) > keys + 1:
        blocks: list[Block] = []
        for n, group in enumerate(_column_groups(columns, natural, keys)):
            part = table(
                [columns[i] for i in group],
                [[row[i] for i in group] for row in shown],
                title=title if n == 0 else None,
                max_rows=max_rows,
                noun=noun,
            )
            blocks += [b for b in part if isinstance(b, TableSection)]
        for block in blocks:
            if isinstance(block, TableSection):
                block.data = data  # one table, whole, for a `table` block
        if len(rows) > len(shown):
            blocks.append(context(f"{ELLIPSIS}and {len(rows) - len(shown):,} more {noun}"))
        return blocks
    widths = _fit_widths(columns, natural) or natural

    def line(values: Sequence[str]) -> str:
        """One row, on as many lines as its wrapped cells need."""
        wrapped = [_wrap(v, w) for v, w in zip(values, widths, strict=True)]
        out = []
        for k in range(max(len(w) for w in wrapped)):
            parts = [w[k] if k < len(w) else "" for w in wrapped]
            padded = (_pad(v, w, c.align) for v, w, c in zip(parts, widths, columns, strict=True))
            out.append(escape("  ".join(padded).rstrip()))
        return "\n".join(out)

    head = [line(headings), "  ".join("-" * w for w in widths)]
    prefix = f"{title}\n" if title else ""
    blocks = []
    chunk: list[str] = []

    def flush() -> None:
        text = f"{prefix if not blocks else ''}{FENCE}\n" + "\n".join(head + chunk) + f"\n{FENCE}"
        blocks.append(
            TableSection(text=_truncate_mrkdwn(text, MAX_SECTION), row_count=len(chunk), data=data)
        )
        chunk.clear()

    overhead = len(prefix) + len(FENCE) * 2 + 2 + len("\n".join(head)) + 1
    used = overhead
    for body in (line(r) for r in cells):
        if chunk and used + len(body) + 1 > MAX_SECTION:
            flush()
            used = overhead - len(prefix)
        chunk.append(body)
        used += len(body) + 1
    if chunk or not blocks:
        flush()
    if len(rows) > len(shown):
        blocks.append(context(f"{ELLIPSIS}and {len(rows) - len(shown):,} more {noun}"))
    return blocks


def lines(
    items: Sequence[str],
    *,
    title: str | None = None,
    max_items: int = DEFAULT_MAX_ROWS,
    noun: str = "items",
) -> list[Block]:
    """mrkdwn lines (escaped by the caller) packed into as few sections as fit 3,000 characters;
    items past `max_items` become a final "…and N more <noun>" note."""
    shown = [truncate(item, MAX_SECTION // 2) for item in items[:max_items]]
    blocks: list[Block] = []
    current = title or ""
    for item in shown:
        candidate = f"{current}\n{item}" if current else item
        if len(candidate) > MAX_SECTION:
            blocks.append(section(current))
            candidate = item
        current = candidate
    if current:
        blocks.append(section(current))
    if len(items) > len(shown):
        blocks.append(context(f"{ELLIPSIS}and {len(items) - len(shown):,} more {noun}"))
    return blocks


# -- the limits guard -----------------------------------------------------------------------


def _truncate_mrkdwn(text: str, limit: int) -> str:
    """Cut mrkdwn to `limit` characters; a cut inside a code block ends at a whole line and
    closes the block, so the rest of the message is not swallowed into it."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS) - len(FENCE) - 2]
    if cut.count(FENCE) % 2 == 1:
        newline = cut.rfind("\n")
        if newline > cut.rfind(FENCE):
            cut = cut[:newline]
        return f"{cut}\n{ELLIPSIS}\n{FENCE}"
    return truncate(text, limit)


def _fit_text(obj: _T, limit: int) -> _T:
    if obj.text is None or len(obj.text) <= limit:
        return obj
    fitted = copy.copy(obj)
    fitted.text = (
        _truncate_mrkdwn(obj.text, limit)
        if isinstance(obj, MarkdownTextObject)
        else truncate(obj.text, limit)
    )
    return fitted


def _fit_block(block: Block) -> Block | None:
    """`block` within Slack's per-block limits (a copy when it changes), or None to drop it."""
    if isinstance(block, HeaderBlock) and block.text is not None:
        fitted_header = copy.copy(block)
        fitted_header.text = _fit_text(block.text, MAX_HEADER)
        return fitted_header
    if isinstance(block, SectionBlock):
        fitted_section = copy.copy(block)
        if block.text is not None:
            fitted_section.text = _fit_text(block.text, MAX_SECTION)
        if block.fields:
            fitted_section.fields = [_fit_text(f, MAX_FIELD) for f in block.fields[:MAX_FIELDS]]
        return fitted_section
    if isinstance(block, ContextBlock):
        elements = list(block.elements)
        if len(elements) > MAX_CONTEXT_ELEMENTS:
            keep, rest = elements[: MAX_CONTEXT_ELEMENTS - 1], elements[MAX_CONTEXT_ELEMENTS - 1 :]
            merged = " · ".join(e.text for e in rest if isinstance(e, TextObject) and e.text)
            elements = [*keep, md(merged or ELLIPSIS)]
        fitted_context = copy.copy(block)
        fitted_context.elements = [
            _fit_text(e, MAX_CONTEXT_TEXT) if isinstance(e, TextObject) else e for e in elements
        ]
        return fitted_context
    if isinstance(block, ActionsBlock):
        kept = []
        for element in block.elements[:MAX_ACTIONS_ELEMENTS]:
            if isinstance(element, ButtonElement):
                if element.value is not None and len(element.value) > MAX_BUTTON_VALUE:
                    log.warning("dropped button %s: value too long", element.action_id)
                    continue
                label = element.text
                if isinstance(label, TextObject):
                    element = copy.copy(element)
                    element.text = _fit_text(label, MAX_BUTTON_TEXT)
            kept.append(element)
        if not kept:
            return None
        fitted_actions = copy.copy(block)
        fitted_actions.elements = kept
        return fitted_actions
    return block


def _rows_in(block: Block) -> int:
    if isinstance(block, TableSection):
        return block.row_count
    if isinstance(block, ContextBlock | DividerBlock | HeaderBlock):
        return 0
    return 1


def _fold(blocks: list[Block]) -> list[Block]:
    """At most `MAX_BLOCKS` blocks: the excess is folded into one "N more rows not shown" note,
    keeping the closing context/actions blocks (period, fetched, buttons)."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    footer = 0
    while footer < 3 and isinstance(blocks[-1 - footer], ContextBlock | ActionsBlock):
        footer += 1
    keep = MAX_BLOCKS - 1 - footer
    folded = blocks[keep : len(blocks) - footer]
    hidden = sum(_rows_in(b) for b in folded)
    note = f"{hidden:,} more rows not shown" if hidden else "More details not shown"
    return [*blocks[:keep], context(note), *blocks[len(blocks) - footer :]]


def fit(message: Message) -> Message:
    """`message` within Slack's limits: ≤50 blocks, header ≤150, section ≤3,000 characters,
    ≤10 context elements, button values ≤2,000, fallback text ≤3,000."""
    blocks = [fitted for b in message.blocks if (fitted := _fit_block(b)) is not None]
    return Message(text=truncate(message.text, MAX_FALLBACK), blocks=_fold(blocks))


def finish(text: str, blocks: Sequence[Block]) -> Message:
    """The renderers' last step: a `Message` already within Slack's limits."""
    return fit(Message(text=text, blocks=list(blocks)))
