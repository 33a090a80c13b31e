"""`/billing report` against a very large usage report: the bot's peak memory and time to the
posted summary, beside the JSON-parse floor (ijson over the same bodies) measured in the same run.

A bench-local MK.IO (loopback, aiohttp) answers every `POST /organization/reports/usage` with
N synthetic rows (a block of 1,000 distinct rows repeated: no work per request beyond writing
bytes), so the report and its comparison period are N rows each. For each N a fresh bot
process is started: its time to `GET /healthz` and idle RSS are printed too.

    .venv/bin/python bench/report_size.py                  # 10k, 100k, 300k, 1M rows
    .venv/bin/python bench/report_size.py --rows 10000 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import ijson
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.export import (  # noqa: E402
    HOST,
    BenchError,
    free_port,
    proc_status_kb,
    start_bot,
    stop_bot,
    tail,
)
from bot.config import Settings  # noqa: E402
from bot.devtools.fakeslack import LocalSlack, SlackSender, message_text  # noqa: E402
from bot.money import format_amount  # noqa: E402

REPORT_PATH = "/api/v1/organization/reports/usage"
TOKEN = secrets.token_hex(8)  # the bench-local MK.IO's own
BLOCK = 1_000
WRITE = 1024 * 1024
SIZES = (10_000, 100_000, 300_000, 1_000_000)
MEMORY_TARGET_MB = 250
MB = 1024 * 1024


@dataclass(frozen=True)
class Body:
    """N rows as `{"supplemental": {}, "value": [...]}`, served from one repeated block."""

    rows: int
    block: bytes  # BLOCK rows, comma-separated, no brackets
    tail: bytes  # the rows past the last whole block
    total: Decimal

    @classmethod
    def make(cls, rows: int, seed: int = 12) -> Body:
        rng = random.Random(seed)
        made: list[bytes] = []
        costs: list[Decimal] = []
        for i in range(BLOCK):
            cost = Decimal(rng.randrange(0, 2_000_000)) / 1_000_000
            costs.append(cost)
            row = {
                "date": f"2026-03-{1 + i % 31:02d}T00:00:00Z",
                "dateProcessed": None if i % 13 == 0 else "2026-04-02T00:00:00Z",
                "meterName": f"Meter {i % 7}",
                "meterSku": f"SKU-{i % 7}",
                "family": "Streaming",
                "solution": "Live",
                "unit": "minutes",
                "quantity": rng.randrange(1, 100_000) / 1000,
                "price": 0.0125,
                "cost": f"{cost:.6f}",
                "currency": "USD",
                "project": f"project-{i % 12}",
                "paymentMethod": "pm-1",
                "paymentMethodName": "Card",
                "entitlement": None,
                "entitlementType": None,
            }
            made.append(json.dumps(row, separators=(",", ":")).encode())
        whole, rest = divmod(rows, BLOCK)
        total = sum(costs, Decimal(0)) * whole + sum(costs[:rest], Decimal(0))
        return cls(rows, b",".join(made), b",".join(made[:rest]), total)

    def pieces(self) -> list[bytes]:
        whole = self.rows // BLOCK
        parts = [self.block] * whole
        if self.tail:
            parts.append(self.tail)
        return parts

    @property
    def size(self) -> int:
        parts = self.pieces()
        return len(b'{"supplemental":{},"value":[]}') + sum(map(len, parts)) + len(parts) - 1


def mkio_app(body: Body) -> web.Application:
    async def report(request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"error": {"code": "unauthorized"}}, status=401)
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = body.size
        await response.prepare(request)
        buffer = bytearray(b'{"supplemental":{},"value":[')
        for index, part in enumerate(body.pieces()):
            if index:
                buffer += b","
            buffer += part
            if len(buffer) >= WRITE:
                await response.write(bytes(buffer))
                buffer.clear()
        buffer += b"]}"
        await response.write(bytes(buffer))
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post(REPORT_PATH, report)
    return app


async def floor(base: str) -> tuple[float, int]:
    """Download and ijson-parse the report and its comparison at once, as the bot asks them:
    (seconds, rows of each)."""

    async def one(client: httpx.AsyncClient) -> int:
        rows = 0
        parsed = ijson.sendable_list()
        parser = ijson.items_coro(parsed, "value.item")
        async with client.stream("POST", REPORT_PATH, json={}) as response:
            async for chunk in response.aiter_raw():
                parser.send(chunk)
                rows += len(parsed)
                del parsed[:]
        parser.close()
        return rows + len(parsed)

    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, trust_env=False) as client:
        started = time.perf_counter()
        counts = await asyncio.gather(one(client), one(client))
        seconds = time.perf_counter() - started
    assert counts[0] == counts[1]
    return seconds, counts[0]


def environment(slack_api_url: str, signing_secret: str, mkio_base: str) -> dict[str, str]:
    ours = {name.upper() for name in Settings.model_fields}
    proxies = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}
    env = {k: v for k, v in os.environ.items() if k.upper() not in ours | proxies}
    env.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": signing_secret,
            "SLACK_API_URL": slack_api_url,
            "MKIO_API_URL": f"{mkio_base}/api/v1",
            "MKIO_TOKEN": TOKEN,
            "NO_PROXY": f"{HOST},localhost",
            "no_proxy": f"{HOST},localhost",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


async def healthy_after(url: str, bot: asyncio.subprocess.Process, limit: float = 30.0) -> float:
    """Seconds from now (just after the process started) to the first 200 from /healthz."""
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
        while time.perf_counter() - started < limit:
            if bot.returncode is not None:
                raise BenchError(f"the bot exited with status {bot.returncode} while starting")
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.01)
    raise BenchError(f"the bot did not answer GET /healthz within {limit:g} s")


@dataclass(frozen=True)
class Figures:
    rows: int
    body_mb: float
    healthz: float
    idle_mb: float
    seconds: float
    peak_mb: float
    floor: float


async def one_size(rows: int, patience: float) -> Figures:
    body = Body.make(rows)
    runner = web.AppRunner(mkio_app(body), access_log=None)
    await runner.setup()
    mkio_port = free_port()
    await web.TCPSite(runner, HOST, mkio_port).start()
    mkio_base = f"http://{HOST}:{mkio_port}"
    slack = LocalSlack()
    await slack.start(HOST, 0)
    workdir = tempfile.TemporaryDirectory(prefix="billing-bot-bench-")
    log_path = Path(workdir.name) / "bot.log"
    bot: asyncio.subprocess.Process | None = None
    senders: list[SlackSender] = []
    try:
        floor_seconds, counted = await floor(mkio_base)
        assert counted == rows, (counted, rows)
        signing_secret = secrets.token_hex(16)
        port = free_port()
        with log_path.open("wb") as log:
            bot = await start_bot(
                port, environment(slack.api_url, signing_secret, mkio_base), workdir.name, log
            )
        url = f"http://{HOST}:{port}"
        healthz = await healthy_after(url, bot)
        await asyncio.sleep(0.5)
        idle_kb = proc_status_kb(bot.pid, "VmRSS") or 0
        sender = SlackSender(url, signing_secret, slack)
        senders.append(sender)
        started = time.perf_counter()
        sent = await sender.command("report 2026-03", channel_id="C_BENCH")
        if sent.status != 200:
            raise BenchError(f"the bot answered HTTP {sent.status}")
        try:
            [answer] = await slack.wait_for(
                lambda c: c.method == "chat.update" and "Preparing" not in str(c.body.get("text")),
                timeout=patience,
            )
        except TimeoutError:
            raise BenchError(f"no summary within {patience:g} s\n{tail(log_path)}") from None
        seconds = time.perf_counter() - started
        peak_kb = proc_status_kb(bot.pid, "VmHWM") or 0
        text = message_text(answer.body)
        expected = f"Total: {format_amount(body.total)} USD"
        if expected not in text:
            raise BenchError(f"the summary does not show the total {expected}:\n{text[:600]}")
        return Figures(
            rows, body.size / MB, healthz, idle_kb / 1024, seconds, peak_kb / 1024, floor_seconds
        )
    finally:
        for sender in senders:
            await sender.aclose()
        if bot is not None:
            await stop_bot(bot)
        await slack.aclose()
        await runner.cleanup()
        workdir.cleanup()


async def run(sizes: Sequence[int], patience: float) -> int:
    print("billing-bot report benchmark: report + comparison period, N rows each")
    print(
        f"{'rows':>10} {'body':>9} {'/healthz':>9} {'idle RSS':>9} "
        f"{'summary':>9} {'floor':>8} {'ratio':>6} {'peak RSS':>9}"
    )
    missed = False
    for rows in sizes:
        try:
            f = await one_size(rows, patience)
        except BenchError as error:
            print(f"FAILED at {rows:,} rows: {error}", file=sys.stderr)
            return 1
        ratio = f.seconds / f.floor
        mark = ""
        if f.peak_mb > MEMORY_TARGET_MB or ratio > 2:
            mark = "  MISSED (target: peak <= 250 MB, time <= 2x floor)"
            missed = missed or rows >= 100_000  # small reports are dominated by fixed costs
        print(
            f"{rows:>10,} {f.body_mb:>6.1f} MB {f.healthz:>7.2f} s {f.idle_mb:>6.0f} MB "
            f"{f.seconds:>7.2f} s {f.floor:>6.2f} s {ratio:>5.1f}x {f.peak_mb:>6.0f} MB{mark}",
            flush=True,
        )
    return 1 if missed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=list(SIZES), metavar="N")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per summary")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.rows):
        parser.error("--rows must be positive")
    return asyncio.run(run(args.rows, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
