"""What a user would see: a message's blocks as readable text, and its buttons in order."""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any


def buttons(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every button element of the message, in display order, each with its `block_id`."""
    return [dict(button) for button in _iter_elements(message, "button")]


def date_pickers(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every date picker of the message, in display order, each with its `block_id`."""
    return [dict(picker) for picker in _iter_elements(message, "datepicker")]


def message_text(message: Mapping[str, Any]) -> str:
    """The message as readable plain text; buttons numbered as `buttons` orders them.

    Renders header, section (text, fields, accessory), context, actions ("[1] Next page"),
    divider, image, rich_text and markdown blocks; mrkdwn is shown as is. Without blocks,
    the message's `text`.
    """
    lines: list[str] = []
    counter = itertools.count(1)
    for blocks in _block_lists(message):
        for block in blocks:
            lines.extend(_render_block(block, counter))
    if not lines:
        return local_dates(str(message.get("text") or ""))
    return local_dates("\n".join(lines))


_DATE = re.compile(r"<!date\^[^|>]*\|([^>]*)>")


def local_dates(text: str) -> str:
    """`<!date^…|fallback>` as its fallback text (UTC): what a reader in UTC sees."""
    return _DATE.sub(r"\1", text)


def _render_block(block: Mapping[str, Any], counter: Iterator[int]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        return [text_of(block.get("text"))]
    if kind == "section":
        out = [text_of(block.get("text"))] if block.get("text") else []
        out.extend(text_of(f) for f in block.get("fields") or [])
        accessory = block.get("accessory")
        if isinstance(accessory, Mapping):
            out.append(_element(accessory, counter))
        return out
    if kind == "context":
        parts = [_element(e, counter) for e in block.get("elements") or []]
        return ["  ".join(p for p in parts if p)]
    if kind == "actions":
        parts = [_element(e, counter) for e in block.get("elements") or []]
        return ["   ".join(p for p in parts if p)]
    if kind == "divider":
        return ["---"]
    if kind == "image":
        return [f"[image] {text_of(block.get('title')) or block.get('alt_text', '')}"]
    if kind == "markdown":
        return [str(block.get("text") or "")]
    if kind == "rich_text":
        return ["\n".join(_rich(e) for e in block.get("elements") or [])]
    if kind == "table":
        return [_table(block)]
    if kind == "input":
        return [f"{text_of(block.get('label'))}: [input]"]
    if kind == "file":
        return [f"[file] {block.get('external_id', '')}"]
    return [f"[{kind}]"]


def _table(block: Mapping[str, Any]) -> str:
    """A `table` block as aligned text, the way Slack lays it out in columns."""
    rows = [[text_of(cell) for cell in row] for row in block.get("rows") or []]
    if not rows:
        return ""
    aligns = [
        str(s.get("align") or "left") if s else "left" for s in block.get("column_settings") or []
    ]
    widths = [max(len(row[i]) if i < len(row) else 0 for row in rows) for i in range(len(rows[0]))]

    def line(row: list[str]) -> str:
        cells = [
            v.rjust(w) if i < len(aligns) and aligns[i] == "right" else v.ljust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=False))
        ]
        return " | ".join(cells).rstrip()

    return "\n".join(line(row) for row in rows)


def _element(element: Mapping[str, Any], counter: Iterator[int]) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{next(counter)}] {button_label(element)}"
    if kind in ("mrkdwn", "plain_text"):
        return str(element.get("text") or "")
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    placeholder = text_of(element.get("placeholder"))
    return f"<{kind}{': ' + placeholder if placeholder else ''}>"


def _rich(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    children = element.get("elements") or []
    if kind == "rich_text_list":
        bullet = "1." if element.get("style") == "ordered" else "•"
        return "\n".join(f"{bullet} {_rich(c)}" for c in children)
    inner = "".join(_rich_leaf(c) for c in children)
    if kind == "rich_text_preformatted":
        return f"```\n{inner}\n```"
    if kind == "rich_text_quote":
        return "\n".join(f"> {line}" for line in inner.splitlines())
    return inner


def _rich_leaf(leaf: Mapping[str, Any]) -> str:
    kind = leaf.get("type")
    if kind == "text":
        return str(leaf.get("text") or "")
    if kind == "link":
        return str(leaf.get("text") or leaf.get("url") or "")
    if kind == "emoji":
        return f":{leaf.get('name', '')}:"
    if kind == "user":
        return f"<@{leaf.get('user_id', '')}>"
    if kind == "channel":
        return f"<#{leaf.get('channel_id', '')}>"
    if "elements" in leaf:
        return _rich(leaf)
    return ""


def text_of(obj: object) -> str:
    if isinstance(obj, Mapping):
        return str(obj.get("text") or "")
    return "" if obj is None else str(obj)


def button_label(button: Mapping[str, Any]) -> str:
    return text_of(button.get("text"))


def _block_lists(message: Mapping[str, Any]) -> list[list[Mapping[str, Any]]]:
    """The message's blocks, then those of its attachments (JSON text is parsed)."""
    lists: list[list[Mapping[str, Any]]] = []
    blocks = maybe_json(message.get("blocks"))
    if isinstance(blocks, list):
        lists.append([b for b in blocks if isinstance(b, Mapping)])
    attachments = maybe_json(message.get("attachments"))
    if isinstance(attachments, list):
        for attachment in attachments:
            if isinstance(attachment, Mapping):
                inner = maybe_json(attachment.get("blocks"))
                if isinstance(inner, list):
                    lists.append([b for b in inner if isinstance(b, Mapping)])
    return lists


def _iter_elements(message: Mapping[str, Any], kind: str) -> Iterator[dict[str, Any]]:
    for list_index, blocks in enumerate(_block_lists(message)):
        for index, block in enumerate(blocks):
            # Slack gives a block without block_id one of its own; keep it stable here.
            block_id = str(block.get("block_id") or f"auto-{list_index}-{index}")
            elements: list[Any] = []
            if block.get("type") == "section" and isinstance(block.get("accessory"), Mapping):
                elements = [block["accessory"]]
            elif block.get("type") in ("actions", "context"):
                elements = list(block.get("elements") or [])
            for element in elements:
                if isinstance(element, Mapping) and element.get("type") == kind:
                    yield {**element, "block_id": block_id}


def maybe_json(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# What a code block may hold per line before Slack wraps it on a phone (the renderers'
# `MAX_TABLE_WIDTH`; product code is not imported here).
CODE_LINE_LIMIT = 60


def _columns(line: str) -> int:
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in line
    )


def wide_code_lines(value: object, limit: int = CODE_LINE_LIMIT) -> list[str]:
    """Every line inside a ``` block, anywhere in `value` (a call's body, a view), that is
    wider than `limit` as a reader sees it (Slack's three escapes shown as characters)."""
    if isinstance(value, Mapping):
        return [line for item in value.values() for line in wide_code_lines(item, limit)]
    if isinstance(value, list | tuple):
        return [line for item in value for line in wide_code_lines(item, limit)]
    if not isinstance(value, str) or "```" not in value:
        return []
    inside = value.split("```")[1::2]
    seen = (
        line.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        for block in inside
        for line in block.splitlines()
    )
    return [line for line in seen if _columns(line) > limit]
