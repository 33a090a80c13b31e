"""Views: a modal's inputs filled in the way a user would (`view.state` as Slack builds it)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def view_state(
    view: Mapping[str, Any],
    chosen: Mapping[str, Any] | None = None,
    *,
    current_conversation: str | None = None,
) -> dict[str, Any]:
    """`view.state` as Slack builds it from a view's inputs: `{"values": {block_id:
    {action_id: {"type": ..., "selected_...": ...}}}}`.

    Each input holds its initial value unless `chosen` (by block_id) says otherwise: a date
    ("YYYY-MM-DD"), an option value (a list of them for multi-selects and checkboxes), a
    conversation, channel or user ID, or text; None (or an empty list) leaves it empty. Only
    options the view offers can be chosen (LookupError). `current_conversation` is what a
    conversation select with `default_to_current_conversation` starts with. An input of a kind
    this cannot fill raises ValueError.
    """
    given = chosen or {}
    values: dict[str, Any] = {}
    for block, element in input_blocks(view):
        block_id = str(block.get("block_id") or "")
        entry = _input_state(
            element,
            given.get(block_id),
            chosen=block_id in given,
            current_conversation=current_conversation,
        )
        values[block_id] = {str(element.get("action_id") or ""): entry}
    return {"values": values}


def input_blocks(view: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """The view's input blocks, each with its element, in order (others are passed over)."""
    for block in view.get("blocks") or []:
        if not isinstance(block, Mapping) or block.get("type") != "input":
            continue
        element = block.get("element")
        if isinstance(element, Mapping):
            yield block, element


def element_options(element: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The options a select or checkbox group offers, option groups flattened, in order."""
    found = [dict(o) for o in element.get("options") or [] if isinstance(o, Mapping)]
    for group in element.get("option_groups") or []:
        if isinstance(group, Mapping):
            found.extend(dict(o) for o in group.get("options") or [] if isinstance(o, Mapping))
    return found


# The state key and the initial-value key of each input kind holding one plain value.
_PLAIN_INPUTS: dict[str, tuple[str, str]] = {
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "channels_select": ("selected_channel", "initial_channel"),
    "users_select": ("selected_user", "initial_user"),
    "plain_text_input": ("value", "initial_value"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
    "multi_users_select": ("selected_users", "initial_users"),
}


def _input_state(
    element: Mapping[str, Any],
    value: object,
    *,
    chosen: bool,
    current_conversation: str | None,
) -> dict[str, Any]:
    kind = str(element.get("type") or "")
    entry: dict[str, Any] = {"type": kind}
    if kind in _PLAIN_INPUTS:
        key, initial = _PLAIN_INPUTS[kind]
        entry[key] = value if chosen else element.get(initial)
    elif kind in ("static_select", "radio_buttons"):
        picked = _pick_option(element, str(value)) if value else None
        entry["selected_option"] = picked if chosen else element.get("initial_option")
    elif kind in ("multi_static_select", "checkboxes"):
        items = value if isinstance(value, list | tuple) else [] if value is None else [value]
        picked_all = [_pick_option(element, str(v)) for v in items]
        entry["selected_options"] = (
            picked_all if chosen else list(element.get("initial_options") or [])
        )
    elif kind == "conversations_select":
        default = element.get("initial_conversation") or (
            current_conversation if element.get("default_to_current_conversation") else None
        )
        entry["selected_conversation"] = value if chosen else default
    else:
        raise ValueError(f"cannot fill an input of type {kind!r}")
    return entry


def _pick_option(element: Mapping[str, Any], value: str) -> dict[str, Any]:
    for option in element_options(element):
        if option.get("value") == value:
            return option
    raise LookupError(f"{value!r} is not an option of {element.get('action_id')!r}")
