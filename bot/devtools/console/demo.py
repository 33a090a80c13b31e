"""Start-up: the sandbox, the local Slack and the bot on loopback ports, and the banner."""

from __future__ import annotations

import contextlib
import secrets
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from pydantic import SecretStr

from bot.config import Settings
from bot.devtools.console.loop import DEMO_CHANNEL, DEMO_USER, Console
from bot.devtools.console.stdin import is_tty
from bot.devtools.fakeslack import (
    LocalSlack,
    SlackSender,
)

HOST = "127.0.0.1"


AUDIT_CHANNEL = "C_AUDIT"


async def run_demo(*, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Start the sandbox, the local Slack and the bot; run the console until `quit` or EOF.

    Returns the exit status: 0 after `quit`, EOF or Ctrl-C; 1 if the demo could not start.
    Every server is closed on the way out.
    """
    async with contextlib.AsyncExitStack() as stack:
        try:
            console = await _start(stack, stdout, interactive=is_tty(stdin))
        except OSError as exc:
            print(f"billing-bot demo could not start: {exc}", file=stdout, flush=True)
            return 1
        return await console.run(stdin)


async def _start(stack: contextlib.AsyncExitStack, out: TextIO, *, interactive: bool) -> Console:
    # Imported here, as the CLI does: `bot.devtools.console` stays light to import (and to test).
    from bot.devtools.sandbox import Sandbox
    from bot.devtools.sandbox import start as start_sandbox
    from bot.slack.app import build_app
    from bot.slack.server import start_server

    sandbox = Sandbox(anomalies=True)
    sandbox_runner, sandbox_base = await start_sandbox(sandbox, HOST, 0)
    stack.push_async_callback(sandbox_runner.cleanup)

    slack = LocalSlack()
    stack.push_async_callback(slack.aclose)
    await slack.start(HOST, 0)

    signing_secret = secrets.token_urlsafe(24)  # a new one every run: nothing to configure
    settings = Settings(
        slack_bot_token=SecretStr("xoxb-demo"),
        slack_signing_secret=SecretStr(signing_secret),
        slack_app_token=None,
        slack_api_url=slack.api_url,
        mkio_api_url=f"{sandbox_base}/api/v1",
        mkio_token=SecretStr(sandbox.mkio_token),
        contro_api_url=f"{sandbox_base}/v1",
        contro_api_key=SecretStr(sandbox.contro_key),
        billing_admins=frozenset({DEMO_USER}),
        audit_channel=AUDIT_CHANNEL,
        redis_url=None,  # in-process, whatever the environment says
        sqlite_path=str(Path(stack.enter_context(tempfile.TemporaryDirectory())) / "demo.db"),
        _env_file=None,
    )
    bot = build_app(settings)
    stack.push_async_callback(bot.aclose)
    bot_runner, bot_url = await start_server(bot, HOST, 0)
    stack.push_async_callback(bot_runner.cleanup)

    sender = SlackSender(bot_url, signing_secret, slack)
    stack.push_async_callback(sender.aclose)

    files_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="billing-bot-demo-")))
    banner = _banner(
        sandbox_base=sandbox_base,
        slack_base=slack.base_url,
        events_url=sender.url,
        projects=sandbox.project_names(),
        files_dir=files_dir,
    )
    return Console(
        slack,
        sender,
        out,
        interactive=interactive,
        banner=banner,
        scheduler=bot.scheduler,
        files_dir=files_dir,
        slow_down=sandbox.slow_down,
    )


def _banner(
    *, sandbox_base: str, slack_base: str, events_url: str, projects: list[str], files_dir: Path
) -> str:
    lines = [
        "billing-bot demo: the production Bolt app, answering signed Slack requests on this",
        "machine. No Slack, no credentials, no network beyond 127.0.0.1.",
        f"  billing sandbox (MK.IO, Contro)  {sandbox_base}",
        f"  local Slack stand-in             {slack_base}",
        f"  the bot                          {events_url}",
        f"You are {DEMO_USER}, a billing admin, in #{DEMO_CHANNEL}; "
        f"billing changes are audited in #{AUDIT_CHANNEL} (`:as member` to be a team member).",
        f"Files the bot uploads (charts, CSVs) are saved in {files_dir} until you quit.",
    ]
    if projects:
        lines.append(f"Sandbox projects: {', '.join(projects)}")
    lines += [
        "Type `/billing help` (or just `help`) for the bot's commands, a number to press a button,",
        "`@billing <text>` to mention the bot, `dm <text>` to message it, `home` for its Home tab,",
        "`report form` for the report form (then `set <field> <value>` and `submit`),",
        "`:help` for everything the console takes, `quit` to leave.",
    ]
    return "\n".join(lines)
