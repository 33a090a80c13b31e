"""Reminders before MKIO_TOKEN expires: each billing admin gets a DM 30, 7 and 1 days before
(and when it has expired), once per milestone, whichever replica checks and however often
they restart. Two replicas here are two bots built on one SQLite file (as two processes share
`SQLITE_PATH`), posting to one Slack; the token's expiry comes from its JWT `exp`, or from
MK.IO's `GET /organization/tokens` as the sandbox serves it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from pydantic import SecretStr

from bot.apis.http import RetryPolicy
from bot.devtools.fakeslack import SlackCall, message_text
from bot.slack.app import BillingBot, build_app
from tests.e2e.stack import ADMIN, NOW, Stack, close_stack, make_stack
from tests.e2e.test_check import jwt_with

OTHER_ADMIN = "U_ADMIN_2"


def at(moment: datetime) -> int:
    return int(moment.timestamp())


async def stack_with_token(token: str) -> Stack:
    stack = await make_stack(
        mkio_token=SecretStr(token), billing_admins=frozenset({ADMIN, OTHER_ADMIN})
    )
    stack.sandbox.mkio_token = token
    return stack


def replica(stack: Stack) -> BillingBot:
    """Another process on the same settings (the same SQLite file) and the same Slack."""
    return build_app(stack.settings, clock=stack.clock, retry=RetryPolicy.immediate())


def reminders(stack: Stack) -> list[SlackCall]:
    return [
        c
        for c in stack.slack.api_calls("chat.postMessage")
        if c.body.get("channel") in (ADMIN, OTHER_ADMIN) and "MKIO_TOKEN" in message_text(c.body)
    ]


def to(call: SlackCall) -> str:
    return str(call.body["channel"])


@pytest.fixture
async def expiring_in_5_days() -> AsyncIterator[Stack]:
    stack = await stack_with_token(
        jwt_with(sub="billing-bot", jti="tok-bot", exp=at(NOW + timedelta(days=5, hours=1)))
    )
    yield stack
    await close_stack(stack)


async def test_each_milestone_reaches_each_admin_once_across_replicas_and_restarts(
    expiring_in_5_days: Stack,
) -> None:
    stack = expiring_in_5_days
    second = replica(stack)
    try:
        # both replicas start at once: one reminder (the 7-day one: 5 days are left) per admin
        await asyncio.gather(
            stack.bot.expiry.at_start(stack.clock()), second.expiry.at_start(stack.clock())
        )
        [first, other] = sorted(reminders(stack), key=to)
        assert (to(first), to(other)) == (ADMIN, OTHER_ADMIN)
        text = message_text(first.body)
        assert "in 5 days" in text
        assert "“billing-bot” (tok-bot)" in text  # named as MK.IO lists it
        assert "MKIO_TOKEN" in text

        # the next day: one replica claims the daily check; no milestone is new
        stack.clock.advance(days=1)
        ran = await asyncio.gather(
            stack.bot.expiry.daily(stack.clock()), second.expiry.daily(stack.clock())
        )
        assert sorted(result is None for result in ran) == [False, True]
        assert len(reminders(stack)) == 2

        # an hour before it expires: the 1-day reminder, once, then a restart sends nothing
        stack.clock.advance(days=4)
        await asyncio.gather(
            stack.bot.expiry.daily(stack.clock()), second.expiry.daily(stack.clock())
        )
        assert len(reminders(stack)) == 4
        assert "in less than a day" in message_text(reminders(stack)[-1].body)
        restarted = replica(stack)
        try:
            await restarted.expiry.at_start(stack.clock())
        finally:
            await restarted.aclose()
        assert len(reminders(stack)) == 4

        # expired: said once more
        stack.clock.advance(hours=2)
        await asyncio.gather(stack.bot.expiry.run(stack.clock()), second.expiry.run(stack.clock()))
        assert len(reminders(stack)) == 6
        assert "has expired" in message_text(reminders(stack)[-1].body)
    finally:
        await second.aclose()


async def test_the_30_day_reminder_comes_from_mkio_s_token_list() -> None:
    # a JWT without `exp`: only MK.IO's list says when it expires
    stack = await stack_with_token(jwt_with(sub="billing-bot", jti="tok-listed"))
    stack.sandbox.mkio_token_expires = NOW + timedelta(days=40)
    second = replica(stack)
    try:
        await stack.bot.expiry.at_start(stack.clock())
        assert reminders(stack) == []  # 40 days left: nothing yet
        assert any(r.path == "/api/v1/organization/tokens" for r in stack.sandbox.requests)

        stack.clock.advance(days=11)
        await asyncio.gather(stack.bot.expiry.run(stack.clock()), second.expiry.run(stack.clock()))
        sent = reminders(stack)
        assert sorted(map(to, sent)) == [ADMIN, OTHER_ADMIN]
        assert "in 29 days" in message_text(sent[0].body)
        assert "tok-listed" in message_text(sent[0].body)
    finally:
        await second.aclose()
        await close_stack(stack)


async def test_a_token_without_a_known_expiry_reminds_nobody() -> None:
    stack = await make_stack()  # the sandbox's plain token: no JWT, not found in the list
    try:
        await stack.bot.expiry.at_start(stack.clock())
        stack.clock.advance(days=400)
        await stack.bot.expiry.run(stack.clock())
        assert reminders(stack) == []
    finally:
        await close_stack(stack)
