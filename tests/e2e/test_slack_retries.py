"""Replies through a response_url when Slack is busy: retried as Web API calls are."""

from __future__ import annotations

from bot.slack.inflight import wait_for_answers
from tests.e2e.stack import PATIENCE, Stack, seen


def responses(stack: Stack, url: str) -> list[int]:
    """The statuses of every post to `url`, failed ones included, in order."""
    return [c.status for c in stack.slack.responses(url, include_failed=True)]


async def test_a_rate_limited_response_url_is_retried_and_the_answer_arrives(
    stack: Stack,
) -> None:
    stack.slack.fail_next("response", error="rate_limited", status=429, retry_after=0)
    sent, reply = await stack.ask("payment-methods")
    assert "Azure Marketplace" in seen(reply)
    assert responses(stack, sent.response_url) == [429, 200]


async def test_a_server_error_on_a_response_url_is_not_repeated(stack: Stack) -> None:
    """Slack may have posted it: a second post could show the answer twice."""
    stack.slack.fail_next("response", error="internal_error", status=500, retry_after=None)
    sent = await stack.sender.command("payment-methods")
    await stack.slack.wait_for(lambda c: c.kind == "response", include_failed=True)
    assert await wait_for_answers(PATIENCE) == 0
    assert responses(stack, sent.response_url) == [500]


async def test_a_response_url_that_stays_rate_limited_is_given_up_after_two_retries(
    stack: Stack,
) -> None:
    stack.slack.fail_next("response", error="rate_limited", status=429, retry_after=0, times=5)
    sent = await stack.sender.command("payment-methods")
    assert sent.status == 200
    await stack.slack.wait_for(
        lambda c: c.kind == "response" and not c.ok, count=3, include_failed=True
    )
    assert await wait_for_answers(PATIENCE) == 0
    assert responses(stack, sent.response_url) == [429, 429, 429], "one try and two retries"
