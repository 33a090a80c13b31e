"""bot.console: the `billing-bot demo` console.

The first test runs the whole demo (sandbox, local Slack, the real bot). The others drive the
console against a small Bolt app of their own, so the console's behaviour (numbered buttons,
replacements, audit lines, uploads) is pinned down whatever the bot's answers say.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.console import Console, _lines, render_call, run_demo
from bot.devslack import LocalSlack, SlackCall, SlackSender

SECRET = "console-test-signing-secret"


async def test_demo_prints_the_help_text() -> None:
    stdin = io.StringIO("/billing help\nquit\n")
    stdout = io.StringIO()

    status = await asyncio.wait_for(run_demo(stdin=stdin, stdout=stdout), timeout=60)

    printed = stdout.getvalue()
    assert status == 0
    assert "billing-bot demo" in printed
    assert "> /billing help" in printed
    reply = printed.split("> /billing help", 1)[1]
    assert "usage" in reply
    assert "payment-method" in reply
    assert "contro" in reply
    assert printed.rstrip().endswith("Bye.")


# -- the console against a small Bolt app ---------------------------------------------------

PAGE_MESSAGE: dict[str, Any] = {
    "text": "Records 1-2",
    "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Records* 1-2 of 4"}},
        {
            "type": "actions",
            "block_id": "nav",
            "elements": [
                {
                    "type": "button",
                    "action_id": "page",
                    "text": {"type": "plain_text", "text": "Next page"},
                    "value": "2",
                },
                {
                    "type": "button",
                    "action_id": "csv",
                    "text": {"type": "plain_text", "text": "Download CSV"},
                    "value": "all",
                },
            ],
        },
    ],
}


def small_app(client: AsyncWebClient) -> AsyncApp:
    app = AsyncApp(client=client, signing_secret=SECRET)

    async def billing(ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any]) -> None:
        await ack()
        if command["text"] == "slow":
            await respond(text="Working on it… fetching records")
            await asyncio.sleep(1.2)  # longer than the console's quiet period
            await respond(replace_original=True, **PAGE_MESSAGE)
        elif command["text"] == "silent":
            return
        else:
            await respond(**PAGE_MESSAGE)

    async def page(ack: AsyncAck, respond: AsyncRespond, body: dict[str, Any]) -> None:
        await ack()
        value = body["actions"][0]["value"]
        await respond(replace_original=True, text=f"*Records* page {value}")
        await client.chat_postMessage(channel="C_AUDIT", text=f"<@{body['user']['id']}> paged")

    async def csv(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await client.files_upload_v2(
            channel=body["container"]["channel_id"], filename="records.csv", content="a,b\n1,2\n"
        )

    app.command("/billing")(billing)
    app.action("page")(page)
    app.action("csv")(csv)
    return app


@dataclass
class Rig:
    slack: LocalSlack
    console: Console
    out: io.StringIO


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    slack = LocalSlack()
    await slack.start()
    client = AsyncWebClient(token="xoxb-console-test", base_url=slack.api_url)
    app = small_app(client)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    sender = SlackSender(f"http://{host}:{port}", SECRET, slack)
    out = io.StringIO()
    console = Console(slack, sender, out, interactive=False, banner="test console")
    yield Rig(slack, console, out)
    await sender.aclose()
    await runner.cleanup()
    await slack.aclose()


async def test_numbers_press_the_buttons_of_the_last_message(rig: Rig) -> None:
    await rig.console.handle("/billing records")
    await rig.console.handle("1")

    printed = rig.out.getvalue()
    assert "billing-bot (only visible to you):\n  *Records* 1-2 of 4" in printed
    assert "[1] Next page   [2] Download CSV" in printed
    assert "(you press [1] Next page)" in printed
    assert "billing-bot (only visible to you, updated):\n  *Records* page 2" in printed
    assert "#C_AUDIT: <@U_DEMO> paged" in printed
    [click] = [c for c in rig.slack.responses() if c.body.get("replace_original")]
    assert click.ts == rig.slack.responses()[0].ts


async def test_a_replaced_message_has_no_buttons_left(rig: Rig) -> None:
    await rig.console.handle("records")
    await rig.console.handle("1")
    await rig.console.handle("1")

    assert rig.out.getvalue().rstrip().endswith("There is no button to press.")


async def test_uploads_are_shown_as_files(rig: Rig) -> None:
    await rig.console.handle("records")
    await rig.console.handle("2")

    assert "[file] records.csv (8 bytes) in #C_DEMO" in rig.out.getvalue()


async def test_waits_past_a_working_message_for_its_replacement(rig: Rig) -> None:
    await rig.console.handle("slow")

    printed = rig.out.getvalue()
    assert "Working on it… fetching records" in printed
    assert "(only visible to you, updated):\n  *Records* 1-2 of 4" in printed


async def test_quit_and_other_commands(rig: Rig) -> None:
    assert await rig.console.handle("quit") is False
    assert await rig.console.handle("/deploy now") is True
    assert await rig.console.handle("   ") is True
    assert await rig.console.handle("3") is True

    printed = rig.out.getvalue()
    assert "Only /billing is installed here: try `/billing now`." in printed
    assert "There is no button to press." in printed


async def test_run_reads_until_eof(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.console.REPLY_TIMEOUT_SECONDS", 0.3)

    status = await rig.console.run(io.StringIO("silent\n"))

    printed = rig.out.getvalue()
    assert status == 0
    assert printed.startswith("test console\n> silent\n")
    assert "(no reply from the bot within 0.3 s)" in printed
    assert printed.endswith("Bye.\n")


# -- pieces -----------------------------------------------------------------------------------


def test_render_call_shows_other_channels_on_one_line() -> None:
    slack = LocalSlack()
    audit = SlackCall(
        kind="api",
        method="chat.postMessage",
        body={"channel": "C_AUDIT", "text": "pm changed"},
        headers={},
        channel="C_AUDIT",
    )
    plumbing = SlackCall(kind="api", method="auth.test", body={}, headers={})
    refused = SlackCall(
        kind="api",
        method="chat.postMessage",
        body={"channel": "C_AUDIT", "text": "x"},
        headers={},
        status=200,
        error="not_in_channel",
    )

    assert render_call(audit, slack, home_channel="C_DEMO") == "#C_AUDIT: pm changed"
    assert render_call(plumbing, slack, home_channel="C_DEMO") is None
    assert render_call(refused, slack, home_channel="C_DEMO") == (
        "(Slack refused the bot's chat.postMessage: not_in_channel)"
    )


def test_lines_from_a_pipe() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, "help\r\nusage café\nlast".encode())
    os.close(write_fd)
    with os.fdopen(read_fd, encoding="utf-8") as stream:
        assert list(_lines(stream)) == ["help", "usage café", "last"]
