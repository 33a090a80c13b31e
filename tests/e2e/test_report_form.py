"""The report form over signed HTTP: opened at once by `/billing report` and by the shortcut,
its lists filled from MK.IO after; submissions refused on their fields, or posted in the
chosen channel by the same path as the command."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.report_form import origin_channel
from bot.devtools.fakeslack import APP_ID, TEAM_DOMAIN, SlackCall
from bot.slack.delivery import EphemeralOrDirectMessage
from bot.slack.ids import CallbackId
from bot.slack.ids import ReportFormId as F
from bot.slack.render.common import finish, section
from tests.e2e.stack import MEMBER, Stack, seen, upload_named

LAST_MONTH = {"startDate": "2026-10-01", "endDate": "2026-11-01", "granularity": "day"}
MONTH_BEFORE = {**LAST_MONTH, "startDate": "2026-09-01", "endDate": "2026-10-01"}


# --- What Slack would send ------------------------------------------------------------------


def _user(user_id: str) -> dict[str, str]:
    name = user_id.removeprefix("U_").lower()
    return {"id": user_id, "username": name, "name": name, "team_id": "T0001"}


async def send_interaction(stack: Stack, payload: dict[str, Any]) -> httpx.Response:
    """POST an interactivity payload as Slack does: form-encoded `payload=<json>`, signed."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **stack.sender.signed_headers(body),
    }
    return await stack.sender.raw(body, headers)


async def press_shortcut(stack: Stack, *, user_id: str = MEMBER) -> httpx.Response:
    """The "Billing report" global shortcut: a fresh trigger_id, no channel."""
    return await send_interaction(
        stack,
        {
            "type": "shortcut",
            "token": "deprecated-verification-token",
            "action_ts": f"{time.time():.6f}",
            "team": {"id": "T0001", "domain": TEAM_DOMAIN},
            "user": _user(user_id),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": CallbackId.REPORT_SHORTCUT.value,
            "trigger_id": stack.slack.trigger_id(),
        },
    )


def _options_of(element: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    yield from element.get("options") or []
    for group in element.get("option_groups") or []:
        yield from group.get("options") or []


def _pick(element: Mapping[str, Any], value: str) -> dict[str, Any]:
    for option in _options_of(element):
        if option["value"] == value:
            return dict(option)
    raise LookupError(f"{value!r} is not an option of {element.get('action_id')}")


def filled_state(
    view: Mapping[str, Any], choose: Mapping[str, Any], *, current: str | None = None
) -> dict[str, Any]:
    """`view.state` as Slack builds it from the rendered inputs: each input block's initial
    value unless `choose` (by block_id) says otherwise; only rendered options can be chosen.
    `current` is the conversation the user was in (for `default_to_current_conversation`)."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        kind = element["type"]
        given = block_id in choose
        chosen: Any = choose.get(block_id)  # a date, an option value or a list of them
        entry: dict[str, Any] = {"type": kind}
        if kind == "datepicker":
            entry["selected_date"] = chosen if given else element.get("initial_date")
        elif kind == "static_select":
            initial = element.get("initial_option")
            entry["selected_option"] = (
                (_pick(element, chosen) if chosen else None) if given else initial
            )
        elif kind in ("multi_static_select", "checkboxes"):
            picked = chosen if given else [o["value"] for o in element.get("initial_options", [])]
            entry["selected_options"] = [_pick(element, v) for v in picked]
        elif kind == "conversations_select":
            default = element.get("initial_conversation") or (
                current if element.get("default_to_current_conversation") else None
            )
            entry["selected_conversation"] = chosen if given else default
        else:
            raise AssertionError(f"the form has an input this test cannot fill: {kind}")
        values[block_id] = {element["action_id"]: entry}
    return {"values": values}


async def submit_form(
    stack: Stack,
    rendered: SlackCall,
    choose: Mapping[str, Any],
    *,
    user_id: str = MEMBER,
    current: str | None = None,
) -> httpx.Response:
    """Submit the view the bot rendered (in `views.open`/`views.update`) with `choose` filled."""
    view = rendered.body["view"]
    view_id = rendered.body.get("view_id") or f"V{secrets.token_hex(4).upper()}"
    submitted = {
        **view,
        "id": view_id,
        "team_id": "T0001",
        "app_id": APP_ID,
        "bot_id": "BBOT",
        "hash": secrets.token_hex(8),
        "root_view_id": view_id,
        "previous_view_id": None,
        "state": filled_state(view, choose, current=current),
    }
    return await send_interaction(
        stack,
        {
            "type": "view_submission",
            "team": {"id": "T0001", "domain": TEAM_DOMAIN},
            "user": _user(user_id),
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "trigger_id": stack.slack.trigger_id(),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        },
    )


# --- Reading what the bot did ---------------------------------------------------------------


def inputs(call: SlackCall) -> dict[str, dict[str, Any]]:
    return {
        b["block_id"]: b["element"] for b in call.body["view"]["blocks"] if b["type"] == "input"
    }


def option_values(element: Mapping[str, Any]) -> list[str]:
    return [o["value"] for o in _options_of(element)]


def mkio_paths(stack: Stack) -> list[str]:
    return [r.path for r in stack.sandbox.requests]


async def opened_form(stack: Stack) -> tuple[SlackCall, SlackCall]:
    """The views.open, then the views.update that filled in the lists."""
    [opened] = await stack.slack.wait_for(lambda c: c.method == "views.open")
    [updated] = await stack.slack.wait_for(lambda c: c.method == "views.update")
    assert stack.slack.calls.index(opened) < stack.slack.calls.index(updated)
    return opened, updated


# --- Opening --------------------------------------------------------------------------------


async def test_report_with_no_arguments_opens_the_form_then_fills_in_the_projects(
    stack: Stack,
) -> None:
    sent = await stack.sender.command("report", channel_id="C_FINANCE")
    assert sent.status == 200
    opened, updated = await opened_form(stack)

    assert opened.ok, "views.open was made while the trigger_id was valid"
    view = opened.body["view"]
    assert view["type"] == "modal"
    assert view["callback_id"] == CallbackId.REPORT_FORM
    assert origin_channel(view["private_metadata"]) == "C_FINANCE"
    first = inputs(opened)
    assert first[F.START_BLOCK]["initial_date"] == "2026-10-01"
    assert first[F.END_BLOCK]["initial_date"] == "2026-11-01"
    assert first[F.GRANULARITY_BLOCK]["initial_option"]["value"] == "day"
    assert first[F.CHANNEL_BLOCK]["initial_conversation"] == "C_FINANCE"
    assert first[F.CHANNEL_BLOCK]["default_to_current_conversation"] is True
    assert F.PROJECTS_BLOCK not in first, "the lists come after, from MK.IO"

    assert updated.body["view_id"].startswith("V")
    assert updated.body["hash"]
    assert updated.body["view"]["callback_id"] == CallbackId.REPORT_FORM
    filled = inputs(updated)
    assert sorted(option_values(filled[F.PROJECTS_BLOCK])) == sorted(stack.sandbox.project_names())
    methods = filled[F.PAYMENT_METHODS_BLOCK]
    assert sorted(option_values(methods)) == sorted(stack.sandbox.payment_method_ids().values())
    labels = {o["text"]["text"] for o in _options_of(methods)}
    assert labels == set(stack.sandbox.payment_method_ids())
    for block_id, element in first.items():
        assert filled[block_id] == element, f"{block_id} is kept as the user may have set it"

    paths = mkio_paths(stack)
    assert "/api/v1/projects" in paths
    assert "/api/v1/organization/paymentMethods" in paths
    assert not [p for p in paths if "reports" in p]


async def test_the_form_opens_before_mkio_answers(stack: Stack) -> None:
    """A trigger_id lives 3 s, however slow MK.IO is: the form must not wait for it."""
    stack.sandbox.hold()
    sent = await stack.sender.command("report", channel_id="C_FINANCE")
    assert sent.status == 200
    [opened] = await stack.slack.wait_for(lambda c: c.method == "views.open")
    # Every MK.IO call made so far is still waiting for its answer (none was given up on).
    assert stack.sandbox.held == stack.sandbox.requests
    assert opened.ok
    await stack.sandbox.wait_held(path="/projects")  # the lists are being fetched
    assert not stack.slack.api_calls("views.update", include_failed=True)

    stack.sandbox.release()
    [updated] = await stack.slack.wait_for(lambda c: c.method == "views.update")
    assert option_values(inputs(updated)[F.PROJECTS_BLOCK])
    assert not stack.slack.api_calls("views.open", include_failed=True)[1:]


async def test_the_shortcut_opens_the_same_form(stack: Stack) -> None:
    response = await press_shortcut(stack)
    assert response.status_code == 200
    opened, updated = await opened_form(stack)
    assert opened.ok
    assert opened.body["view"]["callback_id"] == CallbackId.REPORT_FORM
    assert origin_channel(opened.body["view"].get("private_metadata")) is None
    channel = inputs(opened)[F.CHANNEL_BLOCK]
    assert "initial_conversation" not in channel
    assert channel["default_to_current_conversation"] is True
    assert sorted(option_values(inputs(updated)[F.PROJECTS_BLOCK])) == sorted(
        stack.sandbox.project_names()
    )


async def test_a_list_mkio_cannot_give_is_explained_in_the_form(stack: Stack) -> None:
    stack.sandbox.add_fault(method="GET", path="/projects", status=500, times=20)
    await stack.sender.command("report", channel_id="C_FINANCE")
    _, updated = await opened_form(stack)
    filled = inputs(updated)
    assert F.PROJECTS_BLOCK not in filled
    assert option_values(filled[F.PAYMENT_METHODS_BLOCK])
    [note] = [
        b for b in updated.body["view"]["blocks"] if b.get("block_id") == F.FILTERS_NOTE_BLOCK
    ]
    assert "Couldn't load the projects" in note["elements"][0]["text"]


# --- Submitting -----------------------------------------------------------------------------


async def test_both_filters_are_refused_on_the_payment_method_field_before_any_call(
    stack: Stack,
) -> None:
    await stack.sender.command("report", channel_id="C_FINANCE")
    _, updated = await opened_form(stack)
    before = len(stack.sandbox.requests)
    calls = len(stack.slack.calls)
    method_id = next(iter(stack.sandbox.payment_method_ids().values()))

    response = await submit_form(
        stack,
        updated,
        {F.PROJECTS_BLOCK: ["my-project"], F.PAYMENT_METHODS_BLOCK: [method_id]},
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [F.PAYMENT_METHODS_BLOCK]
    assert "not both" in answer["errors"][F.PAYMENT_METHODS_BLOCK]

    assert len(stack.sandbox.requests) == before, "nothing reached MK.IO"
    assert stack.slack.calls[calls:] == [], "nothing was posted"


@pytest.mark.parametrize(
    ("choose", "field"),
    [
        ({F.START_BLOCK: "2026-10-10", F.END_BLOCK: "2026-10-01"}, F.END_BLOCK),
        (
            {F.START_BLOCK: "2026-08-01", F.END_BLOCK: "2026-10-01", F.GRANULARITY_BLOCK: "hour"},
            F.GRANULARITY_BLOCK,
        ),
        ({F.START_BLOCK: None, F.END_BLOCK: None}, F.START_BLOCK),
    ],
)
async def test_a_broken_rule_keeps_the_form_open_with_the_error_on_its_field(
    stack: Stack, choose: dict[str, Any], field: F
) -> None:
    await stack.sender.command("report", channel_id="C_FINANCE")
    _, updated = await opened_form(stack)
    before = len(stack.sandbox.requests)
    response = await submit_form(stack, updated, choose)
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert field in answer["errors"]
    assert len(stack.sandbox.requests) == before


async def test_last_months_csv_report_from_the_form_is_posted_in_the_chosen_channel(
    stack: Stack,
) -> None:
    await stack.sender.command("report", channel_id="C_GENERAL")
    _, updated = await opened_form(stack)

    response = await submit_form(
        stack,
        updated,
        {F.OPTIONS_BLOCK: [F.OPTION_CSV], F.CHANNEL_BLOCK: "C_FINANCE"},
        current="C_GENERAL",
    )
    assert response.status_code == 200
    assert response.text == "", "an empty ack closes the modal"

    [summary] = await stack.slack.wait_for(
        lambda c: c.method == "chat.update" and "Preparing" not in str(c.body.get("text"))
    )
    [complete] = await stack.slack.wait_for(upload_named(stack, ".csv"))
    [preparing] = stack.slack.api_calls("chat.postMessage")
    assert preparing.body["channel"] == "C_FINANCE"
    assert summary.body["channel"] == "C_FINANCE"
    assert summary.body["ts"] == preparing.ts
    assert "2026-10-01 → 2026-11-01 (UTC, end exclusive)" in seen(summary)
    assert complete.body["channel_id"] == "C_FINANCE"
    assert complete.body["thread_ts"] == summary.body["ts"]
    [entry] = complete.body["files"]
    name = stack.slack.upload(entry["id"])["name"]
    assert name.startswith("mkio-usage_2026-10-01_to_2026-11-01")
    assert name.endswith(".csv")
    assert stack.slack.files[entry["id"]]

    reports = [r.json for r in stack.sandbox.requests if r.path.endswith("/reports/usage")]
    # the month and the month before it is compared with (together), then the CSV
    assert sorted(reports[:2], key=str) == sorted([LAST_MONTH, MONTH_BEFORE], key=str)
    assert reports[2:] == [{**LAST_MONTH, "format": "csv", "download": True}]
    assert not stack.slack.api_calls("chat.postEphemeral")


async def test_a_report_filtered_by_payment_method_sends_its_id(stack: Stack) -> None:
    await press_shortcut(stack)
    _, updated = await opened_form(stack)
    method_id = next(iter(stack.sandbox.payment_method_ids().values()))

    response = await submit_form(
        stack,
        updated,
        {
            F.PAYMENT_METHODS_BLOCK: [method_id],
            F.GRANULARITY_BLOCK: "week",
            F.OPTIONS_BLOCK: [F.OPTION_REPORTED],
            F.CHANNEL_BLOCK: "C_FINANCE",
        },
    )
    assert response.text == ""
    [summary] = await stack.slack.wait_for(
        lambda c: c.method == "chat.update" and "Preparing" not in str(c.body.get("text"))
    )
    assert summary.body["channel"] == "C_FINANCE"
    reports = [r.json for r in stack.sandbox.requests if r.path.endswith("/reports/usage")]
    filters = {"granularity": "week", "paymentMethodIds": [method_id], "filterOnReportedDate": True}
    assert sorted(reports, key=str) == sorted(
        [{**LAST_MONTH, **filters}, {**MONTH_BEFORE, **filters}], key=str
    )
    assert not stack.slack.api_calls("files.completeUploadExternal")


# --- Notes for the submitter ----------------------------------------------------------------


async def test_notes_go_ephemeral_in_the_channel_or_by_dm_when_slack_refuses(
    stack: Stack,
) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=stack.slack.api_url)
    send = EphemeralOrDirectMessage(client, "C_FINANCE", MEMBER)

    await send.post(finish("first", [section("first")]))
    [note] = stack.slack.api_calls("chat.postEphemeral")
    assert (note.channel, note.body["user"], note.ephemeral) == ("C_FINANCE", MEMBER, True)

    stack.slack.fail_next("chat.postEphemeral", error="channel_not_found", status=200)
    await send.post(finish("second", [section("second")]))
    [dm] = stack.slack.api_calls("chat.postMessage")
    assert dm.body["channel"] == MEMBER
    assert dm.body["text"] == "second"
