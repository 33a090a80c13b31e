"""Scheduled reports and budgets, with the clock moved instead of waiting."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

from bot.devtools.fakeslack import SlackCall
from tests.e2e.stack import ADMIN, MEMBER, Stack, close_stack, eventually, make_stack, seen

RUN_TIME = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def report_requests(stack: Stack) -> list[object]:
    return [r.json for r in stack.sandbox.requests if r.path.endswith("/reports/usage")]


async def schedule(stack: Stack, words: str, channel: str = "C_FINANCE") -> str:
    sent = await stack.sender.command(f"schedule {words}", user_id=ADMIN, channel_id=channel)
    reply = await stack.final_response(sent.response_url)
    found = re.search(r"schedule cancel (\w+)", seen(reply))
    assert found, seen(reply)
    return found.group(1)


async def test_only_admins_schedule_and_anyone_lists(stack: Stack) -> None:
    _, refused = await stack.ask("schedule monthly", user_id=MEMBER)
    assert "Only billing admins" in seen(refused)
    schedule_id = await schedule(stack, "monthly project my-project")
    _, listed = await stack.ask("schedule list", user_id=MEMBER)
    assert schedule_id in seen(listed)
    assert stack.sandbox.requests == []


async def test_the_schedule_list_says_when_each_runs_next(stack: Stack) -> None:
    stack.clock.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    monthly = await schedule(stack, "monthly")
    daily = await schedule(stack, "daily")
    _, listed = await stack.ask("schedule list")
    lines = seen(listed).splitlines()
    assert "Next run (UTC)" in seen(listed)
    assert "2026-12-01 08:00" in next(line for line in lines if monthly in line)
    assert "2026-11-21 08:00" in next(line for line in lines if daily in line)


async def test_a_monthly_schedule_posts_last_month_on_the_first_at_eight_once(
    stack: Stack,
) -> None:
    await schedule(stack, "monthly")
    stack.clock.now = datetime(2026, 12, 1, 7, 59, tzinfo=UTC)
    await stack.bot.scheduler.tick(stack.clock.now)
    assert report_requests(stack) == [], "not before 08:00 UTC"

    stack.clock.now = RUN_TIME
    await stack.bot.scheduler.tick(stack.clock.now)
    [summary] = await stack.slack.wait_for(
        lambda c: c.method == "chat.update" and "Usage report" in str(c.body.get("text"))
    )
    assert summary.body["channel"] == "C_FINANCE"
    assert "2026-11" in seen(summary)
    assert "Scheduled report · `/billing schedule list`" in seen(summary)
    november = {"startDate": "2026-11-01", "endDate": "2026-12-01", "granularity": "day"}
    october = {**november, "startDate": "2026-10-01", "endDate": "2026-11-01"}  # compared with
    assert sorted(report_requests(stack), key=str) == sorted([november, october], key=str)

    await stack.bot.scheduler.tick(RUN_TIME.replace(minute=5))
    assert len(report_requests(stack)) == 2, "a run is posted once"


async def test_a_report_asked_by_hand_does_not_say_scheduled(stack: Stack) -> None:
    await stack.sender.command("report last-month", user_id=MEMBER, channel_id="C_FINANCE")
    [summary] = await stack.slack.wait_for(
        lambda c: c.method == "chat.update" and "Usage report" in str(c.body.get("text"))
    )
    assert "Scheduled" not in seen(summary)


async def test_two_bots_on_one_database_post_each_run_once(stack: Stack) -> None:
    other = await make_stack(sqlite_path=stack.settings.sqlite_path)
    try:
        await schedule(stack, "monthly")
        stack.clock.now = other.clock.now = RUN_TIME
        await asyncio.gather(stack.bot.scheduler.tick(RUN_TIME), other.bot.scheduler.tick(RUN_TIME))

        def summaries() -> list[SlackCall]:
            return [
                c
                for s in (stack, other)
                for c in s.slack.api_calls("chat.update")
                if "Usage report" in str(c.body.get("text"))
            ]

        await eventually(lambda: bool(summaries()), "the run to be posted")
        await asyncio.sleep(0.3)  # had the other bot posted it too, it would show by now
        assert len(summaries()) == 1
    finally:
        await close_stack(other)


async def test_a_run_missed_while_the_bot_was_down_is_made_up_once_at_start(
    stack: Stack,
) -> None:
    await schedule(stack, "monthly")
    late = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)  # the bot was down on the 1st
    stack.clock.now = late
    await stack.bot.scheduler.catch_up(late)
    await stack.slack.wait_for(lambda c: c.method == "chat.update")
    await stack.bot.scheduler.catch_up(late)
    await asyncio.sleep(0.2)
    posted = [c for c in stack.slack.api_calls("chat.postMessage")]
    assert len(posted) == 1, "made up once"


async def test_a_budget_alerts_once_per_threshold_per_month(stack: Stack) -> None:
    _, reply = await stack.ask("budget video-platform 500", user_id=ADMIN)
    assert "500.00 USD" in seen(reply)
    await stack.bot.scheduler.check_budgets(stack.clock.now)
    [alert] = await stack.slack.wait_for(lambda c: c.method == "chat.postMessage")
    assert alert.body["channel"] == "C_GENERAL"
    assert "over its 500.00 USD budget" in seen(alert)

    await stack.bot.scheduler.check_budgets(stack.clock.now)
    await asyncio.sleep(0.2)
    assert len(stack.slack.api_calls("chat.postMessage")) == 1, "once a month"

    _, removed = await stack.ask("budget remove video-platform", user_id=ADMIN)
    assert "Removed" in seen(removed)
    _, listed = await stack.ask("budget list")
    assert "video-platform" not in seen(listed)


async def test_a_new_budget_says_which_one_it_replaces(stack: Stack) -> None:
    _, first = await stack.ask("budget video-platform 500", user_id=ADMIN)
    assert "changed" not in seen(first)
    sent = await stack.sender.command(
        "budget video-platform 800", user_id=ADMIN, channel_id="C_FINANCE"
    )
    said = seen(await stack.final_response(sent.response_url))
    assert "Budget for `video-platform` changed from 500.00 USD to 800.00 USD" in said
    assert "post in <#C_FINANCE> (instead of <#C_GENERAL>)" in said  # where its alerts go now
    _, listed = await stack.ask("budget list")
    assert "800.00 USD" in seen(listed)
    assert "500.00 USD" not in seen(listed)


async def test_a_budget_for_a_project_mkio_does_not_have_is_refused(stack: Stack) -> None:
    _, reply = await stack.ask("budget no-such-project 500", user_id=ADMIN)
    assert "MK.IO has no project `no-such-project`" in seen(reply)
    _, listed = await stack.ask("budget list")
    assert "no-such-project" not in seen(listed)


async def test_a_budget_whose_check_fails_is_told_once_in_its_channel(stack: Stack) -> None:
    _, reply = await stack.ask("budget video-platform 500", user_id=ADMIN)
    assert "500.00 USD" in seen(reply)
    # one org-wide report a check, for every MK.IO budget: when it fails, each budget is told
    stack.sandbox.add_fault(path="/organization/reports/usage", status=403, times=1000)
    for _ in range(3):
        await stack.bot.scheduler.check_budgets(stack.clock.now)
    [notice] = await stack.slack.wait_for(lambda c: c.method == "chat.postMessage")
    assert notice.body["channel"] == "C_GENERAL"
    assert "could not be checked this month" in seen(notice)
    assert "budget remove video-platform" in seen(notice)
    await asyncio.sleep(0.2)
    assert len(stack.slack.api_calls("chat.postMessage")) == 1, "once a month"
