"""Benchmark: `/billing contro records <period> csv` for N records, end to end (issue 3, item 7;
issue 12, item 2: per-type chains at once).

    .venv/bin/python bench/export.py [--records 1000000] [--period 2026-10] [--latency-ms 20]

This process serves the billing sandbox (with exactly N synthetic Contro records in the
period) and a local stand-in for the Slack Web API, both on 127.0.0.1. The bot runs as a
separate process (`python -m bot.cli serve`) pointed at them, so its memory is measured on
its own. The bench sends one signed slash command, waits until the CSV upload is completed,
then checks the file against the sandbox and prints the figures. See bench/README.md.

Exit status: 0 when the file arrived and matches, 1 when the bot did not start, died, or the
upload never arrived, 3 when a file arrived but its rows or total are wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import math
import os
import resource
import secrets
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from pathlib import Path
from typing import IO

import httpx
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/export.py` without the package installed
    sys.path.insert(0, str(ROOT))

from bot.apis.contro.client import ControClient  # noqa: E402
from bot.apis.http import RetryPolicy  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.devtools.fakeslack import LocalSlack, SlackCall, SlackSender, message_text  # noqa: E402
from bot.devtools.sandbox import Sandbox, start  # noqa: E402

HOST = "127.0.0.1"
RECORDS_PATH = "/v1/partner/usage/records"
UPLOAD_METHOD = "files.completeUploadExternal"
PAGE_SIZE = 100
MEMORY_TARGET_MB = 150
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
NOTE_EVERY = 10.0
MB = 1024 * 1024

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_MISMATCH = 3


class BenchError(Exception):
    """The run could not complete; the message says why."""


@dataclass(frozen=True)
class FileFigures:
    size: int
    rows: int
    parsed_rows: int
    total: Decimal
    header: list[str]


# -- the bot process ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def bot_environment(
    *,
    slack_api_url: str,
    signing_secret: str,
    sandbox_base: str,
    sandbox: Sandbox,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The inherited environment minus every billing-bot setting and proxy, plus ours."""
    ours = {name.upper() for name in Settings.model_fields}
    proxies = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}
    env = {
        key: value
        for key, value in os.environ.items()
        if key.upper() not in ours and key.upper() not in proxies
    }
    env.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": signing_secret,
            "SLACK_API_URL": slack_api_url,
            "MKIO_API_URL": f"{sandbox_base}/api/v1",
            "MKIO_TOKEN": sandbox.mkio_token,
            "CONTRO_API_URL": f"{sandbox_base}/v1",
            "CONTRO_API_KEY": sandbox.contro_key,
            "NO_PROXY": f"{HOST},localhost",
            "no_proxy": f"{HOST},localhost",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
            **(extra or {}),
        }
    )
    return env


async def start_bot(
    port: int, env: dict[str, str], workdir: str, log: IO[bytes]
) -> asyncio.subprocess.Process:
    # Run from an empty directory so that no `.env` file adds settings of its own.
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        cwd=workdir,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )


async def wait_healthy(url: str, bot: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if bot.returncode is not None:
                raise BenchError(f"the bot exited with status {bot.returncode} while starting")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise BenchError(f"the bot did not answer GET /healthz within {STARTUP_TIMEOUT:g} s")


def proc_status_kb(pid: int, field: str) -> int | None:
    """A `kB` figure (VmHWM, VmRSS) from /proc/<pid>/status; None where there is no /proc."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return None


async def stop_bot(bot: asyncio.subprocess.Process) -> None:
    if bot.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        bot.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(bot.wait(), STOP_TIMEOUT)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            bot.kill()
        await bot.wait()


def children_peak_kb() -> int:
    """Peak RSS of waited-for children (kB); ru_maxrss is in bytes on macOS."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


# -- LocalSlack --------------------------------------------------------------------------------


def is_upload(call: SlackCall) -> bool:
    return call.kind == "api" and call.method == UPLOAD_METHOD


def uploaded_bytes(slack: LocalSlack, call: SlackCall) -> bytes:
    files = call.body.get("files")
    if not isinstance(files, list) or not files or not isinstance(files[0], dict):
        raise BenchError(f"{UPLOAD_METHOD} named no file")
    file_id = str(files[0].get("id"))
    data = slack.files.get(file_id)
    if data is None:
        raise BenchError(f"{UPLOAD_METHOD} named {file_id}, whose bytes never arrived")
    return data


def file_figures(data: bytes) -> FileFigures:
    lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=""))
    header = next(reader, [])
    column = header.index("amount") if "amount" in header else None
    parsed = 0
    total = Decimal(0)
    with localcontext() as exact:
        exact.prec = 80
        for row in reader:
            parsed += 1
            if column is not None:
                total += Decimal(row[column])
    return FileFigures(len(data), max(lines - 1, 0), parsed, total, header)


# -- the run -----------------------------------------------------------------------------------


async def wait_for_upload(
    slack: LocalSlack,
    bot: asyncio.subprocess.Process,
    sandbox: Sandbox,
    *,
    after: int,
    started: float,
    deadline: float,
) -> SlackCall | None:
    """The completed upload, or None at `deadline` (`perf_counter`); raises if the bot dies."""
    next_note = started + NOTE_EVERY
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return None
        try:
            calls = await slack.wait_for(is_upload, timeout=min(1.0, remaining), after=after)
            return calls[0]
        except TimeoutError:
            pass
        if bot.returncode is not None:
            raise BenchError(f"the bot exited with status {bot.returncode} during the export")
        now = time.perf_counter()
        if now >= next_note:
            next_note = now + NOTE_EVERY
            pages = sum(1 for r in sandbox.requests if r.path == RECORDS_PATH)
            rss = proc_status_kb(bot.pid, "VmRSS")
            memory = f", bot RSS {rss / 1024:.0f} MB" if rss is not None else ""
            print(f"  … {now - started:.0f} s: {_pages(pages)} fetched{memory}", flush=True)


def _pages(count: int) -> str:
    return "1 page" if count == 1 else f"{count:,} pages"


def tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "  (no log)"
    return "\n".join(f"  | {line}" for line in text.splitlines()[-lines:]) or "  (empty)"


async def run(args: argparse.Namespace) -> int:
    records: int = args.records
    period: str = args.period
    timeout: float = (
        args.timeout
        if args.timeout is not None
        else 60.0 + records / 1000 + records / PAGE_SIZE * args.latency_ms / 1000
    )
    latency = args.latency_ms / 1000

    sandbox = Sandbox(contro_pagination=args.pagination)
    sandbox.set_contro_records(period, records)
    sandbox_runner, sandbox_base = await start(sandbox, HOST, 0)
    slack = LocalSlack()
    workdir = tempfile.TemporaryDirectory(prefix="billing-bot-bench-")
    log_path = Path(workdir.name) / "bot.log"
    bot: asyncio.subprocess.Process | None = None
    sender: SlackSender | None = None
    try:
        await slack.start(HOST, 0)

        contro = ControClient(
            f"{sandbox_base}/v1", SecretStr(sandbox.contro_key), retry=RetryPolicy.immediate()
        )
        async with contro:
            summary = await contro.summary(period)
        sandbox.clear()
        chain_pages = [max(1, math.ceil(item.count / PAGE_SIZE)) for item in summary.items]
        expected_requests = sum(chain_pages)
        sequential_pages = max(1, math.ceil(records / PAGE_SIZE))

        signing_secret = secrets.token_hex(16)
        port = free_port()
        env = bot_environment(
            slack_api_url=slack.api_url,
            signing_secret=signing_secret,
            sandbox_base=sandbox_base,
            sandbox=sandbox,
            extra={"CONTRO_MAX_REQUESTS_PER_MINUTE": str(args.rate)},
        )
        with log_path.open("wb") as log:
            bot = await start_bot(port, env, workdir.name, log)
        bot_url = f"http://{HOST}:{port}"
        print(f"billing-bot export benchmark: {records:,} Contro records in {period}")
        print(
            f"  sandbox {sandbox_base} ({args.pagination} pagination, {args.latency_ms:g} ms per "
            f"request), Slack {slack.base_url}; CONTRO_MAX_REQUESTS_PER_MINUTE={args.rate}"
        )
        try:
            await wait_healthy(bot_url, bot)
        except BenchError as error:
            print(f"FAILED: {error}\n{tail(log_path)}", file=sys.stderr)
            return EXIT_FAILED
        idle_kb = proc_status_kb(bot.pid, "VmRSS")
        idle = f", RSS {idle_kb / 1024:.0f} MB idle" if idle_kb is not None else ""
        print(f"  bot pid {bot.pid} at {bot_url}{idle}", flush=True)

        sender = SlackSender(bot_url, signing_secret, slack)
        sandbox.delay = latency
        after = len(slack.calls)
        started = time.perf_counter()
        sent = await sender.command(f"contro records {period} csv")
        print(
            f"  /billing contro records {period} csv -> HTTP {sent.status} in {sent.elapsed:.2f} s"
        )
        if sent.status != 200:
            print(f"FAILED: the bot answered HTTP {sent.status}: {sent.body[:200]}")
            return EXIT_FAILED

        try:
            upload = await wait_for_upload(
                slack, bot, sandbox, after=after, started=started, deadline=started + timeout
            )
        except BenchError as error:
            print(f"FAILED: {error}\n{tail(log_path)}", file=sys.stderr)
            return EXIT_FAILED
        wall = time.perf_counter() - started
        pages = sum(1 for r in sandbox.requests if r.path == RECORDS_PATH)
        other = len(sandbox.requests) - pages
        peak_kb = proc_status_kb(bot.pid, "VmHWM")

        if upload is None:
            print(
                f"FAILED: no {UPLOAD_METHOD} within {timeout:g} s "
                f"({_pages(pages)} of records fetched meanwhile).\n"
                f"What the bot sent to Slack:\n{slack.describe(after=after)}\n"
                f"Bot log (last lines):\n{tail(log_path)}",
                file=sys.stderr,
            )
            return EXIT_FAILED

        figures = file_figures(uploaded_bytes(slack, upload))
        await stop_bot(bot)
        if peak_kb is None:
            peak_kb = children_peak_kb()

        expected_total = summary.total
        expected_count = sum(item.count for item in summary.items)
        rows_ok = figures.rows == figures.parsed_rows == expected_count == records
        total_ok = figures.total == expected_total
        requests_ok = pages == expected_requests
        peak_mb = peak_kb / 1024
        throughput = figures.rows / wall if wall > 0 else 0.0
        comment = upload.body.get("initial_comment")
        said = message_text({"text": comment}) if isinstance(comment, str) else ""

        def verdict(ok: bool) -> str:
            return "ok" if ok else "MISMATCH"

        print()
        print(f"records requested : {records:,}")
        print(
            f"upstream requests : {pages:,} record pages (ceil(count/100) per type = "
            f"{expected_requests:,}: {verdict(requests_ok)}), {other} other"
        )
        print(
            f"rows in the file  : {figures.rows:,} ({figures.size / MB:.1f} MB; "
            f"sandbox summary {expected_count:,}: {verdict(rows_ok)})"
        )
        print(
            f"total of the file : {figures.total:,f} USD "
            f"(sandbox summary {expected_total:,f} USD: {verdict(total_ok)})"
        )
        print(f"wall time         : {wall:.2f} s (slash command to completed upload)")
        per_page = latency
        print(
            f"floors            : one chain {sequential_pages:,} x {args.latency_ms:g} ms = "
            f"{sequential_pages * per_page:.2f} s; longest of {len(chain_pages)} chains "
            f"{max(chain_pages):,} x {args.latency_ms:g} ms = {max(chain_pages) * per_page:.2f} s"
            + (
                f"; pace {pages:,} / {args.rate:,} per min = {pages / args.rate * 60:.1f} s"
                if args.rate
                else " (unpaced)"
            )
        )
        print(f"throughput        : {throughput:,.0f} rows/s")
        target = "under" if peak_mb < MEMORY_TARGET_MB else "OVER"
        print(f"bot peak memory   : {peak_mb:.1f} MB ({target} the {MEMORY_TARGET_MB} MB target)")
        if said:
            print(f"upload message    : {' '.join(said.split())[:300]}")
        return EXIT_OK if rows_ok and total_ok else EXIT_MISMATCH
    finally:
        if sender is not None:
            await sender.aclose()
        if bot is not None:
            await stop_bot(bot)
        await slack.aclose()
        await sandbox_runner.cleanup()
        workdir.cleanup()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/export.py",
        description="Time `/billing contro records <period> csv` for N records, end to end.",
    )
    parser.add_argument("--records", type=int, default=1_000_000, help="default 1,000,000")
    parser.add_argument("--period", default="2026-10", help="YYYY-MM, default 2026-10")
    parser.add_argument(
        "--pagination", choices=("cursor", "page"), default="cursor", help="Contro's style"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="ms Contro takes per request (default 0)"
    )
    parser.add_argument(
        "--rate",
        type=int,
        default=0,
        help="the bot's CONTRO_MAX_REQUESTS_PER_MINUTE (default 0: unpaced, the API's speed)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds to wait for the upload (default 60 + 1 ms per record)",
    )
    args = parser.parse_args(argv)
    if args.records < 0:
        parser.error("--records must not be negative")
    if args.latency_ms < 0 or args.rate < 0:
        parser.error("--latency-ms and --rate must not be negative")
    if args.timeout is not None and args.timeout <= 0:
        parser.error("--timeout must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run(args))
    except ValueError as error:  # e.g. a period that is not YYYY-MM
        print(f"bench/export.py: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
