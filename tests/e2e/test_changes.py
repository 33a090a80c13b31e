"""Billing changes from Slack: admin-only, previewed, confirmed once, audited.

Every click is a signed block_actions request built from the buttons the bot rendered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from bot.devtools.fakeslack import SlackCall
from tests.e2e.stack import ADMIN, MEMBER, Stack, close_stack, make_stack, seen

OTHER_ADMIN = "U_ADMIN_2"
CONFIRM = "billing_change_confirm"
CANCEL = "billing_change_cancel"


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    s = await make_stack(billing_admins=frozenset({ADMIN, OTHER_ADMIN}))
    try:
        yield s
    finally:
        await close_stack(s)


def method_id(stack: Stack, word: str) -> str:
    return next(i for name, i in stack.sandbox.payment_method_ids().items() if word in name)


def changes_made(stack: Stack) -> list[tuple[str, str, object]]:
    return [
        (r.method, r.path, r.json)
        for r in stack.sandbox.requests
        if r.method in ("POST", "PATCH") and r.path.startswith("/api/v1/projects/")
    ]


async def click(stack: Stack, message: SlackCall, action: str, user: str = ADMIN) -> SlackCall:
    sent = await stack.sender.click(message.body, action, user_id=user)
    assert sent.status == 200
    return await stack.final_response(sent.response_url)


async def switch_preview(stack: Stack, word: str = "AWS") -> SlackCall:
    _, preview = await stack.ask(
        f"payment-method my-project set {method_id(stack, word)}", user_id=ADMIN
    )
    return preview


async def test_a_non_admin_is_refused_politely_and_nothing_is_sent(stack: Stack) -> None:
    _, reply = await stack.ask(
        f"payment-method my-project set {method_id(stack, 'AWS')}", user_id=MEMBER
    )
    text = seen(reply)
    assert "Only billing admins" in text
    assert f"<@{ADMIN}>" in text
    assert stack.sandbox.requests == []
    assert "billing_change_confirm" not in str(reply.body)


async def test_the_preview_shows_both_methods_the_warnings_and_the_money(stack: Stack) -> None:
    preview = await switch_preview(stack)
    text = seen(preview)
    assert "Azure Marketplace" in text
    assert "AWS Marketplace" in text
    assert "never removed" in text or "cannot be removed" in text
    assert "activates" in text
    assert "drm_licenses" in text
    assert "no price" in text.lower(), "the AWS card has no drm_licenses price"
    assert "USD" in text
    assert preview.body.get("response_type", "ephemeral") == "ephemeral"
    assert changes_made(stack) == [], "a preview changes nothing"


async def test_confirm_switches_once_audits_and_drops_the_cache(stack: Stack) -> None:
    _, before = await stack.ask("payment-method my-project")
    assert "Azure Marketplace" in seen(before)
    aws = method_id(stack, "AWS")

    preview = await switch_preview(stack)
    done = await click(stack, preview, CONFIRM)
    assert done.body.get("replace_original") is True
    assert "Done" in seen(done)
    assert "buttons" not in seen(done).lower()
    assert changes_made(stack) == [
        ("POST", "/api/v1/projects/my-project/paymentMethod", {"paymentMethodId": aws})
    ]

    [audit] = await stack.slack.wait_for(lambda c: c.method == "chat.postMessage")
    assert audit.body["channel"] == "C_AUDIT"
    audit_text = seen(audit)
    for expected in (ADMIN, "my-project", "Azure Marketplace", "AWS Marketplace", aws, "done"):
        assert expected in audit_text, expected
    assert "2026-11-21" in audit_text

    _, after = await stack.ask("payment-method my-project")
    assert "AWS Marketplace" in seen(after), "the cached answer was dropped"


async def test_double_clicks_and_slack_retries_make_one_change(stack: Stack) -> None:
    preview = await switch_preview(stack)
    sends = await asyncio.gather(
        stack.sender.click(preview.body, CONFIRM, user_id=ADMIN),
        stack.sender.click(preview.body, CONFIRM, user_id=ADMIN),
        stack.sender.click(preview.body, CONFIRM, user_id=ADMIN, retry_num=1),
    )
    replies = [await stack.final_response(s.response_url) for s in sends]
    assert len(changes_made(stack)) == 1
    texts = [seen(r) for r in replies]
    assert sum(t.startswith(":") and "Already" in t for t in texts) == 2, texts
    await stack.slack.wait_for(lambda c: c.method == "chat.postMessage")
    await asyncio.sleep(0.1)
    assert len(stack.slack.api_calls("chat.postMessage")) == 1, "one audit line"


async def test_another_admin_cannot_confirm_someone_elses_change(stack: Stack) -> None:
    preview = await switch_preview(stack)
    refused = await click(stack, preview, CONFIRM, user=OTHER_ADMIN)
    assert f"<@{ADMIN}>" in seen(refused)
    assert refused.body.get("replace_original") is not True
    assert changes_made(stack) == []

    done = await click(stack, preview, CONFIRM)
    assert "Done" in seen(done)
    assert len(changes_made(stack)) == 1


async def test_a_non_admin_click_changes_nothing(stack: Stack) -> None:
    preview = await switch_preview(stack)
    await click(stack, preview, CONFIRM, user=MEMBER)
    assert changes_made(stack) == []


async def test_cancel_changes_nothing_and_a_later_confirm_is_refused(stack: Stack) -> None:
    preview = await switch_preview(stack)
    cancelled = await click(stack, preview, CANCEL)
    assert "Cancelled" in seen(cancelled)
    late = await click(stack, preview, CONFIRM)
    assert "Already cancelled" in seen(late)
    assert changes_made(stack) == []
    assert stack.slack.api_calls("chat.postMessage") == []


async def test_a_confirmation_expires_after_ten_minutes(stack: Stack) -> None:
    preview = await switch_preview(stack)
    stack.clock.advance(minutes=10, seconds=1)
    expired = await click(stack, preview, CONFIRM)
    assert "expired" in seen(expired)
    assert changes_made(stack) == []


async def test_a_confirmation_just_inside_ten_minutes_still_works(stack: Stack) -> None:
    preview = await switch_preview(stack)
    stack.clock.advance(minutes=9, seconds=59)
    done = await click(stack, preview, CONFIRM)
    assert "Done" in seen(done)


async def test_a_change_of_state_since_the_preview_stops_the_confirmation(stack: Stack) -> None:
    to_aws = await switch_preview(stack, "AWS")
    to_direct = await switch_preview(stack, "Direct")
    assert "Done" in seen(await click(stack, to_direct, CONFIRM))
    stale = await click(stack, to_aws, CONFIRM)
    assert "Not changed" in seen(stale)
    assert "Direct invoice" in seen(stale)
    assert len(changes_made(stack)) == 1


async def test_a_tampered_button_value_is_refused(stack: Stack) -> None:
    preview = await switch_preview(stack)
    sent = await stack.sender.click(preview.body, CONFIRM, user_id=ADMIN, value="forged-id")
    reply = await stack.final_response(sent.response_url)
    assert "not valid" in seen(reply)
    assert changes_made(stack) == []


async def test_an_already_assigned_method_gets_a_reply_without_buttons(stack: Stack) -> None:
    _, reply = await stack.ask(
        f"payment-method my-project set {method_id(stack, 'Azure')}", user_id=ADMIN
    )
    assert "already uses" in seen(reply)
    assert CONFIRM not in str(reply.body)


async def test_an_unknown_project_gets_a_reply_without_buttons(stack: Stack) -> None:
    _, reply = await stack.ask(
        f"payment-method no-such-project set {method_id(stack, 'AWS')}", user_id=ADMIN
    )
    assert "no-such-project" in seen(reply)
    assert CONFIRM not in str(reply.body)
    assert changes_made(stack) == []


async def test_metrics_export_is_enabled_once_and_its_password_reaches_only_the_admin(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, preview = await stack.ask("metrics my-project enable", user_id=ADMIN)
    assert "billable" in seen(preview)
    # The sandbox's rate cards name no metrics meter: the preview says which card bills it.
    assert "as the rate card of *" in seen(preview)
    assert "bills it (it names no metrics meter)" in seen(preview)
    sent = await stack.sender.click(preview.body, CONFIRM, user_id=ADMIN)
    done, credentials_reply = await stack.slack.wait_for(
        lambda c: c.kind == "response" and c.url == sent.response_url, count=2
    )
    assert "now on" in seen(done)
    assert done.body.get("replace_original") is True
    assert "Only you can see this" in seen(credentials_reply)
    assert credentials_reply.body.get("replace_original") is not True
    assert changes_made(stack) == [
        ("PATCH", "/api/v1/projects/my-project/metricsEndpoint", {"spec": {"enabled": True}})
    ]

    status = stack.sandbox.metrics_endpoint("my-project")["status"]
    password = status["password"]
    holders = [c for c in stack.slack.calls if password in str(c.body)]
    assert len(holders) == 1
    [credentials] = holders
    assert credentials.kind == "response"
    assert credentials.body.get("response_type", "ephemeral") == "ephemeral"
    assert password not in str(credentials.body.get("text"))
    assert password not in caplog.text
    [audit] = await stack.slack.wait_for(lambda c: c.method == "chat.postMessage")
    assert "my-project" in seen(audit)

    _, member_view = await stack.ask("metrics my-project", user_id=MEMBER)
    assert password not in str(member_view.body)


async def test_metrics_enable_when_already_on_says_so(stack: Stack) -> None:
    _, reply = await stack.ask("metrics video-platform enable", user_id=ADMIN)
    assert "already on" in seen(reply)
    assert CONFIRM not in str(reply.body)


async def test_an_api_failure_on_confirm_is_reported_with_its_reference(stack: Stack) -> None:
    preview = await switch_preview(stack)
    stack.sandbox.add_fault(method="POST", path="/projects/my-project/paymentMethod", status=500)
    failed = await click(stack, preview, CONFIRM)
    text = seen(failed)
    assert "failed" in text.lower()
    assert "500" in text
    posts = [r for r in stack.sandbox.requests if r.method == "POST" and "paymentMethod" in r.path]
    assert len(posts) == 1, "a change is never retried after the server may have acted"
    [audit] = await stack.slack.wait_for(lambda c: c.method == "chat.postMessage")
    assert "failed" in seen(audit)


async def test_a_fresh_stack_without_admins_refuses_everyone() -> None:
    stack = await make_stack(billing_admins=frozenset())
    try:
        _, reply = await stack.ask("metrics my-project enable", user_id=ADMIN)
        assert "BILLING_ADMINS" in seen(reply)
        assert stack.sandbox.requests == []
    finally:
        await close_stack(stack)
