"""The `billing-bot` command as an operator runs it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx

from bot.devslack import LocalSlack, SlackSender
from bot.sandbox import Sandbox, start


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
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1
    assert "SLACK_SIGNING_SECRET" in lines[0]
    assert "Traceback" not in err.decode()


async def test_sigterm_finishes_an_answer_in_progress_then_exits(tmp_path: Path) -> None:
    sandbox = Sandbox()
    sandbox.delay = 1.5
    sandbox_runner, sandbox_url = await start(sandbox)
    slack = LocalSlack()
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
        banner = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        url = banner.split("listening on ")[1].split("/slack/events")[0]
        sender = SlackSender(url, "cli-test-secret", slack)
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{url}/healthz")).status_code == 200
        sent = await sender.command("usage my-project")
        assert sent.status == 200
        process.send_signal(signal.SIGTERM)
        # the answer in progress takes ~1.5 s; the scheduler loop must not hold the drain
        await asyncio.wait_for(process.wait(), 10)
        assert process.returncode == 0
        answers = slack.responses(sent.response_url)
        assert any("Total month to date" in str(a.body) for a in answers)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        if sender is not None:
            await sender.aclose()
        await slack.aclose()
        await sandbox_runner.cleanup()
