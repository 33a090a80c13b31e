"""The `billing-bot` command as an operator runs it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import httpx

from bot.devslack import LocalSlack, SlackSender
from bot.sandbox import Sandbox, start
from tests.e2e.conftest import DRAINING, PATIENCE

STARTUP_SECONDS = 600.0
"""How long a `billing-bot` process may take to start or to stop. Importing the bot takes ~2 s
of CPU; only a process that is stuck waits this long."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_without_a_signing_secret_is_a_one_line_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MKIO_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", "--port", str(free_port()),
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), STARTUP_SECONDS)
    assert process.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1
    assert "SLACK_SIGNING_SECRET" in lines[0]
    assert "Traceback" not in err.decode()


async def read_until(stream: asyncio.StreamReader, pattern: re.Pattern[str]) -> str:
    """The lines read from `stream` up to the first that matches `pattern`."""
    lines: list[str] = []
    async with asyncio.timeout(STARTUP_SECONDS):
        while not lines or not pattern.search(lines[-1]):
            line = await stream.readline()
            assert line, f"closed before a line matched {pattern.pattern!r}:\n{''.join(lines)}"
            lines.append(line.decode(errors="replace"))
    return "".join(lines)


async def test_sigterm_finishes_an_answer_in_progress_then_exits(tmp_path: Path) -> None:
    sandbox = Sandbox()
    sandbox.hold()
    sandbox_runner, sandbox_url = await start(sandbox)
    slack = LocalSlack(wait_timeout=PATIENCE)
    await slack.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MKIO_", "REDIS"))},
        "SLACK_BOT_TOKEN": "xoxb-cli-test",
        "SLACK_SIGNING_SECRET": "cli-test-secret",
        "SLACK_API_URL": slack.api_url,
        "MKIO_API_URL": f"{sandbox_url}/api/v1",
        "MKIO_TOKEN": sandbox.mkio_token,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", "--port", "0",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    sender: SlackSender | None = None
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), STARTUP_SECONDS)).decode()
        url = banner.split("listening on ")[1].split("/slack/events")[0]
        sender = SlackSender(url, "cli-test-secret", slack)
        async with httpx.AsyncClient(timeout=PATIENCE, trust_env=False) as client:
            assert (await client.get(f"{url}/healthz")).status_code == 200
        sent = await sender.command("usage my-project")
        assert sent.status == 200
        await sandbox.wait_held(timeout=STARTUP_SECONDS)  # the answer is waiting for MK.IO
        process.send_signal(signal.SIGTERM)
        # MK.IO answers only once the drain is waiting for the answer.
        log = await read_until(process.stderr, DRAINING)
        sandbox.release()
        _, rest = await asyncio.wait_for(process.communicate(), STARTUP_SECONDS)
        log += rest.decode(errors="replace")
        assert process.returncode == 0
        # The drain waited for the answer only: the scheduler loop did not hold it to its end.
        assert "did not finish in time" not in log, log
        answers = slack.responses(sent.response_url)
        assert any("Total month to date" in str(a.body) for a in answers)
    finally:
        sandbox.release()
        if process.returncode is None:
            process.kill()
            await process.wait()
        if sender is not None:
            await sender.aclose()
        await slack.aclose()
        await sandbox_runner.cleanup()
