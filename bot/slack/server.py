"""HTTP mode: one aiohttp server for `POST /slack/events`, and the probes and `/metrics` of
`bot.slack.probes` (`GET /livez`, `/readyz`, `/healthz`, `/metrics`), the same as Socket
Mode's `HEALTH_PORT` serves.

Slash commands are acknowledged before Bolt sees them. `/billing` always acks with an empty
200, but Bolt's dispatch (parsing, middleware, listener matching) costs about 0.3 ms of CPU
per request and then polls every 10 ms for the listener's `ack()`, so with a burst of
commands arriving at once each ack would wait behind the dispatch of every earlier one. Here
a command with a valid signature gets its empty 200 at once; Bolt dispatches it afterwards
(checking the signature again), one command per event-loop turn, so that commands still
arriving are acked first (bench/README.md, "burst"). Everything else (clicks, form
submissions, events) is answered by Bolt as usual: those acks can carry content, such as a
form's errors.

The cost: Slack gets that 200 whatever Bolt would have answered. A command no listener
handles is only logged, and `/billing`'s listener cannot put anything in its ack.

Every request is verified here first, on its raw bytes, before anything is decoded: an
unsigned one gets 401 whatever it holds. A signed one that is not shaped as Slack sends it
(bad JSON, a payload that is not an object...) gets 400, with one warning line and no
traceback. A body that trickles in is cut off after BODY_SECONDS, an idle or half-sent
connection after IDLE_SECONDS (docs/deployment.md: what the proxy in front should add).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
from collections import deque
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.request.async_request import AsyncBoltRequest

from bot import preflight
from bot.observe import labels
from bot.slack.app import BillingBot
from bot.slack.inflight import answering, answers_in_progress, track_answers, wait_for_answers
from bot.slack.probes import DRAINING, add_probes

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# The `command` field of a slash command's form. In a form body `&` and `=` inside values are
# percent-encoded, so this matches the field itself, never text the user typed.
SLASH_COMMAND_FIELD = re.compile(r"(?:^|&)command=")
# On shutdown, answers already acknowledged get this long to reach Slack before the clients
# close. (A very long export is cut off; its user sees the "preparing" message stay.)
DRAIN_SECONDS = 25.0
# Slack sends its few kilobytes at once: a body still arriving after this is a stalling client
# (slowloris), whose connection is closed.
BODY_SECONDS = 10.0
# An idle connection is closed after this, and (aiohttp >= 3.14.4) so is one whose request
# headers are not complete by then. Longer than the idle timeout of the proxies in front
# (AWS ALB, nginx: 60 s), so that the proxy, not the bot, closes a kept-alive connection.
IDLE_SECONDS = 75.0
# Slack's rule: a request signed more than five minutes ago is a replay.
SIGNATURE_MAX_AGE_SECONDS = 300
# Top-level fields that Bolt reads as objects when they are present.
_OBJECT_FIELDS = ("event", "view", "user", "team", "channel", "container", "message")


def is_signed(secret: bytes, body: bytes, timestamp: str | None, signature: str | None) -> bool:
    """Slack's v0 signature, checked on the raw bytes: nothing is decoded or parsed before the
    sender is known, so a malformed unsigned request is a plain 401, never an exception."""
    if timestamp is None or signature is None:
        return False
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    if abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def malformed(body: Any) -> str | None:
    """What in a signed request's parsed body is not shaped as Slack sends it, or None."""
    if not isinstance(body, dict):
        return "the body is not an object"
    for name in _OBJECT_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], dict):
            return f"{name} is not an object"
    if "actions" in body:
        actions = body["actions"]
        if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
            return "actions is not a list of objects"
        if not actions:
            return "actions is empty"
    view = body.get("view") or {}
    if not isinstance(view.get("state", {}), dict) or not isinstance(
        view.get("private_metadata", ""), str
    ):
        return "the view's state or metadata is of the wrong type"
    return None


async def drain(seconds: float) -> int:
    """At shutdown: wait, at most `seconds`, for answers in progress; how many were cut off."""
    if running := len(answers_in_progress()):
        log.info("shutting down: finishing %d answers in progress", running)
    if cut := await wait_for_answers(seconds):
        log.warning("shutting down: %d answers did not finish in time", cut)
    return cut


def create_web_app(bot: BillingBot, *, body_seconds: float = BODY_SECONDS) -> web.Application:
    # No server without a real signing secret: an unsigned request is never obeyed.
    secret = preflight.signing_secret(bot.settings.slack_signing_secret).encode()
    acknowledged: deque[AsyncBoltRequest] = deque()  # commands acked, not yet handed to Bolt
    metrics = bot.metrics
    metrics.gauge_source(
        "billing_bot_commands_waiting",
        "Slash commands acknowledged and not yet handed to Bolt.",
        (),
        lambda: [((), len(acknowledged))],
        replace=True,
    )
    metrics.gauge_source(
        "billing_bot_answers_in_progress",
        "Answers being made (what a shutdown waits for).",
        (),
        lambda: [((), len(answers_in_progress()))],  # scraped on the loop: /metrics
        replace=True,
    )
    starter: asyncio.Task[None] | None = None  # runs while `acknowledged` is not empty
    dispatching: set[asyncio.Task[None]] = set()  # held here: the loop keeps weak references

    async def dispatch(request: AsyncBoltRequest) -> None:
        with metrics.span("slack command", {"billing_bot.request_kind": "command"}):
            bolt_response = await bot.app.async_dispatch(request)
        if bolt_response.status != 200:  # e.g. a command no listener is registered for
            log.warning("an acknowledged slash command got HTTP %d from Bolt", bolt_response.status)

    async def dispatch_in_turn() -> None:
        nonlocal starter
        while acknowledged:
            task = asyncio.create_task(dispatch(acknowledged.popleft()))
            dispatching.add(task)
            task.add_done_callback(dispatching.discard)
            await asyncio.sleep(0)  # requests that arrived meanwhile are acked first
        starter = None

    async def slack_events(request: web.Request) -> web.Response:
        with metrics.span("slack request", {"http.route": EVENTS_PATH}) as note:
            response, kind = await slack_request(request, time.perf_counter())
            note("http.response.status_code", response.status)
            note("billing_bot.request_kind", kind)
            return response

    async def slack_request(request: web.Request, started: float) -> tuple[web.Response, str]:
        """The response, and the request's kind (`bot.observe.labels.request_kind`)."""
        nonlocal starter
        try:
            async with asyncio.timeout(body_seconds):
                body = await request.read()
        except TimeoutError:
            log.warning("a request body took over %.0f s: connection closed", body_seconds)
            metrics.refused_request("slow")
            slow = web.Response(status=408, text="request body too slow")
            slow.force_close()
            return slow, "refused"
        headers = request.headers
        if not is_signed(
            secret, body, headers.get("X-Slack-Request-Timestamp"), headers.get("X-Slack-Signature")
        ):
            metrics.refused_request("unsigned")
            # Bolt's answer
            return web.json_response({"error": "invalid request"}, status=401), "refused"
        # Signed, so from Slack: what follows is parsed. Slack sends UTF-8, whatever the charset.
        try:
            text = body.decode("utf-8")
            bolt_request = AsyncBoltRequest(
                body=text,
                query=request.query_string,
                headers=headers,  # type: ignore[arg-type]
            )
            problem = malformed(bolt_request.body)
        except (ValueError, TypeError, AttributeError, LookupError, RecursionError) as exc:
            problem = f"it cannot be parsed ({type(exc).__name__})"
        if problem is not None:
            log.warning("refused a signed request: %s", problem)
            metrics.refused_request("malformed")
            return web.json_response({"error": "malformed request"}, status=400), "refused"
        if (
            request.content_type == "application/x-www-form-urlencoded"
            and SLASH_COMMAND_FIELD.search(text) is not None
        ):
            acknowledged.append(bolt_request)
            if starter is None:
                with answering():
                    starter = asyncio.create_task(dispatch_in_turn())
            metrics.ack("command", time.perf_counter() - started)
            return web.Response(content_type="text/plain"), "command"  # Bolt's for `ack()`
        with answering():  # what Bolt starts for this request is an answer in progress
            bolt_response = await bot.app.async_dispatch(bolt_request)
        kind = labels.request_kind(bolt_request.body.get("type"))
        metrics.ack(kind, time.perf_counter() - started)
        return await to_aiohttp_response(bolt_response), kind

    async def finish_answers(_: web.Application) -> None:
        web_app[DRAINING].set()
        # Runs once the listening socket is closed: no new request, only work in progress.
        await bot.stop_background()
        await drain(DRAIN_SECONDS)

    async def close_bot(_: web.Application) -> None:
        await bot.aclose()

    async def recover_changes(_: web.Application) -> None:
        bot.start_recovery()

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, slack_events)
    add_probes(web_app, bot)  # /livez, /readyz, /healthz, /metrics: as in Socket Mode
    web_app.on_startup.append(recover_changes)
    web_app.on_shutdown.append(finish_answers)
    web_app.on_cleanup.append(close_bot)
    return web_app


class GracefulRunner(web.AppRunner):
    """Its `cleanup` (on SIGTERM) first turns /readyz to 503 and keeps serving for
    `ready_grace_seconds`, for the load balancer to notice, then stops listening and drains."""

    def __init__(self, app: web.Application, *, ready_grace_seconds: float, **kwargs: Any):
        super().__init__(app, **kwargs)
        self.ready_grace_seconds = ready_grace_seconds

    async def cleanup(self) -> None:
        self.app[DRAINING].set()
        if self.ready_grace_seconds:
            log.info("shutting down: not ready, still serving for %.0f s", self.ready_grace_seconds)
            await asyncio.sleep(self.ready_grace_seconds)
        await super().cleanup()


async def start_server(
    bot: BillingBot,
    host: str,
    port: int,
    *,
    body_seconds: float = BODY_SECONDS,
    idle_seconds: float = IDLE_SECONDS,
    ready_grace_seconds: float | None = None,
) -> tuple[web.AppRunner, str]:
    """Serve `bot` on host:port (0: any free port). Returns the runner and the base URL."""
    track_answers(asyncio.get_running_loop())
    runner = GracefulRunner(
        create_web_app(bot, body_seconds=body_seconds),
        ready_grace_seconds=(
            bot.settings.ready_grace_seconds if ready_grace_seconds is None else ready_grace_seconds
        ),
        access_log=None,
        keepalive_timeout=idle_seconds,
        # A body left unread belongs to a refused request: its connection is closed at once,
        # rather than read on for aiohttp's 10 s of lingering.
        lingering_time=0,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    return runner, f"http://{host}:{bound_port}"
