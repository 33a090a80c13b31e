"""HTTP mode: one aiohttp server for `POST /slack/events` and `GET /healthz`."""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from bot.app import BillingBot

EVENTS_PATH = "/slack/events"


def create_web_app(bot: BillingBot) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await bot.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def healthz(_: web.Request) -> web.Response:
        """200 when every configured backend (Redis) answers, 503 when one does not."""
        backends = await bot.backends.health()
        ok = all(backends.values())
        return web.json_response({"ok": ok, "backends": backends}, status=200 if ok else 503)

    async def close_bot(_: web.Application) -> None:
        await bot.aclose()

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, slack_events)
    web_app.router.add_get("/healthz", healthz)
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
