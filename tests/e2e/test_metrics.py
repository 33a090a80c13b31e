"""GET /metrics after a scripted session: every series with the right counts, and a scrape
that asks no billing API anything."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.slack.inflight import wait_for_answers
from tests.e2e.stack import ADMIN, PATIENCE, Stack, seen

CONFIRM = "billing_change_confirm"

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(stack: Stack) -> Series:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{stack.bot_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(series: Series, name: str, **labels: str) -> float:
    return series.get((name, frozenset(labels.items())), 0.0)


async def test_a_session_is_counted_and_a_scrape_asks_no_api(stack: Stack) -> None:
    _, first = await stack.ask("usage my-project")
    before = await scrape(stack)
    await stack.ask("usage my-project")  # the cached answer
    cached = await scrape(stack)
    await stack.ask("usage no-such-project")  # MK.IO says 404
    stack.sandbox.add_fault(path="/partner/usage/summary", status=429, retry_after="0")
    await stack.ask("contro summary")  # a 429, then the answer
    _, records = await stack.ask("contro records")
    click = await stack.sender.click(records.body, "contro_records_page")
    assert click.status == 200
    await stack.final_response(click.response_url)
    stack.slack.fail_next("chat.postMessage", retry_after=0)  # Slack's 429, waited out
    await stack.sender.command("report 2026-03", channel_id="C_FINANCE")
    await stack.slack.wait_for(
        lambda c: c.method == "chat.update" and "Preparing" not in str(c.body.get("text"))
    )
    method = next(i for name, i in stack.sandbox.payment_method_ids().items() if "AWS" in name)
    _, preview = await stack.ask(f"payment-method my-project set {method}", user_id=ADMIN)
    done = await stack.sender.click(preview.body, CONFIRM, user_id=ADMIN)
    await stack.final_response(done.response_url)
    await stack.slack.wait_for(lambda c: c.method == "chat.postMessage" and c.channel == "C_AUDIT")
    unsigned = await stack.sender.raw(b"command=/billing&text=help", headers={})
    assert unsigned.status_code == 401

    assert await wait_for_answers(PATIENCE) == 0  # the report's chart is uploaded last
    asked, told = len(stack.sandbox.requests), len(stack.slack.calls)
    series = await scrape(stack)
    await scrape(stack)
    assert len(stack.sandbox.requests) == asked, "a scrape asks no billing API anything"
    assert len(stack.slack.calls) == told, "nor Slack"
    typed = {"no-such-project", "2026-03", "help", "/billing"}  # words users typed
    assert not {v for _, labels in series for _, v in labels if any(t in v for t in typed)}

    # acks: six slash commands on the fast path, two button clicks through Bolt
    assert value(series, "billing_bot_ack_seconds_count", kind="command") == 7
    assert value(series, "billing_bot_ack_seconds_count", kind="block_actions") == 2
    assert value(series, "billing_bot_slack_requests_refused_total", reason="unsigned") == 1

    # answers, by command and outcome
    answers = "billing_bot_answers_total"
    assert value(series, answers, command="usage", outcome="ok") == 2
    # an unknown project is the asker's input, told with the nearest names
    assert value(series, answers, command="usage", outcome="bad_input") == 1
    assert value(series, answers, command="contro_summary", outcome="ok") == 1
    assert value(series, answers, command="contro_records", outcome="ok") == 1
    assert value(series, answers, command="report", outcome="ok") == 1
    assert value(series, answers, command="set_payment_method", outcome="ok") == 1

    # upstream calls by endpoint template (never the project's name), retries
    upstream = "billing_bot_upstream_requests_total"
    usage = "/projects/{project}/usage"
    assert value(series, upstream, api="mkio", endpoint=usage, status="200") == 1
    assert value(series, upstream, api="mkio", endpoint=usage, status="404") == 1
    assert not any("my-project" in dict(labels).get("endpoint", "") for _, labels in series)
    summary = "/partner/usage/summary"
    assert value(series, upstream, api="contro", endpoint=summary, status="200") == 1
    assert value(series, "billing_bot_upstream_retries_total", api="contro", reason="429") == 1
    timed = value(series, "billing_bot_upstream_request_seconds_count", api="mkio", endpoint=usage)
    assert timed == 2

    # the cache: the second usage was a hit, and asked nothing
    lookups = "billing_bot_cache_lookups_total"
    assert value(cached, lookups, outcome="hit") - value(before, lookups, outcome="hit") == 1
    assert value(cached, lookups, outcome="miss") == value(before, lookups, outcome="miss")
    assert value(cached, upstream, api="mkio", endpoint=usage, status="200") == 1

    # Slack: the report's post was rate limited once, then made
    assert value(series, "billing_bot_slack_rate_limited_total", method="chat.postMessage") == 1
    calls = "billing_bot_slack_api_calls_total"
    assert value(series, calls, method="chat.postMessage", outcome="http_429") == 1
    assert value(series, calls, method="chat.update", outcome="ok") == len(
        stack.slack.api_calls("chat.update")
    )
    # each call timed once, its tries together: the 429 and the post after it are one call
    timed_calls = "billing_bot_slack_api_call_seconds_count"
    posts = len(stack.slack.api_calls("chat.postMessage"))
    assert value(series, calls, method="chat.postMessage", outcome="ok") == posts
    assert value(series, timed_calls, method="chat.postMessage") == posts
    assert value(series, timed_calls, method="chat.update") == len(
        stack.slack.api_calls("chat.update")
    )
    # replies through a response_url, by outcome
    replies = len(stack.slack.responses())
    assert replies >= 7  # an ephemeral answer to each slash command, at least
    assert value(series, "billing_bot_slack_responses_total", outcome="ok") == replies

    # the billing change, as audited
    changes = "billing_bot_billing_changes_total"
    assert value(series, changes, kind="payment-method", outcome="done") == 1

    # business figures: my-project's month so far, as its usage answer showed it
    figure = value(series, "billing_bot_month_to_date_cost", project="my-project", currency="USD")
    assert f"Total month to date: {figure:,.2f} USD" in seen(first)
    low = value(
        series, "billing_bot_month_end_estimate", project="my-project", currency="USD", bound="low"
    )
    high = value(
        series, "billing_bot_month_end_estimate", project="my-project", currency="USD", bound="high"
    )
    assert figure <= low <= high
    assert value(series, "billing_bot_upstream_queued", api="mkio") == 0


async def test_the_scheduler_and_each_budget_are_measured(stack: Stack) -> None:
    sent = await stack.sender.command("schedule monthly", user_id=ADMIN, channel_id="C_FINANCE")
    await stack.final_response(sent.response_url)
    _, reply = await stack.ask("budget video-platform 500", user_id=ADMIN)
    assert "500.00 USD" in seen(reply)

    await stack.bot.scheduler.tick(stack.clock.now)  # the hour's budget check; no run is due
    await stack.slack.wait_for(lambda c: c.method == "chat.postMessage")  # the 100% alert
    checked = await scrape(stack)
    assert value(checked, "billing_bot_budget_checks_total") == 1
    assert value(checked, "billing_bot_scheduled_runs_total", outcome="ran") == 0
    assert (
        value(checked, "billing_bot_budget_amount", project="video-platform", currency="USD") == 500
    )
    use = value(checked, "billing_bot_budget_use_ratio", project="video-platform", currency="USD")
    cost = value(
        checked, "billing_bot_month_to_date_cost", project="video-platform", currency="USD"
    )
    assert use == pytest.approx(cost / 500)
    assert use > 1
    assert value(checked, "billing_bot_budget_alerts_total", kind="spent", posted="true") == 1

    late = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # the run was due at 08:00
    stack.clock.now = late
    await stack.bot.scheduler.tick(late)
    assert await wait_for_answers(PATIENCE) == 0
    ran = await scrape(stack)
    assert value(ran, "billing_bot_scheduler_ticks_total") == 2
    assert value(ran, "billing_bot_scheduler_last_tick_timestamp_seconds") == late.timestamp()
    assert value(ran, "billing_bot_scheduled_runs_total", outcome="ran") == 1
    assert value(ran, "billing_bot_scheduled_run_lag_seconds_sum") == 90 * 60
    assert value(ran, "billing_bot_answers_total", command="report", outcome="ok") == 1
    # December's figures (from the 09:00 budget check) replace November's
    december = value(
        ran, "billing_bot_month_to_date_cost", project="video-platform", currency="USD"
    )
    assert december < cost


async def test_open_anomalies_are_counted_until_they_recover_acknowledged_or_not(
    stack: Stack,
) -> None:
    stack.sandbox.add_anomalies()
    gauge: tuple[str, frozenset[tuple[str, str]]] = ("billing_bot_open_anomalies", frozenset())
    assert gauge not in await scrape(stack)  # no check yet: nothing known
    alerts = "C_ALERTS"
    for words in ("anomalies on", "anomalies check"):
        sent = await stack.sender.command(words, user_id=ADMIN, channel_id=alerts)
        assert sent.status == 200
        await stack.final_response(sent.response_url)
    assert (await scrape(stack))[gauge] == 4
    (spike,) = [
        c
        for c in stack.slack.api_calls("chat.postMessage")
        if c.channel == alerts and "Cost spike" in seen(c)
    ]
    clicked = await stack.sender.click(spike, "anomaly_acknowledge", user_id=ADMIN)
    assert clicked.status == 200
    await stack.slack.wait_for(lambda c: c.method == "chat.update" and c.ts == spike.ts)
    assert (await scrape(stack))[gauge] == 4  # acknowledged is still open
    stack.clock.advance(days=1)
    sent = await stack.sender.command("anomalies check", user_id=ADMIN, channel_id=alerts)
    await stack.final_response(sent.response_url)
    assert (await scrape(stack))[gauge] == 0  # recovered, and the new ones now usual


async def test_a_reply_slack_refuses_is_counted_by_its_error(stack: Stack) -> None:
    stack.slack.fail_next("response", status=404, error="expired_url", retry_after=None)
    await stack.sender.command("payment-methods")
    await stack.slack.wait_for(lambda c: c.kind == "response", include_failed=True)
    await wait_for_answers(PATIENCE)
    series = await scrape(stack)
    replies = "billing_bot_slack_responses_total"
    assert value(series, replies, outcome="expired_url") == 1
    assert value(series, replies, outcome="ok") == len(stack.slack.responses())
