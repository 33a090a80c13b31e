"""The whole stack on loopback sockets: the real Bolt app served over HTTP, the built-in
billing sandbox, and a local stand-in for the Slack Web API that records what the bot sent.

Tests import these helpers from here; `conftest.py` holds only the fixtures.
"""

from __future__ import annotations

import re
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from pydantic import SecretStr
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from bot.apis.http import DEFAULT_TIMEOUT, RetryPolicy
from bot.apis.pacing import RequestRate
from bot.config import Settings
from bot.devtools.fakeslack import (
    LocalSlack,
    SentRequest,
    SlackCall,
    SlackSender,
    message_text,
    wide_code_lines,
)
from bot.devtools.sandbox import RecordedRequest, Sandbox, start
from bot.slack.app import BillingBot, build_app
from bot.slack.render.common import use_table_blocks
from bot.slack.server import start_server
from tests import waiting
from tests.unit.test_pacing import FakeClock

ADMIN = "U_ADMIN"
MEMBER = "U_MEMBER"
NOW = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
PATIENCE = 300.0
"""Seconds a test waits for something that should happen (a Slack call, a held request).

Only a failing test ever waits this long: it is generous so that a correct bot passes on a
machine many times slower than usual. Tests check the order of events, never their speed
(speed is measured in bench/)."""


# What `bot.slack.server.drain` logs when shutdown starts waiting for the answers in progress.
DRAINING = re.compile(r"finishing \d+ answers in progress")


async def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait until `condition()` holds (checked every 10 ms); TimeoutError after PATIENCE."""
    await waiting.eventually(condition, what, patience=PATIENCE)


def is_working(call: SlackCall) -> bool:
    """A "Working on it…" message, which the answer replaces: the bot shows one when the
    answer takes more than a second, which on a slow machine may be any answer."""
    return str(call.body.get("text", "")).startswith("Working on it")


@dataclass
class TestClock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Stack:
    sandbox: Sandbox
    slack: LocalSlack
    sender: SlackSender
    bot: BillingBot
    settings: Settings
    clock: TestClock
    bot_url: str
    pacer: FakeClock
    """The clock of Contro's pacer: its waits (a 429's `Retry-After`, the per-minute budget)
    pass at once, and `pacer.slept` holds each one asked for."""
    runners: list[web.AppRunner] = field(default_factory=list)

    async def ask(self, text: str, *, user_id: str = MEMBER) -> tuple[SentRequest, SlackCall]:
        """Send `/billing <text>` and wait for the final answer posted to its response_url."""
        sent = await self.sender.command(text, user_id=user_id)
        assert sent.status == 200, sent.body
        return sent, await self.final_response(sent.response_url)

    async def final_response(self, url: str) -> SlackCall:
        """The last message for `url` once any "working on it" message has been replaced."""

        def is_final(call: SlackCall) -> bool:
            return call.kind == "response" and url.endswith(call.method) and not is_working(call)

        calls = await self.slack.wait_for(is_final)
        return calls[-1]

    def billing_requests(self, path_part: str = "") -> list[Any]:
        return [r for r in self.sandbox.requests if path_part in r.path]


async def make_stack(
    *,
    contro_pagination: str = "cursor",
    read_timeout: float | None = None,
    **settings_overrides: Any,
) -> Stack:
    """The stack, with `Settings` as the tests' defaults and `settings_overrides` make them.

    No wait in it is real but a timeout: the billing APIs are retried at once
    (`RetryPolicy.immediate`), and so are Slack calls that failed to connect or got a 5xx (a
    429 waits its `Retry-After` and slack-sdk's jitter, under a second with `retry_after=0`), and
    Contro's pacer runs on a fake clock (`Stack.pacer`). The
    clients' read timeout is `bot.apis.http.DEFAULT_TIMEOUT`'s unless `read_timeout` is given
    (the tests of a hung API, which wait it out)."""
    clock = TestClock()
    sandbox = Sandbox(clock=clock, contro_pagination=contro_pagination)  # type: ignore[arg-type]
    sandbox_runner, sandbox_url = await start(sandbox, "127.0.0.1", 0)
    # A trigger_id lives 3 s at Slack; that the form opens before MK.IO answers is checked by
    # holding the sandbox (test_report_form.py), not by the clock.
    slack = LocalSlack(wait_timeout=PATIENCE, trigger_ttl=PATIENCE)
    await slack.start("127.0.0.1", 0)
    signing_secret = secrets.token_hex(16)
    values: dict[str, Any] = {
        "slack_bot_token": SecretStr("xoxb-test-" + secrets.token_hex(8)),
        "slack_signing_secret": SecretStr(signing_secret),
        "slack_api_url": slack.api_url,
        "mkio_api_url": f"{sandbox_url}/api/v1",
        "mkio_token": SecretStr(sandbox.mkio_token),
        "contro_api_url": f"{sandbox_url}/v1",
        "contro_api_key": SecretStr(sandbox.contro_key),
        "billing_admins": frozenset({ADMIN}),
        "audit_channel": "C_AUDIT",
        "cache_ttl_seconds": 60,
        "sqlite_path": str(Path(tempfile.mkdtemp(prefix="billing-bot-test-")) / "state.sqlite3"),
    }
    values.update(settings_overrides)
    settings = Settings(_env_file=None, **values)
    pacer = FakeClock()
    per_minute = settings.contro_max_requests_per_minute
    bot = build_app(
        settings,
        clock=clock,
        retry=RetryPolicy.immediate(),
        timeout=None if read_timeout is None else _with_read(DEFAULT_TIMEOUT, read_timeout),
        contro_rate=RequestRate(per_minute, clock=pacer, sleep=pacer.sleep) if per_minute else None,
        slack_retry_interval=FixedValueRetryIntervalCalculator(0.0),
    )
    bot_runner, bot_url = await start_server(bot, "127.0.0.1", 0)
    sender = SlackSender(bot_url, signing_secret, slack)
    return Stack(
        sandbox=sandbox,
        slack=slack,
        sender=sender,
        bot=bot,
        settings=settings,
        clock=clock,
        bot_url=bot_url,
        pacer=pacer,
        runners=[bot_runner, sandbox_runner],
    )


def _with_read(timeout: httpx.Timeout, read: float) -> httpx.Timeout:
    return httpx.Timeout(connect=timeout.connect, read=read, write=timeout.write, pool=timeout.pool)


async def close_stack(stack: Stack) -> None:
    stack.sandbox.release()  # a test that failed while holding: no answer waits for it
    await stack.sender.aclose()
    for runner in stack.runners:
        await runner.cleanup()
    await stack.slack.aclose()
    use_table_blocks(False)  # a process-wide setting: the next test starts without
    assert_tables_fit(stack)


def row_of(text: str, first: str) -> str:
    """A table's row whose first cell is `first`, whole: a table too wide for a phone is
    split into tables that each repeat the first column, and their lines are joined here."""
    parts = [line.strip() for line in text.splitlines() if line.strip().split()[:1] == [first]]
    if not parts:
        raise StopIteration(first)
    return "  ".join([parts[0], *(part[len(first) :].strip() for part in parts[1:])])


def assert_tables_fit(stack: Stack) -> None:
    """No line of a code block (a monospace table) in anything the bot sent is wider than a
    phone shows: checked for every stack of the suite as it closes."""
    wide = [
        f"{call.method}: {line}"
        for call in stack.slack.calls
        for line in wide_code_lines(call.body)
    ]
    assert not wide, "monospace lines over 60 characters:\n" + "\n".join(wide[:10])


def upload_named(stack: Stack, suffix: str) -> Callable[[SlackCall], bool]:
    """Matches a completed file upload whose file name ends with `suffix` (".csv", ".png")."""

    def match(call: SlackCall) -> bool:
        return call.method == "files.completeUploadExternal" and any(
            stack.slack.upload(f["id"])["name"].endswith(suffix) for f in call.body["files"]
        )

    return match


def json_body(request: RecordedRequest) -> dict[str, Any]:
    """The JSON object a request to the sandbox carried (the bot's report requests all do)."""
    assert isinstance(request.json, dict), request
    return request.json


def answer_to(sent: SentRequest) -> Callable[[SlackCall], bool]:
    """Matches a reply posted to the response_url that came with `sent`."""
    return lambda call: call.kind == "response" and call.url == sent.response_url


def seen(call: SlackCall) -> str:
    """What the user sees of a recorded message."""
    return message_text(call.body)
