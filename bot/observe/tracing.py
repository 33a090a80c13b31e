"""OpenTelemetry spans, optional: with the `otel` extra installed and
`OTEL_EXPORTER_OTLP_ENDPOINT` set, one span per Slack request, per answer and per upstream
call, exported over OTLP/HTTP; otherwise nothing is imported and every span is a no-op.

Each app has its own tracer provider (never the process-global one), so two apps in one
process (the tests) keep their spans apart. The exporter reads OTel's own variables
(`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME`…).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

log = logging.getLogger(__name__)

Value = str | int | float | bool
Attributes = Mapping[str, Value]
#: Sets one more attribute on the span in progress (a status known only at its end).
Note = Callable[[str, Value], None]


def _ignore(key: str, value: Value) -> None:
    pass


class Tracer(Protocol):
    def span(self, name: str, attributes: Attributes) -> contextlib.AbstractContextManager[Note]:
        """A span around the block; an exception leaving it marks the span as an error."""

    def shutdown(self) -> None:
        """Flush what is buffered and stop exporting."""


class NoTracing:
    """The default: spans cost one function call."""

    def span(self, name: str, attributes: Attributes) -> contextlib.AbstractContextManager[Note]:
        return contextlib.nullcontext(_ignore)

    def shutdown(self) -> None:
        pass


class OtelTracer:
    """Spans through an OpenTelemetry SDK tracer provider of this app's own."""

    def __init__(self, provider: TracerProvider) -> None:
        self._provider = provider
        self._tracer = provider.get_tracer("billing-bot")

    @contextlib.contextmanager
    def span(self, name: str, attributes: Attributes) -> Iterator[Note]:
        with self._tracer.start_as_current_span(name, attributes=dict(attributes)) as span:
            yield span.set_attribute

    def shutdown(self) -> None:
        self._provider.shutdown()


def exporting_to(exporter: SpanExporter, *, batch: bool = True) -> OtelTracer:
    """A tracer whose spans go to `exporter` (tests pass the SDK's in-memory exporter, with
    `batch=False` so that each span is there as soon as it ends)."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": os.environ.get("OTEL_SERVICE_NAME", "billing-bot")}
        )
    )
    provider.add_span_processor(
        BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    )
    return OtelTracer(provider)


def from_environment(environ: Mapping[str, str] = os.environ) -> Tracer:
    """OTLP export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set and the `otel` extra is
    installed (a warning if it is not); else `NoTracing`."""
    if not environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip():
        return NoTracing()
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: "
            "no spans are exported (pip install 'billing-bot[otel]')"
        )
        return NoTracing()
    return exporting_to(OTLPSpanExporter())
