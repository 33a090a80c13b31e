"""bot.devtools.fakeslack: the local Slack stand-in, the signed-request sender, and the text
rendering."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.devtools.fakeslack import LocalSlack, SlackCall, SlackSender, buttons, message_text

TOKEN = "xoxb-test-token-0123456789"
SECRET = "signing-secret-for-tests"

CONFIRM_MESSAGE: dict[str, Any] = {
    "text": "Change the payment method of my-project?",
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Payment method"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*my-project*: `pm_old` → `pm_new`"},
            "fields": [
                {"type": "mrkdwn", "text": "*Current*\npm_old"},
                {"type": "mrkdwn", "text": "*New*\npm_new"},
            ],
        },
        {"type": "divider"},
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "A method can only be replaced, never removed."}
            ],
        },
        {
            "type": "actions",
            "block_id": "confirm_block",
            "elements": [
                {
                    "type": "button",
                    "action_id": "confirm",
                    "text": {"type": "plain_text", "text": "Confirm"},
                    "style": "primary",
                    "value": "token-123",
                },
                {
                    "type": "button",
                    "action_id": "cancel",
                    "text": {"type": "plain_text", "text": "Cancel"},
                    "value": "token-123",
                },
            ],
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "```\nmeter   qty\nlive    12\n```"},
            "accessory": {
                "type": "button",
                "action_id": "page",
                "text": {"type": "plain_text", "text": "Next page"},
                "value": "2",
            },
        },
    ],
}


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    local = LocalSlack()
    await local.start()
    yield local
    await local.aclose()


@pytest.fixture
def client(slack: LocalSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=slack.api_url)


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]


@dataclass
class FakeBot:
    """A bare HTTP endpoint standing in for the bot: records what SlackSender sends."""

    url: str
    received: list[Received] = field(default_factory=list)


@pytest.fixture
async def fake_bot() -> AsyncIterator[FakeBot]:
    bot = FakeBot(url="")

    async def handle(request: web.Request) -> web.Response:
        bot.received.append(Received(await request.read(), dict(request.headers)))
        return web.Response(text="")

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    bot.url = f"http://{host}:{port}"
    yield bot
    await runner.cleanup()


@pytest.fixture
async def sender(fake_bot: FakeBot, slack: LocalSlack) -> AsyncIterator[SlackSender]:
    out = SlackSender(fake_bot.url, SECRET, slack)
    yield out
    await out.aclose()


# -- LocalSlack --------------------------------------------------------------------------------


async def test_records_a_chat_post_message_from_the_real_sdk_client(
    slack: LocalSlack, client: AsyncWebClient
) -> None:
    first = await client.chat_postMessage(channel="C_GENERAL", text="hello", blocks=[])
    second = await client.chat_postMessage(
        channel="C_GENERAL", text="fallback", blocks=CONFIRM_MESSAGE["blocks"]
    )

    assert first["ok"]
    assert first["channel"] == "C_GENERAL"
    assert float(second["ts"]) > float(first["ts"])
    assert second["message"]["blocks"] == CONFIRM_MESSAGE["blocks"]
    [_, call] = slack.api_calls("chat.postMessage")
    assert call.kind == "api"
    assert call.body["text"] == "fallback"
    assert call.body["blocks"] == CONFIRM_MESSAGE["blocks"]
    assert call.channel == "C_GENERAL"
    assert call.ts == second["ts"]
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_form_fields_holding_json_are_parsed(
    slack: LocalSlack, client: AsyncWebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    await client.api_call(
        "chat.postMessage", data={"channel": "C1", "text": "hi", "blocks": json.dumps(blocks)}
    )

    [call] = slack.api_calls("chat.postMessage")
    assert call.body["blocks"] == blocks


async def test_auth_test_and_unknown_methods(slack: LocalSlack, client: AsyncWebClient) -> None:
    auth = await client.auth_test()
    assert (auth["user_id"], auth["team_id"], auth["bot_id"]) == ("UBOT", "T0001", "BBOT")

    with pytest.raises(SlackApiError) as unknown:
        await client.api_call("nope.nothing")
    assert unknown.value.response["error"] == "unknown_method"

    with pytest.raises(SlackApiError) as anonymous:
        await AsyncWebClient(base_url=slack.api_url).auth_test()
    assert anonymous.value.response["error"] == "not_authed"


async def test_get_methods_read_the_query_string(client: AsyncWebClient) -> None:
    user = await client.users_info(user="U_MEMBER")
    link = await client.chat_getPermalink(channel="C_GENERAL", message_ts="1700000000.000100")

    assert user["user"]["id"] == "U_MEMBER"
    assert link["permalink"].endswith("/archives/C_GENERAL/p1700000000000100")


async def test_files_upload_v2_round_trip_stores_the_bytes(
    slack: LocalSlack, client: AsyncWebClient
) -> None:
    content = b"project,cost\nmy-project,12.50\n"

    response = await client.files_upload_v2(
        channel="C_GENERAL", filename="usage.csv", content=content, title="Usage"
    )

    file_id = response["file"]["id"]
    assert slack.files[file_id] == content
    assert response["file"]["name"] == "usage.csv"
    assert response["file"]["size"] == len(content)
    [complete] = slack.api_calls("files.completeUploadExternal")
    assert complete.body["files"] == [{"id": file_id, "title": "Usage"}]
    assert complete.channel == "C_GENERAL"
    assert slack.upload(file_id)["channels"] == ["C_GENERAL"]
    info = await client.files_info(file=file_id)
    assert info["file"]["title"] == "Usage"


async def test_a_429_from_fail_next_is_retried_by_the_sdk_handler(slack: LocalSlack) -> None:
    client = AsyncWebClient(
        token=TOKEN,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack.fail_next("chat.postMessage", retry_after=0)

    response = await client.chat_postMessage(channel="C_GENERAL", text="after a retry")

    assert response["ok"]
    attempts = slack.api_calls("chat.postMessage", include_failed=True)
    assert [(c.status, c.error) for c in attempts] == [(429, "ratelimited"), (200, None)]
    assert slack.api_calls("chat.postMessage") == [attempts[1]]


async def test_fail_next_with_status_200_answers_ok_false(
    slack: LocalSlack, client: AsyncWebClient
) -> None:
    slack.fail_next("chat.postMessage", error="not_in_channel", status=200, retry_after=None)

    with pytest.raises(SlackApiError) as failed:
        await client.chat_postMessage(channel="C_AUDIT", text="audit")
    again = await client.chat_postMessage(channel="C_AUDIT", text="audit")

    assert failed.value.response["error"] == "not_in_channel"
    assert again["ok"]


async def test_wait_for_wakes_up_when_the_call_arrives(
    slack: LocalSlack, client: AsyncWebClient
) -> None:
    # The timeout is only reached if wait_for never wakes up: no machine is that slow.
    waiting = asyncio.create_task(
        slack.wait_for(lambda c: c.body["channel"] == "C_AUDIT", timeout=60)
    )
    await asyncio.sleep(0)  # it has looked at the calls recorded so far, and waits
    assert not waiting.done()

    await client.chat_postMessage(channel="C_AUDIT", text="audit line")
    [call] = await waiting

    assert call.body["text"] == "audit line"


async def test_wait_for_times_out_listing_what_was_recorded(
    slack: LocalSlack, client: AsyncWebClient
) -> None:
    await client.chat_postMessage(channel="C_GENERAL", text="something else")

    with pytest.raises(TimeoutError) as timed_out:  # nothing ever matches: any timeout will do
        await slack.wait_for(lambda c: c.method == "chat.update", timeout=0.2)

    message = str(timed_out.value)
    assert "found 0" in message
    assert "chat.postMessage channel=C_GENERAL" in message
    assert "something else" in message
    assert TOKEN not in message


async def test_messages_slack_would_refuse_are_refused(client: AsyncWebClient) -> None:
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]

    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C_GENERAL", text="t", blocks=too_long)

    assert refused.value.response["error"] == "invalid_blocks"


# -- SlackSender and response URLs -------------------------------------------------------------


async def test_command_is_signed_and_shaped_like_slack(
    sender: SlackSender, fake_bot: FakeBot, slack: LocalSlack
) -> None:
    sent = await sender.command("usage my-project", user_id="U_ADMIN", channel_id="C_OPS")

    [request] = fake_bot.received
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(
        body=request.body,
        timestamp=request.headers["X-Slack-Request-Timestamp"],
        signature=request.headers["X-Slack-Signature"],
    )
    assert not SignatureVerifier("another-secret").is_valid_request(request.body, request.headers)
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
    assert form["command"] == "/billing"
    assert form["text"] == "usage my-project"
    assert (form["user_id"], form["channel_id"], form["team_id"]) == ("U_ADMIN", "C_OPS", "T0001")
    assert form["response_url"] == sent.response_url
    assert sent.response_url.startswith(slack.base_url + "/response/")
    assert form["trigger_id"]
    assert sent.status == 200
    assert sent.elapsed >= 0


async def test_response_url_posts_are_recorded_with_replace_semantics(
    sender: SlackSender, slack: LocalSlack
) -> None:
    sent = await sender.command("report 2026-01")
    webhook = AsyncWebhookClient(sent.response_url)

    await webhook.send(text="Working on it…")
    await webhook.send(text="Done", replace_original=True)
    await webhook.send(text="For everyone", response_type="in_channel")

    working, done, public = slack.responses(sent.response_url)
    assert working.ephemeral
    assert working.channel == "C_GENERAL"
    assert done.ts == working.ts
    assert done.body["replace_original"] is True
    assert not public.ephemeral
    assert public.ts != working.ts
    assert slack.responses() == [working, done, public]


async def test_a_response_url_takes_five_posts(sender: SlackSender, slack: LocalSlack) -> None:
    sent = await sender.command("help")
    webhook = AsyncWebhookClient(sent.response_url)

    statuses = [(await webhook.send(text=str(i))).status_code for i in range(6)]

    assert statuses == [200] * 5 + [404]
    assert slack.responses(sent.response_url, include_failed=True)[-1].error == "used_url"


async def test_click_is_built_from_the_rendered_button(
    sender: SlackSender, fake_bot: FakeBot, client: AsyncWebClient, slack: LocalSlack
) -> None:
    posted = await client.chat_postMessage(channel="C_GENERAL", **CONFIRM_MESSAGE)
    [message] = slack.api_calls("chat.postMessage")

    await sender.click(message, "confirm", user_id="U_ADMIN", retry_num=1)
    await sender.click(message, "confirm", value="forged")

    first, forged = fake_bot.received
    payload = json.loads(parse_qs(first.body.decode())["payload"][0])
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U_ADMIN"
    assert payload["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": "C_GENERAL",
        "is_ephemeral": False,
    }
    assert payload["message"]["ts"] == posted["ts"]
    assert payload["message"]["blocks"] == CONFIRM_MESSAGE["blocks"]
    [action] = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "confirm",
        "confirm_block",
        "token-123",
    )
    assert payload["response_url"].startswith(slack.base_url + "/response/")
    assert first.headers["X-Slack-Retry-Num"] == "1"
    assert first.headers["X-Slack-Retry-Reason"] == "http_timeout"
    forged_payload = json.loads(parse_qs(forged.body.decode())["payload"][0])
    assert forged_payload["actions"][0]["value"] == "forged"
    assert "X-Slack-Retry-Num" not in forged.headers


async def test_click_on_an_ephemeral_message_has_no_message_field(
    sender: SlackSender, fake_bot: FakeBot, slack: LocalSlack
) -> None:
    sent = await sender.command("payment-method my-project set pm_new", user_id="U_ADMIN")
    await AsyncWebhookClient(sent.response_url).send(**CONFIRM_MESSAGE)
    [confirmation] = slack.responses(sent.response_url)

    click = await sender.click(confirmation, "cancel", user_id="U_ADMIN")
    await AsyncWebhookClient(click.response_url).send(text="Cancelled", replace_original=True)

    payload = json.loads(parse_qs(fake_bot.received[-1].body.decode())["payload"][0])
    assert "message" not in payload
    assert payload["container"]["is_ephemeral"] is True
    assert payload["container"]["message_ts"] == confirmation.ts
    [replaced] = slack.responses(click.response_url)
    assert replaced.ts == confirmation.ts


async def test_click_names_the_buttons_when_the_action_is_missing(sender: SlackSender) -> None:
    with pytest.raises(LookupError, match=r"'confirm' \(Confirm\)"):
        await sender.click(CONFIRM_MESSAGE, "nope")


async def test_event_envelope(sender: SlackSender, fake_bot: FakeBot) -> None:
    event = {"type": "app_mention", "user": "U_MEMBER", "text": "<@UBOT> help", "channel": "C1"}

    await sender.event(event, event_id="Ev123", retry_num=2)

    [request] = fake_bot.received
    envelope = json.loads(request.body)
    assert envelope["type"] == "event_callback"
    assert envelope["event_id"] == "Ev123"
    assert envelope["event"]["text"] == "<@UBOT> help"
    assert envelope["event"]["ts"] == envelope["event"]["event_ts"]
    assert request.headers["X-Slack-Retry-Num"] == "2"
    assert SignatureVerifier(SECRET).is_valid_request(request.body, request.headers)


async def test_views_open_takes_a_fresh_trigger_id_only(
    sender: SlackSender, fake_bot: FakeBot, client: AsyncWebClient
) -> None:
    await sender.command("help")
    trigger = parse_qs(fake_bot.received[0].body.decode())["trigger_id"][0]
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Billing"}, "blocks": []}

    opened = await client.views_open(trigger_id=trigger, view=view)
    with pytest.raises(SlackApiError) as refused:
        await client.views_open(trigger_id="made-up", view=view)

    assert opened["view"]["id"].startswith("V")
    assert refused.value.response["error"] == "invalid_trigger_id"


async def test_raw_sends_exactly_what_it_is_given(sender: SlackSender, fake_bot: FakeBot) -> None:
    response = await sender.raw(b"command=%2Fbilling", {"X-Slack-Signature": "v0=bad"})

    assert response.status_code == 200
    assert fake_bot.received[0].headers["X-Slack-Signature"] == "v0=bad"


# -- what a user sees -------------------------------------------------------------------------


def test_message_text_renders_blocks_as_a_user_reads_them() -> None:
    assert message_text(CONFIRM_MESSAGE) == "\n".join(
        [
            "Payment method",
            "*my-project*: `pm_old` → `pm_new`",
            "*Current*\npm_old",
            "*New*\npm_new",
            "---",
            "A method can only be replaced, never removed.",
            "[1] Confirm   [2] Cancel",
            "```\nmeter   qty\nlive    12\n```",
            "[3] Next page",
        ]
    )


def test_message_text_falls_back_to_text() -> None:
    assert message_text({"text": "plain *answer*"}) == "plain *answer*"
    assert message_text({"text": "json blocks", "blocks": "[]"}) == "json blocks"


def test_buttons_in_display_order_with_block_ids() -> None:
    found = buttons(CONFIRM_MESSAGE)

    assert [(b["action_id"], b["value"]) for b in found] == [
        ("confirm", "token-123"),
        ("cancel", "token-123"),
        ("page", "2"),
    ]
    assert found[0]["block_id"] == "confirm_block"
    assert found[2]["block_id"]  # Slack gives every block an id


def test_slack_call_summary_never_shows_headers() -> None:
    call = SlackCall(
        kind="api",
        method="chat.postMessage",
        body={"channel": "C1", "text": "hi"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )

    assert TOKEN not in call.summary()
    assert "hi" in call.summary()


async def test_fail_next_on_response_urls(sender: SlackSender, slack: LocalSlack) -> None:
    sent = await sender.command("help")
    webhook = AsyncWebhookClient(sent.response_url)
    slack.fail_next("response", error="service_unavailable", status=503, retry_after=None)

    failed = await webhook.send(text="first try")
    delivered = await webhook.send(text="second try")

    assert (failed.status_code, failed.body) == (503, "service_unavailable")
    assert delivered.status_code == 200
    assert [c.body["text"] for c in slack.responses(sent.response_url)] == ["second try"]
