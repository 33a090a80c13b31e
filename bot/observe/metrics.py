"""Every Prometheus metric the bot exports, defined once, in one registry per app (never the
process-global one: two apps in one process, as in the tests, count apart).

The zones record through the methods here, each called from one central place: upstream
calls in `bot.apis.http`, the cache through `ObservedCache` (`bot.core.cache`), answers in
the route table (`bot.slack.handlers.routes`), acks and refused requests in
`bot.slack.server`, Slack Web API calls in a retry handler every Slack client carries and
their duration in the client itself (`bot.slack.observed`), replies to a response_url where
they are sent (`bot.slack.retries`), the scheduler's ticks in
`bot.core.scheduled.scheduler`, billing changes where they are audited. Business gauges
(`bot.observe.figures`) are kept as answers are made; `gauge_source` lets later code add a
gauge read at scrape time (open anomalies, say). A scrape never calls an API.

Label values come from bounded sets only (`bot.observe.labels`). docs/metrics.md lists every
metric.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.errors import UpstreamError
from bot.observe import labels
from bot.observe.figures import KnownFigures
from bot.observe.tracing import Attributes, Note, NoTracing, Tracer

PREFIX: Final = "billing_bot_"
#: The content type of `Metrics.exposition`.
CONTENT_TYPE: Final = CONTENT_TYPE_LATEST

ACK_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
CALL_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
ANSWER_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
LAG_BUCKETS: Final = (1.0, 10.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0)

#: Reads a gauge at scrape time: (label values, value) pairs. Must be quick and never do I/O.
Read = Callable[[], Iterable[tuple[tuple[str, ...], float]]]


@dataclass
class AnswerRecord:
    """The answer being made in this context: what it ended with."""

    failure: BaseException | None = None
    refused: bool = False


_answer: contextvars.ContextVar[AnswerRecord | None] = contextvars.ContextVar(
    "billing_bot_answer", default=None
)


def answer_failed(exc: BaseException) -> None:
    """The answer in progress (if any) was told `exc` instead: called where every error is
    put into words, for answers that catch their own errors (a report's failure replaces
    its "preparing" message)."""
    record = _answer.get()
    if record is not None and record.failure is None:
        record.failure = exc


@dataclass
class UpstreamCall:
    """Set by the caller once the answer's status is known."""

    status: int | None = None


@dataclass(frozen=True)
class _Source:
    name: str
    documentation: str
    labelnames: tuple[str, ...]
    read: Read


class _Sources(Collector):
    """The gauges read at scrape time: `Metrics.gauge_source` and the business figures."""

    def __init__(self, figures: KnownFigures) -> None:
        self.figures = figures
        self.sources: dict[str, _Source] = {}
        self.lock = threading.Lock()

    def describe(self) -> Iterable[Metric]:
        return ()  # names are checked by `gauge_source`, not by the registry

    def collect(self) -> Iterable[Metric]:
        yield from self.figures.collect()
        with self.lock:
            sources = list(self.sources.values())
        for source in sources:
            family = GaugeMetricFamily(
                source.name, source.documentation, labels=list(source.labelnames)
            )
            for values, value in source.read():
                family.add_metric(list(values), value)
            yield family


class Metrics:
    """The app's metrics, in a registry of its own (and its tracer: `span`)."""

    def __init__(self, *, tracer: Tracer | None = None) -> None:
        self.tracer: Tracer = tracer or NoTracing()
        self.registry = r = CollectorRegistry()
        self.acks = Histogram(
            PREFIX + "ack_seconds",
            "Time from a Slack request's arrival to its acknowledgement, by kind.",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.refused_requests = Counter(
            PREFIX + "slack_requests_refused",
            "Requests to /slack/events refused before Bolt: unsigned, malformed or too slow.",
            ["reason"],
            registry=r,
        )
        self.answers = Counter(
            PREFIX + "answers",
            "Answers to commands (every way in: slash command, conversation, button, form, "
            "schedule), by command and outcome.",
            ["command", "outcome"],
            registry=r,
        )
        self.answer_seconds = Histogram(
            PREFIX + "answer_seconds",
            "Time to make an answer, by command.",
            ["command"],
            buckets=ANSWER_BUCKETS,
            registry=r,
        )
        self.upstream_requests = Counter(
            PREFIX + "upstream_requests",
            "Calls to MK.IO and Contro (retries within one call counted once), by API, "
            "endpoint template and final status.",
            ["api", "endpoint", "status"],
            registry=r,
        )
        self.upstream_seconds = Histogram(
            PREFIX + "upstream_request_seconds",
            "Duration of a call to MK.IO or Contro, retries and body included.",
            ["api", "endpoint"],
            buckets=CALL_BUCKETS,
            registry=r,
        )
        self.upstream_retries = Counter(
            PREFIX + "upstream_retries",
            "Tries sent again after a retryable failure, by API and what the try before ended "
            "with (a status, or the connection failure's name).",
            ["api", "reason"],
            registry=r,
        )
        self.cache_lookups = Counter(
            PREFIX + "cache_lookups",
            "Answer cache look-ups: hit, miss (loaded here), coalesced (waited for the same "
            "question already being answered in this process).",
            ["outcome"],
            registry=r,
        )
        self.slack_calls = Counter(
            PREFIX + "slack_api_calls",
            "Slack Web API calls, each try, by method and outcome: ok, Slack's error code, "
            "http_<status> or unreachable.",
            ["method", "outcome"],
            registry=r,
        )
        self.slack_call_seconds = Histogram(
            PREFIX + "slack_api_call_seconds",
            "Duration of a Slack Web API call, by method: its tries and the waits between "
            "them included.",
            ["method"],
            buckets=CALL_BUCKETS,
            registry=r,
        )
        self.slack_responses = Counter(
            PREFIX + "slack_responses",
            "Replies sent to a response_url (a slash command's or a click's), by outcome: ok, "
            "Slack's error (expired_url, used_url, ...), http_<status> or unreachable.",
            ["outcome"],
            registry=r,
        )
        self.slack_rate_limited = Counter(
            PREFIX + "slack_rate_limited",
            "Slack Web API answers with HTTP 429 (each is waited out and retried).",
            ["method"],
            registry=r,
        )
        self.scheduler_ticks = Counter(
            PREFIX + "scheduler_ticks", "Scheduler ticks (runs due, budgets hourly).", registry=r
        )
        self.scheduler_last_tick = Gauge(
            PREFIX + "scheduler_last_tick_timestamp_seconds",
            "When the scheduler last ticked (its lag: time() minus this).",
            registry=r,
        )
        self.scheduler_errors = Counter(
            PREFIX + "scheduler_errors",
            "Ticks that could not read the schedules or the budgets.",
            registry=r,
        )
        self.scheduled_runs = Counter(
            PREFIX + "scheduled_runs",
            "Scheduled report runs due: ran or failed here, or taken by another replica.",
            ["outcome"],
            registry=r,
        )
        self.scheduled_lag = Histogram(
            PREFIX + "scheduled_run_lag_seconds",
            "How late a scheduled run was started, after it was due (made-up runs included).",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.budget_checks = Counter(
            PREFIX + "budget_checks", "Checks of every budget (hourly, and at start).", registry=r
        )
        self.budget_alerts = Counter(
            PREFIX + "budget_alerts",
            "Budget alerts claimed here, by kind (spent, forecast, recovered, new-month) and"
            " whether posted.",
            ["kind", "posted"],
            registry=r,
        )
        self.billing_changes = Counter(
            PREFIX + "billing_changes",
            "Billing changes decided (as audited), by kind and outcome; refused: a click that "
            "may not act.",
            ["kind", "outcome"],
            registry=r,
        )
        self.labels_dropped = Counter(
            PREFIX + "metric_labels_dropped",
            "Business figures left out of a gauge: a name or currency not shaped as one, or "
            "past the number of projects kept.",
            ["metric"],
            registry=r,
        )
        self.figures = KnownFigures(lambda metric: self.labels_dropped.labels(metric).inc())
        self._sources = _Sources(self.figures)
        r.register(self._sources)

    # -- serving ----------------------------------------------------------------------------

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)

    def gauge_source(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str],
        read: Read,
        *,
        replace: bool = False,
    ) -> None:
        """A gauge read at each scrape by `read` (no I/O: from what the bot holds). Named
        `billing_bot_…`; label values from a bounded set (`bot.observe.labels`). `replace`:
        this source takes the place of one of the same name."""
        if not name.startswith(PREFIX):
            raise ValueError(f"metric names start with {PREFIX!r}")
        taken = {m.name for m in self.registry.collect()}
        with self._sources.lock:
            if replace:
                taken.discard(name)
                self._sources.sources.pop(name, None)
            if name in self._sources.sources or name in taken:
                raise ValueError(f"{name} is already a metric")
            self._sources.sources[name] = _Source(name, documentation, tuple(labelnames), read)

    # -- tracing ----------------------------------------------------------------------------

    def span(self, name: str, attributes: Attributes) -> contextlib.AbstractContextManager[Note]:
        return self.tracer.span(name, attributes)

    # -- recording --------------------------------------------------------------------------

    def ack(self, kind: str, seconds: float) -> None:
        self.acks.labels(labels.request_kind(kind)).observe(seconds)

    def refused_request(self, reason: str) -> None:
        self.refused_requests.labels(reason).inc()

    @contextlib.contextmanager
    def answering(self, command: str) -> Iterator[AnswerRecord]:
        """Around the making of one answer: counted with its outcome, timed, and a span."""
        record = AnswerRecord()
        token = _answer.set(record)
        started = time.perf_counter()
        try:
            with self.span("answer", {"billing_bot.command": command}):
                yield record
        except BaseException as exc:
            record.failure = record.failure or exc
            raise
        finally:
            _answer.reset(token)
            outcome = "refused" if record.refused else labels.outcome(record.failure)
            self.answers.labels(command, outcome).inc()
            self.answer_seconds.labels(command).observe(time.perf_counter() - started)

    @contextlib.contextmanager
    def upstream_call(self, api: str, endpoint: str, method: str) -> Iterator[UpstreamCall]:
        """Around one call to an API (its retries inside): counted by final status, timed."""
        call = UpstreamCall()
        name = labels.api_label(api)
        status = "error"
        started = time.perf_counter()
        attributes = {
            "http.request.method": method,
            "billing_bot.api": name,
            "url.template": endpoint,
        }
        try:
            with self.span(f"{method} {endpoint}", attributes) as note:
                try:
                    yield call
                    status = labels.status(call.status)
                except UpstreamError as exc:
                    status = labels.status(exc.status, exc.code)
                    raise
                except asyncio.CancelledError:
                    status = "cancelled"
                    raise
                finally:
                    note("billing_bot.status", status)
        finally:
            self.upstream_requests.labels(name, endpoint, status).inc()
            self.upstream_seconds.labels(name, endpoint).observe(time.perf_counter() - started)

    def upstream_retry(self, api: str, reason: str) -> None:
        self.upstream_retries.labels(labels.api_label(api), reason).inc()

    def cache_lookup(self, outcome: str) -> None:
        self.cache_lookups.labels(outcome).inc()

    def slack_call(self, method: str, outcome: object) -> None:
        self.slack_calls.labels(labels.slack_method(method), labels.slack_error(outcome)).inc()

    def slack_call_time(self, method: str, seconds: float) -> None:
        self.slack_call_seconds.labels(labels.slack_method(method)).observe(seconds)

    def slack_response(self, status: int | None, body: str = "") -> None:
        """A reply to a response_url: its status (None: Slack was not reached) and the text
        Slack answered with (`ok`, or an error code such as `expired_url`)."""
        if status is None:
            outcome = "unreachable"
        elif status == 200:
            outcome = "ok"
        elif (error := labels.slack_error(body.strip())) != labels.OTHER:
            outcome = error
        else:
            outcome = f"http_{status}"
        self.slack_responses.labels(outcome).inc()

    def slack_limited(self, method: str) -> None:
        self.slack_rate_limited.labels(labels.slack_method(method)).inc()

    def scheduler_tick(
        self,
        at: float,
        runs: Iterable[tuple[str, float | None]],
        *,
        budgets_checked: bool,
        alerts: Iterable[tuple[str, bool]] = (),
        errors: int = 0,
    ) -> None:
        """One tick at `at` (a POSIX time): its runs as (outcome, seconds late or None), the
        budget alerts it claimed as (kind, posted)."""
        self.scheduler_ticks.inc()
        self.scheduler_last_tick.set(at)
        if errors:
            self.scheduler_errors.inc(errors)
        for outcome, late in runs:
            self.scheduled_runs.labels(outcome).inc()
            if late is not None:
                self.scheduled_lag.observe(max(late, 0.0))
        if budgets_checked:
            self.budget_checks.inc()
        for kind, posted in alerts:
            self.budget_alerts.labels(kind, "true" if posted else "false").inc()

    def billing_change(self, kind: str, outcome: str) -> None:
        self.billing_changes.labels(kind, outcome).inc()
