"""Issue 15's words, end to end: the same words on the slash command and after a mention reach
MK.IO as the same report; suggestions keep the user's words and run; unknown names get the
nearest known ones; a mistyped filter is told privately; help is short, with topics."""

from __future__ import annotations

import pytest

from bot.devtools.fakeslack import BOT_USER_ID, SlackCall
from tests.e2e.stack import ADMIN, MEMBER, Stack, is_working, json_body, seen

# The stack's clock: 2026-11-21 (a Saturday).


def report_dates(stack: Stack) -> list[tuple[str, str]]:
    bodies = [json_body(r) for r in stack.billing_requests("/reports/usage")]
    return sorted({(b["startDate"], b["endDate"]) for b in bodies})


async def posted_summary(stack: Stack, after: int = 0) -> SlackCall:
    [summary] = await stack.slack.wait_for(
        lambda c: (
            c.method in ("chat.update", "chat.postMessage")
            and "Usage report" in str(c.body.get("text"))
            and "Preparing" not in str(c.body.get("text"))
        ),
        after=after,
    )
    return summary


async def mention(stack: Stack, text: str, *, ts: str = "1795000000.000100") -> None:
    event = {
        "type": "app_mention",
        "user": MEMBER,
        "channel": "C_GENERAL",
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts,
    }
    sent = await stack.sender.event(event)
    assert sent.status == 200


@pytest.mark.parametrize(
    ("words", "period"),
    [
        ("report csv last-month", ("2026-10-01", "2026-11-01")),
        ("report by week march", ("2026-03-01", "2026-04-01")),
        ("report yesterday", ("2026-11-20", "2026-11-21")),
        ("report last-week", ("2026-11-09", "2026-11-16")),
        ("report q3 2026", ("2026-07-01", "2026-10-01")),
        ("report 2026/03", ("2026-03-01", "2026-04-01")),
    ],
)
async def test_the_slash_command_and_a_mention_ask_mkio_for_the_same_report(
    stack: Stack, words: str, period: tuple[str, str]
) -> None:
    await stack.sender.command(words)
    by_slash = await posted_summary(stack)
    assert period in report_dates(stack), report_dates(stack)
    after = len(stack.slack.calls)
    await mention(stack, words)
    by_mention = await posted_summary(stack, after)
    assert seen(by_mention).splitlines()[:3] == seen(by_slash).splitlines()[:3]


async def test_contro_summary_march_is_march(stack: Stack) -> None:
    _, reply = await stack.ask("contro summary march")
    assert "Contro usage — 2026-03" in seen(reply)


async def test_an_unknown_project_gets_the_nearest_name_once_without_a_reference(
    stack: Stack,
) -> None:
    _, reply = await stack.ask("usage my-projet")
    text = seen(reply)
    assert "Did you mean `my-project`?" in text, text
    assert "case-sensitive" in text
    assert "Reference" not in text
    assert "said:" not in text
    assert "Try: `/billing usage my-project`" in text
    _, again = await stack.ask("usage My-Project")
    assert "Did you mean `my-project`?" in seen(again)


async def test_a_payment_method_named_by_one_of_its_words_is_suggested_and_the_suggestion_runs(
    stack: Stack,
) -> None:
    _, reply = await stack.ask("ratecard azure")
    text = seen(reply)
    assert "Did you mean `azure-marketplace-contoso-media`?" in text, text
    _, card = await stack.ask("ratecard azure-marketplace-contoso-media")
    assert "Azure Marketplace (Contoso Media)" in seen(card)


async def test_an_unknown_contro_type_lists_the_types(stack: Stack) -> None:
    _, reply = await stack.ask("contro records 2026-10 type kcy")
    text = seen(reply)
    assert "`kyc`" in text
    assert "Did you mean `kyc`?" in text
    assert "Try: `/billing contro records 2026-10 type kyc`" in text


async def test_a_mistyped_report_filter_is_told_privately_and_nothing_reaches_the_channel(
    stack: Stack,
) -> None:
    _, reply = await stack.ask("report last-month project my-projet")
    assert "Did you mean `my-project`?" in seen(reply)
    assert reply.ephemeral
    assert not stack.slack.api_calls("chat.postMessage"), "nothing was posted in the channel"
    assert stack.billing_requests("/reports/usage") == []


async def test_a_mistyped_filter_after_a_mention_is_told_privately(stack: Stack) -> None:
    await mention(stack, "report last-month project nope")
    [private] = await stack.slack.wait_for(lambda c: c.method == "chat.postEphemeral")
    assert "MK.IO has no project `nope`" in seen(private)
    assert private.body["user"] == MEMBER
    assert not stack.slack.api_calls("chat.postMessage")


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        (
            "report last-month by month payment-method Azure Marketplace (Contoso Media)",
            "Usage report",
        ),
        ("report marhc csv", "Usage report"),
    ],
)
async def test_a_suggestion_keeps_the_words_and_runs_against_the_sandbox(
    stack: Stack, text: str, runs: str
) -> None:
    _, reply = await stack.ask(text)
    said = seen(reply)
    suggestion = said.split("Try: `/billing ", 1)[1].split("`", 1)[0]
    await stack.sender.command(suggestion)
    summary = await posted_summary(stack)
    assert runs in seen(summary)


async def test_payment_method_with_set_left_out_suggests_set_and_the_suggestion_previews(
    stack: Stack,
) -> None:
    _, reply = await stack.ask(
        "payment-method my-project aws-marketplace-contoso-media", user_id=ADMIN
    )
    said = seen(reply)
    assert "Try: `/billing payment-method my-project set aws-marketplace-contoso-media`" in said
    _, preview = await stack.ask(
        "payment-method my-project set aws-marketplace-contoso-media", user_id=ADMIN
    )
    assert "AWS Marketplace (Contoso Media)" in seen(preview)


async def test_help_is_short_and_has_topics(stack: Stack) -> None:
    _, short = await stack.ask("help")
    text = seen(short)
    assert "/billing usage" in text
    assert "/billing help mentions" in text
    assert "/billing schedule cancel" not in text  # that is in `help all`
    assert len(text.splitlines()) <= 15
    _, everything = await stack.ask("help all")
    assert "/billing schedule cancel" in seen(everything)
    for topic, words in [("mentions", "thread"), ("dm", "direct message"), ("home", "Home")]:
        _, guide = await stack.ask(f"help {topic}")
        assert words in seen(guide)
    _, form = await stack.ask("help form")
    assert "opens a form" in seen(form)


async def test_helps_examples_use_the_organizations_payment_methods_once_known(
    stack: Stack,
) -> None:
    _, before = await stack.ask("help ratecard")
    assert "PAYMENT-METHOD-ID" in seen(before)
    await stack.ask("payment-methods")
    _, after = await stack.ask("help ratecard")
    assert "/billing ratecard azure-marketplace-contoso-media" in seen(after)


async def test_a_mention_with_nothing_understood_answers_briefly_and_sends_the_help_privately(
    stack: Stack,
) -> None:
    await mention(stack, "hello")
    [private] = await stack.slack.wait_for(lambda c: c.method == "chat.postEphemeral")
    assert "/billing schedule cancel" in seen(private)  # the full help, for the asker alone
    assert private.body["user"] == MEMBER
    [brief] = await stack.slack.wait_for(
        lambda c: c.method == "chat.postMessage" and not is_working(c)
    )
    assert brief.body["thread_ts"] == "1795000000.000100"
    assert "privately" in seen(brief)
    assert len(seen(brief).splitlines()) <= 3


async def test_an_unknown_contro_type_in_an_export_is_told_privately_before_any_post(
    stack: Stack,
) -> None:
    _, reply = await stack.ask("contro records 2026-10 type kcy csv")
    assert "Did you mean `kyc`?" in seen(reply)
    assert reply.ephemeral
    assert not stack.slack.api_calls("chat.postMessage")
    assert not [r for r in stack.sandbox.requests if r.path.endswith("/records")]


async def test_an_unknown_method_to_assign_suggests_the_whole_command_with_the_nearest(
    stack: Stack,
) -> None:
    _, reply = await stack.ask("payment-method my-project set aws", user_id=ADMIN)
    said = seen(reply)
    assert "Try: `/billing payment-method my-project set aws-marketplace-contoso-media`" in said
