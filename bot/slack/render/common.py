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
    SectionBlock,
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
        only be sent so: otherwise this raises `SecretNotPostable`."""
        if not ephemeral:
            refuse_secret(self.blocks, "a message others could see")
        elif self.secret:
            # Shown now, so masked in every log line from now on (slack-sdk's DEBUG dump of
            # this very request included); a secret never shown is never registered.
            redact(*(s.text for s in _secrets_in(self.blocks) if isinstance(s, SecretText)))
        fitted = fit(self)
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


def fetched_text(at: datetime) -> str:
    """ "Fetched 2026-11-21 20:15:03 UTC" (a naive time is taken as UTC)."""
    utc = as_utc(at)
    return f"Fetched {utc:%Y-%m-%d %H:%M:%S} UTC"


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
    header: str
    align: Align = Align.LEFT
    max_width: int = 40  # longer cells are cut with "…" so the table stays readable


class TableSection(SectionBlock):
    """A section showing part of a table in a code block; knows how many rows it holds."""

    def __init__(self, *, text: str, row_count: int) -> None:
        super().__init__(text=md(text))
        self.row_count = row_count


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


def table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    noun: str = "rows",
) -> list[Block]:
    """An aligned monospace table in code-formatted sections of at most 3,000 characters each
    (the column headings repeat in every section); rows past `max_rows` become a final
    "…and N more <noun>" note. `title` (mrkdwn, escaped by the caller) opens the first section.

    Cells may hold anything: backticks and line breaks are replaced and `&<>` escaped, so a
    cell cannot leave the code block or mention anyone.
    """
    shown = rows[:max_rows]
    headings = [_cell(c.header, c.max_width) for c in columns]
    cells = [
        [_cell(value, c.max_width) for value, c in zip(row, columns, strict=True)] for row in shown
    ]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headings)]

    def line(values: Sequence[str]) -> str:
        padded = (_pad(v, w, c.align) for v, w, c in zip(values, widths, columns, strict=True))
        return escape("  ".join(padded).rstrip())

    head = [line(headings), "  ".join("-" * w for w in widths)]
    prefix = f"{title}\n" if title else ""
    blocks: list[Block] = []
    chunk: list[str] = []

    def flush() -> None:
        text = f"{prefix if not blocks else ''}{FENCE}\n" + "\n".join(head + chunk) + f"\n{FENCE}"
        blocks.append(TableSection(text=_truncate_mrkdwn(text, MAX_SECTION), row_count=len(chunk)))
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
