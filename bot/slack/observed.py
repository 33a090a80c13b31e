"""Slack Web API calls counted and timed.

Each try is counted by a retry handler put first among the client's, which slack-sdk asks
about every answer (and every failed connection) before the handlers that retry. It never
retries anything itself. Bolt copies the app client's handlers into the client it makes for
each request, so every Web API call the bot makes is heard here.

Each call is timed, its tries and waits included, by the client itself (`TimedWebClient`):
the app's client is one, and `use_timed_client` gives each request's listeners one in place
of the plain client Bolt makes for it. (Bolt's own `auth.test`, once per process before any
middleware, is counted but not timed.)"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import FormData
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.observe.metrics import Metrics


class SlackCallsHeard(AsyncRetryHandler):
    """Counts each try (`Metrics.slack_call`): ok, Slack's error code, `http_<status>` or
    `unreachable`; a 429 is also counted as a rate limit (`Metrics.slack_limited`)."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=0)
        self.metrics = metrics

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = request.url.split("?", 1)[0].rsplit("/", 1)[-1]
        if response is None:
            self.metrics.slack_call(method, "unreachable")
            return False
        if response.status_code == 429:
            self.metrics.slack_limited(method)
        body = response.body or {}
        if response.status_code != 200:
            outcome: object = f"http_{response.status_code}"
        else:
            outcome = "ok" if body.get("ok", True) else body.get("error")
        self.metrics.slack_call(method, outcome)
        return False


class TimedWebClient(AsyncWebClient):
    """An AsyncWebClient whose every Web API call is timed (`Metrics.slack_call_time`)."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    async def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | FormData | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> AsyncSlackResponse:
        started = time.perf_counter()
        try:
            return await super().api_call(
                api_method,
                http_verb=http_verb,
                files=files,
                data=data,
                params=params,
                json=json,
                headers=headers,
                auth=auth,
            )
        finally:
            self.metrics.slack_call_time(api_method, time.perf_counter() - started)

    @classmethod
    def like(cls, client: AsyncWebClient, metrics: Metrics) -> TimedWebClient:
        """A timed client with everything of `client` (as Bolt copies the app's client)."""
        return cls(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            session=client.session,
            trust_env_in_session=client.trust_env_in_session,
            headers=client.headers,
            team_id=client.default_params.get("team_id"),
            logger=client.logger,
            retry_handlers=client.retry_handlers,
            metrics=metrics,
        )


def use_timed_client(
    metrics: Metrics,
) -> Callable[[AsyncBoltContext, Callable[[], Awaitable[None]]], Awaitable[None]]:
    """Bolt middleware: listeners get a `TimedWebClient` in place of the plain client Bolt
    makes for each request."""

    async def timed(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
        if not isinstance(context.client, TimedWebClient):
            context["client"] = TimedWebClient.like(context.client, metrics)
        await next()

    return timed
