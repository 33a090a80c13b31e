"""The `billing-bot` command as an operator runs it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sys
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path

import httpx
import pytest

from bot.devtools.fakeslack import LocalSlack, SlackSender
from bot.devtools.sandbox import Sandbox, start
from tests.e2e.stack import DRAINING, PATIENCE

CLI_SECRET = "cli-test-" + "5f1c0a9e" * 3
STARTUP_SECONDS = 600.0
"""How long a `billing-bot` process may take to start or to stop. Importing the bot takes ~2 s
of CPU; only a process that is stuck waits this long."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def refused_start(tmp_path: Path, **variables: str) -> str:
    """`billing-bot serve` with `variables` (and a usable rest): it must exit with status 2 and
    one line on stderr, which is returned."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MKIO_", "REDIS"))}
    env.update({"SLACK_BOT_TOKEN": "xoxb-cli-test", "SLACK_SIGNING_SECRET": CLI_SECRET})
    env.update(variables)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", "--port", str(free_port()),
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    banner = await asyncio.wait_for(process.stdout.readline(), STARTUP_SECONDS)
    if banner:  # it started: stop it, and say so
        process.kill()
        await process.wait()
        pytest.fail(f"serve started with {variables}: {banner.decode()}")
    _, err = await asyncio.wait_for(process.communicate(), STARTUP_SECONDS)
    assert process.returncode == 2, err.decode()
    text = err.decode()
    assert "Traceback" not in text
    assert len(text.strip().splitlines()) == 1, text
    return text


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


@pytest.mark.parametrize(
    "secret", ["", "   ", "changeme", "your-signing-secret", "xxxxxxxxxxxxxxxxxxxxxxxx", "abc123"]
)
async def test_serve_refuses_an_empty_or_placeholder_signing_secret(
    tmp_path: Path, secret: str
) -> None:
    line = await refused_start(tmp_path, SLACK_SIGNING_SECRET=secret)
    assert "SLACK_SIGNING_SECRET" in line
    assert "Signing Secret" in line  # where to find the real one


async def test_serve_refuses_a_sqlite_path_it_cannot_write(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    line = await refused_start(tmp_path, SQLITE_PATH=str(tmp_path / "a-file" / "state.sqlite3"))
    assert "SQLITE_PATH" in line
    assert "writable" in line


async def test_serve_refuses_a_redis_that_does_not_answer(tmp_path: Path) -> None:
    # A loopback port nothing listens on (the password must not be quoted back).
    url = f"redis://:hunter2-redis-password@127.0.0.1:{free_port()}/0"
    line = await refused_start(tmp_path, REDIS_URL=url)
    assert "REDIS_URL" in line
    assert "does not answer" in line
    assert "hunter2" not in line


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MKIO_API_URL", "app.mk.io/api/v1"),
        ("CONTRO_API_URL", "ftp://api.contro.me/v1"),
        ("SLACK_API_URL", "https://"),
        ("MKIO_API_URL", "http://127.0.0.1:port/api/v1"),
    ],
)
async def test_serve_refuses_a_base_url_that_is_not_one(
    tmp_path: Path, name: str, value: str
) -> None:
    line = await refused_start(tmp_path, **{name: value})
    assert line.startswith(f"billing-bot: {name} "), line


async def read_until(stream: asyncio.StreamReader, pattern: re.Pattern[str]) -> str:
    """The lines read from `stream` up to the first that matches `pattern`."""
    lines: list[str] = []
    async with asyncio.timeout(STARTUP_SECONDS):
        while not lines or not pattern.search(lines[-1]):
            line = await stream.readline()
            assert line, f"closed before a line matched {pattern.pattern!r}:\n{''.join(lines)}"
            lines.append(line.decode(errors="replace"))
    return "".join(lines)


def serve_env(sandbox: Sandbox, sandbox_url: str, slack: LocalSlack) -> dict[str, str]:
    """The environment of a `billing-bot serve` with a valid configuration: `slack` and the
    sandbox's MK.IO and Contro; nothing of this machine's Slack, MK.IO, Contro or Redis."""
    prefixes = ("SLACK_", "MKIO_", "CONTRO_", "REDIS", "LOG_")
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(prefixes)},
        "SLACK_BOT_TOKEN": "xoxb-cli-test",
        "SLACK_SIGNING_SECRET": CLI_SECRET,
        "SLACK_API_URL": slack.api_url,
        "MKIO_API_URL": f"{sandbox_url}/api/v1",
        "MKIO_TOKEN": sandbox.mkio_token,
        "CONTRO_API_URL": f"{sandbox_url}/v1",
        "CONTRO_API_KEY": sandbox.contro_key,
    }


async def serve_briefly(tmp_path: Path, **variables: str) -> tuple[str, str]:
    """A short `billing-bot serve` with a valid configuration (and `variables`): it starts,
    answers one question, and is stopped with SIGTERM. Returns its stdout and stderr."""
    sandbox = Sandbox()
    sandbox_runner, sandbox_url = await start(sandbox)
    slack = LocalSlack(wait_timeout=PATIENCE)
    await slack.start()
    url = f"http://127.0.0.1:{free_port()}"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", "--port", url.rsplit(":", 1)[1],
        cwd=tmp_path, env={**serve_env(sandbox, sandbox_url, slack), **variables},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(timeout=PATIENCE, trust_env=False) as client:
            async with asyncio.timeout(STARTUP_SECONDS):
                while True:  # up once /healthz answers
                    assert process.returncode is None, "serve exited at start"
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get(f"{url}/healthz")).status_code == 200:
                            break
                    await asyncio.sleep(0.05)
        async with SlackSender(url, CLI_SECRET, slack) as sender:
            sent = await sender.command("usage my-project")
            assert sent.status == 200
            await slack.wait_for(lambda c: "Total month to date" in str(c.body))
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), STARTUP_SECONDS)
        assert process.returncode == 0, err.decode()
        return out.decode(), err.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await slack.aclose()
        await sandbox_runner.cleanup()


async def test_serve_logs_no_warning_when_all_is_well(tmp_path: Path) -> None:
    _, err = await serve_briefly(tmp_path)
    assert "WARNING" not in err, err


async def test_sigterm_finishes_an_answer_in_progress_then_exits(tmp_path: Path) -> None:
    sandbox = Sandbox()
    sandbox.hold()
    sandbox_runner, sandbox_url = await start(sandbox)
    slack = LocalSlack(wait_timeout=PATIENCE)
    await slack.start()
    env = serve_env(sandbox, sandbox_url, slack)
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
        sender = SlackSender(url, CLI_SECRET, slack)
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


async def test_serve_reads_its_signing_secret_from_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "slack_signing_secret"
    secret_file.write_text(CLI_SECRET + "\n", encoding="utf-8")
    slack = LocalSlack(wait_timeout=PATIENCE)
    await slack.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MKIO_", "REDIS"))},
        "SLACK_BOT_TOKEN": "xoxb-cli-test",
        "SLACK_SIGNING_SECRET_FILE": str(secret_file),
        "SLACK_API_URL": slack.api_url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", "--port", "0",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    senders: list[SlackSender] = []
    try:
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), STARTUP_SECONDS)).decode()
        assert "listening on " in banner, banner
        url = banner.split("listening on ")[1].split("/slack/events")[0]
        senders = [SlackSender(url, CLI_SECRET, slack), SlackSender(url, "x" * 32, slack)]
        signed, forged = [await sender.command("help") for sender in senders]
        assert signed.status == 200
        assert forged.status == 401  # the file's secret, and only it, signs requests
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        for sender in senders:
            await sender.aclose()
        await slack.aclose()


async def test_serve_names_a_secret_file_it_cannot_read(tmp_path: Path) -> None:
    missing = tmp_path / "not-mounted"
    line = await refused_start(
        tmp_path, SLACK_SIGNING_SECRET="", SLACK_SIGNING_SECRET_FILE=str(missing)
    )
    assert "SLACK_SIGNING_SECRET_FILE" in line
    assert f"{missing} cannot be read" in line
    assert "both set" not in line  # a blank SLACK_SIGNING_SECRET counts as unset


async def test_version_prints_the_installed_version_and_exits_0(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "--version",
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), STARTUP_SECONDS)
    assert process.returncode == 0, err.decode()
    assert out.decode() == f"billing-bot {metadata.version('billing-bot')}\n"


async def test_with_json_logs_every_line_serve_writes_is_a_json_object(tmp_path: Path) -> None:
    out, err = await serve_briefly(tmp_path, LOG_FORMAT="json")
    lines = (out + err).splitlines()
    assert any("listening on" in line for line in lines), lines
    assert [line for line in lines if not is_json_object(line)] == []


def is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


async def run_cli(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args,
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), STARTUP_SECONDS)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_without_a_mode_it_names_the_modes(tmp_path: Path) -> None:
    status, _, err = await run_cli(tmp_path)
    assert status == 2
    assert "choose one of serve, socket, demo, sandbox, check" in err
    assert "required: mode" not in err


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("serve", ["--port PORT  port to listen on (default: 3000)", "SLACK_SIGNING_SECRET"]),
        ("socket", ["SLACK_APP_TOKEN        required", "SLACK_BOT_TOKEN", "MKIO_TOKEN"]),
        ("demo", ["built-in billing sandbox", "no environment variable"]),
        ("sandbox", ["(default: 8787)", "the variables to set"]),
    ],
)
async def test_each_mode_help_describes_its_options_defaults_and_environment(
    tmp_path: Path, mode: str, says: list[str]
) -> None:
    status, out, _ = await run_cli(tmp_path, mode, "--help")
    assert status == 0
    flat = " ".join(out.split())
    for text in says:
        assert " ".join(text.split()) in flat, out


async def test_socket_without_slack_says_it_is_connecting_and_logs_one_line_a_try(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MKIO_", "REDIS"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-cli-test",
        SLACK_APP_TOKEN="xapp-cli-test",
        SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",  # nothing listens there
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "socket",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    try:
        while not any("could not connect to Slack" in line for line in lines):
            line = await asyncio.wait_for(process.stdout.readline(), STARTUP_SECONDS)
            assert line, f"socket exited: {lines}"
            lines.append(line.decode())
    finally:
        process.kill()
        rest, _ = await process.communicate()
    lines += rest.decode().splitlines(keepends=True)
    assert lines[0] == "billing-bot connecting to Slack (Socket Mode)…\n"
    [failed] = [line for line in lines if "could not connect" in line]
    assert " WARNING billing_bot.socket: could not connect to Slack (Cannot connect to host" in (
        failed
    )
    assert failed.rstrip().endswith("; retrying")
    assert not any("Traceback" in line or "retry handler" in line for line in lines), lines


async def test_sandbox_with_anomalies_serves_them_and_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MKIO_", "REDIS"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "sandbox", "--anomalies", "--port", "0",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        printed = ""
        while "Anomalies on" not in printed:
            line = await asyncio.wait_for(process.stdout.readline(), STARTUP_SECONDS)
            assert line, f"the sandbox stopped: {printed}"
            printed += line.decode()
        base = printed.split("MK.IO sandbox:")[1].split()[0].removesuffix("/api/v1")
        async with httpx.AsyncClient(timeout=PATIENCE, trust_env=False) as client:
            info = (await client.get(f"{base}/_sandbox")).json()
        day = info["anomalyDay"]
        assert day == (datetime.fromisoformat(info["now"]).date() - timedelta(days=1)).isoformat()
        assert f"Anomalies on {day}: a spike, a drop, a new meter and a new Contro type" in printed
        assert "/billing anomalies on, then /billing anomalies check" in printed
    finally:
        process.kill()
        await process.wait()
