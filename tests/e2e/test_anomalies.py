"""Anomaly alerts end to end: the sandbox's spike, drop, new meter and new Contro type found by
`/billing anomalies check`, posted in the channel that asked for them, and each button of the
alert pressed by the right and the wrong user."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.devtools.fakeslack import SlackCall
from tests.e2e.stack import ADMIN, MEMBER, Stack, close_stack, make_stack, seen

ALERTS = "C_ALERTS"
REPORTS = "/api/v1/organization/reports/usage"


@pytest.fixture
async def anomalous() -> AsyncIterator[Stack]:
    s = await make_stack()
    s.sandbox.add_anomalies()
    try:
        yield s
    finally:
        await close_stack(s)


async def ask_in(stack: Stack, text: str, *, user: str = ADMIN, channel: str = ALERTS) -> str:
    sent = await stack.sender.command(text, user_id=user, channel_id=channel)
    assert sent.status == 200, sent.body
    return seen(await stack.final_response(sent.response_url))


def alerts(stack: Stack) -> list[SlackCall]:
    return [
        c
        for c in stack.slack.api_calls("chat.postMessage")
        if c.channel == ALERTS and not c.body.get("thread_ts")
    ]


def alert_about(stack: Stack, words: str) -> SlackCall:
    (found,) = [c for c in alerts(stack) if words in seen(c)]
    return found


def latest_version(stack: Stack, alert: SlackCall) -> str:
    """What the alert shows now: its last edit, or the message as posted."""
    edits = [c for c in stack.slack.api_calls("chat.update") if c.ts == alert.ts]
    return seen(edits[-1] if edits else alert)


def thread_of(stack: Stack, alert: SlackCall) -> list[str]:
    return [
        seen(c)
        for c in stack.slack.api_calls("chat.postMessage")
        if c.body.get("thread_ts") == alert.ts
    ]


async def press(
    stack: Stack, alert: SlackCall, action_id: str, *, user: str, selected_date: str | None = None
) -> SlackCall:
    """Press and wait for the bot to have done with it: an edit, a thread reply or a whisper."""
    before = len(stack.slack.calls)
    sent = await stack.sender.click(alert, action_id, user_id=user, selected_date=selected_date)
    assert sent.status == 200, sent.body

    def answered(call: SlackCall) -> bool:
        return (
            (call.method == "chat.update" and call.ts == alert.ts)
            or (call.method == "chat.postMessage" and call.body.get("thread_ts") == alert.ts)
            or (call.kind == "response" and call.url == sent.response_url)
        )

    return (await stack.slack.wait_for(answered, after=before))[-1]


async def found_all(stack: Stack) -> str:
    assert "go to" in await ask_in(stack, "anomalies on")
    return await ask_in(stack, "anomalies check")


async def test_the_check_finds_the_spike_the_drop_the_new_meter_and_the_new_contro_type(
    anomalous: Stack,
) -> None:
    stack = anomalous
    before = len(stack.billing_requests(REPORTS))
    said = await found_all(stack)
    assert "4 new anomalies" in said
    assert len(stack.billing_requests(REPORTS)) - before == 1  # one org-wide report for all
    assert len(alerts(stack)) == 4

    spike = seen(alert_about(stack, "Cost spike"))
    assert "video-platform · streaming_egress (Streaming)" in spike
    assert "2026-11-20" in spike
    assert (
        "*2026-11-20*: 501.01 USD, +386.12 USD (+336%) against a median of 114.88 USD over 20 "
        "comparable days before it"
    ) in spike
    assert (
        "That is +8,580.552 GB, +386.12 USD at 0.045 USD a unit on the rate card of Azure "
        "Marketplace (Contoso Media), the project's payment method."
    ) in spike
    assert "the 10 days left in November cost 3,861.25 USD more than usual" in spike

    drop = seen(alert_about(stack, "Cost drop"))
    assert "video-platform · video_encoding_ondemand (VOD Encoding HD)" in drop
    assert "9.61 USD, -100.78 USD (-91%) against a median of 110.38 USD" in drop
    assert "cost 1,007.75 USD less than usual" in drop

    new_meter = seen(alert_about(stack, "New meter"))
    assert "archive · live_encoding" in new_meter
    assert "+88.29 USD at 0.054 USD a unit on the rate card of Direct invoice SO-10042" in new_meter
    assert "the first usage in the 35 days before" in new_meter

    new_type = seen(alert_about(stack, "New usage type"))
    assert "Contro chargeback" in new_type
    assert "180.00 USD" in new_type
    assert "12 records that day" in new_type

    listed = await ask_in(stack, "anomalies", user=MEMBER, channel="C_GENERAL")
    assert "Open anomalies (4)" in listed
    assert f"<#{ALERTS}>" in listed


async def test_the_reports_price_when_the_rate_card_cannot_price_it_and_it_says_so(
    anomalous: Stack,
) -> None:
    stack = anomalous
    stack.sandbox.add_fault(path="/projects/video-platform/paymentMethod", status=404, times=5)
    await found_all(stack)
    spike = seen(alert_about(stack, "Cost spike"))
    assert (
        "That is +8,580.552 GB, +386.12 USD at 0.045 USD a unit, the usage report's price (not "
        "the rate card's: the project has no payment method assigned)."
    ) in spike
    assert "on the rate card of Direct invoice SO-10042" in seen(alert_about(stack, "New meter"))


async def test_a_steady_sandbox_raises_nothing(stack: Stack) -> None:
    said = await found_all(stack)
    assert "0 new anomalies" in said
    assert alerts(stack) == []


async def test_checking_again_the_same_day_posts_nothing_more(anomalous: Stack) -> None:
    await found_all(anomalous)
    said = await ask_in(anomalous, "anomalies check")
    assert "0 new anomalies" in said
    assert len(alerts(anomalous)) == 4


async def test_only_admins_choose_where_alerts_go_and_check(anomalous: Stack) -> None:
    for words in ("anomalies on", "anomalies check", "anomalies off"):
        said = await ask_in(anomalous, words, user=MEMBER)
        assert "Only billing admins" in said
    assert await anomalous.bot.backends.anomalies.channels() == []
    assert await anomalous.bot.backends.anomalies.open_count() == 0


async def test_no_channel_no_alert_but_listed(anomalous: Stack) -> None:
    said = await ask_in(anomalous, "anomalies check")
    assert "4 new anomalies" in said
    assert "No channel hears of them" in said
    assert anomalous.slack.api_calls("chat.postMessage") == []
    assert "Open anomalies (4)" in await ask_in(anomalous, "anomalies")


async def test_acknowledge_by_anyone_once(anomalous: Stack) -> None:
    stack = anomalous
    await found_all(stack)
    spike = alert_about(stack, "Cost spike")
    edit = await press(stack, spike, "anomaly_acknowledge", user=MEMBER)
    assert edit.method == "chat.update"
    assert f"Acknowledged by <@{MEMBER}> at 2026-11-21 15:30 UTC" in seen(edit)
    again = await press(stack, spike, "anomaly_acknowledge", user=ADMIN)
    assert again.kind == "response"
    assert "already acknowledged" in seen(again)
    assert len([c for c in stack.slack.api_calls("chat.update") if c.ts == spike.ts]) == 1


async def test_snooze_is_for_admins(anomalous: Stack) -> None:
    stack = anomalous
    await found_all(stack)
    drop = alert_about(stack, "Cost drop")
    refused = await press(stack, drop, "anomaly_snooze_day", user=MEMBER)
    assert refused.kind == "response"
    assert "Only billing admins" in seen(refused)
    assert "Snoozed" not in latest_version(stack, drop)
    edit = await press(stack, drop, "anomaly_snooze_week", user=ADMIN)
    assert f"Snoozed until 2026-11-28 15:30 UTC by <@{ADMIN}>" in seen(edit)


async def test_expected_until_is_for_admins_and_a_future_day(anomalous: Stack) -> None:
    stack = anomalous
    await found_all(stack)
    spike = alert_about(stack, "Cost spike")
    refused = await press(
        stack, spike, "anomaly_expected_until", user=MEMBER, selected_date="2026-11-30"
    )
    assert "Only billing admins" in seen(refused)
    past = await press(
        stack, spike, "anomaly_expected_until", user=ADMIN, selected_date="2026-11-01"
    )
    assert "in the past" in seen(past)
    assert "Expected until 2026" not in latest_version(stack, spike)
    edit = await press(
        stack, spike, "anomaly_expected_until", user=ADMIN, selected_date="2026-11-30"
    )
    assert f"Expected until 2026-11-30 (no alerts for it until then), said <@{ADMIN}>" in seen(edit)
    (expected,) = [
        a for a in await stack.bot.backends.anomalies.list_open() if a.expected_until is not None
    ]
    assert (expected.kind, str(expected.expected_until)) == ("spike", "2026-11-30")


async def test_details_in_the_thread_once_for_anyone(anomalous: Stack) -> None:
    stack = anomalous
    await found_all(stack)
    spike = alert_about(stack, "Cost spike")
    reply = await press(stack, spike, "anomaly_details", user=MEMBER)
    assert reply.body.get("thread_ts") == spike.ts
    details = seen(reply)
    assert "2026-10-23" in details  # the first of the 28 days before
    assert "◀ this day" in details
    assert "against a median of" in details
    again = await press(stack, spike, "anomaly_details", user=ADMIN)
    assert "The details are in this alert's thread" in seen(again)
    assert len(thread_of(stack, spike)) == 1


async def test_a_day_later_the_spike_and_drop_recover(anomalous: Stack) -> None:
    stack = anomalous
    await found_all(stack)
    spike, drop = alert_about(stack, "Cost spike"), alert_about(stack, "Cost drop")
    await press(stack, spike, "anomaly_acknowledge", user=MEMBER)
    stack.clock.advance(days=1)
    said = await ask_in(stack, "anomalies check")
    assert "0 new anomalies, 0 continuing, 2 recovered" in said
    assert "2 new series are now usual" in said  # closed quietly
    for alert in (spike, drop):
        (note,) = thread_of(stack, alert)
        assert "Recovered" in note
        assert "back within its usual range on 2026-11-21" in note
        shown = latest_version(stack, alert)
        assert "Recovered: back within its usual range on 2026-11-21" in shown
    assert f"Acknowledged by <@{MEMBER}>" in latest_version(stack, spike)
    assert "No open anomalies" in await ask_in(stack, "anomalies")
    assert len(alerts(stack)) == 4


async def test_days_missed_while_the_bot_was_down_are_judged_by_the_next_check(
    anomalous: Stack,
) -> None:
    stack = anomalous
    await found_all(stack)
    spike = alert_about(stack, "Cost spike")
    stack.clock.advance(days=3)  # no check for three days
    before = len(stack.billing_requests(REPORTS))
    said = await ask_in(stack, "anomalies check")
    assert "from 2026-11-21 to 2026-11-23 (3 days since the last check)" in said
    assert "2 recovered" in said
    assert len(stack.billing_requests(REPORTS)) - before == 1
    (note,) = thread_of(stack, spike)
    assert "back within its usual range on 2026-11-21" in note  # the day it was, not today
    assert len(alerts(stack)) == 4


async def test_anomalies_on_in_a_private_channel_without_the_bot_asks_for_an_invitation(
    anomalous: Stack,
) -> None:
    stack = anomalous
    private = "G_FINANCE"
    stack.slack.not_in.add(private)
    said = await ask_in(stack, "anomalies on", channel=private)
    assert "I am not a member of" in said
    assert "invite me with `/invite @billing`" in said
    assert "Nothing changed" in said
    (info,) = stack.slack.api_calls("conversations.info", include_failed=True)
    assert info.body["channel"] == private
    assert "No channel hears of anomalies" in await ask_in(stack, "anomalies")
    stack.slack.not_in.discard(private)  # invited
    assert "Anomaly alerts go to" in await ask_in(stack, "anomalies on", channel=private)


async def test_anomalies_on_in_a_public_channel_without_the_bot_joins_it(
    anomalous: Stack,
) -> None:
    stack = anomalous
    stack.slack.not_in.add(ALERTS)
    said = await ask_in(stack, "anomalies on")
    assert "Anomaly alerts go to" in said
    assert "I joined the channel to post them" in said
    assert [c.body["channel"] for c in stack.slack.api_calls("conversations.join")] == [ALERTS]
    await ask_in(stack, "anomalies check")
    assert len(alerts(stack)) == 4


async def test_anomalies_on_when_slack_does_not_say_turns_them_on_and_says_so(
    anomalous: Stack,
) -> None:
    stack = anomalous
    stack.slack.fail_next("conversations.info", error="missing_scope", status=200)
    said = await ask_in(stack, "anomalies on")
    assert "Anomaly alerts go to" in said
    assert "Slack did not tell me whether I am in this channel" in said
    assert "Invite me with `/invite @billing`" in said
