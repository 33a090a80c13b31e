"""What the bot retries when Slack is busy or briefly down, for Web API calls and replies.

Bolt's `respond` posts to the response_url through a webhook client that retries only failed
connections; `RetryingRespond` is the same `respond` whose client also waits out a 429 (as
`Retry-After` says). slack-sdk's webhook client consults its handlers only for a 429 or a
failed connection, never for a 5xx: a reply that may have been posted is not posted twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.models.attachments import Attachment
from slack_sdk.models.blocks import Block
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

RETRIES = 2


def retry_handlers() -> list[AsyncRetryHandler]:
    """Fresh handlers (they keep no state across calls, but are cheap to make)."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=RETRIES),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RETRIES),
        AsyncServerErrorRetryHandler(max_retry_count=RETRIES),
    ]


class RetryingRespond(AsyncRespond):
    """Bolt's `respond`, through a webhook client with `retry_handlers()`."""

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
            retry_handlers=retry_handlers(),
        )
        return await client.send_dict(message)


async def use_retrying_respond(
    context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
) -> None:
    """Bolt middleware: listeners get `RetryingRespond` wherever Bolt would give its own."""
    if context.response_url is not None:
        context["respond"] = RetryingRespond(
            response_url=context.response_url,
            proxy=context.client.proxy,
            ssl=context.client.ssl,
        )
    await next()
