"""What the bot retries when Slack is busy or briefly down, for Web API calls and replies.

Web API calls (`api_retry_handlers`) retry a failed connection, a 429 (waiting as `Retry-After`
says) and a 500 or 503.

Replies to a response_url (`reply_retry_handlers`) retry only what cannot have been posted: a
failed connection and a 429. A 5xx is never retried, because Slack may have posted the reply
already. That is decided by these handlers, from the status they see, so it holds whichever
statuses a slack-sdk version asks its handlers about (3.48 began asking about 5xx too).
Each reply is counted by how it ended (`Metrics.slack_response`).

A failed connection or a 5xx is tried again after `interval` (slack-sdk's backoff by default:
half a second, then one, each with up to a second of jitter); tests wait none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import default_interval_calculator
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.models.attachments import Attachment
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.observe.metrics import Metrics

RETRIES = 2


def reply_retry_handlers(
    interval: RetryIntervalCalculator = default_interval_calculator,
) -> list[AsyncRetryHandler]:
    """For posts that must not be repeated once Slack may have taken them: no 5xx handler."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=RETRIES, interval_calculator=interval),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RETRIES),
    ]


def api_retry_handlers(
    interval: RetryIntervalCalculator = default_interval_calculator,
) -> list[AsyncRetryHandler]:
    """For Web API calls: the reply handlers, and a 500 or 503 retried too."""
    return [
        *reply_retry_handlers(interval),
        AsyncServerErrorRetryHandler(max_retry_count=RETRIES, interval_calculator=interval),
    ]


class RetryingRespond(AsyncRespond):
    """Bolt's `respond`, through a webhook client with `reply_retry_handlers()`, each reply
    counted by its outcome."""

    def __init__(self, *, metrics: Metrics | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics = metrics or Metrics()

    interval: RetryIntervalCalculator = default_interval_calculator

    async def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        attachments: Sequence[dict[str, Any] | Attachment] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        if isinstance(text, dict):
            message = _build_message(**text)
        else:
            message = _build_message(
                text=text,
                blocks=blocks,
                attachments=attachments,
                response_type=response_type,
                replace_original=replace_original,
                delete_original=delete_original,
                unfurl_links=unfurl_links,
                unfurl_media=unfurl_media,
                thread_ts=thread_ts,
                metadata=metadata,
            )
        client = AsyncWebhookClient(
            url=self.response_url,
            proxy=self.proxy,
            ssl=self.ssl,
            retry_handlers=reply_retry_handlers(self.interval),
        )
        try:
            response = await client.send_dict(message)
        except (aiohttp.ClientError, OSError, TimeoutError):
            self.metrics.slack_response(None)
            raise
        self.metrics.slack_response(response.status_code, response.body or "")
        return response


def use_retrying_respond(
    metrics: Metrics,
    interval: RetryIntervalCalculator = default_interval_calculator,
) -> Callable[[AsyncBoltContext, Callable[[], Awaitable[None]]], Awaitable[None]]:
    """Bolt middleware: listeners get `RetryingRespond` wherever Bolt would give its own."""

    async def retrying(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
        if context.response_url is not None:
            respond = RetryingRespond(
                response_url=context.response_url,
                proxy=context.client.proxy,
                ssl=context.client.ssl,
                metrics=metrics,
            )
            respond.interval = interval
            context["respond"] = respond
        await next()

    return retrying
