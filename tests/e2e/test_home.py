"""The App Home tab over HTTP: `app_home_opened` publishes this month's figures, once per
event even when Slack retries it; Refresh re-publishes; the other buttons send DMs."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import defaultdict
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from bot.devtools.fakeslack import APP_ID, TEAM_DOMAIN, SlackCall, buttons, message_text
from bot.slack.ids import ActionId
from tests.e2e.stack import ADMIN, MEMBER, Stack, close_stack, json_body, make_stack, seen

MONTH_TO_DATE = {"startDate": "2026-11-01", "endDate": "2026-11-22", "granularity": "month"}
LAST_MONTH = {"startDate": "2026-10-01", "endDate": "2026-11-01", "granularity": "day"}
HOME_BUTTONS = [
    ActionId.HOME_REFRESH.value,
    ActionId.HOME_LAST_MONTH_REPORT.value,
    ActionId.HOME_RATE_CARDS.value,
]


def money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):,} USD"


def per_project(rows: list[dict[str, Any]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[str(row["project"])] += Decimal(str(row["cost"]))
    return dict(totals)


def report_requests(stack: Stack) -> list[dict[str, object]]:
    return [json_body(r) for r in stack.sandbox.requests if r.path.endswith("/reports/usage")]


def home_text(call: SlackCall) -> str:
    """The published Home tab as a user sees it."""
    return message_text(call.body["view"])


async def open_home(
    stack: Stack,
    user_id: str = MEMBER,
    *,
    tab: str = "home",
    event_id: str | None = None,
    retry_num: int | None = None,
) -> None:
    event = {"type": "app_home_opened", "user": user_id, "channel": "D" + user_id[1:], "tab": tab}
    sent = await stack.sender.event(event, event_id=event_id, retry_num=retry_num)
    assert sent.status == 200, sent.body


def publishes(stack: Stack, user_id: str = MEMBER) -> list[SlackCall]:
    return [c for c in stack.slack.api_calls("views.publish") if c.body["user_id"] == user_id]


async def published(stack: Stack, user_id: str = MEMBER, *, count: int = 1) -> SlackCall:
    """The `count`-th Home tab published for `user_id`."""
    calls = await stack.slack.wait_for(
        lambda c: c.method == "views.publish" and c.body["user_id"] == user_id, count=count
    )
    return calls[count - 1]


async def click_home(
    stack: Stack, view_call: SlackCall, action_id: str, *, user_id: str = MEMBER
) -> None:
    """Press a button of a published Home tab: Slack sends block_actions with a `view`
    container, the view itself, and no response_url or channel."""
    view_id = f"V{secrets.token_hex(4).upper()}"
    view = {
        **view_call.body["view"],
        "id": view_id,
        "team_id": stack.sender.team_id,
        "app_id": APP_ID,
        "hash": secrets.token_hex(8),
        "state": {"values": {}},
    }
    [button] = [b for b in buttons(view) if b.get("action_id") == action_id]
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "team_id": stack.sender.team_id},
        "api_app_id": APP_ID,
        "token": "deprecated-verification-token",
        "container": {"type": "view", "view_id": view_id},
        "trigger_id": stack.slack.trigger_id(),
        "team": {"id": stack.sender.team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": button["block_id"],
                "text": button["text"],
                "action_ts": f"{asyncio.get_running_loop().time():.6f}",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **stack.sender.signed_headers(body),
    }
    response = await stack.sender.raw(body, headers)
    assert response.status_code == 200, response.text


def assert_has_home_buttons(call: SlackCall) -> None:
    assert [b["action_id"] for b in buttons(call.body["view"])] == HOME_BUTTONS


# -- the Home tab ---------------------------------------------------------------------------


async def test_opening_the_home_tab_publishes_each_projects_month_to_date_cost(
    stack: Stack,
) -> None:
    await open_home(stack)
    call = await published(stack)
    assert call.ok
    view = call.body["view"]
    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100

    rows = stack.sandbox.report_rows(MONTH_TO_DATE)
    totals = per_project(rows)
    assert totals, "the sandbox has usage this month"
    text = home_text(call)
    lines = text.splitlines()
    for project, cost in totals.items():
        line = next(ln for ln in lines if ln.strip().split(" ")[0] == project)
        assert money(cost) in line, line
    total = sum(totals.values(), Decimal(0))
    assert f"Organization total: {money(total)}" in text
    assert "Period: 2026-11-01 → 2026-11-22 (UTC, end exclusive)" in text
    assert "Fetched 2026-11-21 15:30:00 UTC" in text
    assert_has_home_buttons(call)
    assert report_requests(stack) == [MONTH_TO_DATE]


async def test_the_projects_are_listed_largest_first(stack: Stack) -> None:
    await open_home(stack)
    text = home_text(await published(stack))
    totals = per_project(stack.sandbox.report_rows(MONTH_TO_DATE))
    order = sorted(totals, key=lambda p: -totals[p])
    positions = [text.index(f"\n{project} ") for project in order]
    assert positions == sorted(positions)


async def test_a_slack_retry_of_the_event_does_not_publish_twice(stack: Stack) -> None:
    await open_home(stack, event_id="EvHOME0001")
    await published(stack)
    await open_home(stack, event_id="EvHOME0001", retry_num=1)
    await open_home(stack, event_id="EvHOME0001", retry_num=2)
    # A later event, for someone else, is handled: the retries before it were dropped.
    await open_home(stack, ADMIN, event_id="EvHOME0002")
    await published(stack, ADMIN)
    await asyncio.sleep(0.2)
    assert len(publishes(stack, MEMBER)) == 1
    assert len(publishes(stack, ADMIN)) == 1


async def test_each_opening_publishes_again_from_the_cache(stack: Stack) -> None:
    await open_home(stack)
    first = await published(stack)
    await open_home(stack)
    second = await published(stack, count=2)
    assert home_text(first) == home_text(second)
    assert report_requests(stack) == [MONTH_TO_DATE], "the second one came from the cache"


async def test_the_messages_tab_publishes_nothing(stack: Stack) -> None:
    await open_home(stack, tab="messages")
    await open_home(stack, ADMIN)
    await published(stack, ADMIN)
    await asyncio.sleep(0.2)
    assert publishes(stack, MEMBER) == []


async def test_mkio_not_configured_shows_the_reason_and_the_buttons() -> None:
    stack = await make_stack(mkio_token=None)
    try:
        await open_home(stack)
        call = await published(stack)
        text = home_text(call)
        assert "not configured" in text
        assert "MKIO_TOKEN" in text
        assert "Organization total" not in text
        assert_has_home_buttons(call)
        assert stack.sandbox.requests == []
    finally:
        await close_stack(stack)


async def test_mkio_failing_shows_why_without_figures(stack: Stack) -> None:
    stack.sandbox.add_fault(path="/organization/reports/usage", status=503, times=100)
    await open_home(stack)
    call = await published(stack)
    text = home_text(call)
    assert "MK.IO" in text
    assert "503" in text
    assert "Organization total" not in text
    assert "Traceback" not in text
    assert_has_home_buttons(call)
    slack_traffic = json.dumps([c.body for c in stack.slack.calls])
    for secret in stack.settings.secrets():
        assert secret not in slack_traffic


# -- the buttons ----------------------------------------------------------------------------


async def test_refresh_republishes_the_home_tab(stack: Stack) -> None:
    await open_home(stack)
    first = await published(stack)
    await click_home(stack, first, ActionId.HOME_REFRESH.value)
    second = await published(stack, count=2)
    total = sum(per_project(stack.sandbox.report_rows(MONTH_TO_DATE)).values(), Decimal(0))
    assert f"Organization total: {money(total)}" in home_text(second)
    assert_has_home_buttons(second)
    reports = [r for r in stack.sandbox.requests if r.path.endswith("/reports/usage")]
    assert len(reports) == 2, "Refresh fetches fresh figures, not the cached ones"


async def test_refresh_after_a_failure_shows_the_figures(stack: Stack) -> None:
    stack.sandbox.add_fault(path="/organization/reports/usage", status=503, times=3)
    await open_home(stack)
    failed = await published(stack)
    assert "Organization total" not in home_text(failed)
    await click_home(stack, failed, ActionId.HOME_REFRESH.value)
    refreshed = await published(stack, count=2)
    assert "Organization total" in home_text(refreshed), "failures are never cached"


async def test_last_months_report_is_posted_in_the_users_dm(stack: Stack) -> None:
    await open_home(stack)
    home = await published(stack)
    await click_home(stack, home, ActionId.HOME_LAST_MONTH_REPORT.value)

    [summary] = await stack.slack.wait_for(
        lambda c: c.method == "chat.update" and "Preparing" not in str(c.body.get("text"))
    )
    rows = stack.sandbox.report_rows(LAST_MONTH)
    total = sum((Decimal(str(r["cost"])) for r in rows), Decimal(0))
    text = seen(summary)
    assert "Usage report — 2026-10" in text
    assert f"Total: {money(total)}" in text
    assert "2026-10-01 → 2026-11-01 (UTC, end exclusive)" in text

    posts = stack.slack.api_calls("chat.postMessage")
    assert posts, "the DM was opened with chat.postMessage"
    assert all(p.body["channel"] in (MEMBER, f"D{MEMBER[1:]}") for p in posts)
    assert posts[0].body["channel"] == MEMBER, "posting to the user ID opens the DM"
    dm = posts[0].channel
    assert dm is not None
    assert dm.startswith("D")
    assert summary.body["channel"] == dm, "the report is edited in the DM conversation"
    assert summary.body["ts"] in {p.ts for p in posts}
    assert LAST_MONTH in report_requests(stack)


async def test_rate_cards_are_a_dm_whose_buttons_send_each_rate_card(stack: Stack) -> None:
    await open_home(stack)
    home = await published(stack)
    await click_home(stack, home, ActionId.HOME_RATE_CARDS.value)
    [dm] = await stack.slack.wait_for(
        lambda c: c.method == "chat.postMessage" and c.body["channel"] == MEMBER
    )
    methods = stack.sandbox.payment_method_ids()
    assert len(methods) > 1
    labels = [b["text"]["text"] for b in buttons(dm.body)]
    assert labels == list(methods)
    assert "/billing ratecard" not in seen(dm)  # buttons, not commands to type
    assert not dm.ephemeral

    name, method_id = list(methods.items())[1]
    await stack.sender.click(dm, ActionId.HOME_RATE_CARD.value, user_id=MEMBER, nth=1)
    [card] = await stack.slack.wait_for(
        lambda c: c.method == "chat.postMessage" and c.body["channel"] == dm.channel
    )
    assert f"Rate card — {name}" in seen(card)
    assert ("GET", f"/api/v1/organization/paymentMethods/{method_id}/rateCard") in [
        (r.method, r.path) for r in stack.sandbox.requests
    ]


async def test_rate_cards_without_mkio_sends_the_reason() -> None:
    stack = await make_stack(mkio_token=None)
    try:
        await open_home(stack)
        home = await published(stack)
        await click_home(stack, home, ActionId.HOME_RATE_CARDS.value)
        [dm] = await stack.slack.wait_for(
            lambda c: c.method == "chat.postMessage" and c.body["channel"] == MEMBER
        )
        assert "MKIO_TOKEN" in seen(dm)
    finally:
        await close_stack(stack)


async def test_a_dm_slack_refuses_is_explained_on_the_home_tab(stack: Stack) -> None:
    await open_home(stack)
    home = await published(stack)
    stack.slack.fail_next("chat.postMessage", error="messages_tab_disabled", status=200)
    await click_home(stack, home, ActionId.HOME_LAST_MONTH_REPORT.value)
    notice = await published(stack, count=2)
    text = home_text(notice)
    assert "couldn't send you last month's report" in text
    assert "/billing report last-month" in text
    assert "Organization total" in text
