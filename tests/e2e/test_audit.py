"""Every billing change is recorded, whatever fails: the store (Redis) after the claim, the
process after MK.IO acted. And what is recorded is what happened: rights are those at the
click, and no upstream name can forge an audit field.

A real redis-server holds the pending changes. A bot "restarted" is a fresh one built on the
same settings, Redis, sandbox and Slack stand-in, as a new process would be.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from bot.apis.http import RetryPolicy
from bot.core.changes.model import ChangeStatus
from bot.devtools.fakeslack import SlackCall, SlackSender
from bot.slack.app import build_app
from bot.slack.server import start_server
from tests.e2e import stack as e2e_stack
from tests.e2e.stack import ADMIN, Stack, close_stack, make_stack, seen
from tests.redis_server import RedisServer

CONFIRM = "billing_change_confirm"
PREVIEW_CHANNEL = "C_GENERAL"  # where `stack.ask` sends its commands from
AUDIT = "billing_bot.audit"


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    server = RedisServer()  # its own: these tests stop it, and leave records behind
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
async def stack(redis: RedisServer) -> AsyncIterator[Stack]:
    s = await make_stack(redis_url=SecretStr(redis.url))
    try:
        yield s
    finally:
        await close_stack(s)


async def restart(stack: Stack, *, later: timedelta = timedelta(0), **settings: Any) -> None:
    """Stop the bot and start a fresh one on the same Redis, sandbox and Slack stand-in,
    `later` after the old one's time, with `settings` changed."""
    old = stack.runners.pop(0)
    await old.cleanup()
    await stack.sender.aclose()
    stack.settings = stack.settings.model_copy(update=settings)
    stack.clock = e2e_stack.TestClock(stack.clock.now + later)
    stack.bot = build_app(stack.settings, clock=stack.clock, retry=RetryPolicy.immediate())
    runner, stack.bot_url = await start_server(stack.bot, "127.0.0.1", 0)
    stack.runners.insert(0, runner)
    secret = stack.settings.slack_signing_secret
    assert secret is not None
    stack.sender = SlackSender(stack.bot_url, secret.get_secret_value(), stack.slack)


def method_id(stack: Stack, word: str) -> str:
    return next(i for name, i in stack.sandbox.payment_method_ids().items() if word in name)


def change_calls(stack: Stack) -> list[tuple[str, str]]:
    return [
        (r.method, r.path)
        for r in stack.sandbox.requests
        if r.method in ("POST", "PATCH") and r.path.startswith("/api/v1/projects/")
    ]


def change_id(preview: SlackCall) -> str:
    for block in preview.body["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == CONFIRM:
                return str(element["value"])
    raise AssertionError("no Confirm button")


def audit_records(caplog: pytest.LogCaptureFixture, event: str = "billing-change") -> list[Any]:
    """The JSON records of the audit log lines named `event`."""
    records = []
    for record in caplog.records:
        if record.name == AUDIT:
            name, _, fields = record.getMessage().partition(" ")
            if name == event:
                records.append(json.loads(fields))
    return records


def audit_posts(stack: Stack) -> list[SlackCall]:
    return [
        c for c in stack.slack.calls if c.method == "chat.postMessage" and c.channel == "C_AUDIT"
    ]


async def preview(stack: Stack, text: str) -> SlackCall:
    _, reply = await stack.ask(text, user_id=ADMIN)
    assert CONFIRM in str(reply.body), seen(reply)
    return reply


async def click(stack: Stack, message: SlackCall, user: str = ADMIN) -> SlackCall:
    sent = await stack.sender.click(message.body, CONFIRM, user_id=user)
    assert sent.status == 200
    return await stack.final_response(sent.response_url)


async def test_redis_lost_after_the_claim_the_change_is_audited_and_the_admin_told(
    stack: Stack, redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=AUDIT)
    aws = method_id(stack, "AWS")
    shown = await preview(stack, f"payment-method my-project set {aws}")
    stack.sandbox.hold()
    sent = await stack.sender.click(shown.body, CONFIRM, user_id=ADMIN)
    await stack.sandbox.wait_held(1, path="/paymentMethod")  # claimed; re-reading MK.IO
    [intent] = audit_records(caplog, "billing-change-intent")
    assert (intent["user"], intent["project"]) == (ADMIN, "my-project")
    redis.stop()
    stack.sandbox.release()

    reply = await stack.final_response(sent.response_url)
    assert "Done" in seen(reply), seen(reply)
    assert "Something went wrong" not in seen(reply)
    assert change_calls(stack) == [("POST", "/api/v1/projects/my-project/paymentMethod")]
    [post] = await stack.slack.wait_for(lambda c: c.channel == "C_AUDIT")
    assert "AWS Marketplace" in seen(post)
    assert "done" in seen(post)
    [record] = audit_records(caplog)
    assert (record["result"], record["user"], record["id"]) == ("done", ADMIN, intent["id"])


@pytest.mark.parametrize("kind", ["payment-method", "metrics"])
async def test_a_change_cut_off_after_mkio_acted_is_recorded_at_the_next_start(
    stack: Stack, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=AUDIT)
    if kind == "metrics":
        shown = await preview(stack, "metrics my-project enable")
    else:
        shown = await preview(stack, f"payment-method my-project set {method_id(stack, 'AWS')}")
    # What a Confirm leaves behind when its process dies after MK.IO acted: the claim's
    # write-ahead record in Redis, and the change made in MK.IO.
    claim = await stack.bot.backends.pending.claim(
        change_id(shown), user=ADMIN, now=stack.clock(), status=ChangeStatus.CONFIRMED
    )
    assert claim.won
    mkio = stack.bot.billing.mkio
    if kind == "metrics":
        await mkio.enable_metrics_endpoint("my-project")
    else:
        await mkio.set_project_payment_method("my-project", method_id(stack, "AWS"))
    made = len(change_calls(stack))

    await restart(stack, later=timedelta(minutes=3))

    [post] = await stack.slack.wait_for(lambda c: c.channel == "C_AUDIT")
    assert "done" in seen(post)
    assert "read back from MK.IO" in seen(post)

    def told(call: SlackCall) -> bool:
        return call.method == "chat.postEphemeral" and call.body.get("user") == ADMIN

    calls = await stack.slack.wait_for(told, count=2 if kind == "metrics" else 1)
    assert all(c.channel == PREVIEW_CHANNEL for c in calls)
    assert "This change was made at 2026-11-21 15:30 UTC" in seen(calls[0])
    if kind == "metrics":
        password = stack.sandbox.metrics_endpoint("my-project")["status"]["password"]
        assert password in str(calls[1].body), "the credentials reach the admin privately"
        holders = [c for c in stack.slack.calls if password in str(c.body)]
        assert holders == [calls[1]]
    [record] = audit_records(caplog)
    assert (record["result"], record["user"], record["kind"]) == ("done", ADMIN, kind)
    assert "recovered" in record
    assert len(change_calls(stack)) == made, "recovering reads MK.IO, it never acts"

    again = await click(stack, shown)
    assert "Already done" in seen(again)
    assert len(audit_posts(stack)) == 1, "recorded once"


async def test_the_next_click_on_a_cut_off_change_says_what_became_of_it(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=AUDIT)
    shown = await preview(stack, "metrics my-project enable")
    claim = await stack.bot.backends.pending.claim(
        change_id(shown), user=ADMIN, now=stack.clock(), status=ChangeStatus.CONFIRMED
    )
    assert claim.won
    await stack.bot.billing.mkio.enable_metrics_endpoint("my-project")

    being_made = await click(stack, shown)
    assert "being made" in seen(being_made), "within the making time, someone may be making it"
    assert audit_posts(stack) == []

    stack.clock.advance(minutes=3)
    sent = await stack.sender.click(shown.body, CONFIRM, user_id=ADMIN)
    reply, credentials = await stack.slack.wait_for(
        lambda c: c.kind == "response" and c.url == sent.response_url, count=2
    )
    assert "This change was made at 2026-11-21 15:30 UTC" in seen(reply)
    password = stack.sandbox.metrics_endpoint("my-project")["status"]["password"]
    assert password in str(credentials.body)
    assert credentials.body.get("response_type", "ephemeral") == "ephemeral"
    [post] = await stack.slack.wait_for(lambda c: c.channel == "C_AUDIT")
    assert "done" in seen(post)
    [record] = audit_records(caplog)
    assert record["result"] == "done"
    assert change_calls(stack) == [("PATCH", "/api/v1/projects/my-project/metricsEndpoint")]


async def test_a_change_cut_off_before_mkio_acted_is_recorded_as_not_made(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=AUDIT)
    shown = await preview(stack, f"payment-method my-project set {method_id(stack, 'AWS')}")
    await stack.bot.backends.pending.claim(
        change_id(shown), user=ADMIN, now=stack.clock(), status=ChangeStatus.CONFIRMED
    )
    await restart(stack, later=timedelta(minutes=3))

    [post] = await stack.slack.wait_for(lambda c: c.channel == "C_AUDIT")
    assert "failed" in seen(post)
    [told] = await stack.slack.wait_for(lambda c: c.method == "chat.postEphemeral")
    assert "never made" in seen(told)
    assert "nothing was changed" in seen(told)
    [record] = audit_records(caplog)
    assert record["result"] == "failed"
    assert change_calls(stack) == []


async def test_an_admin_removed_since_the_preview_cannot_confirm_it(stack: Stack) -> None:
    shown = await preview(stack, f"payment-method my-project set {method_id(stack, 'AWS')}")
    await restart(stack, billing_admins=frozenset({"U_SOMEONE_ELSE"}))

    refused = await click(stack, shown)
    assert "Only billing admins" in seen(refused)
    assert refused.body.get("replace_original") is not True
    assert change_calls(stack) == []
    assert audit_posts(stack) == []


async def test_a_forged_name_cannot_forge_audit_fields(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=AUDIT)
    forged = "AWS result=failed user=U_EVE kind=metrics project=archive <!channel>"
    state = stack.sandbox.state
    key = next(k for k, m in state.methods.items() if "AWS" in m.display_name)
    state.methods[key] = dataclasses.replace(state.methods[key], display_name=forged)
    aws = method_id(stack, "AWS")
    shown = await preview(stack, f"payment-method my-project set {aws}")
    assert "Done" in seen(await click(stack, shown))

    [record] = audit_records(caplog)
    assert record["result"] == "done"
    assert record["user"] == ADMIN
    assert record["kind"] == "payment-method"
    assert record["project"] == "my-project"
    assert record["after"] == f"{forged} ({aws})"
    [post] = await stack.slack.wait_for(lambda c: c.channel == "C_AUDIT")
    assert "<!channel>" not in str(post.body), "escaped in the channel too"
    assert "*Result:* done" in seen(post)
