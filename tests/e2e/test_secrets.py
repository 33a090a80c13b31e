"""No flow can make a secret appear in a log line or a Slack message.

Every flow runs with every logger at DEBUG (slack-sdk's request dumps, httpx, aiohttp, Bolt
and the bot's own), then everything is scanned for every configured secret
(`Settings.secrets()`) and for the metrics endpoint's credentials:

- all captured log records, as pytest shows them and as the bot's own text and JSON
  formatters would write them (extra fields included);
- every recorded Slack call (Web API bodies and URLs, response_url posts), every uploaded
  file, and every HTTP answer the bot gave Slack.

The metrics password (and user name) may appear in exactly one place: the ephemeral
message with the connection details, posted to the response URL of the admin who asked,
in its blocks only (never in the notification text).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import SecretStr

from bot.devtools.fakeslack import SlackCall
from bot.logs import make_formatter
from tests.e2e.stack import ADMIN, MEMBER, Stack, close_stack, is_working, make_stack, seen

CONFIRM = "billing_change_confirm"
WRONG_TOKEN = "mkio-token-that-mkio-refuses-0001"
WRONG_KEY = "sk_live_contro_key_that_is_refused_0002"


@dataclass
class Session:
    """Drives one stack as Slack would, noting the bot's HTTP answers and whose response
    URL is whose."""

    stack: Stack
    acks: list[str] = field(default_factory=list)
    owners: dict[str, str] = field(default_factory=dict)  # response URL -> user
    credentials: int = 0  # messages with connection details the flow expects

    def note(self, body: str, response_url: str, user: str) -> None:
        self.acks.append(body)
        self.owners[response_url] = user

    async def ask(self, text: str, user: str = MEMBER) -> SlackCall:
        sent, reply = await self.stack.ask(text, user_id=user)
        self.note(sent.body, sent.response_url, user)
        return reply

    async def post(self, text: str, *, wait: Callable[[SlackCall], bool]) -> list[SlackCall]:
        """A command answered in the channel; waits for the call `wait` matches."""
        after = len(self.stack.slack.calls)
        sent = await self.stack.sender.command(text, user_id=MEMBER, channel_id="C_FINANCE")
        assert sent.status == 200
        self.note(sent.body, sent.response_url, MEMBER)
        return await self.stack.slack.wait_for(wait, after=after)

    async def click(
        self, message: SlackCall, action: str, user: str, count: int = 1
    ) -> list[SlackCall]:
        """Click; waits for `count` answers to the click ("working on it" is none)."""
        sent = await self.stack.sender.click(message.body, action, user_id=user)
        assert sent.status == 200
        self.note(sent.body, sent.response_url, user)
        return await self.stack.slack.wait_for(
            lambda c: c.kind == "response" and c.url == sent.response_url and not is_working(c),
            count=count,
        )


def _uploaded(call: SlackCall) -> bool:
    return call.method == "files.completeUploadExternal"


# -- the flows ---------------------------------------------------------------------------------


async def read_commands(s: Session) -> None:
    method = next(iter(s.stack.sandbox.payment_method_ids().values()))
    for words in (
        "help",
        "usage my-project",
        "payment-methods",
        f"ratecard {method}",
        "payment-method my-project",
        "metrics my-project",
        "metrics video-platform",  # on: a member sees no connection details
        "contro summary",
        "contro summary 2026-10",
    ):
        reply = await s.ask(words)
        assert ":warning:" not in seen(reply), seen(reply)


async def metrics_shown_to_an_admin(s: Session) -> None:
    reply = await s.ask("metrics video-platform", user=ADMIN)
    status = s.stack.sandbox.metrics_endpoint("video-platform")["status"]
    assert status["password"] in seen(reply)
    s.credentials = 1


async def contro_records_and_the_next_page(s: Session) -> None:
    first = await s.ask("contro records 2026-10")
    [second] = await s.click(first, "contro_records_page", MEMBER)
    assert "page 2" in seen(second).lower()


async def report_with_csv(s: Session) -> None:
    [complete] = await s.post("report 2026-03 by week csv", wait=_uploaded)
    assert complete.body["files"]


async def contro_export(s: Session) -> None:
    s.stack.sandbox.set_contro_records("2026-10", 250)
    [complete] = await s.post("contro records 2026-10 csv", wait=_uploaded)
    assert complete.body["files"]


async def payment_method_switch_confirmed(s: Session) -> None:
    aws = next(i for name, i in s.stack.sandbox.payment_method_ids().items() if "AWS" in name)
    preview = await s.ask(f"payment-method my-project set {aws}", user=ADMIN)
    [done] = await s.click(preview, CONFIRM, ADMIN)
    assert "Done" in seen(done)
    await s.stack.slack.wait_for(lambda c: c.method == "chat.postMessage")  # the audit line


async def metrics_enable_confirmed_by_an_admin(s: Session) -> None:
    preview = await s.ask("metrics my-project enable", user=ADMIN)
    done, credentials = await s.click(preview, CONFIRM, ADMIN, count=2)
    assert "now on" in seen(done)
    status = s.stack.sandbox.metrics_endpoint("my-project")["status"]
    assert status["password"] in seen(credentials)
    s.credentials = 1
    await s.stack.slack.wait_for(lambda c: c.method == "chat.postMessage")  # the audit line
    member = await s.ask("metrics my-project")
    assert status["password"] not in seen(member)


async def refused_credentials(s: Session) -> None:
    for words in ("usage my-project", "payment-methods", "contro summary"):
        reply = await s.ask(words)
        assert "refused the configured" in seen(reply)
    [failed] = await s.post(
        "report 2026-03",
        wait=lambda c: c.method == "chat.update" and "Preparing" not in str(c.body["text"]),
    )
    assert "refused" in seen(failed)


async def server_errors(s: Session) -> None:
    s.stack.sandbox.add_fault(path="", status=500, times=10_000)  # every request, both APIs
    for words in ("usage my-project", "payment-method my-project", "contro records 2026-10"):
        reply = await s.ask(words)
        assert "(500)" in seen(reply)
    await s.ask("metrics my-project enable", user=ADMIN)
    [failed] = await s.post(
        "contro records 2026-10 csv",
        wait=lambda c: c.method == "chat.update" and "Could not export" in str(c.body["text"]),
    )
    assert "500" in seen(failed)


@dataclass(frozen=True)
class Flow:
    name: str
    run: Callable[[Session], Awaitable[None]]
    settings: dict[str, Any] = field(default_factory=dict)


FLOWS = [
    Flow("read-commands", read_commands),
    Flow("metrics-shown-to-an-admin", metrics_shown_to_an_admin),
    Flow("contro-records-next-page", contro_records_and_the_next_page),
    Flow("report-with-csv", report_with_csv),
    Flow("contro-export", contro_export),
    Flow("payment-method-switch-confirmed", payment_method_switch_confirmed),
    Flow("metrics-enable-confirmed", metrics_enable_confirmed_by_an_admin),
    Flow(
        "401",
        refused_credentials,
        {"mkio_token": SecretStr(WRONG_TOKEN), "contro_api_key": SecretStr(WRONG_KEY)},
    ),
    Flow("500", server_errors),
]


# -- the scan ----------------------------------------------------------------------------------


def metrics_credentials(stack: Stack) -> list[str]:
    """The user names and passwords of every project whose metrics export is on now."""
    found = []
    for project in stack.sandbox.project_names():
        status = stack.sandbox.metrics_endpoint(project).get("status") or {}
        found += [status[k] for k in ("username", "password") if status.get(k)]
    return found


def log_output(caplog: pytest.LogCaptureFixture) -> str:
    """The captured records as pytest shows them, and as the bot's text and JSON formatters
    would write them (the JSON one shows `extra` fields too)."""
    formatters = [make_formatter("text"), make_formatter("json")]
    lines = [caplog.text]
    for record in caplog.records:
        lines += [f.format(record) for f in formatters]
        lines.append(json.dumps({k: str(v) for k, v in vars(record).items()}))
    return "\n".join(lines)


def slack_traffic(call: SlackCall) -> str:
    return json.dumps(call.body, ensure_ascii=False, default=str) + " " + call.url


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.name)
async def test_no_secret_reaches_a_log_line_or_a_slack_message(
    flow: Flow, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stack = await make_stack(**flow.settings)
    try:
        session = Session(stack)
        await flow.run(session)

        secrets = stack.settings.secrets()
        assert len(secrets) >= 4, "bot token, signing secret, MK.IO token, Contro key"
        credentials = metrics_credentials(stack)
        assert credentials, "the sandbox has a project with metrics export on"
        logs = log_output(caplog)
        assert len(caplog.records) > 20, "DEBUG logging was on"
        files = [data.decode("utf-8", "replace") for data in stack.slack.files.values()]

        for secret in secrets + credentials:
            assert secret not in logs, "a secret in the logs"
            for text in session.acks + files:
                assert secret not in text, "a secret in an answer or a file sent to Slack"
        for call in stack.slack.calls:
            for secret in secrets:
                assert secret not in slack_traffic(call), (flow.name, call.summary())

        holders = [c for c in stack.slack.calls if any(x in slack_traffic(c) for x in credentials)]
        assert len(holders) == session.credentials, [c.summary() for c in holders]
        for call in holders:
            assert call.kind == "response"
            assert session.owners.get(call.url) == ADMIN, "only to the admin who asked"
            assert call.body.get("response_type", "ephemeral") == "ephemeral"
            assert call.ephemeral
            for credential in credentials:
                assert credential not in str(call.body.get("text", "")), "not in notifications"
    finally:
        await close_stack(stack)
