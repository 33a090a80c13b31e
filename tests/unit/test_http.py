"""bot.apis.http: retry policy, decoding, error mapping, path quoting."""

from __future__ import annotations

import io
import logging
from decimal import Decimal

import httpx
import pytest

from bot.apis.http import (
    DEFAULT_TIMEOUT,
    Api,
    ApiClient,
    OutOfBounds,
    RetryPolicy,
    build_client,
    loads,
    path,
)
from bot.errors import CommandError, NotFound, Unauthorized, Unavailable, UpstreamError

SECRET = "sk_live_supersecret123"
API = Api("Example", "key", "EXAMPLE_KEY", "check the key.")
BASE = "https://api.example.test/v1"


class Recorder:
    """A MockTransport handler answering from a script and recording every request."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(rec: Recorder, policy: RetryPolicy | None = None) -> ApiClient:
    return ApiClient(
        API,
        BASE,
        {"x-key": SECRET},
        secrets=[SECRET],
        transport=httpx.MockTransport(rec),
        retry=policy or RetryPolicy.immediate(),
    )


# -- policy ---------------------------------------------------------------------------------


def test_default_policy_bounds() -> None:
    p = RetryPolicy()
    reads, changes = p.for_reads(), p.for_changes()
    assert reads.total == 2  # three tries in all
    assert reads.status_forcelist == {429, 500, 503}
    assert changes.status_forcelist == {429}
    assert reads.max_backoff_wait <= 5
    assert reads.total_timeout is not None
    assert reads.total_timeout <= 8
    assert reads.is_retryable_method("POST")
    assert reads.is_retryable_method("GET")
    assert reads.is_retryable_exception(httpx.ConnectError("x"))
    assert reads.is_retryable_exception(httpx.ReadError("reset"))
    assert not changes.is_retryable_exception(httpx.ReadError("reset"))
    assert not changes.is_retryable_exception(httpx.RemoteProtocolError("closed"))
    assert changes.is_retryable_exception(httpx.ConnectTimeout("x"))
    assert changes.is_retryable_method("PATCH")


def test_retry_after_is_capped_and_sums_are_bounded() -> None:
    retry = RetryPolicy().for_reads().increment()
    assert retry._calculate_sleep(httpx.Headers({"Retry-After": "2"})) == 2.0
    assert retry._calculate_sleep(httpx.Headers({"Retry-After": "600"})) == 5.0
    no_header = retry._calculate_sleep(httpx.Headers())
    assert 0 < no_header <= 1.0  # 0.5 * 2**1, jittered down by up to half
    spent = retry.copy_with(elapsed_sleep=7.5)
    assert spent._calculate_sleep(httpx.Headers({"Retry-After": "5"})) == pytest.approx(0.5)


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="tries"):
        RetryPolicy(tries=0)


def test_build_client_defaults() -> None:
    c = build_client(BASE, {"x-key": "k"})
    assert c.timeout == DEFAULT_TIMEOUT
    assert DEFAULT_TIMEOUT.connect == 3.0
    assert DEFAULT_TIMEOUT.read == 15.0
    assert c.follow_redirects is False
    assert c.headers["x-key"] == "k"


# -- retries through the transport ----------------------------------------------------------


async def test_read_retries_500_then_succeeds() -> None:
    rec = Recorder(httpx.Response(500), httpx.Response(200, json={"ok": True}))
    answer = await client(rec).read("GET", "/things")
    assert answer.data == {"ok": True}
    assert len(rec.requests) == 2


async def test_read_gives_up_after_three_tries() -> None:
    rec = Recorder(httpx.Response(503))
    with pytest.raises(Unavailable) as info:
        await client(rec).read("GET", "/things")
    assert len(rec.requests) == 3
    assert info.value.status == 503
    assert "not answering right now (503)" in info.value.user_message


async def test_retry_after_is_honoured() -> None:
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json={}))
    policy = RetryPolicy(backoff_factor=0.0, max_wait=0.05, max_total_wait=1.0)
    http = build_client(BASE, {}, transport=httpx.MockTransport(rec), retry=policy)
    response = await http.get("/x", extensions={"retry": policy.for_reads()})
    assert response.status_code == 200
    assert len(rec.requests) == 2
    # slept what Retry-After asked for, capped at max_wait
    assert response.extensions["retry"].elapsed_sleep == pytest.approx(0.05)


async def test_429_without_retry_after_backs_off() -> None:
    rec = Recorder(httpx.Response(429), httpx.Response(429), httpx.Response(200, json={}))
    policy = RetryPolicy(backoff_factor=0.001, backoff_jitter=0.0, max_total_wait=1.0)
    http = build_client(BASE, {}, transport=httpx.MockTransport(rec), retry=policy)
    response = await http.get("/x", extensions={"retry": policy.for_reads()})
    assert response.status_code == 200
    assert len(rec.requests) == 3
    assert response.extensions["retry"].elapsed_sleep == pytest.approx(0.002 + 0.004)


@pytest.mark.parametrize("status", [400, 404, 401, 409])
async def test_no_retry_on_client_errors(status: int) -> None:
    rec = Recorder(httpx.Response(status, json={"error": {"code": "x", "detail": "no"}}))
    with pytest.raises(UpstreamError):
        await client(rec).read("GET", "/things")
    assert len(rec.requests) == 1


async def test_change_not_retried_on_500_or_reset() -> None:
    rec = Recorder(httpx.Response(500))
    with pytest.raises(Unavailable):
        await client(rec).change("POST", "/things", json={"a": 1})
    assert len(rec.requests) == 1

    rec = Recorder(httpx.RemoteProtocolError("Server disconnected"))
    with pytest.raises(Unavailable):
        await client(rec).change("PATCH", "/things", json={"a": 1})
    assert len(rec.requests) == 1


async def test_change_retried_on_429_and_connect_failure() -> None:
    rec = Recorder(
        httpx.Response(429),
        httpx.ConnectError("refused"),
        httpx.Response(200),
    )
    answer = await client(rec).change("POST", "/things", json={"a": 1})
    assert answer.data is None
    assert len(rec.requests) == 3


async def test_read_retries_resets_and_connect_errors() -> None:
    rec = Recorder(
        httpx.ConnectError("refused"), httpx.ReadError("reset"), httpx.Response(200, json=[1])
    )
    answer = await client(rec).read("GET", "/things")
    assert answer.data == [1]
    assert len(rec.requests) == 3


async def test_read_timeout_not_retried_and_says_how_long() -> None:
    rec = Recorder(httpx.ReadTimeout("slow"))
    with pytest.raises(Unavailable) as info:
        await client(rec).read("GET", "/things")
    assert len(rec.requests) == 1
    assert "did not answer within 15 s" in info.value.user_message
    assert info.value.status is None


async def test_connect_failure_after_retries() -> None:
    rec = Recorder(httpx.ConnectError("refused"))
    with pytest.raises(Unavailable) as info:
        await client(rec).read("GET", "/things")
    assert len(rec.requests) == 3
    assert info.value.user_message.startswith("The bot could not reach Example at api.example")


# -- decoding -------------------------------------------------------------------------------


def test_loads_uses_decimal() -> None:
    data = loads(b'{"a": 0.1, "b": 0.2, "n": 3}')
    assert data["a"] + data["b"] == Decimal("0.3")
    assert data["n"] == 3
    nan = loads(b'{"a": NaN}')["a"]
    assert isinstance(nan, OutOfBounds), "never a float, nor a Decimal to compute with"
    assert "non-finite" in nan.why


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"", b'{"a": ', b"\xff\xfe"])
async def test_unreadable_success_body(body: bytes) -> None:
    rec = Recorder(httpx.Response(200, content=body))
    with pytest.raises(Unavailable) as info:
        await client(rec).read("GET", "/things")
    msg = info.value.user_message
    assert "could not read" in msg
    assert "HTTP 200" in msg
    assert "oops" not in msg
    assert len(rec.requests) == 1


# -- error mapping --------------------------------------------------------------------------


MKIO_ERROR = {
    "error": {"code": "NotFound", "detail": "Project not found", "extraDetail": {"a": 1}},
    "status": 404,
    "ref": "ref-123",
}


async def test_not_found_names_the_thing() -> None:
    rec = Recorder(httpx.Response(404, json=MKIO_ERROR))
    with pytest.raises(NotFound) as info:
        await client(rec).read("GET", "/projects/x", what="project `x`")
    e = info.value
    assert e.user_message == "Example has no project `x` (404): Project not found"
    assert (e.status, e.code, e.detail, e.ref) == (404, "NotFound", "Project not found", "ref-123")


@pytest.mark.parametrize(
    "body",
    [
        {"success": False, "error": "Invalid period"},
        {"success": False, "error": {"code": "bad_period", "message": "Invalid period"}},
        {"error": {"code": "bad_period", "detail": "Invalid period"}, "status": 400, "ref": "r"},
    ],
)
async def test_bad_request_shows_detail_any_error_shape(body: dict[str, object]) -> None:
    rec = Recorder(httpx.Response(400, json=body))
    with pytest.raises(UpstreamError) as info:
        await client(rec).read("GET", "/x")
    assert type(info.value) is UpstreamError
    assert info.value.detail == "Invalid period"
    assert info.value.user_message == "Example rejected the request (400): Invalid period"


async def test_non_json_error_body() -> None:
    rec = Recorder(httpx.Response(409, text="<html>conflict</html>"))
    with pytest.raises(UpstreamError) as info:
        await client(rec).read("GET", "/x")
    assert info.value.status == 409
    assert info.value.detail is None
    assert info.value.user_message == "Example rejected the request (409)."


@pytest.mark.parametrize("status", [401, 403])
async def test_unauthorized_never_echoes_the_secret(status: int) -> None:
    body = {"success": False, "error": f"key {SECRET} is not valid here"}
    rec = Recorder(httpx.Response(status, json=body))
    with pytest.raises(Unauthorized) as info:
        await client(rec).read("GET", "/x")
    e = info.value
    assert e.user_message.startswith(
        f"Example refused the configured key (EXAMPLE_KEY) with {status}"
    )
    for text in (e.user_message, str(e), e.detail or "", e.code or ""):
        assert SECRET not in text
    assert e.detail == "key [redacted] is not valid here"


async def test_failed_call_logged_once_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    rec = Recorder(httpx.Response(404, json=MKIO_ERROR))
    with caplog.at_level(logging.WARNING, logger="bot.apis.http"), pytest.raises(NotFound):
        await client(rec).read("GET", "/projects/a%2Fb?x=1", what="project")
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.apis.http"]
    assert lines == [
        "Example call failed: GET /v1/projects/a%2Fb status=404 ref=ref-123 (NotFound)"
    ]
    assert SECRET not in caplog.text


async def test_redirect_not_followed() -> None:
    rec = Recorder(httpx.Response(302, headers={"Location": "https://evil.test/"}))
    with pytest.raises(Unavailable):
        await client(rec).read("GET", "/x")
    assert [str(r.url) for r in rec.requests] == [f"{BASE}/x"]


# -- stream ---------------------------------------------------------------------------------


async def test_stream_error_is_mapped() -> None:
    rec = Recorder(httpx.Response(400, json={"success": False, "error": "bad"}))
    dest = io.BytesIO()
    with pytest.raises(UpstreamError) as info:
        await client(rec).stream_to("POST", "/report", dest, json={})
    assert info.value.detail == "bad"
    assert dest.getvalue() == b""


# -- paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("plain-name", "plain-name"),
        ("../x", "..%2Fx"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("a b?c#d", "a%20b%3Fc%23d"),
        ("%2e", "%252e"),
    ],
)
def test_path_quotes_segments(name: str, quoted: str) -> None:
    assert path("/projects/{}/usage", name) == f"/projects/{quoted}/usage"
    url = httpx.URL(BASE + "/").join(path("projects/{}/usage", name))
    assert url.raw_path == f"/v1/projects/{quoted}/usage".encode()


def test_path_refuses_empty_segment() -> None:
    with pytest.raises(CommandError):
        path("/projects/{}/usage", "")


async def test_transport_failure_logged_with_full_path(caplog: pytest.LogCaptureFixture) -> None:
    rec = Recorder(httpx.ReadTimeout("slow"))
    with caplog.at_level(logging.WARNING, logger="bot.apis.http"), pytest.raises(Unavailable):
        await client(rec).read("GET", "/things")
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.apis.http"]
    assert lines == ["Example call failed: GET /v1/things status=None ref=None (ReadTimeout)"]


async def test_broken_content_encoding_is_unreadable() -> None:
    rec = Recorder(
        httpx.Response(
            200, headers={"content-encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip at all")
        )
    )
    with pytest.raises(Unavailable) as info:
        await client(rec).read("GET", "/things")
    assert "could not read" in info.value.user_message
