"""The modal open in the console: its fields as `set` names them, what the user typed turned
into `view.state`, and the form as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.devtools.console.text import content_of, plain, seen_text
from bot.devtools.fakeslack import (
    SlackCall,
    element_options,
    input_blocks,
    view_state,
)
from bot.slack.ids import ReportFormId as F

# What `set` calls the report form's fields (other inputs go by their block_id) ...
FIELD_NAMES: dict[str, str] = {
    F.START_BLOCK.value: "start",
    F.END_BLOCK.value: "end",
    F.GRANULARITY_BLOCK.value: "granularity",
    F.PROJECTS_BLOCK.value: "projects",
    F.PAYMENT_METHODS_BLOCK.value: "payment-methods",
    F.CHANNEL_BLOCK.value: "channel",
}
# ... and its checkboxes (others go by their value), each a field of its own: `set csv on`.
CHECKBOX_NAMES: dict[str, str] = {
    F.OPTION_CSV.value: "csv",
    F.OPTION_REPORTED.value: "reported",
}
FIELD_ALIASES: dict[str, str] = {
    "from": "start",
    "to": "end",
    "by": "granularity",
    "project": "projects",
    "payment-method": "payment-methods",
    "methods": "payment-methods",
    "pm": "payment-methods",
    "post-in": "channel",
}
ON_WORDS = frozenset({"", "on", "yes", "y", "true", "1", "x"})
OFF_WORDS = frozenset({"off", "no", "n", "false", "0"})
MAX_CHOICES_SHOWN = 12
_SINGLE_SELECTS = frozenset({"static_select", "radio_buttons"})
_MULTI_SELECTS = frozenset({"multi_static_select", "checkboxes"})
_CONVERSATION_INPUTS = frozenset(
    {
        "conversations_select",
        "channels_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)


@dataclass(frozen=True)
class FormField:
    """One thing `set` changes: an input of the form, or one checkbox of a checkbox group."""

    name: str
    block: Mapping[str, Any]
    element: Mapping[str, Any]
    option: Mapping[str, Any] | None = None  # the checkbox, for one of a group

    @property
    def block_id(self) -> str:
        return str(self.block.get("block_id") or "")

    @property
    def label(self) -> str:
        return plain(self.block.get("label"))

    @property
    def kind(self) -> str:
        return str(self.element.get("type") or "")


@dataclass
class OpenForm:
    """A modal the bot rendered (its `views.open`/`views.update` call), as the console shows
    it, and what the user `set` in it (by block_id, as `view_state` takes it)."""

    call: SlackCall
    view_id: str | None
    current_conversation: str | None
    chosen: dict[str, Any] = field(default_factory=dict)

    @property
    def view(self) -> Mapping[str, Any]:
        return content_of(self.call)

    @property
    def title(self) -> str:
        return plain(self.view.get("title")) or "form"

    @property
    def submit_label(self) -> str:
        return plain(self.view.get("submit")) or "Submit"

    @property
    def fields(self) -> list[FormField]:
        return _form_fields(self.view)

    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def state(self) -> dict[str, Any]:
        """`view.state` as Slack would submit it."""
        return view_state(self.view, self.chosen, current_conversation=self.current_conversation)

    def keep(self, chosen: Mapping[str, Any]) -> None:
        """Carry over what was set in the previous rendering, where this one still offers it."""
        inputs = {f.block_id for f in self.fields}
        for block_id, value in chosen.items():
            if block_id not in inputs:
                continue
            try:
                view_state(self.view, {block_id: value})
            except (LookupError, ValueError):
                continue
            self.chosen[block_id] = value

    def set(self, name: str, typed: str) -> str:
        """Set field `name` from what was typed (empty: clear it); the field's new line.

        ValueError, with what to type instead, for an unknown field or an unusable value."""
        key = name.lower().replace("_", "-")
        key = FIELD_ALIASES.get(key, key)
        found = next((f for f in self.fields if f.name.lower() == key), None)
        if found is None:
            raise ValueError(
                f"The form has no field `{name}`; it has: {', '.join(self.field_names())}."
            )
        entry = self._entries().get(found.block_id, {})
        self.chosen[found.block_id] = _typed_value(found, typed, entry)
        return self._line(found, self._entries().get(found.block_id, {}), width=0)

    def text(self) -> str:
        """Every block of the form; each input with its field name, its value and choices."""
        entries = self._entries()
        fields = self.fields
        width = max((len(f.name) for f in fields), default=0)
        lines: list[str] = []
        for block in self.view.get("blocks") or []:
            if not isinstance(block, Mapping):
                continue
            if block.get("type") != "input":
                shown = seen_text({"blocks": [block]})
                if shown:
                    lines.append(shown)
                continue
            for f in fields:
                if f.block is block:
                    entry = entries.get(f.block_id, {})
                    lines.append(self._line(f, entry, width=width))
                    choices = _choices_text(f)
                    if choices:
                        lines.append(" " * (width + 2) + choices)
        lines.append(
            f"(fill it in with `set <field> <value>`, then `submit` to press "
            f"[{self.submit_label}], or `cancel`)"
        )
        return "\n".join(lines)

    def errors_text(self, errors: Mapping[str, Any]) -> str:
        """The field errors of a `response_action: errors` answer, each on its field."""
        fields = self.fields
        lines: list[str] = []
        for block_id, message in errors.items():
            names = [f.name for f in fields if f.block_id == block_id]
            label = next((f.label for f in fields if f.block_id == block_id), "")
            where = f"{'/'.join(names)} ({label})" if names else block_id
            lines.append(f"{where}: {message}")
        return "\n".join(lines) or "(errors, but on no field)"

    def _entries(self) -> dict[str, Mapping[str, Any]]:
        """block_id -> that input's state entry ({"type": ..., "selected_...": ...})."""
        values = self.state()["values"]
        entries: dict[str, Mapping[str, Any]] = {}
        for block_id, by_action in values.items():
            for entry in by_action.values():
                entries[block_id] = entry
        return entries

    @staticmethod
    def _line(f: FormField, entry: Mapping[str, Any], *, width: int) -> str:
        name = f.name.ljust(width)
        if f.option is not None:
            picked = {o.get("value") for o in entry.get("selected_options") or []}
            box = "[x]" if f.option.get("value") in picked else "[ ]"
            return f"{name}  {f.label}: {box} {plain(f.option.get('text'))}"
        optional = " (optional)" if f.block.get("optional") else ""
        return f"{name}  {f.label}{optional}: {_entry_text(f, entry)}"


def _form_fields(view: Mapping[str, Any]) -> list[FormField]:
    fields: list[FormField] = []
    for block, element in input_blocks(view):
        if element.get("type") == "checkboxes":
            for option in element_options(element):
                value = str(option.get("value") or "")
                fields.append(FormField(CHECKBOX_NAMES.get(value, value), block, element, option))
        else:
            block_id = str(block.get("block_id") or "")
            fields.append(FormField(FIELD_NAMES.get(block_id, block_id), block, element))
    return fields


def _option_name(option: Mapping[str, Any]) -> str:
    """How the console names an option: its value, or its label when the value is an ID."""
    value = str(option.get("value") or "")
    label = plain(option.get("text"))
    return value if not label or label.lower() == value.lower() else label


def _entry_text(f: FormField, entry: Mapping[str, Any]) -> str:
    values = [v for k, v in entry.items() if k != "type"]
    value = values[0] if values else None
    if isinstance(value, list):
        shown = [_one_value(f, v) for v in value]
        return ", ".join(shown) if shown else _empty(f)
    return _one_value(f, value) if value else _empty(f)


def _one_value(f: FormField, value: object) -> str:
    if isinstance(value, Mapping):
        return _option_name(value)
    return f"#{value}" if f.kind in _CONVERSATION_INPUTS else str(value)


def _empty(f: FormField) -> str:
    placeholder = plain(f.element.get("placeholder"))
    return f"(empty: {placeholder})" if placeholder else "(empty)"


def _choices_text(f: FormField) -> str:
    if f.option is not None or f.kind not in _SINGLE_SELECTS | _MULTI_SELECTS:
        return ""
    names = [_option_name(o) for o in element_options(f.element)]
    if not names:
        return "(nothing to choose from)"
    shown = ", ".join(names[:MAX_CHOICES_SHOWN])
    if len(names) > MAX_CHOICES_SHOWN:
        shown += f", …and {len(names) - MAX_CHOICES_SHOWN} more"
    how = "one of" if f.kind in _SINGLE_SELECTS else "any of, comma-separated"
    return f"{how}: {shown}"


def _typed_value(f: FormField, typed: str, entry: Mapping[str, Any]) -> object:
    """What `view_state` takes for field `f`, from what the user typed."""
    if f.option is not None:
        word = typed.lower()
        if word not in ON_WORDS | OFF_WORDS:
            raise ValueError(f"`set {f.name} on` or `set {f.name} off`.")
        mine = f.option.get("value")
        picked = {o.get("value") for o in entry.get("selected_options") or []}
        picked = picked | {mine} if word in ON_WORDS else picked - {mine}
        return [o.get("value") for o in element_options(f.element) if o.get("value") in picked]
    if not typed:
        return [] if f.kind in _MULTI_SELECTS or f.kind.startswith("multi_") else None
    if f.kind == "datepicker":
        try:
            return date.fromisoformat(typed).isoformat()
        except ValueError:
            raise ValueError(
                f"`{f.name}` takes a date as YYYY-MM-DD, e.g. `set {f.name} 2026-10-01`."
            ) from None
    if f.kind in _SINGLE_SELECTS:
        return _match_option(f, typed)
    if f.kind in _MULTI_SELECTS:
        return list(dict.fromkeys(_match_option(f, item) for item in _items(typed)))
    if f.kind in _CONVERSATION_INPUTS:
        ids = [_conversation(item) for item in _items(typed)]
        return ids if f.kind.startswith("multi_") else ids[0] if ids else None
    if f.kind.startswith("multi_"):
        return _items(typed)
    return typed


def _items(typed: str) -> list[str]:
    return [item.strip() for item in typed.split(",") if item.strip()]


def _conversation(typed: str) -> str:
    """`#C_DEMO`, `<#C_DEMO|demo>` or `C_DEMO`: the conversation ID."""
    return typed.strip().removeprefix("<").removeprefix("#").split("|", 1)[0].rstrip(">")


def _match_option(f: FormField, typed: str) -> str:
    """The value of the option `typed` names: its value or label, or the start of one."""
    options = element_options(f.element)
    exact = [o for o in options if o.get("value") == typed]
    low = typed.lower()

    def names(option: Mapping[str, Any]) -> tuple[str, str]:
        return str(option.get("value") or "").lower(), plain(option.get("text")).lower()

    same = [o for o in options if low in names(o)]
    starting = [o for o in options if any(n.startswith(low) for n in names(o))]
    for found in (exact, same, starting):
        if len(found) == 1:
            return str(found[0].get("value"))
    if starting:
        could = ", ".join(_option_name(o) for o in starting)
        raise ValueError(f"“{typed}” could be {could}: type more of it.")
    listed = ", ".join(_option_name(o) for o in options) or "nothing to choose from"
    raise ValueError(f"“{typed}” is not a choice for `{f.name}`: {listed}.")
