"""Two bot processes behind one imaginary load balancer, sharing one real Redis.

The sandbox and the Slack stand-in run in this process on loopback; each replica is
`billing-bot serve` in its own Python process, configured only through the environment, as
in production. Shows that an answer loaded by one replica is served from the shared cache by
the other, that a confirmation clicked on both at once changes billing once, and that
`/healthz` reports whether Redis is reachable.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.devtools.fakeslack import LocalSlack, SlackCall, SlackSender, message_text
from bot.devtools.sandbox import Sandbox, start
from tests.e2e.stack import PATIENCE, is_working
from tests.redis_server import RedisServer
from tests.waiting import eventually

ADMIN = "U_ADMIN"
CONFIRM = "billing_change_confirm"
STARTUP_SECONDS = 600.0
"""How long a replica may take to start. Importing the bot takes ~2 s of CPU; only a replica
that is stuck waits this long."""
# What the replicas must not inherit from whoever runs the tests.
_OWN_VARIABLES = ("SLACK_", "MKIO_", "CONTRO_", "BILLING_", "AUDIT_", "CACHE_", "REDIS_", "LOG_")


@dataclass
class Replica:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    sender: SlackSender
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Cluster:
    redis: RedisServer
    sandbox: Sandbox
    slack: LocalSlack
    a: Replica
    b: Replica
    http: httpx.AsyncClient

    async def ask(self, replica: Replica, text: str, *, user: str = ADMIN) -> SlackCall:
        sent = await replica.sender.command(text, user_id=user)
        assert sent.status == 200, sent.body
        return await self.final_response(sent.response_url)

    async def final_response(self, url: str) -> SlackCall:
        def is_final(call: SlackCall) -> bool:
            return call.kind == "response" and url.endswith(call.method) and not is_working(call)

        return (await self.slack.wait_for(is_final))[-1]

    def upstream(self, method: str, path: str) -> int:
        return sum(1 for r in self.sandbox.requests if r.method == method and r.path == path)

    async def health(self, replica: Replica) -> tuple[int, Any]:
        response = await self.http.get(f"{replica.url}/healthz")
        return response.status_code, response.json()

    async def eventually_healthy(self, replica: Replica) -> tuple[int, Any]:
        """The first 200 from /healthz (asked every 0.1 s, for up to PATIENCE)."""
        answer: tuple[int, Any] = (0, None)

        async def healthy() -> bool:
            nonlocal answer
            answer = await self.health(replica)
            return answer[0] == 200

        await eventually(
            healthy, f"{replica.url}/healthz to answer 200", patience=PATIENCE, interval=0.1
        )
        return answer


def replica_env(
    sandbox_url: str, sandbox: Sandbox, slack: LocalSlack, redis: RedisServer, signing: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_VARIABLES)}
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "SLACK_BOT_TOKEN": "xoxb-replicas-" + secrets.token_hex(8),
            "SLACK_SIGNING_SECRET": signing,
            "SLACK_API_URL": slack.api_url,
            "MKIO_API_URL": f"{sandbox_url}/api/v1",
            "MKIO_TOKEN": sandbox.mkio_token,
            "CONTRO_API_URL": f"{sandbox_url}/v1",
            "CONTRO_API_KEY": sandbox.contro_key,
            "BILLING_ADMINS": ADMIN,
            "AUDIT_CHANNEL": "C_AUDIT",
            "REDIS_URL": redis.url,
        }
    )
    return env


def spawn(name: str, env: dict[str, str], workdir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """A replica on a port the OS picks (--port 0): no race with other tests for a port."""
    log = workdir / f"replica-{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0"],
            env=env,
            cwd=workdir,  # no stray .env
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, log


LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)/slack/events")


async def listening_url(name: str, process: subprocess.Popen[bytes], log: Path) -> str:
    """The base URL the replica printed once it was listening."""
    deadline = asyncio.get_running_loop().time() + STARTUP_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        found = LISTENING.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            break
        await asyncio.sleep(0.05)
    pytest.fail(f"replica {name} did not start:\n{log.read_text(errors='replace')}", pytrace=False)


async def wait_healthy(http: httpx.AsyncClient, replica: Replica) -> None:
    deadline = asyncio.get_running_loop().time() + STARTUP_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        if replica.process.poll() is not None:
            pytest.fail(f"replica {replica.name} exited:\n{replica.output()}", pytrace=False)
        try:
            if (await http.get(f"{replica.url}/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    pytest.fail(f"replica {replica.name} not healthy in time:\n{replica.output()}", pytrace=False)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    redis = RedisServer()
    sandbox = Sandbox()
    slack = LocalSlack(wait_timeout=PATIENCE)
    http = httpx.AsyncClient(timeout=PATIENCE, trust_env=False)
    replicas: list[Replica] = []
    runner = None
    try:
        redis.start()
        runner, sandbox_url = await start(sandbox, "127.0.0.1", 0)
        await slack.start("127.0.0.1", 0)
        signing = secrets.token_hex(16)
        env = replica_env(sandbox_url, sandbox, slack, redis, signing)
        started = {name: spawn(name, env, tmp_path) for name in ("a", "b")}
        for name, (process, log) in started.items():
            url = await listening_url(name, process, log)
            replicas.append(Replica(name, process, url, SlackSender(url, signing, slack), log))
        await asyncio.gather(*(wait_healthy(http, r) for r in replicas))
        yield Cluster(redis, sandbox, slack, replicas[0], replicas[1], http)
    finally:
        for replica in replicas:
            stop(replica.process)
            await replica.sender.aclose()
            print(f"--- replica {replica.name} ---\n{replica.output()}")  # shown on failure
        await http.aclose()
        await slack.aclose()
        if runner is not None:
            await runner.cleanup()
        redis.close()


async def test_two_replicas_share_answers_confirm_once_and_report_redis(cluster: Cluster) -> None:
    a, b = cluster.a, cluster.b

    # /healthz: Redis is reachable from both. (Its ping has a 1 s limit, which a starved
    # machine can miss now and then: healthy means healthy once asked again.)
    for replica in (a, b):
        assert await cluster.eventually_healthy(replica) == (
            200,
            {"ok": True, "backends": {"redis": True}},
        )

    # An answer loaded through A is served from the shared cache by B.
    methods_path = "/api/v1/organization/paymentMethods"
    through_a = await cluster.ask(a, "payment-methods")
    through_b = await cluster.ask(b, "payment-methods")
    assert "AWS Marketplace" in message_text(through_a.body)
    assert message_text(through_b.body) == message_text(through_a.body)
    assert cluster.upstream("GET", methods_path) == 1

    # The same question on both at once: one upstream call between them.
    usage_path = "/api/v1/projects/my-project/usage"
    both = await asyncio.gather(
        cluster.ask(a, "usage my-project"), cluster.ask(b, "usage my-project")
    )
    assert message_text(both[0].body) == message_text(both[1].body)
    assert cluster.upstream("GET", usage_path) == 1

    # A confirmation previewed on A, then clicked on A and on B at the same moment.
    aws = next(i for name, i in cluster.sandbox.payment_method_ids().items() if "AWS" in name)
    preview = await cluster.ask(a, f"payment-method my-project set {aws}")
    assert CONFIRM in str(preview.body), message_text(preview.body)
    # (An impatient admin: three clicks on each, so that the claims really overlap.)
    clicks = await asyncio.gather(
        *(r.sender.click(preview.body, CONFIRM, user_id=ADMIN) for _ in range(3) for r in (a, b))
    )
    assert [c.status for c in clicks] == [200] * 6
    replies = [message_text((await cluster.final_response(c.response_url)).body) for c in clicks]
    change_path = "/api/v1/projects/my-project/paymentMethod"
    assert cluster.upstream("POST", change_path) == 1, "billing changed once"
    assert sum("Done" in text for text in replies) == 1, replies
    assert sum(text.startswith(":") and "Already" in text for text in replies) == 5, replies
    await cluster.slack.wait_for(lambda c: c.method == "chat.postMessage")
    await asyncio.sleep(0.2)
    assert len(cluster.slack.api_calls("chat.postMessage")) == 1, "one audit line"

    # The change dropped the cached answers about the project on both replicas.
    for replica in (a, b):
        now_using = await cluster.ask(replica, "payment-method my-project")
        assert "AWS Marketplace" in message_text(now_using.body)

    # Redis goes away: both replicas say so.
    cluster.redis.stop()
    for replica in (a, b):
        assert await cluster.health(replica) == (
            503,
            {"ok": False, "backends": {"redis": False}},
        )
