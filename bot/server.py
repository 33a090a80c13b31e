"""HTTP mode: one aiohttp server for `POST /slack/events` and `GET /healthz`."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import slack_bolt
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from bot.app import BillingBot

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# On shutdown, answers already acknowledged get this long to reach Slack before the clients
# close. (A very long export is cut off; its user sees the "preparing" message stay.)
DRAIN_SECONDS = 25.0


# Code whose tasks are answers in progress: Bolt's listener runs and the bot's own work.
_ANSWER_CODE = (
    str(Path(slack_bolt.__file__).parent),
    str(Path(__file__).parent),  # bot/
    str(Path(__file__).parent.parent / "handlers"),
)


def _is_answer(task: asyncio.Task[object]) -> bool:
    """Work the bot started (listeners, answers, uploads), not aiohttp's connections nor
    whoever is waiting for the shutdown."""
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and code.co_filename.startswith(_ANSWER_CODE)


async def drain(seconds: float) -> int:
    """Wait, at most `seconds`, for answers in progress; how many were cut off."""
    current = asyncio.current_task()
    pending = {
        t for t in asyncio.all_tasks() if t is not current and not t.done() and _is_answer(t)
    }
    if not pending:
        return 0
    log.info("shutting down: finishing %d answers in progress", len(pending))
    _, unfinished = await asyncio.wait(pending, timeout=seconds)
    if unfinished:
        log.warning("shutting down: %d answers did not finish in time", len(unfinished))
    return len(unfinished)


def create_web_app(bot: BillingBot) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await bot.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def healthz(_: web.Request) -> web.Response:
        """200 when every configured backend (Redis) answers, 503 when one does not."""
        backends = await bot.backends.health()
        ok = all(backends.values())
        return web.json_response({"ok": ok, "backends": backends}, status=200 if ok else 503)

    async def finish_answers(_: web.Application) -> None:
        # Runs once the listening socket is closed: no new request, only work in progress.
        await drain(DRAIN_SECONDS)

    async def close_bot(_: web.Application) -> None:
        await bot.aclose()

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, slack_events)
    web_app.router.add_get("/healthz", healthz)
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
