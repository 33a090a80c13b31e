"""Slack Web API calls counted: a retry handler put first among the client's, which
slack-sdk asks about every answer (and every failed connection) before the handlers that
retry. It never retries anything itself. Bolt copies the app client's handlers into the
client it makes for each request, so every Web API call the bot makes is heard here."""

from __future__ import annotations

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

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
