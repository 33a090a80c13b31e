"""The metrics: label values bounded, business figures kept by month, the cache's and the
API clients' counts, gauges read at scrape time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.apis.http import RetryPolicy
from bot.apis.mkio.client import MkioClient
from bot.core.cache import MemoryCache, ObservedCache
from bot.errors import CommandError, NotFound, SecretNotPostable, Unavailable
from bot.observe import labels
from bot.observe.figures import BudgetUse
from bot.observe.metrics import Metrics, answer_failed
from bot.slack.observed import SlackCallsHeard, TimedWebClient
from bot.slack.retries import api_retry_handlers

NOV = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)


def sample(metrics: Metrics, name: str, **label_values: str) -> float | None:
    return metrics.registry.get_sample_value(name, label_values)


def families(metrics: Metrics) -> set[str]:
    return {family.name for family in metrics.registry.collect()}


# -- labels ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v1/projects/my-project/usage", "/projects/{project}/usage"),
        ("/projects/my-project/usage", "/projects/{project}/usage"),
        ("/api/v1/projects/..%2Fx%20y/usage", "/projects/{project}/usage"),
        ("/api/v1/projects?$skiptoken=abc", "/projects"),
        (
            "/api/v1/organization/paymentMethods/pm-1/rateCard",
            "/organization/paymentMethods/{id}/rateCard",
        ),
        ("/api/v1/projects/a/b/usage", "other"),
        ("/api/v1/projects/<!channel>/secrets", "other"),
        ("/api/v2/projects", "other"),
        ("", "other"),
    ],
)
def test_an_mkio_path_is_labelled_by_its_template_never_by_its_names(
    path: str, template: str
) -> None:
    assert labels.endpoint("MK.IO", path, "/api/v1/") == template


def test_a_contro_path_is_labelled_by_its_template_and_an_unknown_api_is_other() -> None:
    assert labels.endpoint("Contro", "/v1/partner/usage/records?cursor=x", "/v1") == (
        "/partner/usage/records"
    )
    assert labels.endpoint("Elsewhere", "/projects", "/") == "other"
    assert labels.api_label("MK.IO") == "mkio"
    assert labels.api_label("made up") == "other"


@pytest.mark.parametrize(
    ("name", "csv", "label"),
    [
        ("Usage", False, "usage"),
        ("ControRecords", True, "contro_records_csv"),
        ("SetPaymentMethod", False, "set_payment_method"),
        ("usage my-project; drop", False, "other"),
        ("X" * 41, False, "other"),
    ],
)
def test_a_command_is_labelled_by_its_type(name: str, csv: bool, label: str) -> None:
    assert labels.command_label(name, csv=csv) == label


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (None, "ok"),
        (CommandError("no"), "bad_input"),
        (SecretNotPostable(), "refused"),
        (NotFound("MK.IO", "no"), "not_found"),
        (Unavailable("MK.IO", "down"), "upstream_unavailable"),
        (asyncio.CancelledError(), "cancelled"),
        (ValueError("bug"), "error"),
    ],
)
def test_an_outcome_is_the_kind_of_error_never_its_words(
    exc: BaseException | None, outcome: str
) -> None:
    assert labels.outcome(exc) == outcome


def test_slack_methods_errors_and_kinds_are_only_what_slack_names() -> None:
    assert labels.slack_method("chat.postMessage") == "chat.postMessage"
    assert labels.slack_method("files.completeUploadExternal") == "files.completeUploadExternal"
    assert labels.slack_method("upload/v1/AbC123") == "other"
    assert labels.slack_error("not_in_channel") == "not_in_channel"
    assert labels.slack_error("Not in <#C1>") == "other"
    assert labels.slack_error(None) == "other"
    assert labels.request_kind("view_submission") == "view_submission"
    assert labels.request_kind("anything a sender makes up") == "other"
    assert labels.status(404) == "404"
    assert labels.status(None, "timeout") == "timeout"
    assert labels.status(None, "who knows") == "error"


# -- business figures -----------------------------------------------------------------------


def test_a_project_or_currency_not_shaped_as_one_is_left_out_and_counted() -> None:
    metrics = Metrics()
    metrics.figures.cost("my-project", "USD", "2026-11", Decimal("12.5"), NOV)
    metrics.figures.cost("<!channel> hi", "USD", "2026-11", Decimal(1), NOV)
    metrics.figures.cost("other-project", "<b>", "2026-11", Decimal(1), NOV)
    assert (
        sample(metrics, "billing_bot_month_to_date_cost", project="my-project", currency="USD")
        == 12.5
    )
    text = metrics.exposition().decode()
    assert "channel" not in text
    assert "<b>" not in text
    assert (
        sample(metrics, "billing_bot_metric_labels_dropped_total", metric="month_to_date_cost") == 2
    )


def test_at_most_max_projects_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(labels, "MAX_PROJECTS", 3)
    metrics = Metrics()
    for i in range(5):
        metrics.figures.cost(f"p{i}", "USD", "2026-11", Decimal(i), NOV)
    metrics.figures.cost("p0", "EUR", "2026-11", Decimal(7), NOV)  # a known project: kept
    kept = {
        s.labels["project"]
        for f in metrics.registry.collect()
        if f.name == "billing_bot_month_to_date_cost"
        for s in f.samples
    }
    assert kept == {"p0", "p1", "p2"}
    assert sample(metrics, "billing_bot_month_to_date_cost", project="p0", currency="EUR") == 7
    assert (
        sample(metrics, "billing_bot_metric_labels_dropped_total", metric="month_to_date_cost") == 2
    )


def test_a_new_month_drops_the_last_and_an_older_answer_never_hides_a_newer() -> None:
    metrics = Metrics()
    figures = metrics.figures
    figures.cost("a", "USD", "2026-11", Decimal(900), NOV, low=Decimal(950), high=Decimal(990))
    figures.cost("a", "USD", "2026-11", Decimal(800), NOV.replace(hour=9))  # older: ignored
    assert sample(metrics, "billing_bot_month_to_date_cost", project="a", currency="USD") == 900
    figures.cost("a", "USD", "2026-11", Decimal(910), NOV.replace(hour=16))  # a report: no estimate
    high = sample(
        metrics, "billing_bot_month_end_estimate", project="a", currency="USD", bound="high"
    )
    assert high == 990, "the estimate is kept from the usage answer"

    figures.cost("b", "USD", "2026-12", Decimal(3), datetime(2026, 12, 1, tzinfo=UTC))
    assert sample(metrics, "billing_bot_month_to_date_cost", project="a", currency="USD") is None
    assert (
        sample(metrics, "billing_bot_month_end_estimate", project="a", currency="USD", bound="low")
        is None
    )
    assert sample(metrics, "billing_bot_month_to_date_cost", project="b", currency="USD") == 3


def test_budget_use_is_replaced_by_each_check_of_them_all() -> None:
    metrics = Metrics()
    metrics.figures.budgets(
        [
            ("a", "USD", BudgetUse("2026-11", Decimal(450), Decimal(500))),
            ("b", "USD", BudgetUse("2026-11", Decimal(10), Decimal(100))),
        ]
    )
    assert sample(metrics, "billing_bot_budget_use_ratio", project="a", currency="USD") == 0.9
    metrics.figures.budgets([("b", "USD", BudgetUse("2026-11", Decimal(20), Decimal(100)))])
    assert sample(metrics, "billing_bot_budget_use_ratio", project="a", currency="USD") is None
    assert sample(metrics, "billing_bot_budget_amount", project="b", currency="USD") == 100


# -- gauges read at scrape time -------------------------------------------------------------


def test_a_gauge_source_is_read_at_each_scrape_and_its_name_is_checked() -> None:
    metrics = Metrics()
    open_anomalies = {"my-project": 2}
    metrics.gauge_source(
        "billing_bot_open_anomalies",
        "Anomalies not yet resolved.",
        ["project"],
        lambda: [((p,), n) for p, n in open_anomalies.items()],
    )
    assert sample(metrics, "billing_bot_open_anomalies", project="my-project") == 2
    open_anomalies["my-project"] = 0
    assert sample(metrics, "billing_bot_open_anomalies", project="my-project") == 0
    with pytest.raises(ValueError, match="already"):
        metrics.gauge_source("billing_bot_open_anomalies", "again", [], list)
    with pytest.raises(ValueError, match="already"):
        metrics.gauge_source("billing_bot_answers", "a counter's name", [], list)
    with pytest.raises(ValueError, match="start with"):
        metrics.gauge_source("anomalies", "no prefix", [], list)


def test_two_apps_count_apart() -> None:
    one, two = Metrics(), Metrics()
    one.cache_lookup("hit")
    assert sample(one, "billing_bot_cache_lookups_total", outcome="hit") == 1
    assert sample(two, "billing_bot_cache_lookups_total", outcome="hit") is None


# -- answers --------------------------------------------------------------------------------


def test_an_answer_is_counted_with_the_error_it_was_told_or_raised() -> None:
    metrics = Metrics()
    with metrics.answering("report"):
        answer_failed(NotFound("MK.IO", "no such project"))  # worded inside, not raised
    with pytest.raises(Unavailable), metrics.answering("usage"):
        raise Unavailable("MK.IO", "down")
    with metrics.answering("usage") as counted:
        counted.refused = True
    with metrics.answering("usage"):
        pass
    answer_failed(ValueError("outside any answer: nothing to count"))
    answers = "billing_bot_answers_total"
    assert sample(metrics, answers, command="report", outcome="not_found") == 1
    assert sample(metrics, answers, command="usage", outcome="upstream_unavailable") == 1
    assert sample(metrics, answers, command="usage", outcome="refused") == 1
    assert sample(metrics, answers, command="usage", outcome="ok") == 1
    assert sample(metrics, "billing_bot_answer_seconds_count", command="usage") == 3


# -- the cache ------------------------------------------------------------------------------


async def test_the_cache_counts_misses_hits_and_coalesced_waits() -> None:
    metrics = Metrics()
    cache = ObservedCache(MemoryCache(ttl=60), metrics)
    release = asyncio.Event()

    async def load() -> str:
        await release.wait()
        return "answer"

    first = asyncio.ensure_future(cache.get_or_load("k", load))
    second = asyncio.ensure_future(cache.get_or_load("k", load))
    await asyncio.sleep(0)
    release.set()
    assert list(await asyncio.gather(first, second)) == ["answer", "answer"]
    assert await cache.get_or_load("k", load) == "answer"
    lookups = "billing_bot_cache_lookups_total"
    assert sample(metrics, lookups, outcome="miss") == 1
    assert sample(metrics, lookups, outcome="coalesced") == 1
    assert sample(metrics, lookups, outcome="hit") == 1


# -- upstream calls -------------------------------------------------------------------------


def mkio(handler: Callable[[httpx.Request], httpx.Response], metrics: Metrics) -> MkioClient:
    return MkioClient(
        "https://mkio.test/api/v1",
        SecretStr("token"),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy.immediate(),
        metrics=metrics,
    )


async def test_an_api_call_is_counted_once_by_template_and_final_status_its_retries_apart() -> None:
    answers = iter([httpx.Response(503), httpx.Response(200, json={"value": []})])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/usage"):
            return next(answers)
        return httpx.Response(404, json={"error": {"code": "NotFound", "detail": "no"}})

    metrics = Metrics()
    client = mkio(handler, metrics)
    await client.project_usage("my project/..")
    with pytest.raises(NotFound):
        await client.project_payment_method("other-project")
    await client.aclose()

    requests = "billing_bot_upstream_requests_total"
    usage = "/projects/{project}/usage"
    assert sample(metrics, requests, api="mkio", endpoint=usage, status="200") == 1
    assert sample(metrics, requests, api="mkio", endpoint=usage, status="503") is None
    assert sample(metrics, "billing_bot_upstream_retries_total", api="mkio", reason="503") == 1
    method = "/projects/{project}/paymentMethod"
    assert sample(metrics, requests, api="mkio", endpoint=method, status="404") == 1
    assert "my project" not in metrics.exposition().decode()


async def test_a_connection_failure_is_the_reason_of_the_retry_after_it() -> None:
    tries: Iterator[httpx.Response | Exception] = iter(
        [httpx.ConnectError("refused"), httpx.Response(200, json={"value": []})]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(tries)
        if isinstance(answer, Exception):
            raise answer
        return answer

    metrics = Metrics()
    client = mkio(handler, metrics)
    await client.project_usage("p")
    await client.aclose()
    retries = "billing_bot_upstream_retries_total"
    assert sample(metrics, retries, api="mkio", reason="ConnectError") == 1


# -- Slack Web API calls ----------------------------------------------------------------------


async def test_each_slack_try_is_counted_by_method_and_outcome_and_never_retried() -> None:
    metrics = Metrics()
    heard = SlackCallsHeard(metrics)
    state = RetryState()

    async def hear(url: str, status: int | None, body: dict[str, object] | None = None) -> bool:
        request = HttpRequest(method="POST", url=url, headers={})
        response = (
            None if status is None else HttpResponse(status_code=status, headers={}, body=body)
        )
        return await heard.can_retry_async(state=state, request=request, response=response)

    base = "https://slack.com/api/"
    assert not await hear(base + "chat.postMessage", 200, {"ok": True})
    assert not await hear(base + "chat.postMessage", 200, {"ok": False, "error": "not_in_channel"})
    assert not await hear(base + "chat.update", 429, {"ok": False, "error": "ratelimited"})
    assert not await hear(base + "chat.update", None)
    assert not await hear("https://files.slack.com/upload/v1/ABC?x=1", 200, None)
    calls = "billing_bot_slack_api_calls_total"
    assert sample(metrics, calls, method="chat.postMessage", outcome="ok") == 1
    assert sample(metrics, calls, method="chat.postMessage", outcome="not_in_channel") == 1
    assert sample(metrics, calls, method="chat.update", outcome="http_429") == 1
    assert sample(metrics, calls, method="chat.update", outcome="unreachable") == 1
    assert sample(metrics, calls, method="other", outcome="ok") == 1
    assert sample(metrics, "billing_bot_slack_rate_limited_total", method="chat.update") == 1


def test_a_reply_to_a_response_url_is_counted_by_an_outcome_slack_could_name() -> None:
    metrics = Metrics()
    metrics.slack_response(200, "ok")
    metrics.slack_response(404, "expired_url")
    metrics.slack_response(404, "used_url\n")
    metrics.slack_response(500, "<html>Internal error for <@U123> 'usage my-project'</html>")
    metrics.slack_response(None)
    replies = "billing_bot_slack_responses_total"
    assert sample(metrics, replies, outcome="ok") == 1
    assert sample(metrics, replies, outcome="expired_url") == 1
    assert sample(metrics, replies, outcome="used_url") == 1
    assert sample(metrics, replies, outcome="http_500") == 1
    assert sample(metrics, replies, outcome="unreachable") == 1


async def test_a_slack_call_is_timed_once_by_method_whatever_its_tries() -> None:
    metrics = Metrics()
    tries: list[str] = []

    async def api(request: web.Request) -> web.Response:
        tries.append(request.path)
        if len(tries) == 1:
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": "0"})  # fmt: skip
        return web.json_response({"ok": True, "ts": "1.0"})

    server = web.Application()
    server.router.add_post("/api/{method}", api)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        client = TimedWebClient(
            token="xoxb-test",
            base_url=f"http://127.0.0.1:{runner.addresses[0][1]}/api/",
            retry_handlers=[SlackCallsHeard(metrics), *api_retry_handlers()],
            metrics=metrics,
        )
        await client.chat_postMessage(channel="C1", text="hello")
        per_request = TimedWebClient.like(client, metrics)
        assert (per_request.token, per_request.base_url) == (client.token, client.base_url)
        assert per_request.retry_handlers == client.retry_handlers
        await per_request.chat_update(channel="C1", ts="1.0", text="hello again")
    finally:
        await runner.cleanup()
    assert tries == ["/api/chat.postMessage"] * 2 + ["/api/chat.update"]
    timed = "billing_bot_slack_api_call_seconds_count"
    assert sample(metrics, timed, method="chat.postMessage") == 1
    assert sample(metrics, timed, method="chat.update") == 1
    calls = "billing_bot_slack_api_calls_total"
    assert sample(metrics, calls, method="chat.postMessage", outcome="http_429") == 1
