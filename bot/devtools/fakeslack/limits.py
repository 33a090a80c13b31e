"""The Slack limits the stand-in enforces: a message or view Slack would refuse is refused
here too, and response URLs and trigger_ids expire as Slack's do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.devtools.fakeslack.reading import button_label, text_of

# Slack's documented limits on response URLs.
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60
TRIGGER_ID_TTL_SECONDS = 3.0


def message_problem(body: Mapping[str, Any]) -> dict[str, Any] | None:
    if not body.get("channel"):
        return {"ok": False, "error": "channel_not_found"}
    if not (body.get("text") or body.get("blocks") or body.get("attachments")):
        return {"ok": False, "error": "no_text"}
    blocks = body.get("blocks")
    if blocks is not None and not isinstance(blocks, list):
        return invalid_blocks(["blocks must be an array"])
    problems = block_problems(blocks or [], max_blocks=50)
    return invalid_blocks(problems) if problems else None


def invalid_blocks(problems: list[str]) -> dict[str, Any]:
    return {
        "ok": False,
        "error": "invalid_blocks",
        "errors": problems,
        "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
    }


def block_problems(blocks: list[Any], *, max_blocks: int) -> list[str]:
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"no more than {max_blocks} items allowed [json-pointer:/blocks]")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{i}"
        if not isinstance(block, Mapping) or not block.get("type"):
            problems.append(f"a block needs a type {where}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if len(str(block_id)) > 255:
                problems.append(f"must be less than 256 characters {where}/block_id]")
            if str(block_id) in seen:
                problems.append(f"duplicate block_id {block_id!r} {where}/block_id]")
            seen.add(str(block_id))
        kind = block["type"]
        if kind == "header" and len(text_of(block.get("text"))) > 150:
            problems.append(f"must be less than 151 characters {where}/text/text]")
        if kind == "section":
            if len(text_of(block.get("text"))) > 3000:
                problems.append(f"must be less than 3001 characters {where}/text/text]")
            fields = block.get("fields") or []
            if len(fields) > 10:
                problems.append(f"no more than 10 items allowed {where}/fields]")
            for j, item in enumerate(fields):
                if len(text_of(item)) > 2000:
                    problems.append(f"must be less than 2001 characters {where}/fields/{j}/text]")
            if not block.get("text") and not fields:
                problems.append(f"a section needs text or fields {where}]")
        elements = block.get("elements") or []
        if kind == "actions" and len(elements) > 25:
            problems.append(f"no more than 25 items allowed {where}/elements]")
        if kind == "context" and len(elements) > 10:
            problems.append(f"no more than 10 items allowed {where}/elements]")
        accessory = block.get("accessory")
        for j, element in enumerate([*elements, *([accessory] if accessory else [])]):
            if isinstance(element, Mapping) and element.get("type") == "button":
                path = f"{where}/elements/{j}" if j < len(elements) else f"{where}/accessory"
                if len(button_label(element)) > 75:
                    problems.append(f"must be less than 76 characters {path}/text/text]")
                if len(str(element.get("value") or "")) > 2000:
                    problems.append(f"must be less than 2001 characters {path}/value]")
                if len(str(element.get("action_id") or "")) > 255:
                    problems.append(f"must be less than 256 characters {path}/action_id]")
    return problems
