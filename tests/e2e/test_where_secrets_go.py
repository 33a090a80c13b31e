"""Where an answer may go is part of the answer: an admin asks for the metrics connection
details by every way in (slash command, a mention in a channel and in a thread, a DM, the
share button, the Home tab, the report form, a schedule and its run), and every Slack call
that carries the password is an ephemeral message to that admin, never a stored one."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.devtools.fakeslack import SlackCall
from bot.slack.ids import ActionId
from tests.e2e.stack import ADMIN, Stack, is_working, seen

PROJECT = "video-platform"  # its metrics export is on in the sandbox
RUN_TIME = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def traffic(call: SlackCall) -> str:
    """All a call sent, as text (non-ASCII kept, as Slack would show it)."""
    return json.dumps(call.body, ensure_ascii=False, default=str) + " " + call.url


async def conversation_answer(stack: Stack, *, channel: str, after: int) -> SlackCall:
    """The first answer in `channel` after call `after`: ephemeral, or (the bug) posted."""
    methods = ("chat.postEphemeral", "chat.postMessage", "chat.update")
    [call, *_] = await stack.slack.wait_for(
        lambda c: c.method in methods and c.body.get("channel") == channel and not is_working(c),
        after=after,
    )
    return call


async def walk_every_way_in(stack: Stack) -> dict[str, str]:
    """Ask as the admin by every listener; the response URLs the admin was given, by owner."""
    owners: dict[str, str] = {}

    async def slash(text: str, channel: str = "C_GENERAL") -> SlackCall:
        sent = await stack.sender.command(text, user_id=ADMIN, channel_id=channel)
        owners[sent.response_url] = ADMIN
        return await stack.final_response(sent.response_url)

    # The slash command: the one place the details were always meant to be shown.
    shown = await slash(f"metrics {PROJECT}")
    assert "Password" in seen(shown)

    # A mention in a channel, then the plain phrasing in a thread: ephemeral, in that thread.
    for words, thread in (
        (f"metrics {PROJECT}", None),
        (f"is metrics export on for {PROJECT}?", "1795000000.000200"),
    ):
        after = len(stack.slack.calls)
        await stack.sender.mention(
            words, user_id=ADMIN, channel_id="C_GENERAL", ts="1795000000.000300", thread_ts=thread
        )
        reply = await conversation_answer(stack, channel="C_GENERAL", after=after)
        assert reply.method == "chat.postEphemeral", reply.summary()
        assert reply.body["user"] == ADMIN
        assert reply.body["thread_ts"] == (thread or "1795000000.000300")
        assert "Password" in seen(reply)

    # A direct message: ephemeral in the DM, which Slack does not keep.
    after = len(stack.slack.calls)
    await stack.sender.direct_message(f"metrics {PROJECT}", user_id=ADMIN)
    reply = await conversation_answer(stack, channel="D_ADMIN", after=after)
    assert reply.method == "chat.postEphemeral", reply.summary()
    assert reply.body["user"] == ADMIN

    # The share button, its value forged to ask for the metrics answer.
    usage = await slash("usage my-project")
    sent = await stack.sender.click(
        usage, ActionId.SHARE, user_id=ADMIN, value=f"metrics {PROJECT}"
    )
    owners[sent.response_url] = ADMIN
    await stack.slack.wait_for(
        lambda c: c.kind == "response" and c.url == sent.response_url and not is_working(c)
    )

    # The Home tab, and its rate-card button (answered in the DM).
    after = len(stack.slack.calls)
    await stack.sender.home_opened(user_id=ADMIN)
    [home] = await stack.slack.wait_for(lambda c: c.method == "views.publish", after=after)
    after = len(stack.slack.calls)
    await stack.sender.home_click(home, ActionId.HOME_RATE_CARDS, user_id=ADMIN)
    await stack.slack.wait_for(lambda c: c.method == "chat.postMessage", after=after)

    # The report form, submitted as it opens.
    after = len(stack.slack.calls)
    await stack.sender.command("report", user_id=ADMIN, channel_id="C_FINANCE")
    [form] = await stack.slack.wait_for(lambda c: c.method == "views.update", after=after)
    after = len(stack.slack.calls)
    await stack.sender.view_submission(form, user_id=ADMIN)
    await stack.slack.wait_for(
        lambda c: c.method == "chat.update" and "Usage report" in str(c.body.get("text")),
        after=after,
    )

    # A schedule carries report words only; a scheduled run posts a report.
    refused = await slash(f"schedule daily metrics {PROJECT}", channel="C_FINANCE")
    assert "Password" not in seen(refused)
    await slash("schedule monthly", channel="C_FINANCE")
    stack.clock.now = RUN_TIME
    after = len(stack.slack.calls)
    await stack.bot.scheduler.tick(RUN_TIME)
    await stack.slack.wait_for(
        lambda c: c.method == "chat.update" and "Usage report" in str(c.body.get("text")),
        after=after,
    )
    return owners


async def test_the_password_reaches_only_ephemeral_messages_to_the_admin(stack: Stack) -> None:
    owners = await walk_every_way_in(stack)
    status = stack.sandbox.metrics_endpoint(PROJECT)["status"]
    password, username = status["password"], status["username"]

    holders = [c for c in stack.slack.calls if password in traffic(c)]
    assert len(holders) == 4, "the slash command, two mentions and the DM showed them"
    for call in holders:
        where = call.summary()
        if call.kind == "response":
            assert owners.get(call.url) == ADMIN, where
            assert call.body.get("response_type", "ephemeral") == "ephemeral", where
            assert call.ephemeral, where
        else:
            assert call.method == "chat.postEphemeral", where
            assert call.body["user"] == ADMIN, where
        assert password not in str(call.body.get("text", "")), "never in a notification"
        assert username in traffic(call)
    stored = [c for c in stack.slack.calls if username in traffic(c) and c not in holders]
    assert stored == [], [c.summary() for c in stored]


async def test_a_member_asking_in_a_thread_is_answered_privately_too(stack: Stack) -> None:
    after = len(stack.slack.calls)
    await stack.sender.mention(f"metrics {PROJECT}", channel_id="C_GENERAL", ts="1795000000.000400")
    reply = await conversation_answer(stack, channel="C_GENERAL", after=after)
    assert reply.method == "chat.postEphemeral", reply.summary()
    assert "Connection details are shown to billing admins only." in seen(reply)
    assert not stack.slack.api_calls("chat.postMessage")


async def test_where_slack_refuses_an_ephemeral_answer_the_thread_gets_a_pointer(
    stack: Stack,
) -> None:
    stack.slack.fail_next(
        "chat.postEphemeral", error="user_not_in_channel", status=200, retry_after=None
    )
    await stack.sender.mention(
        f"metrics {PROJECT}", user_id=ADMIN, channel_id="C_GENERAL", ts="1795000000.000500"
    )
    [pointer] = await stack.slack.wait_for(lambda c: c.method == "chat.postMessage")
    assert pointer.body["thread_ts"] == "1795000000.000500"
    assert f"/billing metrics {PROJECT}" in seen(pointer)
    password = stack.sandbox.metrics_endpoint(PROJECT)["status"]["password"]
    posted = [c for c in stack.slack.calls if c.method != "chat.postEphemeral"]
    assert all(password not in traffic(c) for c in posted)
