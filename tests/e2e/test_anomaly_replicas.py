"""Anomaly alerts across replicas and restarts: two bots on one Redis check at once and post
each anomaly once; a click delivered to both changes it once; a bot started again on the same
Redis (or SQLite file) finds what was stored and posts nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.apis.http import RetryPolicy
from bot.devtools.fakeslack import SlackCall, SlackSender
from bot.slack.app import BillingBot, build_app
from bot.slack.server import start_server
from tests.e2e.stack import ADMIN, MEMBER, Stack, close_stack, make_stack, seen
from tests.redis_server import RedisServer, running_redis

ALERTS = "C_ALERTS"


@dataclass
class Replica:
    bot: BillingBot
    sender: SlackSender
    runner: web.AppRunner

    async def stop(self) -> None:
        await self.sender.aclose()
        await self.runner.cleanup()  # closes the bot, its stores and clients


async def replica_of(stack: Stack) -> Replica:
    """Another bot process with the same settings: the same Redis, or the same SQLite file."""
    bot = build_app(stack.settings, clock=stack.clock, retry=RetryPolicy.immediate())
    runner, url = await start_server(bot, "127.0.0.1", 0)
    secret = stack.settings.slack_signing_secret
    assert secret is not None
    return Replica(bot, SlackSender(url, secret.get_secret_value(), stack.slack), runner)


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    yield from running_redis()  # its own: the keys are the bot's defaults


@pytest.fixture
async def on_redis(redis: RedisServer) -> AsyncIterator[Stack]:
    s = await make_stack(redis_url=SecretStr(redis.url))
    s.sandbox.add_anomalies()
    try:
        yield s
    finally:
        await close_stack(s)


def alerts(stack: Stack) -> list[SlackCall]:
    return [
        c
        for c in stack.slack.api_calls("chat.postMessage")
        if c.channel == ALERTS and not c.body.get("thread_ts")
    ]


def edits_of(stack: Stack, alert: SlackCall) -> list[SlackCall]:
    return [c for c in stack.slack.api_calls("chat.update") if c.ts == alert.ts]


async def turn_on(stack: Stack) -> None:
    sent = await stack.sender.command("anomalies on", user_id=ADMIN, channel_id=ALERTS)
    assert "go to" in seen(await stack.final_response(sent.response_url))


async def click_on_both(
    stack: Stack, replicas: list[SlackSender], alert: SlackCall, action_id: str, user: str
) -> list[SlackCall]:
    """The same click (one action_ts) delivered to each replica; their whispers, if any."""
    before = len(stack.slack.calls)
    sent = await asyncio.gather(
        *(
            sender.click(alert, action_id, user_id=user, action_ts="1796300000.000001")
            for sender in replicas
        )
    )
    assert all(s.status == 200 for s in sent)
    await asyncio.sleep(0)
    # each replica either edits the alert or whispers to the clicker: wait for both
    await stack.slack.wait_for(
        lambda c: (
            (c.method == "chat.update" and c.ts == alert.ts)
            or (c.kind == "response" and any(c.url == s.response_url for s in sent))
        ),
        after=before,
        count=len(replicas),
    )
    return [c for c in stack.slack.calls[before:] if c.kind == "response"]


async def test_two_replicas_post_each_anomaly_once_and_count_each_click_once(
    on_redis: Stack,
) -> None:
    stack = on_redis
    other = await replica_of(stack)
    try:
        await turn_on(stack)
        now = stack.clock()
        await asyncio.gather(
            stack.bot.scheduler.check_anomalies(now), other.bot.scheduler.check_anomalies(now)
        )
        assert len(alerts(stack)) == 4
        (spike,) = [a for a in alerts(stack) if "Cost spike" in seen(a)]

        whispers = await click_on_both(
            stack, [stack.sender, other.sender], spike, "anomaly_acknowledge", MEMBER
        )
        assert len(edits_of(stack, spike)) == 1
        assert f"Acknowledged by <@{MEMBER}>" in seen(edits_of(stack, spike)[0])
        assert len(whispers) == 1  # the other replica found the click counted

        refused = await click_on_both(stack, [other.sender], spike, "anomaly_snooze_day", MEMBER)
        assert "Only billing admins" in seen(refused[0])
        assert len(edits_of(stack, spike)) == 1

        await click_on_both(stack, [stack.sender, other.sender], spike, "anomaly_snooze_day", ADMIN)
        assert len(edits_of(stack, spike)) == 2
        stored = await other.bot.backends.anomalies.get(spike_id(stack, spike))
        assert stored is not None
        assert (stored.acknowledged_by, stored.snoozed_by) == (MEMBER, ADMIN)

        stack.clock.advance(days=1)
        now = stack.clock()
        await asyncio.gather(
            stack.bot.scheduler.check_anomalies(now), other.bot.scheduler.check_anomalies(now)
        )
        notes = [c for c in stack.slack.api_calls("chat.postMessage") if c.body.get("thread_ts")]
        assert len(notes) == 2  # the spike and the drop, each told once
        assert all("*Recovered*" in seen(note) for note in notes)
        assert len(alerts(stack)) == 4
    finally:
        await other.stop()


def spike_id(stack: Stack, alert: SlackCall) -> str:
    (block,) = [b for b in alert.body["blocks"] if b.get("type") == "actions"]
    return str(block["block_id"]).removeprefix("anomaly:")


async def test_a_restarted_replica_posts_nothing_twice_and_takes_the_next_click(
    on_redis: Stack,
) -> None:
    stack = on_redis
    await turn_on(stack)
    await stack.bot.scheduler.check_anomalies(stack.clock())
    assert len(alerts(stack)) == 4
    (drop,) = [a for a in alerts(stack) if "Cost drop" in seen(a)]

    first = await replica_of(stack)
    await first.stop()  # a replica that comes and goes: it opened the stores and closed them
    restarted = await replica_of(stack)
    try:
        await restarted.bot.scheduler.check_anomalies(stack.clock())
        assert len(alerts(stack)) == 4
        await click_on_both(stack, [restarted.sender], drop, "anomaly_acknowledge", ADMIN)
        assert len(edits_of(stack, drop)) == 1
        assert await restarted.bot.backends.anomalies.open_count() == 4
    finally:
        await restarted.stop()


async def test_a_restart_on_sqlite_keeps_the_anomalies_and_their_state() -> None:
    stack = await make_stack()
    stack.sandbox.add_anomalies()
    try:
        await turn_on(stack)
        await stack.bot.scheduler.check_anomalies(stack.clock())
        (spike,) = [a for a in alerts(stack) if "Cost spike" in seen(a)]
        await click_on_both(stack, [stack.sender], spike, "anomaly_acknowledge", MEMBER)
        restarted = await replica_of(stack)  # the same SQLite file
        try:
            await restarted.bot.scheduler.check_anomalies(stack.clock())
            assert len(alerts(stack)) == 4
            stored = await restarted.bot.backends.anomalies.get(spike_id(stack, spike))
            assert stored is not None
            assert stored.acknowledged_by == MEMBER
        finally:
            await restarted.stop()
    finally:
        await close_stack(stack)
