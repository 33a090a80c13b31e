"""The reply handlers decide from the status they see: a 5xx is never retried, on any slack-sdk."""

from __future__ import annotations

import pytest
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.slack.retries import api_retry_handlers, reply_retry_handlers


async def _retries(handler: AsyncRetryHandler, status: int) -> bool:
    return await handler.can_retry_async(
        state=RetryState(),
        request=HttpRequest(method="POST", url="https://hooks.slack.invalid/x", headers={}),
        response=HttpResponse(status_code=status, headers={"retry-after": ["0"]}),
        error=None,
    )


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_no_reply_handler_retries_a_server_error(status: int) -> None:
    for handler in reply_retry_handlers():
        assert not await _retries(handler, status)


async def test_a_rate_limited_reply_is_retried() -> None:
    assert any([await _retries(h, 429) for h in reply_retry_handlers()])


async def test_web_api_calls_retry_a_server_error() -> None:
    assert any([await _retries(h, 503) for h in api_retry_handlers()])
