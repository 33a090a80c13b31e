"""OpenTelemetry, optional: a span for each Slack request, each answer and each upstream call,
nested as they happen; none without OTEL_EXPORTER_OTLP_ENDPOINT."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bot.observe import tracing
from bot.slack.inflight import wait_for_answers
from tests.e2e.stack import PATIENCE, close_stack, make_stack


def parent(span: ReadableSpan, spans: list[ReadableSpan]) -> ReadableSpan | None:
    if span.parent is None:
        return None
    return next((s for s in spans if s.context.span_id == span.parent.span_id), None)


def ancestors(span: ReadableSpan, spans: list[ReadableSpan]) -> list[str]:
    names = []
    up = parent(span, spans)
    while up is not None:
        names.append(up.name)
        up = parent(up, spans)
    return names


async def test_a_command_is_traced_from_its_request_to_each_upstream_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exporter = InMemorySpanExporter()
    monkeypatch.setattr(
        tracing, "from_environment", lambda: tracing.exporting_to(exporter, batch=False)
    )
    stack = await make_stack()
    try:
        await stack.ask("usage my-project")
        assert await wait_for_answers(PATIENCE) == 0
    finally:
        await close_stack(stack)

    spans = list(exporter.get_finished_spans())
    [request] = [s for s in spans if s.name == "slack request"]
    assert request.attributes is not None
    assert request.attributes["billing_bot.request_kind"] == "command"
    assert request.attributes["http.response.status_code"] == 200
    [answer] = [s for s in spans if s.name == "answer"]
    assert answer.attributes == {"billing_bot.command": "usage"}
    assert "slack command" in ancestors(answer, spans)

    upstream = [s for s in spans if s.name.startswith(("GET ", "POST "))]
    assert sorted(s.name for s in upstream) == [
        "GET /projects/{project}/usage",
        "POST /organization/reports/usage",
        "POST /organization/reports/usage",
    ]
    for span in upstream:
        assert ancestors(span, spans)[0] == "answer", span.name
        assert span.attributes is not None
        assert span.attributes["billing_bot.status"] == "200"
        assert "my-project" not in str(span.attributes)


async def test_nothing_is_traced_without_an_otlp_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    stack = await make_stack()
    try:
        assert isinstance(stack.bot.metrics.tracer, tracing.NoTracing)
    finally:
        await close_stack(stack)


def test_an_otlp_endpoint_turns_export_on() -> None:
    tracer = tracing.from_environment({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"})
    try:
        assert isinstance(tracer, tracing.OtelTracer)
    finally:
        tracer.shutdown()  # nothing was recorded: nothing is sent
    assert isinstance(
        tracing.from_environment({"OTEL_EXPORTER_OTLP_ENDPOINT": " "}), tracing.NoTracing
    )
