"""HTTP mode: one aiohttp server for `POST /slack/events` and `GET /healthz`.

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
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_sdk.signature import SignatureVerifier

from bot.app import BillingBot
from bot.inflight import answers_in_progress, wait_for_answers

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# The `command` field of a slash command's form. In a form body `&` and `=` inside values are
# percent-encoded, so this matches the field itself, never text the user typed.
SLASH_COMMAND_FIELD = re.compile(r"(?:^|&)command=")
# On shutdown, answers already acknowledged get this long to reach Slack before the clients
# close. (A very long export is cut off; its user sees the "preparing" message stay.)
DRAIN_SECONDS = 25.0


async def drain(seconds: float) -> int:
    """At shutdown: wait, at most `seconds`, for answers in progress; how many were cut off."""
    if running := len(answers_in_progress()):
        log.info("shutting down: finishing %d answers in progress", running)
    if cut := await wait_for_answers(seconds):
        log.warning("shutting down: %d answers did not finish in time", cut)
    return cut


def create_web_app(bot: BillingBot) -> web.Application:
    secret = bot.settings.slack_signing_secret
    verifier = SignatureVerifier(secret.get_secret_value()) if secret else None
    acknowledged: deque[web.Request] = deque()  # commands acked, not yet handed to Bolt
    starter: asyncio.Task[None] | None = None  # runs while `acknowledged` is not empty
    dispatching: set[asyncio.Task[None]] = set()  # held here: the loop keeps weak references

    async def dispatch(request: web.Request) -> None:
        bolt_response = await bot.app.async_dispatch(await to_bolt_request(request))
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

    def is_signed_command(request: web.Request, body: str) -> bool:
        return (
            verifier is not None
            and request.content_type == "application/x-www-form-urlencoded"
            and SLASH_COMMAND_FIELD.search(body) is not None
            and verifier.is_valid(
                body,
                request.headers.get("X-Slack-Request-Timestamp"),
                request.headers.get("X-Slack-Signature"),
            )
        )

    async def slack_events(request: web.Request) -> web.Response:
        nonlocal starter
        if is_signed_command(request, await request.text()):  # the body stays read for Bolt
            acknowledged.append(request)
            if starter is None:
                starter = asyncio.create_task(dispatch_in_turn())
            return web.Response(content_type="text/plain")  # what Bolt sends for `ack()`
        bolt_response = await bot.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def healthz(_: web.Request) -> web.Response:
        """200 when every configured backend (Redis) answers, 503 when one does not."""
        backends = await bot.backends.health()
        ok = all(backends.values())
        return web.json_response({"ok": ok, "backends": backends}, status=200 if ok else 503)

    async def finish_answers(_: web.Application) -> None:
        # Runs once the listening socket is closed: no new request, only work in progress.
        await bot.stop_background()
        await drain(DRAIN_SECONDS)

    async def close_bot(_: web.Application) -> None:
        await bot.aclose()

    async def recover_changes(_: web.Application) -> None:
        bot.start_recovery()

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, slack_events)
    web_app.router.add_get("/healthz", healthz)
    web_app.on_startup.append(recover_changes)
    web_app.on_shutdown.append(finish_answers)
    web_app.on_cleanup.append(close_bot)
    return web_app


async def start_server(bot: BillingBot, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Serve `bot` on host:port (0: any free port). Returns the runner and the base URL."""
    runner = web.AppRunner(create_web_app(bot), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    return runner, f"http://{host}:{bound_port}"
