"""Slow, failing and unconfigured billing APIs; the cache's effect on what reaches them."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.e2e.stack import Stack, close_stack, is_working, make_stack, seen


def usage_calls(stack: Stack) -> int:
    """Upstream calls one `usage my-project` answer needs: the usage endpoint and two reports
    (the month's cost, and its daily costs for the month-end estimate)."""
    paths = [r.path for r in stack.sandbox.requests]
    usage = paths.count("/api/v1/projects/my-project/usage")
    assert 2 * usage == paths.count("/api/v1/organization/reports/usage")
    return usage


async def test_the_ack_comes_before_the_billing_api_answers(stack: Stack) -> None:
    stack.sandbox.hold()
    sent = await stack.sender.command("usage my-project")
    assert sent.status == 200
    # Acked while the sandbox answered nothing: had the bot waited for MK.IO before acking,
    # the command would still be waiting (or its MK.IO call would have been given up on).
    assert stack.sandbox.held == stack.sandbox.requests, "no MK.IO call was answered or dropped"
    await stack.sandbox.wait_held(path="/projects/my-project/usage")

    [working] = await stack.slack.wait_for(lambda c: c.kind == "response" and is_working(c))
    assert "my-project" in seen(working)
    assert not [c for c in stack.slack.responses(sent.response_url) if not is_working(c)]
    stack.sandbox.release()
    final = await stack.final_response(sent.response_url)
    assert final.body.get("replace_original") is True, "the answer replaces the progress message"
    assert "Total month to date" in seen(final)


async def test_two_identical_questions_within_the_ttl_make_one_upstream_call(
    stack: Stack,
) -> None:
    _, first = await stack.ask("usage my-project")
    _, second = await stack.ask("usage my-project")
    assert seen(first) == seen(second)
    assert usage_calls(stack) == 1


async def test_ten_concurrent_identical_questions_make_one_upstream_call(stack: Stack) -> None:
    stack.sandbox.hold()
    sent = await asyncio.gather(*(stack.sender.command("usage my-project") for _ in range(10)))
    # Every answer is under way (each says it is working on it) while MK.IO has answered
    # nothing: none of them can have been served from the cache.
    await stack.sandbox.wait_held(path="/projects/my-project/usage")
    await stack.slack.wait_for(lambda c: c.kind == "response" and is_working(c), count=10)
    assert [r.path for r in stack.sandbox.held].count("/api/v1/projects/my-project/usage") == 1
    stack.sandbox.release()
    replies = await asyncio.gather(*(stack.final_response(s.response_url) for s in sent))
    assert all("Total month to date" in seen(r) for r in replies)
    assert usage_calls(stack) == 1


async def test_a_single_500_is_retried_and_the_user_gets_the_right_answer(stack: Stack) -> None:
    stack.sandbox.add_fault(path="/organization/paymentMethods", status=500, times=1)
    _, reply = await stack.ask("payment-methods")
    text = seen(reply)
    for name, method_id in stack.sandbox.payment_method_ids().items():
        assert name in text
        assert method_id in text
    assert "500" not in text
    assert len(stack.sandbox.requests) == 2


async def test_a_503_every_time_gives_a_clear_error_without_trace_or_secret(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stack.sandbox.add_fault(path="/projects/my-project/paymentMethod", status=503, times=100)
    _, reply = await stack.ask("payment-method my-project")
    text = seen(reply)
    assert "MK.IO" in text
    assert "503" in text
    assert "try again" in text.lower()
    assert "Traceback" not in text
    assert "Error(" not in text
    assert len(stack.sandbox.requests) == 3, "at most 3 tries"

    secrets = stack.settings.secrets()
    assert secrets
    slack_traffic = " ".join(str(c.body) for c in stack.slack.calls)
    for secret in secrets:
        assert secret not in slack_traffic
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("words", "variable"),
    [("usage my-project", "MKIO_TOKEN"), ("contro summary", "CONTRO_API_KEY")],
)
async def test_an_unconfigured_api_answers_not_configured(words: str, variable: str) -> None:
    stack = await make_stack(mkio_token=None, contro_api_key=None)
    try:
        _, reply = await stack.ask(words)
        text = seen(reply)
        assert "not configured" in text
        assert variable in text
        assert stack.sandbox.requests == []
    finally:
        await close_stack(stack)


async def test_a_question_waiting_its_turn_in_the_bot_says_so_then_is_answered() -> None:
    """Queueing is not failure: behind the bot's own bound on requests to MK.IO, a question
    waits, is told why, and gets its answer, not "MK.IO did not answer"."""
    stack = await make_stack(mkio_max_concurrency=1)
    try:
        stack.sandbox.hold()
        first = await stack.sender.command("payment-methods")
        await stack.sandbox.wait_held(1)
        second = await stack.sender.command("payment-method my-project")
        [working] = await stack.slack.wait_for(
            lambda c: c.kind == "response" and second.response_url.endswith(c.method)
        )
        assert is_working(working)
        assert "1 request waiting their turn in the bot" in seen(working)
        stack.sandbox.release()
        for sent, says in ((first, "Azure Marketplace"), (second, "my-project")):
            reply = await stack.final_response(sent.response_url)
            assert "did not answer" not in seen(reply)
            assert says in seen(reply)
    finally:
        await close_stack(stack)
