"""Socket Mode has no HTTP server of its own: with `HEALTH_PORT` set, `billing-bot socket`
serves `/livez`, `/readyz`, `/healthz` and `/metrics` alone on that port, with the very
handlers `serve` uses (`bot.slack.probes`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bot.devtools.fakeslack import LocalSlack
from bot.observe.metrics import CONTENT_TYPE
from bot.slack.probes import start_probe_server
from bot.store import redis_client
from tests.e2e.stack import PATIENCE, Stack, close_stack, make_stack
from tests.e2e.test_cli import STARTUP_SECONDS, free_port, read_until
from tests.redis_server import RedisServer

PROBES = ("/livez", "/readyz", "/healthz")


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=PATIENCE, trust_env=False) as client:
        return await client.get(url)


def series(exposition: str) -> set[str]:
    return {line.split("{")[0].split(" ")[0] for line in exposition.splitlines() if line[:1] != "#"}


async def test_the_probe_listener_answers_as_serve_does(stack: Stack) -> None:
    await stack.ask("payment-methods")
    runner, url = await start_probe_server(stack.bot, "127.0.0.1", 0)
    try:
        for path in PROBES:
            alone, beside_events = await get(url + path), await get(stack.bot_url + path)
            assert alone.status_code == beside_events.status_code == 200, path
            assert alone.json() == beside_events.json(), path
        metrics = await get(url + "/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"] == CONTENT_TYPE
        assert "billing_bot_answers_total" in series(metrics.text)
        assert series(metrics.text) == series((await get(stack.bot_url + "/metrics")).text)
        async with httpx.AsyncClient(timeout=PATIENCE, trust_env=False) as client:
            events = await client.post(url + "/slack/events", content=b"{}")
        assert events.status_code == 404, "only the probes and the metrics are served"
    finally:
        await runner.cleanup()


async def test_a_redis_outage_makes_it_unready_not_dead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_client, "HEALTH_TIMEOUT_SECONDS", PATIENCE)
    server = RedisServer()
    server.start()
    stack = await make_stack(redis_url=SecretStr(server.url))
    runner, url = await start_probe_server(stack.bot, "127.0.0.1", 0)
    try:
        assert (await get(url + "/readyz")).status_code == 200
        server.stop()
        assert (await get(url + "/livez")).json() == {"ok": True}
        down = await get(url + "/readyz")
        assert (down.status_code, down.json()["backends"]) == (503, {"redis": False})
        assert (await get(url + "/healthz")).status_code == 503
    finally:
        await runner.cleanup()
        await close_stack(stack)
        server.close()


async def test_readyz_is_503_once_it_stops(stack: Stack) -> None:
    runner, url = await start_probe_server(stack.bot, "127.0.0.1", 0)
    await runner.shutdown()  # what `cleanup` does first: the socket is still open
    try:
        stopping = await get(url + "/readyz")
        assert (stopping.status_code, stopping.json()["draining"]) == (503, True)
    finally:
        await runner.cleanup()


async def test_billing_bot_socket_serves_the_probes_on_health_port(tmp_path: Path) -> None:
    slack = LocalSlack(wait_timeout=PATIENCE)
    await slack.start()
    # Slack holds the connection back (an hour's Retry-After): the bot keeps waiting for it.
    slack.fail_next("apps.connections.open", status=200, retry_after=3600)
    port = free_port()
    prefixes = ("SLACK_", "MKIO_", "CONTRO_", "REDIS", "LOG_", "HEALTH_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(
        SLACK_BOT_TOKEN="xoxb-cli-test",
        SLACK_APP_TOKEN="xapp-cli-test",
        SLACK_API_URL=slack.api_url,
        HEALTH_PORT=str(port),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "socket",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = await read_until(process.stdout, re.compile("probes on"))
        url = f"http://127.0.0.1:{port}"
        assert f"{url}/livez" in banner
        await slack.wait_for(lambda c: c.method == "apps.connections.open", include_failed=True)
        assert (await get(url + "/livez")).json() == {"ok": True}
        ready = await get(url + "/readyz")
        assert (ready.status_code, ready.json()["backends"]) == (200, {"sqlite": True})
        assert (await get(url + "/healthz")).status_code == 200
        assert "billing_bot_slack_api_calls_total" in (await get(url + "/metrics")).text
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.communicate(), STARTUP_SECONDS)
        with pytest.raises(httpx.TransportError):  # the listener is closed with the bot
            await get(url + "/livez")
    finally:
        if process.returncode is None:
            process.kill()
        with contextlib.suppress(ProcessLookupError):
            await process.wait()
        await slack.aclose()
