"""No billing data in a channel shared with another organization (Slack Connect) unless a
billing admin allowed it there; every refusal is private, or only logged when nobody asked."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.core.scheduled.budgets import Budget
from bot.devtools.fakeslack import SlackCall
from tests.e2e.stack import ADMIN, MEMBER, Stack, answer_to, seen

SHARED = "C_PARTNERS"


def in_channel(stack: Stack, channel: str) -> list[SlackCall]:
    """Everything the channel's members can see: posts, edits, uploads, in-channel replies."""
    return [
        c
        for c in stack.slack.calls
        if (c.channel == channel and c.kind == "api" and not c.ephemeral)
        or (c.kind == "response" and c.body.get("response_type") == "in_channel")
    ]


def is_private(call: SlackCall) -> bool:
    return call.kind == "response" and call.body.get("response_type", "ephemeral") == "ephemeral"


async def test_a_report_is_refused_privately_until_an_admin_allows_the_channel(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    stack.slack.external_channels.add(SHARED)
    sent = await stack.sender.command("report last-month", channel_id=SHARED)
    told = await stack.final_response(sent.response_url)
    assert is_private(told)
    assert "shared with another organization" in seen(told)
    assert "/billing allow-external-channel" in seen(told)
    assert in_channel(stack, SHARED) == []
    assert stack.billing_requests("/reports/usage") == [], "nothing fetched for nobody"

    refused = await stack.sender.command("allow-external-channel", channel_id=SHARED)
    assert "Only billing admins" in seen(await stack.final_response(refused.response_url))

    caplog.set_level(logging.INFO, logger="billing_bot.audit")
    allow = await stack.sender.command("allow-external-channel", user_id=ADMIN, channel_id=SHARED)
    allowed = await stack.final_response(allow.response_url)
    assert is_private(allowed)
    assert "may now be posted" in seen(allowed)
    [audit] = await stack.slack.wait_for(lambda c: c.channel == "C_AUDIT")
    assert f"<@{ADMIN}> allowed billing data in <#{SHARED}>" in seen(audit)
    assert any('"after": "allowed"' in r.getMessage() for r in caplog.records)

    await stack.sender.command("report last-month", channel_id=SHARED)
    [report] = await stack.slack.wait_for(
        lambda c: c.method == "chat.update" and c.channel == SHARED and "Usage report" in seen(c)
    )
    assert "2026-10" in seen(report)

    off = await stack.sender.command("allow-external-channel off", user_id=ADMIN, channel_id=SHARED)
    assert "No billing data will be posted" in seen(await stack.final_response(off.response_url))
    posts = len(in_channel(stack, SHARED))
    again = await stack.sender.command("report last-month", channel_id=SHARED)
    assert "shared with another organization" in seen(
        await stack.final_response(again.response_url)
    )
    assert len(in_channel(stack, SHARED)) == posts


async def test_a_share_in_a_shared_channel_is_refused_privately(stack: Stack) -> None:
    sent = await stack.sender.command("usage my-project", channel_id=SHARED)
    private = await stack.final_response(sent.response_url)
    stack.slack.external_channels.add(SHARED)  # shared with a partner since
    click = await stack.sender.click(private, "share_in_channel", user_id=MEMBER)
    [told] = await stack.slack.wait_for(answer_to(click))
    assert is_private(told)
    assert "shared with another organization" in seen(told)
    assert in_channel(stack, SHARED) == []


async def test_a_mention_in_a_shared_channel_is_answered_privately_with_the_refusal(
    stack: Stack,
) -> None:
    stack.slack.external_channels.add(SHARED)
    await stack.sender.mention("usage my-project", channel_id=SHARED)
    [told] = await stack.slack.wait_for(lambda c: c.method == "chat.postEphemeral")
    assert "shared with another organization" in seen(told)
    assert in_channel(stack, SHARED) == []
    assert stack.billing_requests("/usage") == []
    assert stack.slack.api_calls("conversations.info") == [], "the event said it was shared"


async def test_scheduled_reports_and_budget_alerts_skip_a_shared_channel_saying_nothing(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    sent = await stack.sender.command("schedule monthly", user_id=ADMIN, channel_id=SHARED)
    assert "Scheduled" in seen(await stack.final_response(sent.response_url))
    budget = await stack.sender.command(
        "budget video-platform 500", user_id=ADMIN, channel_id=SHARED
    )
    assert "500.00 USD" in seen(await stack.final_response(budget.response_url))
    stack.slack.external_channels.add(SHARED)

    caplog.set_level(logging.INFO)
    await stack.bot.scheduler.check_budgets(stack.clock.now)  # video-platform is over 500
    stack.clock.now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    await stack.bot.scheduler.tick(stack.clock.now)
    await asyncio.sleep(0.2)
    assert in_channel(stack, SHARED) == []
    said = [r.getMessage() for r in caplog.records]
    assert any("scheduled report" in m and "shared with another organization" in m for m in said)
    assert any("budget alert of video-platform" in m for m in said)


async def test_a_budget_sends_no_dm_to_a_person_of_another_organization(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    inside, partner = "U_FINANCE", "U_PARTNER"
    stack.slack.external_users.add(partner)
    words = f"budget video-platform 500 notify <@{inside}|f> <@{partner}|p>"
    _, refused = await stack.ask(words, user_id=ADMIN)
    assert f"`{partner}` belongs to another organization" in seen(refused)
    _, listed = await stack.ask("budget list", user_id=ADMIN)
    assert "video-platform" not in seen(listed), "nothing stored"

    # one kept from before the check (or the person moved organizations since)
    kept = Budget(
        name="video-platform",
        amount=Decimal(500),
        notify=(inside, partner),
        channel="C_GENERAL",
        set_by=ADMIN,
        set_at=stack.clock.now,
    )
    await stack.bot.backends.budgets.set(kept)
    caplog.set_level(logging.INFO)
    await stack.bot.scheduler.check_budgets(stack.clock.now)  # video-platform is over 500
    await stack.slack.wait_for(lambda c: c.method == "chat.postMessage", count=2)
    await asyncio.sleep(0.2)
    sent_to = [p.body["channel"] for p in stack.slack.api_calls("chat.postMessage")]
    assert sorted(sent_to) == sorted(["C_GENERAL", inside]), "no DM to the partner"
    said = [r.getMessage() for r in caplog.records]
    assert any(partner in m and "not of this organization" in m for m in said)
