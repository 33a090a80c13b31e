"""Mentions and DMs: the same questions in plain words, answered in the thread, once."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.devtools.fakeslack import BOT_USER_ID, SlackCall
from tests.e2e.stack import MEMBER, Stack, is_working, json_body, seen


async def answer(stack: Stack) -> SlackCall:
    """The answer in the thread: posted, or edited into the "working on it" message posted
    first when the answer is slow."""
    [reply] = await stack.slack.wait_for(
        lambda c: c.method in ("chat.postMessage", "chat.update") and not is_working(c)
    )
    return reply


def mention(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "app_mention",
        "user": MEMBER,
        "channel": "C_GENERAL",
        "text": f"<@{BOT_USER_ID}> {text}",
        **extra,
    }


def direct(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel_type": "im",
        "user": MEMBER,
        "channel": "D_MEMBER",
        "text": text,
        **extra,
    }


async def test_a_mention_is_answered_in_its_thread_once_even_when_slack_retries(
    stack: Stack,
) -> None:
    event = mention("how much has my-project used this month?", ts="1795000000.000100")
    first = await stack.sender.event(event, event_id="Ev0001")
    retry = await stack.sender.event(event, event_id="Ev0001", retry_num=1)
    assert first.status == retry.status == 200

    reply = await answer(stack)
    await asyncio.sleep(0.3)
    posted = stack.slack.api_calls("chat.postMessage")
    assert len(posted) == 1, "one answer, whatever Slack retried"
    assert posted[0].body["thread_ts"] == "1795000000.000100"
    assert posted[0].body["channel"] == "C_GENERAL"
    assert "Total month to date" in seen(reply)
    assert [r.path for r in stack.sandbox.requests].count("/api/v1/projects/my-project/usage") == 1


async def test_a_dm_in_plain_words_gets_a_report_in_the_conversation(stack: Stack) -> None:
    await stack.sender.event(direct("what did we spend last month?", ts="1795000000.000200"))
    [summary] = await stack.slack.wait_for(
        lambda c: c.method == "chat.update" and "Usage report" in str(c.body.get("text"))
    )
    [preparing] = stack.slack.api_calls("chat.postMessage")
    assert preparing.body["channel"] == "D_MEMBER"
    assert "thread_ts" not in preparing.body  # a one-to-one DM reads best flat
    reports = [json_body(r) for r in stack.sandbox.requests if r.path.endswith("/reports/usage")]
    assert sorted((r["startDate"], r["endDate"]) for r in reports) == [
        ("2026-09-01", "2026-10-01"),  # compared with the month before
        ("2026-10-01", "2026-11-01"),
    ]
    assert "2026-10" in seen(summary)


async def test_a_dm_written_in_a_thread_is_answered_in_that_thread(stack: Stack) -> None:
    event = direct("contro summary 2026-10", ts="1795000000.000300", thread_ts="1795000000.000250")
    await stack.sender.event(event)
    reply = await answer(stack)
    assert "Contro usage — 2026-10" in seen(reply)
    [posted] = stack.slack.api_calls("chat.postMessage")
    assert posted.body["thread_ts"] == "1795000000.000250"


async def test_the_command_language_works_after_a_mention(stack: Stack) -> None:
    await stack.sender.event(mention("contro summary 2026-10"))
    reply = await answer(stack)
    assert "Contro usage — 2026-10" in seen(reply)


async def test_what_it_cannot_map_gets_a_did_you_mean(stack: Stack) -> None:
    await stack.sender.event(mention("wibble the flux capacitor"))
    reply = await answer(stack)
    text = seen(reply)
    assert "/billing" in text
    assert stack.sandbox.requests == []


async def test_billing_changes_are_not_made_from_a_conversation(stack: Stack) -> None:
    await stack.sender.event(mention("payment-method my-project set x"))
    reply = await answer(stack)
    assert "slash command" in seen(reply)
    assert stack.sandbox.requests == []


async def test_other_bots_and_message_edits_are_ignored(stack: Stack) -> None:
    await stack.sender.event(direct("usage my-project", bot_id="B_OTHER"))
    await stack.sender.event(direct("usage my-project", subtype="message_changed"))
    await asyncio.sleep(0.3)
    assert stack.slack.api_calls("chat.postMessage") == []
    assert stack.sandbox.requests == []


async def test_channel_messages_that_are_not_mentions_are_ignored(stack: Stack) -> None:
    await stack.sender.event({**direct("usage my-project"), "channel_type": "channel"})
    await asyncio.sleep(0.3)
    assert stack.slack.api_calls("chat.postMessage") == []
