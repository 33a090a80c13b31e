"""The probes and the metrics, one set of routes for both modes: `GET /livez` (the process
and its event loop serve), `GET /readyz` (every backend answers and shutdown has not begun),
`GET /healthz` (the backends, as before `/readyz` existed) and `GET /metrics` (Prometheus'
text format, from what the bot holds: no API is called).

`serve` adds them beside `POST /slack/events` (`bot.slack.server`). `socket` has no HTTP
server of its own: with `HEALTH_PORT` set it serves these routes alone (`start_probe_server`).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.observe.metrics import CONTENT_TYPE
from bot.slack.app import BillingBot

# Set once shutdown has begun: /readyz answers 503 from then on.
DRAINING = web.AppKey("draining", asyncio.Event)


def add_probes(web_app: web.Application, bot: BillingBot) -> None:
    """The probe routes and `/metrics` on `web_app`, and its DRAINING event (unset)."""
    web_app[DRAINING] = asyncio.Event()

    async def metrics_text(_: web.Request) -> web.Response:
        """The metrics, in Prometheus' text format: from what the bot holds, no API called."""
        return web.Response(body=bot.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})

    async def healthz(_: web.Request) -> web.Response:
        """200 when every backend (Redis, or SQLite without it) answers, 503 when one does not."""
        backends = await bot.backends.health()
        ok = all(backends.values())
        return web.json_response({"ok": ok, "backends": backends}, status=200 if ok else 503)

    async def livez(_: web.Request) -> web.Response:
        """200 while the process and its event loop serve: nothing else is checked, so that a
        Redis outage does not get every replica restarted."""
        return web.json_response({"ok": True})

    async def readyz(_: web.Request) -> web.Response:
        """200 when every backend answers and shutdown has not begun; 503 otherwise."""
        draining = web_app[DRAINING].is_set()
        backends = await bot.backends.health()
        ok = all(backends.values()) and not draining
        body = {"ok": ok, "draining": draining, "backends": backends}
        return web.json_response(body, status=200 if ok else 503)

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/livez", livez)
    web_app.router.add_get("/readyz", readyz)
    web_app.router.add_get("/metrics", metrics_text)


async def start_probe_server(bot: BillingBot, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Socket Mode's HTTP listener: the probes and `/metrics` on host:port (0: any free port),
    nothing else. Returns the runner (its `cleanup` turns /readyz to 503 first) and the base
    URL."""
    web_app = web.Application()
    add_probes(web_app, bot)

    async def not_ready(app: web.Application) -> None:
        app[DRAINING].set()

    web_app.on_shutdown.append(not_ready)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner, f"http://{host}:{runner.addresses[0][1]}"
