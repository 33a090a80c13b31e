"""What reaches `POST /slack/events` that Slack would never send: unsigned garbage, signed but
malformed payloads, and clients that stall. Each is refused with a 4xx (or its connection
closed), logs no traceback, and reaches neither the billing API nor Slack."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.preflight import ConfigError
from bot.slack.app import build_app
from bot.slack.ids import ActionId, CallbackId
from bot.slack.server import create_web_app, start_server
from tests.e2e.stack import ADMIN, PATIENCE, Stack, make_stack, seen

FORM = "application/x-www-form-urlencoded"
COMMAND = urlencode({"command": "/billing", "text": "usage my-project", "user_id": ADMIN}).encode()


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def nothing_reached_upstream(stack: Stack) -> None:
    assert stack.sandbox.requests == []
    assert [c.method for c in stack.slack.calls if c.method != "auth.test"] == []


async def post(stack: Stack, body: bytes, headers: Mapping[str, str | bytes]) -> httpx.Response:
    # as httpx sends them (str as ASCII, bytes as they are): its types take one kind per request
    raw = [
        (name.encode("ascii"), value if isinstance(value, bytes) else value.encode("ascii"))
        for name, value in headers.items()
    ]
    async with httpx.AsyncClient(timeout=PATIENCE, trust_env=False) as client:
        return await client.post(stack.sender.url, content=body, headers=raw)


UNSIGNED: dict[str, tuple[bytes, str, dict[str, str | bytes]]] = {
    "timestamp-not-a-number": (COMMAND, FORM, {"X-Slack-Request-Timestamp": "abc"}),
    "timestamp-huge": (COMMAND, FORM, {"X-Slack-Request-Timestamp": "9" * 400}),
    "timestamp-unicode-digits": (
        COMMAND,
        FORM,
        {"X-Slack-Request-Timestamp": "١٧٠٠٠٠٠٠٠٠".encode()},
    ),
    "body-not-utf8": (COMMAND + b"\xff\xfe", FORM, {}),
    "unknown-charset": (COMMAND, FORM + "; charset=x-bogus", {}),
    "form-sent-as-json": (COMMAND, "application/json", {}),
    "no-signature": (COMMAND, FORM, {"X-Slack-Signature": ""}),
}


@pytest.mark.parametrize("variant", UNSIGNED)
async def test_an_unsigned_malformed_request_is_a_plain_401(
    stack: Stack, caplog: pytest.LogCaptureFixture, variant: str
) -> None:
    body, content_type, headers = UNSIGNED[variant]
    sent = {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": "v0=00", **headers}
    caplog.set_level(logging.DEBUG)
    response = await post(stack, body, {"Content-Type": content_type, **sent})
    assert response.status_code == 401, response.text
    assert tracebacks(caplog) == []
    nothing_reached_upstream(stack)


def block_actions(**changes: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "type": "block_actions",
        "user": {"id": ADMIN},
        "team": {"id": "T0001"},
        "api_app_id": "A0BILLING",
        "trigger_id": "1.2.3",
        "channel": {"id": "C_GENERAL"},
        "container": {"type": "message", "channel_id": "C_GENERAL", "message_ts": "1.1"},
        "response_url": "http://127.0.0.1:9/hooks",
        "actions": [
            {"type": "button", "action_id": ActionId.CHANGE_CONFIRM, "block_id": "b", "value": "x"}
        ],
    }
    payload.update(changes)
    return payload


def view_submission(**view: object) -> dict[str, object]:
    return {
        "type": "view_submission",
        "user": {"id": ADMIN},
        "team": {"id": "T0001"},
        "api_app_id": "A0BILLING",
        "view": {"id": "V1", "callback_id": CallbackId.REPORT_FORM, **view},
    }


def as_form(payload: object) -> tuple[bytes, str]:
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM


def as_event(event: object) -> tuple[bytes, str]:
    envelope = {"type": "event_callback", "team_id": "T0001", "event_id": "Ev1", "event": event}
    return json.dumps(envelope).encode(), "application/json"


DEEP = "[" * 100_000 + "]" * 100_000
SIGNED_MALFORMED = {
    "payload-bad-json": (urlencode({"payload": "{not json"}).encode(), FORM),
    "payload-array": as_form([1, 2]),
    "payload-string": as_form("block_actions"),
    "payload-null": as_form(None),
    "payload-deeply-nested": (urlencode({"payload": DEEP}).encode(), FORM),
    "actions-not-a-list": as_form(block_actions(actions={"action_id": "x"})),
    "actions-empty": as_form(block_actions(actions=[])),
    "actions-of-strings": as_form(block_actions(actions=["x"])),
    "user-a-string": as_form(block_actions(user=ADMIN)),
    "event-not-an-object": as_event("app_mention"),
    "event-truncated-json": (
        as_event({"type": "app_mention", "text": "help"})[0][:-9],
        "application/json",
    ),
    "form-sent-as-json": (COMMAND, "application/json"),
    "view-state-a-list": as_form(view_submission(state=[])),
    "view-metadata-an-object": as_form(view_submission(private_metadata={"a": 1})),
    "body-not-utf8": (COMMAND + b"\xff", FORM),
}


def signed_headers(stack: Stack, body: bytes) -> dict[str, str | bytes]:
    """Slack's v0 signature over any bytes (the SDK's signer takes UTF-8 only)."""
    assert stack.settings.slack_signing_secret is not None
    key = stack.settings.slack_signing_secret.get_secret_value().encode()
    stamp = str(int(time.time()))
    digest = hmac.new(key, f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


@pytest.mark.parametrize("variant", SIGNED_MALFORMED)
async def test_a_signed_malformed_payload_is_a_400_without_a_traceback(
    stack: Stack, caplog: pytest.LogCaptureFixture, variant: str
) -> None:
    body, content_type = SIGNED_MALFORMED[variant]
    caplog.set_level(logging.DEBUG)
    headers = {"Content-Type": content_type, **signed_headers(stack, body)}
    response = await post(stack, body, headers)
    assert response.status_code == 400, response.text
    assert tracebacks(caplog) == []
    nothing_reached_upstream(stack)
    _, answer = await stack.ask("help")  # and the bot goes on answering
    assert answer.body


async def test_a_signed_command_with_an_unknown_charset_is_still_answered(stack: Stack) -> None:
    """Slack sends UTF-8: a signed body is read as such whatever its declared charset."""
    sent = await stack.sender.command("help")
    assert sent.status == 200
    url = stack.slack.response_url(channel_id="C_GENERAL", user_id=ADMIN)
    form = {
        "command": "/billing",
        "text": "help",
        "user_id": ADMIN,
        "channel_id": "C_GENERAL",
        "response_url": url,
    }
    body = urlencode(form).encode()
    headers = {"Content-Type": FORM + "; charset=x-bogus", **stack.sender.signed_headers(body)}
    assert (await post(stack, body, headers)).status_code == 200
    assert "/billing usage" in seen(await stack.final_response(url))


async def read_until_closed(host: str, port: int, data: bytes) -> bytes:
    """Send `data` and never more; what the server sends until it closes the connection."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), PATIENCE)
    finally:
        writer.close()


async def short_deadlines_server(stack: Stack) -> tuple[str, int]:
    runner, url = await start_server(stack.bot, "127.0.0.1", 0, body_seconds=0.2, idle_seconds=0.2)
    stack.runners.insert(0, runner)
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


async def test_a_client_trickling_its_body_is_cut_off(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    host, port = await short_deadlines_server(stack)
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: {host}\r\nContent-Type: {FORM}\r\n"
        f"Content-Length: {len(COMMAND)}\r\n\r\n"
    ).encode()
    answer = await read_until_closed(host, port, head + COMMAND[:5])  # the rest never comes
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert tracebacks(caplog) == []
    nothing_reached_upstream(stack)


async def test_a_client_trickling_its_headers_is_cut_off(stack: Stack) -> None:
    host, port = await short_deadlines_server(stack)
    partial = f"POST /slack/events HTTP/1.1\r\nHost: {host}\r\nX-Slack-Sig".encode()
    assert await read_until_closed(host, port, partial) == b""  # closed, nothing served
    nothing_reached_upstream(stack)


async def test_a_client_that_sends_nothing_is_cut_off(stack: Stack) -> None:
    host, port = await short_deadlines_server(stack)
    assert await read_until_closed(host, port, b"") == b""


@pytest.mark.parametrize("secret", [None, "", "   ", "changeme"])
async def test_no_server_is_made_without_a_real_signing_secret(secret: str | None) -> None:
    settings = Settings(
        _env_file=None,
        slack_bot_token=SecretStr("xoxb-test"),
        slack_signing_secret=None if secret is None else SecretStr(secret),
        slack_app_token=SecretStr("xapp-test"),
        sqlite_path=":memory:",
    )
    bot = build_app(settings)
    try:
        with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
            create_web_app(bot)
    finally:
        await bot.aclose()


async def test_bolt_refuses_unsigned_requests_even_without_a_signing_secret() -> None:
    """Socket Mode has no signing secret; Bolt still verifies anything sent over HTTP."""
    from slack_bolt.request.async_request import AsyncBoltRequest

    settings = Settings(
        _env_file=None,
        slack_bot_token=SecretStr("xoxb-test"),
        slack_app_token=SecretStr("xapp-test"),
        sqlite_path=":memory:",
    )
    bot = build_app(settings)
    try:
        request = AsyncBoltRequest(body=COMMAND.decode(), headers={"content-type": FORM})
        assert (await bot.app.async_dispatch(request)).status == 401
    finally:
        await bot.aclose()


async def test_the_stack_needs_its_signing_secret() -> None:
    with pytest.raises(ConfigError):
        await make_stack(slack_signing_secret=SecretStr(""))
