"""`billing-bot check` as an operator runs it, against the sandbox and the local Slack."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bot.devtools.fakeslack import LocalSlack
from bot.devtools.sandbox import Sandbox, start
from tests.e2e.stack import PATIENCE
from tests.e2e.test_cli import STARTUP_SECONDS, read_until, serve_env


def jwt_with(**claims: object) -> str:
    """An unsigned-looking JWT carrying `claims` (the bot never checks a signature)."""

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def jwt_expiring_in(seconds: float) -> str:
    return jwt_with(sub="billing-bot", exp=int(time.time() + seconds))


async def run_check(
    tmp_path: Path, sandbox: Sandbox, *, scopes: list[str] | None = None, **variables: str
) -> tuple[int, str, list[str]]:
    """`billing-bot check` against `sandbox` and a local Slack granting `scopes`: its exit
    status, its stdout, and the paths the sandbox was asked for."""
    runner, sandbox_url = await start(sandbox)
    slack = LocalSlack(wait_timeout=PATIENCE)
    if scopes is not None:
        slack.scopes = scopes
    await slack.start()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "check",
            cwd=tmp_path, env={**serve_env(sandbox, sandbox_url, slack), **variables},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), STARTUP_SECONDS)
        assert "Traceback" not in err.decode(), err.decode()
        assert process.returncode is not None
        return process.returncode, out.decode(), [r.path for r in sandbox.requests]
    finally:
        await slack.aclose()
        await runner.cleanup()


def line_of(out: str, start: str) -> str:
    [line] = [line for line in out.splitlines() if line.startswith(start)]
    return line


async def test_check_against_the_sandbox_passes(tmp_path: Path) -> None:
    status, out, paths = await run_check(tmp_path, Sandbox())

    assert status == 0, out
    assert not any(line.startswith(("FAIL", "warn")) for line in out.splitlines()), out
    assert line_of(out, "ok   settings")
    assert "every scope granted" in line_of(out, "ok   slack")
    assert "every capability granted" in line_of(out, "ok   mkio")
    assert line_of(out, "ok   contro")
    assert "/api/v1/user/rbac" in paths
    assert "/v1/partner/usage/summary" in paths


async def test_check_names_a_missing_slack_scope(tmp_path: Path) -> None:
    scopes = ["commands", "chat:write", "channels:join", "app_mentions:read"]
    status, out, _ = await run_check(tmp_path, Sandbox(), scopes=scopes)

    assert status == 1
    line = line_of(out, "FAIL slack scopes")
    assert "files:write" in line
    assert "im:history" in line
    assert "reinstall" in line


async def test_check_names_a_capability_the_mkio_token_lacks(tmp_path: Path) -> None:
    sandbox = Sandbox()
    runner, url = await start(sandbox)  # set it as an operator would, over the control plane
    try:
        async with httpx.AsyncClient(trust_env=False) as client:
            answer = await client.post(
                f"{url}/_sandbox/rbac",
                json={"capabilities": ["core.project.get", "core.customer.get", "mkio.*"]},
            )
            assert answer.status_code == 204
    finally:
        await runner.cleanup()

    status, out, _ = await run_check(tmp_path, sandbox)

    assert status == 1
    line = line_of(out, "FAIL mkio capabilities")
    assert "core.subscription.get" in line
    assert "core.subscription.create" in line
    assert "mkio.metrics" not in line  # granted by the wildcard
    assert "core.project.get" not in line


async def test_check_warns_of_an_mkio_token_expiring_in_5_days(tmp_path: Path) -> None:
    token = jwt_expiring_in(5 * 86400 + 3600)
    status, out, _ = await run_check(tmp_path, Sandbox(mkio_token=token))

    assert status == 0, out  # a warning, not a failure: the token still works
    line = line_of(out, "warn mkio token")
    assert "in 5 days" in line
    assert "MKIO_TOKEN" in line


async def test_check_fails_on_an_expired_mkio_token(tmp_path: Path) -> None:
    token = jwt_expiring_in(-3600)
    status, out, _ = await run_check(tmp_path, Sandbox(mkio_token=token))

    assert status == 1
    assert "expired" in line_of(out, "FAIL mkio token")


async def test_check_fails_on_a_test_key_against_a_live_host(tmp_path: Path) -> None:
    status, out, paths = await run_check(
        tmp_path, Sandbox(), CONTRO_API_URL="https://api.contro.me/v1"
    )

    assert status == 1
    line = line_of(out, "FAIL contro")
    assert "test key" in line
    assert "live host" in line
    assert not any(p.startswith("/v1/") for p in paths)


async def test_check_fails_on_a_live_key_against_the_sandbox_and_does_not_send_it(
    tmp_path: Path,
) -> None:
    status, out, paths = await run_check(tmp_path, Sandbox(), CONTRO_API_KEY="sk_live_abc123")

    assert status == 1
    assert "live key" in line_of(out, "FAIL contro")
    assert not any(p.startswith("/v1/") for p in paths)


async def test_check_names_every_problem_at_once(tmp_path: Path) -> None:
    sandbox = Sandbox(mkio_token=jwt_expiring_in(5 * 86400 + 3600))
    sandbox.capabilities = ["core.project.get"]
    status, out, _ = await run_check(
        tmp_path,
        sandbox,
        scopes=["commands"],
        CONTRO_API_URL="https://api.contro.me/v1",
        SLACK_SIGNING_SECRET="changeme",
    )

    assert status == 1
    assert "SLACK_SIGNING_SECRET" in line_of(out, "FAIL settings")
    assert line_of(out, "FAIL slack scopes")
    assert line_of(out, "warn mkio token")
    assert line_of(out, "FAIL mkio capabilities")
    assert line_of(out, "FAIL contro")


async def test_check_names_the_token_mk_io_lists_as_expiring_in_5_days(tmp_path: Path) -> None:
    # no `exp` in the token: only GET /organization/tokens knows when it expires
    sandbox = Sandbox(mkio_token=jwt_with(sub="billing-bot", jti="tok-42"))
    sandbox.mkio_token_expires = datetime.now(UTC) + timedelta(days=5, hours=1)
    status, out, paths = await run_check(tmp_path, sandbox)

    assert status == 0, out
    line = line_of(out, "warn mkio token")
    assert "“billing-bot” (tok-42)" in line
    assert "in 5 days" in line
    assert "/api/v1/organization/tokens" in paths


async def test_check_fails_on_a_token_mk_io_lists_as_revoked(tmp_path: Path) -> None:
    sandbox = Sandbox(mkio_token=jwt_with(sub="billing-bot", jti="tok-42"))
    runner, url = await start(sandbox)  # set it as an operator would, over the control plane
    try:
        async with httpx.AsyncClient(trust_env=False) as client:
            refused = await client.post(f"{url}/_sandbox/token", json={"expires": "2027-01-01"})
            assert refused.status_code == 400  # no time zone
            answer = await client.post(f"{url}/_sandbox/token", json={"revoked": True})
            assert answer.status_code == 204
    finally:
        await runner.cleanup()

    status, out, _ = await run_check(tmp_path, sandbox)

    assert status == 1
    assert "revoked" in line_of(out, "FAIL mkio token")


async def test_check_reports_both_contro_keys_during_a_rotation(tmp_path: Path) -> None:
    # Contro has revoked the old key; the next one (the sandbox's) works
    sandbox = Sandbox()
    sandbox.revoked_contro_keys = {"sk_test_old"}
    status, out, paths = await run_check(
        tmp_path, sandbox, CONTRO_API_KEY="sk_test_old", CONTRO_API_KEY_NEXT="sk_test_sandbox"
    )

    assert status == 0, out
    line = line_of(out, "warn contro:")
    assert "CONTRO_API_KEY_NEXT works" in line
    assert "unset CONTRO_API_KEY_NEXT" in line
    assert line_of(out, "ok   contro next key")
    assert paths.count("/v1/partner/usage/summary") == 2


async def test_check_fails_when_neither_contro_key_works(tmp_path: Path) -> None:
    sandbox = Sandbox()
    sandbox.revoked_contro_keys = {"sk_test_old", "sk_test_older"}
    status, out, _ = await run_check(
        tmp_path, sandbox, CONTRO_API_KEY="sk_test_old", CONTRO_API_KEY_NEXT="sk_test_older"
    )

    assert status == 1
    assert "CONTRO_API_KEY to a valid key" in line_of(out, "FAIL contro:")
    assert "CONTRO_API_KEY_NEXT to a valid key" in line_of(out, "FAIL contro next key")


async def test_serve_logs_what_the_checks_find_at_start(tmp_path: Path) -> None:
    sandbox = Sandbox()
    runner, sandbox_url = await start(sandbox)
    slack = LocalSlack(wait_timeout=PATIENCE)
    await slack.start()
    env = {**serve_env(sandbox, sandbox_url, slack), "CONTRO_API_KEY_NEXT": "sk_live_next_999"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", "--port", "0",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        logged = await read_until(process.stderr, re.compile(r"contro next key"))
        line = next(line for line in logged.splitlines() if "contro next key" in line)
        assert "WARNING" in line
        assert "CONTRO_API_KEY_NEXT is a live key" in line
        assert "sk_live_next_999" not in logged
    finally:
        process.kill()
        await process.wait()
        await slack.aclose()
        await runner.cleanup()
