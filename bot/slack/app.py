"""build_app(settings) -> BillingBot: the Bolt app with its clients, cache and listeners.

No import-time side effects: everything is made here, and closed by `BillingBot.aclose`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.handler import default_interval_calculator
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from bot.apis.contro.client import ControClient
from bot.apis.http import Limits, RetryPolicy
from bot.apis.mkio.client import MkioClient
from bot.apis.pacing import RequestRate
from bot.clock import Clock, utc_now
from bot.config import Settings
from bot.core.billing import BillingService
from bot.core.cache import ObservedCache
from bot.core.changes.service import ChangeService
from bot.core.scheduled.expiry import ExpiryWatch
from bot.core.scheduled.scheduler import Scheduler
from bot.logs import redact
from bot.observe import tracing
from bot.observe.metrics import Metrics
from bot.slack.delivery import ChannelGuard
from bot.slack.expiry import make_expiry_watch
from bot.slack.handlers import register_all
from bot.slack.handlers.anomalies import make_watch
from bot.slack.handlers.changes import recover_cut_off
from bot.slack.handlers.deps import Deps
from bot.slack.handlers.jobs import make_scheduler
from bot.slack.middleware import drop_event_retries
from bot.slack.observed import SlackCallsHeard, TimedWebClient, use_timed_client
from bot.slack.render.common import use_table_blocks
from bot.slack.retries import api_retry_handlers, use_retrying_respond
from bot.store.factory import Backends, make_backends

log = logging.getLogger(__name__)


@dataclass
class BillingBot:
    settings: Settings
    app: AsyncApp
    billing: BillingService
    changes: ChangeService
    backends: Backends
    scheduler: Scheduler
    clock: Clock
    expiry: ExpiryWatch
    metrics: Metrics
    recover: Callable[[], Coroutine[Any, Any, None]] | None = None
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _background: asyncio.Task[None] | None = None
    _expiry: asyncio.Task[None] | None = None
    _recovery: asyncio.Task[None] | None = None

    def start_recovery(self) -> None:
        """Once, at start: record the outcome of billing changes cut off mid-way."""
        if self._recovery is None and self.recover is not None:
            self._recovery = asyncio.create_task(self.recover())

    def start_background(self) -> None:
        """Scheduled reports and budget checks, and the credential check at start and daily
        (bot.core.scheduled.expiry), for a long-running server (not the tests')."""
        self.start_recovery()
        if self._background is None:
            self._background = asyncio.create_task(self.scheduler.run_forever(self.clock))
        if self._expiry is None:
            self._expiry = asyncio.create_task(self.expiry.run_forever(self.clock))

    async def stop_background(self) -> None:
        """Stop the scheduler loop (it never ends on its own: shutdown must not wait for it),
        and a recovery still waiting for a change some replica may be making."""
        for task in (self._background, self._recovery, self._expiry):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._background = None
        self._expiry = None

    async def aclose(self) -> None:
        await self.stop_background()
        for close in reversed(self._closers):
            await close()
        self._closers.clear()


def slack_client(
    settings: Settings,
    metrics: Metrics | None = None,
    interval: RetryIntervalCalculator = default_interval_calculator,
) -> AsyncWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    metrics = metrics or Metrics()
    return TimedWebClient(
        token=token,
        base_url=settings.slack_api_url,
        retry_handlers=[SlackCallsHeard(metrics), *api_retry_handlers(interval)],
        metrics=metrics,
    )


@contextlib.contextmanager
def _without_bolt_token_fallback() -> Iterator[None]:
    """SLACK_BOT_TOKEN hidden from Bolt while it is made. Given a client, Bolt still reads the
    variable and, finding it, warns at every start that the client's token wins over it. The
    client already has the token (Settings read it, from the environment or .env)."""
    hidden = os.environ.pop("SLACK_BOT_TOKEN", None)
    try:
        yield
    finally:
        if hidden is not None:
            os.environ["SLACK_BOT_TOKEN"] = hidden


def build_app(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    mkio_transport: httpx.AsyncBaseTransport | None = None,
    contro_transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
    metrics: Metrics | None = None,
    timeout: httpx.Timeout | None = None,
    contro_rate: RequestRate | None = None,
    slack_retry_interval: RetryIntervalCalculator = default_interval_calculator,
) -> BillingBot:
    """The bot as `settings` describe it, with `metrics` (by default a registry of its own,
    and spans exported when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: `bot.observe.tracing`). The
    other keywords are for tests and benchmarks: the clock, the networks the clients use, how
    they retry (`RetryPolicy`), their timeouts (`bot.apis.http.DEFAULT_TIMEOUT`), Contro's pacer
    (one of `contro_max_requests_per_minute` on the real clock; a test's runs on a fake one),
    and the wait before a Slack call that failed to connect or got a 5xx is tried again
    (`bot.slack.retries`)."""
    redact(*settings.secrets())
    metrics = metrics or Metrics(tracer=tracing.from_environment())
    limits = Limits(
        json_bytes=settings.upstream_max_json_bytes,
        file_bytes=settings.upstream_max_file_bytes,
        json_seconds=settings.upstream_deadline_seconds,
        file_seconds=settings.upstream_file_deadline_seconds,
    )
    mkio = (
        MkioClient(
            settings.mkio_api_url,
            settings.mkio_token,
            transport=mkio_transport,
            retry=retry,
            timeout=timeout,
            limits=limits,
            concurrency=settings.mkio_max_concurrency,
            metrics=metrics,
        )
        if settings.mkio_token
        else None
    )
    contro = (
        ControClient(
            settings.contro_api_url,
            settings.contro_api_key,
            transport=contro_transport,
            retry=retry,
            timeout=timeout,
            limits=limits,
            concurrency=settings.contro_max_concurrency,
            requests_per_minute=settings.contro_max_requests_per_minute,
            next_key=settings.contro_api_key_next,
            metrics=metrics,
            rate=contro_rate,
        )
        if settings.contro_api_key
        else None
    )
    backends = make_backends(settings)
    use_table_blocks(settings.slack_table_blocks)
    billing = BillingService(
        mkio=mkio,
        contro=contro,
        cache=ObservedCache(backends.cache, metrics),
        clock=clock,
        report_max_rows=settings.report_max_rows,
        metrics=metrics,
    )
    changes = ChangeService(billing, backends.pending, clock, admins=settings.billing_admins)

    configured = settings.slack_signing_secret
    with _without_bolt_token_fallback():
        app = AsyncApp(
            client=slack_client(settings, metrics, slack_retry_interval),
            # Verification is always on. Socket Mode needs no secret (Bolt does not verify what
            # comes through the socket); a request over HTTP is then checked against a random key
            # nobody knows, so it is refused. `serve` refuses to start without a real secret.
            signing_secret=(
                configured.get_secret_value()
                if configured is not None and configured.get_secret_value().strip()
                else secrets.token_hex(32)
            ),
            request_verification_enabled=True,
            logger=logging.getLogger("billing_bot.bolt"),
        )
    guard = ChannelGuard(app.client, backends.external_channels)
    deps = Deps(
        billing=billing,
        changes=changes,
        dedupe=backends.dedupe,
        schedules=backends.schedules,
        budgets=backends.budgets,
        watch=make_watch(
            app.client,
            backends.anomalies,
            guard=guard,
            mkio=mkio,
            contro=contro,
            settings=settings,
            billing=billing,
        ),
        settings=settings,
        clock=clock,
        metrics=metrics,
        guard=guard,
    )
    app.use(use_timed_client(metrics))
    app.use(use_retrying_respond(metrics, slack_retry_interval))
    app.use(deps.middleware())
    app.use(drop_event_retries)
    register_all(app)

    bot = BillingBot(
        settings=settings,
        app=app,
        billing=billing,
        changes=changes,
        backends=backends,
        scheduler=make_scheduler(app.client, deps),
        clock=clock,
        expiry=make_expiry_watch(app.client, settings, backends.claims),
        metrics=metrics,
        recover=lambda: recover_cut_off(app.client, deps),
    )

    def queued() -> list[tuple[tuple[str, ...], float]]:
        apis = {"mkio": mkio, "contro": contro}
        return [((name,), api.queued) for name, api in apis.items() if api is not None]

    def open_anomalies() -> list[tuple[tuple[str, ...], float]]:
        known = deps.watch.open_known
        return [] if known is None else [((), float(known))]

    metrics.gauge_source(
        "billing_bot_open_anomalies",
        "Open anomalies after this replica's latest check (absent before its first).",
        [],
        open_anomalies,
    )
    metrics.gauge_source(
        "billing_bot_upstream_queued",
        "Requests waiting in the bot for a turn at an API (its concurrency bound).",
        ["api"],
        queued,
    )
    bot._closers.append(backends.aclose)
    if mkio is not None:
        bot._closers.append(mkio.aclose)
    if contro is not None:
        bot._closers.append(contro.aclose)
    bot._closers.insert(0, _shut(metrics.tracer))  # closed last: the closing is traced too
    return bot


def _shut(tracer: tracing.Tracer) -> Callable[[], Awaitable[None]]:
    async def shut() -> None:
        tracer.shutdown()

    return shut
