"""Personal answers stay private until the asker shares them in the channel."""

from __future__ import annotations

from bot.devtools.fakeslack import SlackCall
from tests.e2e.stack import ADMIN, MEMBER, Stack, answer_to, seen


async def test_usage_is_private_until_shared_then_posted_saying_who_shared(stack: Stack) -> None:
    _, private = await stack.ask("usage my-project")
    assert private.body.get("response_type", "ephemeral") == "ephemeral"
    assert "Share in channel" in seen(private)

    sent = await stack.sender.click(private.body, "share_in_channel", user_id=MEMBER)
    [public] = await stack.slack.wait_for(
        lambda c: c.kind == "response" and c.url == sent.response_url
    )
    assert public.body["response_type"] == "in_channel"
    assert public.body.get("replace_original") is not True
    text = seen(public)
    assert f"Shared by <@{MEMBER}>" in text
    assert "Total month to date" in text
    assert "Share in channel" not in text, "the shared copy has no buttons"
    paths = [r.path for r in stack.sandbox.requests]
    assert paths.count("/api/v1/projects/my-project/usage") == 1, "shared from the cache"


async def test_a_second_share_of_the_same_answer_is_not_posted_again(stack: Stack) -> None:
    _, private = await stack.ask("usage my-project")
    first = await stack.sender.click(private, "share_in_channel", user_id=MEMBER)
    await stack.slack.wait_for(lambda c: c.kind == "response" and c.url == first.response_url)
    again = await stack.sender.click(private, "share_in_channel", user_id=ADMIN)
    [told] = await stack.slack.wait_for(answer_to(again))
    assert told.body.get("response_type", "ephemeral") == "ephemeral"
    assert "already shared" in seen(told)
    shared = [c for c in stack.slack.calls if c.body.get("response_type") == "in_channel"]
    assert len(shared) == 1

    # another answer is shared as usual
    _, other = await stack.ask("usage my-project")
    sent = await stack.sender.click(other, "share_in_channel", user_id=MEMBER)
    [public] = await stack.slack.wait_for(answer_to(sent))
    assert public.body["response_type"] == "in_channel"


def share_value(call: SlackCall) -> str | None:
    for block in call.body.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("action_id") == "share_in_channel":
                return str(element["value"])
    return None


async def test_contro_records_pages_keep_the_share_button(stack: Stack) -> None:
    _, first = await stack.ask("contro records 2026-10")
    assert share_value(first) == "contro records 2026-10"
    click = await stack.sender.click(first.body, "contro_records_page")
    second = await stack.final_response(click.response_url)
    assert "page 2" in seen(second).lower()
    assert share_value(second) == "contro records 2026-10"
    back = await stack.sender.click(second.body, "contro_records_previous")
    first_again = await stack.final_response(back.response_url)
    assert share_value(first_again) == "contro records 2026-10"

    sent = await stack.sender.click(second, "share_in_channel", user_id=MEMBER)
    [public] = await stack.slack.wait_for(answer_to(sent))
    assert public.body["response_type"] == "in_channel"
    assert f"Shared by <@{MEMBER}>" in seen(public)


async def test_metrics_answers_and_change_previews_have_no_share_button(stack: Stack) -> None:
    _, metrics = await stack.ask("metrics video-platform", user_id=ADMIN)
    _, preview = await stack.ask("metrics my-project enable", user_id=ADMIN)
    _, error = await stack.ask("usage no-such-project")
    for reply in (metrics, preview, error):
        assert "share_in_channel" not in str(reply.body)


async def test_a_forged_share_of_a_secret_or_change_is_refused(stack: Stack) -> None:
    _, private = await stack.ask("usage my-project")
    password = stack.sandbox.metrics_endpoint("video-platform")["status"]["password"]
    for forged in ("metrics video-platform", "payment-method my-project set x", "nonsense"):
        sent = await stack.sender.click(
            private.body, "share_in_channel", user_id=ADMIN, value=forged
        )
        [reply] = await stack.slack.wait_for(answer_to(sent))
        assert reply.body.get("response_type", "ephemeral") == "ephemeral"
        assert password not in str(reply.body)
    changes = [
        r
        for r in stack.sandbox.requests
        if r.method in ("POST", "PATCH") and "/projects/" in r.path
    ]
    assert changes == []
