"""Benchmark: a burst of N concurrent `/billing` slash commands against a slow billing API
(issue 6, item 6).

    .venv/bin/python bench/burst.py [--requests 200] [--delay 2.0]

This process serves the billing sandbox, with every billing request held for `--delay`
seconds, and LocalSlack, both on 127.0.0.1. Each app under test runs as its own process
pointed at them: first billing-bot (`python -m bot.cli serve`), then the plain Bolt app of
`bench/plain_bolt_app.py` in its two styles (answer in the ack after the API call; ack, call,
then respond). Each gets the same burst: half `usage my-project`, half distinct questions.
The bench prints ack latency, acks over Slack's 3 s, answers delivered, answer time and
upstream calls per distinct question, side by side. See bench/README.md.

Exit status: 0 when billing-bot meets the goals (ack p99 <= 50 ms, no ack over 3 s, every
answer delivered, one upstream call per distinct question), 1 when a goal is missed or an
app could not be run, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import zip_longest
from pathlib import Path
from typing import IO, Literal
from urllib.parse import urlencode, urlsplit

import httpx
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/burst.py` without the package installed
    sys.path.insert(0, str(ROOT))

from bench.export import (  # noqa: E402
    HOST,
    STARTUP_TIMEOUT,
    BenchError,
    bot_environment,
    free_port,
    start_bot,
    stop_bot,
    tail,
    wait_healthy,
)
from bot.devtools.fakeslack import LocalSlack, SlackCall, SlackSender, message_text  # noqa: E402
from bot.devtools.sandbox import RecordedRequest, Sandbox, start  # noqa: E402

PLAIN_APP = ROOT / "bench" / "plain_bolt_app.py"
IDENTICAL_PROJECT = "my-project"
IDENTICAL = f"usage {IDENTICAL_PROJECT}"
WARM_UP_PERIOD = "2099-12"
# Before the burst each app answers these (none is in the burst, none is cached for it), so
# that first-use costs (imports, auth.test, first connections) are not counted.
WARM_UP = (
    "help",
    f"contro summary {WARM_UP_PERIOD}",
    "usage warm-up-project",
    "payment-method warm-up-project",
)
EVENTS_PATH = "/slack/events"

SLACK_ACK_LIMIT = 3.0  # Slack shows the user an error past this
ACK_GOAL = 0.050  # billing-bot's ack p99 goal
ACK_WAIT = 10.0  # how long the bench waits for one HTTP answer
CONNECT_CONCURRENCY = 64  # connections opened at a time before the burst
POLL = 0.02  # how often LocalSlack's record is read for answers
# Text that marks a reply as an error, in either app (billing-bot's icons, the plain app's).
ERROR_MARKS = (":warning:", ":thinking_face:", ":gear:", ":no_entry:")
PLACEHOLDER = "Working on it"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

Kind = Literal["billing-bot", "ack-after", "respond"]


@dataclass(frozen=True)
class Contender:
    kind: Kind
    title: str


CONTENDERS: tuple[Contender, ...] = (
    Contender("billing-bot", "billing-bot"),
    Contender("ack-after", "plain Bolt: ack after the call"),
    Contender("respond", "plain Bolt: ack, call, respond"),
)


@dataclass
class Ack:
    """The HTTP answer to one slash command; `status` 0 when none came within ACK_WAIT."""

    status: int
    elapsed: float  # seconds from writing the request to reading the whole answer
    body: bytes
    sent_at: float  # time.perf_counter() when the request was written

    @property
    def in_time(self) -> bool:
        return self.status == 200 and self.elapsed <= SLACK_ACK_LIMIT

    def answer_text(self) -> str | None:
        """The answer carried by the ack itself (`ack(text)`), if any; Slack drops late ones."""
        if not self.in_time or not self.body:
            return None
        try:
            data = json.loads(self.body)
        except ValueError:
            return self.body.decode(errors="replace")
        if isinstance(data, dict):
            text = message_text(data)
            return text or None
        return None


@dataclass
class Delivery:
    text: str
    at: float  # seconds after the request was sent

    @property
    def is_error(self) -> bool:
        return self.text.lstrip().startswith(ERROR_MARKS)


@dataclass
class Figures:
    title: str
    requests: int
    distinct_questions: int
    acks: list[Ack]
    deliveries: list[Delivery | None]
    upstream: list[RecordedRequest]
    wall: float
    lone_ack: float  # one `help` on its own, before the burst

    # -- acks -------------------------------------------------------------------------------

    def ack_percentile(self, q: float) -> float:
        """Nearest-rank percentile of the ack latencies (inf for requests never answered)."""
        ordered = sorted(a.elapsed for a in self.acks)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    @property
    def ack_max(self) -> float:
        return max(a.elapsed for a in self.acks)

    @property
    def late_acks(self) -> int:
        return sum(1 for a in self.acks if not a.in_time)

    # -- answers ----------------------------------------------------------------------------

    @property
    def delivered(self) -> int:
        return sum(1 for d in self.deliveries if d is not None)

    @property
    def errors(self) -> int:
        return sum(1 for d in self.deliveries if d is not None and d.is_error)

    def answer_percentile(self, q: float) -> float | None:
        times = sorted(d.at for d in self.deliveries if d is not None)
        if not times:
            return None
        return times[max(0, math.ceil(q * len(times)) - 1)]

    # -- upstream ---------------------------------------------------------------------------

    @property
    def upstream_counts(self) -> Counter[str]:
        return Counter(request_key(r) for r in self.upstream)

    @property
    def repeated_calls(self) -> int:
        return len(self.upstream) - len(self.upstream_counts)

    @property
    def identical_calls(self) -> int:
        return sum(1 for r in self.upstream if is_identical_question(r))


# -- the questions ----------------------------------------------------------------------------


def questions(
    sandbox: Sandbox, count: int, *, distinct_only: bool = False
) -> tuple[list[str], int]:
    """The burst, identical and distinct questions interleaved, and how many are distinct.

    Half are `usage my-project`; the other half are all different: rate cards, projects'
    payment methods, other projects' usage, then Contro summaries of earlier and earlier
    months. `distinct_only`: every question different (`--distinct`).
    """
    identical = [] if distinct_only else [IDENTICAL] * (count // 2)
    wanted = count - len(identical)
    pool = [f"ratecard {method_id}" for method_id in sandbox.payment_method_ids().values()]
    projects = sandbox.project_names()
    pool += [
        f"payment-method {p}" for p in projects if sandbox.project_payment_method(p) is not None
    ]
    pool += [f"usage {p}" for p in projects if p != IDENTICAL_PROJECT]
    pool += [f"contro summary {period}" for period in periods(sandbox.now().date())]
    if len(pool) < wanted:
        raise ValueError(f"only {len(pool)} distinct questions are available")
    distinct = pool[:wanted]
    burst = [q for pair in zip_longest(identical, distinct) for q in pair if q is not None]
    return burst, len(set(burst))


def periods(today: date) -> Iterator[str]:
    """Billing periods the bot accepts (2000-01 to 2099-12), this month first, then earlier
    ones, then later ones; the warm-up's period is left out."""
    start = today.year * 12 + today.month - 1
    for index in [*range(start, 2000 * 12 - 1, -1), *range(start + 1, 2100 * 12)]:
        period = f"{index // 12:04d}-{index % 12 + 1:02d}"
        if period != WARM_UP_PERIOD:
            yield period


def request_key(request: RecordedRequest) -> str:
    """One upstream request as a comparable string: method, path, query and JSON body."""
    query = "&".join(f"{k}={v}" for k, v in sorted(request.query.items()))
    body = json.dumps(request.json, sort_keys=True) if request.json is not None else ""
    return f"{request.method} {request.path}?{query} {body}"


def is_identical_question(request: RecordedRequest) -> bool:
    """Whether the request serves `usage my-project` (its usage and its month's report)."""
    if request.path.endswith(f"/projects/{IDENTICAL_PROJECT}/usage"):
        return True
    body = request.json
    return (
        request.path.endswith("/organization/reports/usage")
        and isinstance(body, dict)
        and body.get("projectNames") == [IDENTICAL_PROJECT]
    )


# -- the burst ----------------------------------------------------------------------------------


def signed_command(
    verifier: SignatureVerifier, port: int, text: str, response_url: str, trigger_id: str, n: int
) -> bytes:
    """One whole HTTP/1.1 request, as Slack sends a slash command, signed."""
    form = {
        "token": "deprecated-verification-token",
        "team_id": "T0001",
        "team_domain": "demo",
        "channel_id": "C_GENERAL",
        "channel_name": "general",
        "user_id": f"U_BURST{n:04d}",
        "user_name": f"burst.{n}",
        "command": "/billing",
        "text": text,
        "api_app_id": "A0BILLING",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    body = urlencode(form).encode()
    timestamp = str(int(time.time()))
    signature = verifier.generate_signature(timestamp=timestamp, body=body)
    head = (
        f"POST {EVENTS_PATH} HTTP/1.1\r\n"
        f"Host: {HOST}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Slack-Request-Timestamp: {timestamp}\r\n"
        f"X-Slack-Signature: {signature}\r\n"
        "Connection: close\r\n"
        "\r\n"
    )
    return head.encode() + body


def parse_head(head: bytes) -> tuple[int, int | None]:
    """Status code and Content-Length (None: read to the end) of an HTTP/1.1 answer."""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return status, int(value.strip())
    return status, None


Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def open_connections(port: int, count: int) -> list[Stream]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one() -> Stream:
        async with gate:
            return await asyncio.open_connection(HOST, port)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def exchange(stream: Stream, payload: bytes, go: asyncio.Event, offset: float) -> Ack:
    reader, writer = stream
    await go.wait()
    if offset > 0:
        await asyncio.sleep(offset)
    sent_at = time.perf_counter()
    try:
        writer.write(payload)
        async with asyncio.timeout(ACK_WAIT):
            status, length = parse_head(await reader.readuntil(b"\r\n\r\n"))
            body = await (reader.read() if length is None else reader.readexactly(length))
        return Ack(status, time.perf_counter() - sent_at, body, sent_at)
    except (TimeoutError, OSError, ValueError, IndexError, asyncio.IncompleteReadError):
        return Ack(0, math.inf, b"", sent_at)
    finally:
        writer.close()


async def fire(streams: list[Stream], payloads: list[bytes], spread: float) -> list[Ack]:
    """Write every request at once (one loop turn), or evenly over `spread` seconds; then
    collect the answers."""
    go = asyncio.Event()
    step = spread / len(payloads)
    tasks = [
        asyncio.ensure_future(exchange(stream, payload, go, n * step))
        for n, (stream, payload) in enumerate(zip(streams, payloads, strict=True))
    ]
    await asyncio.sleep(0)  # every task is now waiting for `go`
    go.set()
    return list(await asyncio.gather(*tasks))


class AnswerWatch:
    """When each request's final answer was first seen on its response URL ("Working on it"
    placeholders are not answers), from LocalSlack's record read every POLL seconds."""

    def __init__(self, slack: LocalSlack, after: int, paths: list[str]) -> None:
        self._slack = slack
        self._seen = after
        self._index = {path: i for i, path in enumerate(paths)}
        self.answers: list[tuple[str, float] | None] = [None] * len(paths)

    @property
    def complete(self) -> bool:
        return all(answer is not None for answer in self.answers)

    def poll(self) -> None:
        calls = self._slack.calls
        now = time.perf_counter()
        for call in calls[self._seen :]:
            self._take(call, now)
        self._seen = len(calls)

    def _take(self, call: SlackCall, now: float) -> None:
        if call.kind != "response" or not call.ok:
            return
        i = self._index.get(call.method)
        if i is None or self.answers[i] is not None:
            return
        text = message_text(call.body)
        if PLACEHOLDER not in text:
            self.answers[i] = (text, now)


# -- the apps -----------------------------------------------------------------------------------


async def start_plain(
    style: Kind, port: int, env: dict[str, str], workdir: str, log: IO[bytes]
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(PLAIN_APP),
        "--host",
        HOST,
        "--port",
        str(port),
        "--style",
        style,
        cwd=workdir,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )


async def wait_listening(url: str, app: asyncio.subprocess.Process) -> None:
    """Until `url` answers HTTP at all (the plain app has no /healthz)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if app.returncode is not None:
                raise BenchError(f"the app exited with status {app.returncode} while starting")
            with contextlib.suppress(httpx.HTTPError):
                await client.get(url)
                return
            await asyncio.sleep(0.1)
    raise BenchError(f"the app did not answer HTTP within {STARTUP_TIMEOUT:g} s")


async def warm_up(sender: SlackSender, slack: LocalSlack, wait: float) -> None:
    """Ask WARM_UP at once and wait for every answer (in the ack or on its response URL)."""

    async def ask(text: str) -> None:
        sent = await sender.command(text, user_id="U_WARMUP")
        if sent.status != 200:
            raise BenchError(f"`/billing {text}` answered HTTP {sent.status}: {sent.body[:200]}")
        if sent.body.strip():
            return  # answered in the ack
        path = urlsplit(sent.response_url).path

        def answered(call: SlackCall) -> bool:
            return (
                call.kind == "response"
                and call.method == path
                and PLACEHOLDER not in message_text(call.body)
            )

        try:
            await slack.wait_for(answered, timeout=wait)
        except TimeoutError:
            raise BenchError(f"no answer to the warm-up `/billing {text}`") from None

    await asyncio.gather(*(ask(text) for text in WARM_UP))


@dataclass
class Stage:
    sandbox: Sandbox
    sandbox_base: str
    slack: LocalSlack
    workdir: str
    signing_secret: str
    burst: list[str]
    distinct: int
    delay: float
    answer_timeout: float
    quiet: float
    spread: float
    contro_rate: int = 900


async def follow(
    stage: Stage,
    watch: AnswerWatch,
    burst: asyncio.Future[list[Ack]],
    app: asyncio.subprocess.Process,
    title: str,
) -> None:
    """Until every ack and every answer is in; or every ack is in and neither Slack nor the
    billing API has heard anything for `stage.quiet` seconds; or `stage.answer_timeout`."""
    started = time.perf_counter()
    activity: tuple[int, int, bool] = (-1, -1, False)
    last_activity = started
    while True:
        await asyncio.sleep(POLL)
        watch.poll()
        now = time.perf_counter()
        if (watch.complete and burst.done()) or now - started > stage.answer_timeout:
            return
        seen = (len(stage.slack.calls), len(stage.sandbox.requests), burst.done())
        if seen != activity:
            activity, last_activity = seen, now
        elif burst.done() and now - last_activity > stage.quiet:
            return
        if app.returncode is not None:
            raise BenchError(f"{title} exited with status {app.returncode}")


async def run_contender(stage: Stage, contender: Contender) -> Figures:
    sandbox, slack = stage.sandbox, stage.slack
    port = free_port()
    env = bot_environment(
        slack_api_url=slack.api_url,
        signing_secret=stage.signing_secret,
        sandbox_base=stage.sandbox_base,
        sandbox=sandbox,
        extra={"CONTRO_MAX_REQUESTS_PER_MINUTE": str(stage.contro_rate)},
    )
    log_path = Path(stage.workdir) / f"{contender.kind}.log"
    url = f"http://{HOST}:{port}"
    app: asyncio.subprocess.Process | None = None
    sender = SlackSender(url, stage.signing_secret, slack)
    try:
        with log_path.open("wb") as log:
            if contender.kind == "billing-bot":
                app = await start_bot(port, env, stage.workdir, log)
            else:
                app = await start_plain(contender.kind, port, env, stage.workdir, log)
        if contender.kind == "billing-bot":
            await wait_healthy(url, app)
        else:
            await wait_listening(f"{url}{EVENTS_PATH}", app)
        sandbox.delay = 0.0  # warming up is about first uses, not about a slow API
        await warm_up(sender, slack, stage.answer_timeout)
        lone = await sender.command("help", user_id="U_LONE")
        if lone.status != 200:
            raise BenchError(f"`/billing help` answered HTTP {lone.status}")
        await asyncio.sleep(0.2)  # its answer, if it comes by response URL, is out of the way

        sandbox.delay = stage.delay
        sandbox.clear()
        after = len(slack.calls)
        verifier = SignatureVerifier(stage.signing_secret)
        response_urls = [slack.response_url(channel_id="C_GENERAL") for _ in stage.burst]
        payloads = [
            signed_command(verifier, port, text, response_url, slack.trigger_id(), n)
            for n, (text, response_url) in enumerate(zip(stage.burst, response_urls, strict=True))
        ]
        streams = await open_connections(port, len(payloads))
        await asyncio.sleep(0.2)  # let the app accept every connection before the burst

        started = time.perf_counter()
        watch = AnswerWatch(slack, after, [urlsplit(u).path for u in response_urls])
        burst = asyncio.ensure_future(fire(streams, payloads, stage.spread))
        await follow(stage, watch, burst, app, contender.title)
        acks = await burst
        wall = time.perf_counter() - started

        deliveries: list[Delivery | None] = []
        for ack, answer in zip(acks, watch.answers, strict=True):
            in_ack = ack.answer_text()
            if in_ack is not None:
                deliveries.append(Delivery(in_ack, ack.elapsed))
            elif answer is not None:
                text, seen_at = answer
                deliveries.append(Delivery(text, seen_at - ack.sent_at))
            else:
                deliveries.append(None)
        return Figures(
            title=contender.title,
            requests=len(stage.burst),
            distinct_questions=stage.distinct,
            acks=acks,
            deliveries=deliveries,
            upstream=list(sandbox.requests),
            wall=wall,
            lone_ack=lone.elapsed,
        )
    except (BenchError, TimeoutError) as error:
        raise BenchError(f"{contender.title}: {error}\n{tail(log_path)}") from None
    finally:
        await sender.aclose()
        if app is not None:
            await stop_bot(app)
        sandbox.clear()


# -- the report ---------------------------------------------------------------------------------


def ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if math.isinf(seconds):
        return "no answer"
    if seconds < 1.0:
        return f"{seconds * 1000:,.0f} ms"
    return f"{seconds:,.2f} s"


def table(rows: Iterable[tuple[str, list[str]]], titles: list[str]) -> str:
    lines = [
        "| | " + " | ".join(titles) + " |",
        "| --- | " + " | ".join("---:" for _ in titles) + " |",
    ]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in rows]
    return "\n".join(lines)


def report(figures: list[Figures], identical_asked: int) -> str:
    def each(cell: Callable[[Figures], str]) -> list[str]:
        return [cell(f) for f in figures]

    rows: list[tuple[str, list[str]]] = [
        ("ack of one command alone (`help`)", each(lambda f: ms(f.lone_ack))),
        ("ack p50", each(lambda f: ms(f.ack_percentile(0.50)))),
        ("ack p99", each(lambda f: ms(f.ack_percentile(0.99)))),
        ("ack max", each(lambda f: ms(f.ack_max))),
        ("acks over 3 s (or failed)", each(lambda f: f"{f.late_acks} of {f.requests}")),
        ("answers delivered", each(lambda f: f"{f.delivered} of {f.requests}")),
        ("… of which errors", each(lambda f: str(f.errors))),
        (
            "answer p50 / max",
            each(lambda f: f"{ms(f.answer_percentile(0.5))} / {ms(f.answer_percentile(1.0))}"),
        ),
        ("upstream calls", each(lambda f: str(len(f.upstream)))),
        (
            "upstream calls per distinct question",
            each(lambda f: f"{len(f.upstream) / f.distinct_questions:.2f}"),
        ),
        (
            f"calls for `{IDENTICAL}` (asked {identical_asked}×)",
            each(lambda f: str(f.identical_calls)),
        ),
        ("repeated upstream requests", each(lambda f: str(f.repeated_calls))),
    ]
    return table(rows, [f.title for f in figures])


def goals(bot: Figures) -> list[tuple[str, bool, str]]:
    p99 = bot.ack_percentile(0.99)
    return [
        ("ack p99 <= 50 ms", p99 <= ACK_GOAL, ms(p99)),
        ("no ack over 3 s", bot.late_acks == 0, f"{bot.late_acks} over 3 s or failed"),
        (
            "every answer delivered",
            bot.delivered == bot.requests and bot.errors == 0,
            f"{bot.delivered} of {bot.requests} delivered, {bot.errors} errors",
        ),
        (
            "one upstream call per distinct question",
            bot.repeated_calls == 0,
            f"{len(bot.upstream)} calls for {len(bot.upstream_counts)} distinct upstream "
            f"requests ({bot.repeated_calls} repeated)",
        ),
    ]


# -- the run ------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    contenders = [c for c in CONTENDERS if c.kind == "billing-bot" or c.kind in args.plain]
    sandbox = Sandbox()
    sandbox_runner, sandbox_base = await start(sandbox, HOST, 0)
    slack = LocalSlack()
    workdir = tempfile.TemporaryDirectory(prefix="billing-bot-burst-")
    try:
        await slack.start(HOST, 0)
        burst, distinct = questions(sandbox, args.requests, distinct_only=args.distinct)
        identical_asked = burst.count(IDENTICAL)
        stage = Stage(
            sandbox=sandbox,
            sandbox_base=sandbox_base,
            slack=slack,
            workdir=workdir.name,
            signing_secret="burst-" + "0" * 26,
            burst=burst,
            distinct=distinct,
            delay=args.delay,
            answer_timeout=max(30.0, 6 * args.delay + 15.0, len(burst) * 0.1 + 15.0),
            quiet=args.delay + 2.0,
            spread=args.spread,
            contro_rate=args.contro_rate,
        )
        print(
            f"billing-bot burst benchmark: {len(burst)} concurrent /billing commands "
            f"({identical_asked} × `{IDENTICAL}`, {len(burst) - identical_asked} distinct; "
            f"{distinct} distinct questions), upstream delay {args.delay:g} s"
            + (f", sent over {args.spread:g} s" if args.spread else ", sent at once")
        )
        print(f"  sandbox {sandbox_base}, Slack {slack.base_url}", flush=True)
        figures: list[Figures] = []
        try:
            async with asyncio.timeout(args.time_limit):
                for contender in contenders:
                    print(f"  {contender.title} …", end="", flush=True)
                    result = await run_contender(stage, contender)
                    figures.append(result)
                    print(f" done in {result.wall:.1f} s", flush=True)
        except TimeoutError:
            print(f"\nFAILED: the run took over {args.time_limit:g} s", file=sys.stderr)
            return EXIT_FAILED
        except BenchError as error:
            print(f"\nFAILED: {error}", file=sys.stderr)
            return EXIT_FAILED

        print()
        print(report(figures, identical_asked))
        print()
        print("billing-bot goals:")
        missed = []
        for name, met, detail in goals(figures[0]):
            print(f"  {'met   ' if met else 'MISSED'}  {name}: {detail}")
            if not met:
                missed.append(name)
        if missed:
            print(f"FAILED: billing-bot missed {', '.join(missed)}", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK
    finally:
        await slack.aclose()
        await sandbox_runner.cleanup()
        workdir.cleanup()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/burst.py",
        description="A burst of concurrent /billing commands: billing-bot vs a plain Bolt app.",
    )
    parser.add_argument(
        "--requests", type=int, default=200, help="commands in the burst (default 200)"
    )
    parser.add_argument(
        "--delay", type=float, default=2.0, help="seconds every billing request takes (default 2)"
    )
    parser.add_argument(
        "--spread",
        type=float,
        default=0.0,
        help="send the commands evenly over this many seconds (default 0: all at once)",
    )
    parser.add_argument(
        "--plain",
        nargs="*",
        choices=("ack-after", "respond"),
        default=["ack-after", "respond"],
        help="plain Bolt styles to compare with (default both; none: billing-bot only)",
    )
    parser.add_argument(
        "--contro-rate",
        type=int,
        default=900,
        help="billing-bot's CONTRO_MAX_REQUESTS_PER_MINUTE (default 900; 0: unpaced)",
    )
    parser.add_argument(
        "--distinct",
        action="store_true",
        help="every question different (no `usage my-project` half)",
    )
    parser.add_argument(
        "--time-limit", type=float, default=150.0, help="give up after this (default 150 s)"
    )
    args = parser.parse_args(argv)
    if not 2 <= args.requests <= 2000:
        parser.error("--requests must be between 2 and 2000")
    if args.delay < 0:
        parser.error("--delay must not be negative")
    if args.spread < 0:
        parser.error("--spread must not be negative")
    if args.time_limit <= 0:
        parser.error("--time-limit must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run(args))
    except ValueError as error:  # e.g. more distinct questions than there are
        print(f"bench/burst.py: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
