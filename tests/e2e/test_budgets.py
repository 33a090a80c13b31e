"""Budgets that fit: scopes, threshold lists, DMs, the list with each budget's month so far,
and alerts crossing in the sandbox (the clock moved instead of waiting)."""

from __future__ import annotations

import asyncio
import re

from bot.devtools.fakeslack import SlackCall
from tests.e2e.stack import ADMIN, MEMBER, Stack, seen

FINANCE = "U_FINANCE"


def posts(stack: Stack) -> list[SlackCall]:
    return stack.slack.api_calls("chat.postMessage")


def report_requests(stack: Stack) -> list[object]:
    return [r.json for r in stack.sandbox.requests if r.path.endswith("/reports/usage")]


def money(text: str) -> str:
    found = re.search(r"Month to date: \*([0-9,.]+) USD\*", text)
    assert found, text
    return found.group(1)


async def test_a_scoped_budget_with_thresholds_and_a_dm_is_set_listed_and_crosses_once(
    stack: Stack,
) -> None:
    # the sandbox's video-platform egress: 2,162.01 USD by Nov 21 15:30, 3,094.56–3,118.65 at
    # month end
    words = f"budget video-platform meter streaming_egress 3,000 at 50,70,100 notify <@{FINANCE}|f>"
    _, reply = await stack.ask(words, user_id=ADMIN)
    said = seen(reply)
    assert "Budget for meter `streaming_egress` of `video-platform`: 3,000.00 USD" in said
    assert "reaches 50%, 70% and 100%" in said
    assert f"<@{FINANCE}> by direct message" in said

    _, listed = await stack.ask("budget list", user_id=MEMBER)
    listing = seen(listed)
    assert "meter `streaming_egress` of `video-platform`" in listing
    assert "alerts at 50%, 70% and 100% in <#C_GENERAL>" in listing
    assert (
        "Spent 2,162.01 USD (72%) · month-end 3,094.56 USD – 3,118.65 USD · at this pace it "
        "reaches the budget between Nov 29 and Nov 30 (UTC)"
    ) in listing

    await stack.bot.scheduler.check_budgets(stack.clock.now)
    await stack.slack.wait_for(lambda c: c.method == "chat.postMessage", count=4)
    spent, spent_dm, forecast, forecast_dm = posts(stack)
    assert [p.body["channel"] for p in posts(stack)] == ["C_GENERAL", FINANCE] * 2
    assert seen(spent) == seen(spent_dm)
    assert seen(forecast) == seen(forecast_dm)
    # 50% and 70% were reached at once: only the higher is posted
    assert "has used 72% of its 3,000.00 USD budget for 2026-11 (threshold 70%)" in seen(spent)
    assert "is on course to pass its 3,000.00 USD budget" in seen(forecast)
    assert "At this pace it reaches the budget between Nov 29 and Nov 30 (UTC)." in seen(forecast)

    await stack.bot.scheduler.check_budgets(stack.clock.now)
    await asyncio.sleep(0.2)
    assert len(posts(stack)) == 4, "once a month"


async def test_each_scope_counts_its_own_cost_from_one_report_a_check(stack: Stack) -> None:
    for words in (
        "budget organization 500",
        "budget payment-method azure-marketplace-contoso-media 500",
        "budget archive 100,000",
        "budget contro card_issuance 1",
    ):
        _, reply = await stack.ask(words, user_id=ADMIN)
        assert ":moneybag:" in seen(reply), seen(reply)
    before = len(report_requests(stack))
    await stack.bot.scheduler.check_budgets(stack.clock.now)
    assert len(report_requests(stack)) - before == 1, "one org-wide report for every budget"
    await stack.slack.wait_for(lambda c: c.method == "chat.postMessage", count=3)
    await asyncio.sleep(0.2)
    texts = [seen(p) for p in posts(stack)]
    assert len(texts) == 3, texts  # archive stays far under its budget
    org = next(t for t in texts if "The organization" in t)
    azure = next(t for t in texts if "Payment method" in t)
    contro = next(t for t in texts if "Contro usage type" in t)
    assert "Azure Marketplace (Contoso Media)" in azure
    assert "over its 500.00 USD budget" in org
    assert "`card_issuance`" in contro
    # the organization's cost is the sum of every project's, so more than one method's
    org_spent = money(org).replace(",", "")
    azure_spent = money(azure).replace(",", "")
    assert float(org_spent) > float(azure_spent) > 0

    _, usage = await stack.ask("usage archive")
    _, listed = await stack.ask("budget list")
    found = re.search(r"Total[^0-9]*([0-9,.]+ USD)", seen(usage))
    assert found, seen(usage)
    archive = next(line for line in seen(listed).split("\n\n") if "`archive`" in line)
    assert f"Spent {found.group(1)}" in archive, (found.group(1), archive)


async def test_bad_thresholds_and_mentions_get_a_clear_reply_and_store_nothing(
    stack: Stack,
) -> None:
    for words, said in (
        ("budget my-project 500 at 0,200", "`0` is not a threshold"),
        ("budget my-project 500 at 1,2,3,4,5,6,7,8,9,10,11", "at most 10 thresholds"),
        ("budget my-project 500 notify @finance", "`@finance` is not a mention"),
        ("budget organization 500 at", "`at` needs the percentages"),
    ):
        _, reply = await stack.ask(words, user_id=ADMIN)
        assert said in seen(reply), seen(reply)
    _, listed = await stack.ask("budget list")
    assert "No budgets" in seen(listed)


async def test_a_scoped_budget_is_removed_by_the_same_words(stack: Stack) -> None:
    await stack.ask("budget payment-method azure-marketplace-contoso-media 500", user_id=ADMIN)
    await stack.ask("budget my-project meter streaming_egress 50", user_id=ADMIN)
    _, removed = await stack.ask(
        "budget remove payment-method azure-marketplace-contoso-media", user_id=ADMIN
    )
    assert "Removed the budget of payment method `Azure Marketplace (Contoso Media)`" in seen(
        removed
    )
    _, listed = await stack.ask("budget list")
    assert "payment method" not in seen(listed)
    assert "meter `streaming_egress` of `my-project`" in seen(listed)


async def test_a_budget_set_again_says_it_replaces_the_one_before(stack: Stack) -> None:
    await stack.ask("budget organization 500", user_id=ADMIN)
    _, again = await stack.ask("budget organization 500 at 50,100", user_id=ADMIN)
    assert "Budget for the organization set again: 500.00 USD a month, as before" in seen(again)
    assert "reaches 50% and 100%" in seen(again)
    _, listed = await stack.ask("budget list")
    assert seen(listed).count("the organization") == 1


async def test_a_meter_without_cost_this_month_is_kept_with_a_warning(stack: Stack) -> None:
    _, reply = await stack.ask("budget my-project meter streaming_egres 50", user_id=ADMIN)
    said = seen(reply)
    assert "`streaming_egres` has had no cost in `my-project` this month so far" in said
    assert "`streaming_egress`" in said  # the meters it has
    _, right = await stack.ask("budget my-project meter streaming_egress 50", user_id=ADMIN)
    assert "no cost" not in seen(right)


async def test_a_contro_type_has_a_forecast_from_the_months_records_while_they_are_few(
    stack: Stack,
) -> None:
    _, reply = await stack.ask("budget contro card_issuance 100", user_id=ADMIN)
    assert "when the month-end estimate reaches 100%" in seen(reply)
    before = len(stack.sandbox.requests)
    _, listed = await stack.ask("budget list")
    line = next(part for part in seen(listed).split("\n\n") if "card_issuance" in part)
    assert re.search(r"month-end [0-9,.]+ (to [0-9,.]+ )?USD", line), line
    contro = [r.path for r in stack.sandbox.requests[before:] if r.path.startswith("/v1")]
    assert contro[0] == "/v1/partner/usage/summary", contro
    assert set(contro[1:]) == {"/v1/partner/usage/records"}, contro  # one pass over them


async def test_a_contro_type_has_no_forecast_when_the_months_records_are_many(
    stack: Stack,
) -> None:
    stack.sandbox.set_contro_records("2026-11", 5_000)
    await stack.ask("budget contro card_issuance 100", user_id=ADMIN)
    before = len(stack.sandbox.requests)
    _, listed = await stack.ask("budget list")
    assert not [r for r in stack.sandbox.requests[before:] if r.path.endswith("/records")]
    line = next(part for part in seen(listed).split("\n\n") if "card_issuance" in part)
    assert "no estimate: Contro has 5,000 records this month, more than the 1,000" in line


async def test_a_forecast_that_falls_back_under_the_budget_recovers(stack: Stack) -> None:
    await stack.ask("budget video-platform 10,000", user_id=ADMIN)
    await stack.bot.scheduler.check_budgets(stack.clock.now)
    await stack.slack.wait_for(lambda c: c.method == "chat.postMessage")
    (crossed,) = [seen(p) for p in posts(stack)]
    assert "is on course to pass its 10,000.00 USD budget" in crossed
    stack.sandbox.slow_down("video-platform")  # its last week at a tenth: the estimate falls
    await stack.bot.scheduler.check_budgets(stack.clock.now)
    await stack.slack.wait_for(lambda c: c.method == "chat.postMessage", count=2)
    recovered = seen(posts(stack)[-1])
    assert "Recovered: `video-platform` is back on course to stay under its" in recovered
    await stack.bot.scheduler.check_budgets(stack.clock.now)
    await asyncio.sleep(0.2)
    assert len(posts(stack)) == 2, "once"
