"""billing-bot serve | socket | check | demo | sandbox | --version"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import sys
from collections.abc import Sequence
from importlib.metadata import version

from pydantic import SecretStr, ValidationError

from bot import preflight
from bot.config import Settings
from bot.logs import configure_logging
from bot.preflight import WHERE_TO_FIND_IT, ConfigError

log = logging.getLogger("bot.cli")  # not __name__: `python -m bot.cli` runs it as __main__

# What to do about a required variable that is missing or blank.
_WHERE = {
    "slack_signing_secret": WHERE_TO_FIND_IT,
    "slack_bot_token": "set it to the Bot User OAuth Token (xoxb-…, OAuth & Permissions)",
    "slack_app_token": "set it to an app-level token (xapp-…, scope connections:write)",
}


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None


def _require(settings: Settings, *names: str) -> None:
    """Each of `names` set, and not to an empty or blank value."""
    missing = [n for n in names if not _filled(getattr(settings, n))]
    if missing:
        raise ConfigError(
            "; ".join(
                f"{n.upper()} is empty or not set (environment or .env): {_WHERE.get(n, 'set it')}"
                for n in missing
            )
        )


def _filled(value: object) -> bool:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return isinstance(value, str) and bool(value.strip())


def _announce(line: str, settings: Settings) -> None:
    """A line for the operator: on stdout, or with JSON logs a log line like every other."""
    if settings.log_format == "json":
        log.info(line)
    else:
        print(line, flush=True)


async def _serve(host: str, port: int) -> None:
    from bot.slack.app import build_app
    from bot.slack.server import start_server

    settings = _settings()
    _require(settings, "slack_signing_secret", "slack_bot_token")
    configure_logging(fmt=settings.log_format)
    await preflight.check(settings, serving_http=True)
    bot = build_app(settings)
    runner, url = await start_server(bot, host, port)
    bot.start_background()
    _announce(f"billing-bot listening on {url}/slack/events (health: {url}/healthz)", settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
        _announce("billing-bot stopping: finishing answers in progress", settings)
    finally:
        # stop listening, finish acknowledged answers (bounded), close the clients
        await runner.cleanup()


class _OneLineFailures(logging.Filter):
    """slack-sdk logs each failed Socket Mode connection as an error with its traceback, and
    retries: one warning line per attempt instead, naming the error. (Other records keep
    their traceback.)"""

    FAILED = re.compile(r"Failed to connect \(error: (.*)\); Retrying", re.DOTALL)

    def filter(self, record: logging.LogRecord) -> bool:
        failed = self.FAILED.match(record.getMessage())
        if failed is not None:
            record.msg, record.args = "could not connect to Slack (%s); retrying", (failed[1],)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


async def _socket() -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.slack.app import build_app
    from bot.slack.probes import start_probe_server

    settings = _settings()
    _require(settings, "slack_app_token", "slack_bot_token")
    configure_logging(fmt=settings.log_format)
    await preflight.check(settings, serving_http=False)
    assert settings.slack_app_token is not None
    bot = build_app(settings)
    probes = None
    if settings.health_port is not None:  # no HTTP server otherwise: the probes on a port
        try:
            probes, url = await start_probe_server(bot, settings.health_host, settings.health_port)
        except OSError as exc:
            await bot.aclose()
            raise ConfigError(
                f"HEALTH_PORT: cannot listen on {settings.health_host}:{settings.health_port}"
                f" ({exc.strerror or exc}): choose a free port, or unset it"
            ) from None
        _announce(f"billing-bot probes on {url}/livez, /readyz, /healthz, /metrics", settings)
    bot.start_background()
    socket_log = logging.getLogger("billing_bot.socket")
    socket_log.addFilter(_OneLineFailures())
    handler = AsyncSocketModeHandler(
        bot.app,
        settings.slack_app_token.get_secret_value(),
        logger=socket_log,
        # Only asks for the socket's URL: without the bot client's retries, so that a failed
        # attempt is one line (the handler itself retries every ping interval).
        web_client=AsyncWebClient(base_url=settings.slack_api_url, retry_handlers=[]),
    )
    _announce("billing-bot connecting to Slack (Socket Mode)…", settings)
    try:
        await handler.start_async()  # type: ignore[no-untyped-call]
    finally:
        if probes is not None:
            await probes.cleanup()
        await bot.aclose()


async def _check() -> int:
    """One line per check on stdout; 1 if any failed."""
    from bot import access

    try:
        settings = _settings()
    except ConfigError as exc:
        print(access.Finding("FAIL", "settings", str(exc)).line(), flush=True)
        return 1
    configure_logging(logging.ERROR)
    found = await access.findings(settings)
    for finding in found:
        print(finding.line(), flush=True)
    return 1 if any(f.outcome == "FAIL" for f in found) else 0


MODES = ("serve", "socket", "demo", "sandbox", "check")

_SLACK_HTTP = """\
environment (or .env, or <NAME>_FILE):
  SLACK_SIGNING_SECRET   required: your Slack app's Signing Secret (Basic Information)
  SLACK_BOT_TOKEN        required: the Bot User OAuth Token, xoxb-…
"""
_SLACK_SOCKET = """\
environment (or .env, or <NAME>_FILE):
  SLACK_APP_TOKEN        required: an app-level token, xapp-… (scope connections:write)
  SLACK_BOT_TOKEN        required: the Bot User OAuth Token, xoxb-…
"""
_BILLING = """\
  MKIO_TOKEN             MK.IO API token (without it, MK.IO commands say it is not set)
  CONTRO_API_KEY         Contro key, sk_live_… or sk_test_… (likewise for contro commands)
  BILLING_ADMINS         Slack user IDs who may change billing, comma-separated
  AUDIT_CHANNEL          channel ID where billing changes are recorded
  REDIS_URL              share state between replicas; without it SQLITE_PATH keeps
                         schedules and budgets (default billing-bot.sqlite3)
  LOG_FORMAT             text (default) or json
The README's Configuration section lists every variable; `billing-bot check` tries them.
"""


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults shown after each option; a text of several lines (the environment) is kept
    as written, a one-line description is wrapped."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="billing-bot",
        description="Ask billing APIs questions from Slack.",
        epilog="`billing-bot <mode> --help` describes a mode's options and what it needs.",
        formatter_class=_Help,
    )
    parser.add_argument(
        "--version", action="version", version=f"billing-bot {version('billing-bot')}"
    )
    sub = parser.add_subparsers(dest="mode", metavar="{" + ",".join(MODES) + "}")
    serve = sub.add_parser(
        "serve",
        help="HTTP mode: POST /slack/events, GET /livez /readyz /healthz /metrics",
        description="Serve Slack's requests over HTTP: POST /slack/events (slash command, "
        "events, interactivity), GET /livez, /readyz, /healthz and /metrics. Put HTTPS in front "
        "of it.",
        epilog=_SLACK_HTTP + _BILLING,
        formatter_class=_Help,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=3000, help="port to listen on")
    sub.add_parser(
        "socket",
        help="Socket Mode (needs SLACK_APP_TOKEN)",
        description="Connect out to Slack over Socket Mode: no inbound HTTPS needed. With "
        "HEALTH_PORT set, GET /livez, /readyz, /healthz and /metrics are served on that port "
        "(HEALTH_HOST, default 127.0.0.1). Retries until Slack can be reached.",
        epilog=_SLACK_SOCKET + _BILLING,
        formatter_class=_Help,
    )
    sub.add_parser(
        "check",
        help="check the settings and that each credential works and has what it needs",
        description="Check the settings, then that each configured credential works and has "
        "the scopes it needs: one line per check; exit status 1 if any failed.",
        epilog=_SLACK_HTTP + _BILLING,
        formatter_class=_Help,
    )
    sub.add_parser(
        "demo",
        help="built-in sandbox plus a console; no Slack, no credentials",
        description="Run the real bot against the built-in billing sandbox and a local "
        "stand-in for Slack, with a console to type commands into (or pipe them in). Needs "
        "no environment variable and no network beyond 127.0.0.1; `:help` in the console "
        "lists what it takes.",
        formatter_class=_Help,
    )
    sandbox = sub.add_parser(
        "sandbox",
        help="serve the built-in billing sandbox over HTTP",
        description="Serve the built-in MK.IO and Contro sandbox over HTTP, to point a bot at "
        "(it prints the URLs and the variables to set). Needs no environment variable.",
        formatter_class=_Help,
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sandbox.add_argument("--port", type=int, default=8787, help="port to listen on (0: any)")
    sandbox.add_argument(
        "--anomalies",
        action="store_true",
        help="a spike, a drop, a new meter and a new Contro type yesterday, for anomaly alerts",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.mode is None:
        parser.error(f"choose one of {', '.join(MODES)} (`billing-bot <mode> --help` says more)")
    try:
        if args.mode == "serve":
            asyncio.run(_serve(args.host, args.port))
        elif args.mode == "socket":
            asyncio.run(_socket())
        elif args.mode == "check":
            return asyncio.run(_check())
        elif args.mode == "demo":
            from bot.devtools.console import run_demo

            # The console is the user interface here: only errors go to stderr.
            configure_logging(logging.ERROR)
            return asyncio.run(run_demo())
        elif args.mode == "sandbox":
            from bot.devtools.sandbox import serve_forever

            asyncio.run(serve_forever(args.host, args.port, anomalies=args.anomalies))
    except ConfigError as exc:
        print(f"billing-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
