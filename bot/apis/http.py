"""What the MK.IO and Contro clients share: one `httpx.AsyncClient` per API, the retry policy,
JSON decoding that keeps money exact, and the mapping of failures to `bot.errors`.

Retries come from `httpx-retries` (a `RetryTransport` wrapping the real transport, or the one a
test injects). Every request carries its own `Retry` in `extensions["retry"]`:

* reads (GET, and POSTs that only ask, like MK.IO's usage report) retry 429, 500 and 503, and
  connection failures and resets, at most `RetryPolicy.tries` tries in all;
* changes (anything that may alter billing) retry only what proves the server did not act:
  429, and failing to connect at all. A 500 or a reset after the request was sent is final.

User messages never hold a credential: the clients pass their secrets in, and any text that
came from the API is scrubbed of them before it reaches a message.

Everything an API sends is bounded where it enters (`Limits`): a JSON answer's size, counted
after decompression and checked while it streams in; the time a call may take from the first
try to the last byte, retries and their waits included; and the digits and exponent of every
number (`loads`, `check_decimal`). A streamed body (MK.IO's report, as CSV to a file or as
JSON to a streaming parser) has its own, larger, size and time bounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Protocol, TypeVar, get_args
from urllib.parse import quote

import httpx
from httpx_retries import Retry, RetryTransport
from pydantic import BaseModel, ValidationError

from bot.apis.pacing import PACED, Gate, PacedTransport, RequestRate
from bot.errors import CommandError, NotFound, Unauthorized, Unavailable, UpstreamError
from bot.observe import labels
from bot.observe.metrics import Metrics, UpstreamCall

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

#: connect ~3 s, read ~15 s: a slow report is worth waiting for, a dead host is not. The pool
#: wait is long: requests queue in `ApiClient`'s gate, which never lets more through than the
#: pool has connections, so waiting for one is the bot's own queue, not the API being slow.
DEFAULT_TIMEOUT: Final = httpx.Timeout(connect=3.0, read=15.0, write=10.0, pool=60.0)
#: Requests in flight to one API at a time, unless the client is told otherwise.
DEFAULT_CONCURRENCY: Final = 32

RETRY_STATUSES: Final = frozenset({429, 500, 503})
CHANGE_RETRY_STATUSES: Final = frozenset({429})

#: Failures after which a read may safely be sent again: the connection could not be made,
#: or it broke (reset, closed without an answer). A read timeout is not retried: the server
#: is up but slow, and asking again would only triple the wait.
READ_RETRY_EXCEPTIONS: Final[tuple[type[Exception], ...]] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
#: Failures that prove a change never reached the server.
CHANGE_RETRY_EXCEPTIONS: Final[tuple[type[Exception], ...]] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
)

_MAX_DETAIL = 300
MIB: Final = 1024 * 1024
#: An error body is only read for its message: anything longer is not a message.
_MAX_ERROR_BODY: Final = 64 * 1024
#: Decompressed output is produced at most this much at a time, so a small compressed chunk
#: cannot inflate past a size cap before it is counted.
_INFLATE_STEP: Final = 64 * 1024
#: Only what `_decoded` can inflate step by step is asked for.
ACCEPT_ENCODING: Final = "gzip, deflate"


# -- limits ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limits:
    """How much an API may send and how long a call may take.

    `json_bytes` / `file_bytes`: the most an answer's body may hold, decompressed; reading
    stops as soon as it is passed. `json_seconds` / `file_seconds`: the deadline of a whole
    call, from sending the first try to the body's last byte. Retries and their waits happen
    within it, so no call ever takes longer, however many tries `RetryPolicy` allows.
    """

    json_bytes: int = 64 * MIB
    file_bytes: int = 512 * MIB
    json_seconds: float = 30.0
    file_seconds: float = 300.0

    def __post_init__(self) -> None:
        if min(self.json_bytes, self.file_bytes) < 1:
            raise ValueError("size limits must be positive")
        if min(self.json_seconds, self.file_seconds) <= 0:
            raise ValueError("deadlines must be positive")


class Sink(Protocol):
    """Where a streamed body goes: a binary file, or a filter in front of one."""

    def write(self, data: bytes, /) -> object: ...


class _TooLarge(Exception):
    """A body passed its size cap while being read."""


class _Undecodable(ValueError):
    """A body whose content-encoding the bot did not ask for, or that does not inflate."""


#: How a call can fail on the way in: `ApiClient._failure` words each for the user.
_FAILURES: Final = (TimeoutError, _TooLarge, _Undecodable, zlib.error, httpx.RequestError)


# -- retry policy ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a call is retried.

    `tries` counts every attempt, the first included. Between tries the client waits
    `backoff_factor * 2**n` seconds (n = 1, 2, ...; scaled down by up to `backoff_jitter`), or
    what a `Retry-After` header asks; each wait is capped at `max_wait` and all the waits of
    one call together at `max_total_wait`.

    Tests use `RetryPolicy.immediate()`, which keeps the number of tries but never sleeps
    more than a few milliseconds.
    """

    tries: int = 3
    backoff_factor: float = 0.5
    backoff_jitter: float = 0.5
    max_wait: float = 5.0
    max_total_wait: float = 8.0

    def __post_init__(self) -> None:
        if self.tries < 1:
            raise ValueError("tries must be at least 1")
        if self.max_wait <= 0 or self.max_total_wait <= 0:
            raise ValueError("max_wait and max_total_wait must be positive")

    @classmethod
    def immediate(cls, tries: int = 3) -> RetryPolicy:
        """No real waiting: for tests."""
        return cls(tries=tries, backoff_factor=0.0, max_wait=0.001, max_total_wait=0.01)

    def _retry(
        self,
        methods: Iterable[str],
        statuses: Iterable[int],
        exceptions: Iterable[type[Exception]],
    ) -> Retry:
        return Retry(
            total=self.tries - 1,
            allowed_methods=list(methods),
            status_forcelist=list(statuses),
            retry_on_exceptions=list(exceptions),
            backoff_factor=self.backoff_factor,
            backoff_jitter=self.backoff_jitter,
            respect_retry_after_header=True,
            max_backoff_wait=self.max_wait,
            total_timeout=self.max_total_wait,
        )

    def for_reads(self) -> Retry:
        """429/500/503 and broken connections, for calls that change nothing."""
        return self._retry(
            ("GET", "HEAD", "OPTIONS", "POST"), RETRY_STATUSES, READ_RETRY_EXCEPTIONS
        )

    def for_changes(self) -> Retry:
        """Only 429 and failed connects: the server cannot have acted on those."""
        return self._retry(
            ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"),
            CHANGE_RETRY_STATUSES,
            CHANGE_RETRY_EXCEPTIONS,
        )


# -- building the client --------------------------------------------------------------------


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client: loading the CA bundle costs some 30 ms a time."""
    return httpx.create_ssl_context()


def build_client(
    base_url: str,
    headers: Mapping[str, str],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
    timeout: httpx.Timeout | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    rate: RequestRate | None = None,
    on_retry: Callable[[str], None] | None = None,
) -> httpx.AsyncClient:
    """An `AsyncClient` for `base_url` whose transport retries (see the module docstring).

    `transport` replaces the network (tests pass `httpx.MockTransport`); the retry layer
    wraps it all the same. Requests that do not name their own `Retry` get the cautious
    change policy, so nothing is ever repeated by accident. Redirects are not followed: the
    credential header must never travel to another host. The network's pool holds
    `concurrency` connections; `rate`, if given, paces every try, retries included.
    `on_retry(reason)` hears of each try sent again, with what the one before ended with.
    """
    policy = retry or RetryPolicy()
    inner = (
        transport
        if transport is not None
        else httpx.AsyncHTTPTransport(
            verify=tls_context(),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
    )
    if rate is not None:
        inner = PacedTransport(inner, rate)
    if on_retry is not None:
        inner = _TriesHeard(inner, on_retry)
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"Accept-Encoding": ACCEPT_ENCODING, **headers},
        timeout=timeout or DEFAULT_TIMEOUT,
        transport=RetryTransport(transport=inner, retry=policy.for_changes()),
        follow_redirects=False,
    )


_LAST_TRY: Final = "billing_bot.last_try"


class _TriesHeard(httpx.AsyncBaseTransport):
    """Under the retry layer: tells `on_retry` of each try after the first of a request (the
    retry layer sends the same request object again), with what the try before ended with:
    its status, or its exception's name."""

    def __init__(self, inner: httpx.AsyncBaseTransport, on_retry: Callable[[str], None]) -> None:
        self._inner = inner
        self._on_retry = on_retry

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        previous = request.extensions.get(_LAST_TRY)
        if previous is not None:
            self._on_retry(previous)
        try:
            response = await self._inner.handle_async_request(request)
        except Exception as exc:
            request.extensions[_LAST_TRY] = type(exc).__name__
            raise
        request.extensions[_LAST_TRY] = str(response.status_code)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def path(template: str, *segments: str) -> str:
    """`template` with each `{}` replaced by a URL-quoted path segment.

    `path("/projects/{}/usage", "../x")` is `/projects/..%2Fx/usage`: a name can never
    change which endpoint is called. Empty names are refused.
    """
    return template.format(*(quote_segment(s) for s in segments))


def quote_segment(segment: str) -> str:
    if not segment:
        raise CommandError("A name or ID is missing from the command.")
    quoted = quote(segment, safe="")
    if quoted in {".", ".."}:  # dot segments would be resolved away by URL normalisation
        quoted = quoted.replace(".", "%2E")
    return quoted


# -- decoding -------------------------------------------------------------------------------


#: The most significant digits, and the largest power of ten either way, of a number the bot
#: reads. Money has a few decimals; formatting `1e-30000000` in full would take seconds and
#: hundreds of MB, so such a number is refused where it enters.
MAX_DIGITS: Final = 50
MAX_EXPONENT: Final = 100
#: A longer literal cannot be within both bounds (sign, point, exponent included).
_MAX_LITERAL = MAX_DIGITS + MAX_EXPONENT + 10


class NumberOutOfBounds(ValueError):
    """A number with more digits or a larger exponent than the bot reads."""


class OutOfBounds:
    """Where `loads` met a number the bot does not read. A field the bot ignores (an extra
    field, which the documents allow) may hold one; a field it reads refuses it."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why

    def __repr__(self) -> str:
        return f"OutOfBounds({self.why!r})"


def check_decimal(value: Decimal) -> Decimal:
    """`value` if finite, of at most `MAX_DIGITS` significant digits, and with its leading
    digit's power of ten (`Decimal.adjusted`) within `±MAX_EXPONENT`."""
    if not value.is_finite() or not -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        raise NumberOutOfBounds("a number too large, too small or not finite")
    # str() shows every digit: only a long one can have too many (as_tuple is slower).
    if len(str(value)) > MAX_DIGITS and len(value.as_tuple().digits) > MAX_DIGITS:
        raise NumberOutOfBounds("a number with too many digits")
    return value


def _parse_decimal(literal: str) -> Decimal | OutOfBounds:
    if len(literal) > _MAX_LITERAL:
        return OutOfBounds("a number with too many digits")
    try:
        return check_decimal(Decimal(literal))
    except NumberOutOfBounds as exc:
        return OutOfBounds(str(exc))


def _parse_int(literal: str) -> int | OutOfBounds:
    if len(literal.lstrip("-")) > MAX_DIGITS:
        return OutOfBounds("an integer with too many digits")
    return int(literal)


def _out_of_bounds_constant(name: str) -> OutOfBounds:
    return OutOfBounds(f"non-finite number {name}")


def loads(body: bytes | str) -> Any:
    """JSON with every non-integer number as `Decimal` (money never passes through float).

    A number with more than `MAX_DIGITS` digits or an exponent beyond `MAX_EXPONENT` is
    never computed with: it is read as an `OutOfBounds` marker, which a model refuses
    (`ApiClient.validate`) where the bot reads that field.
    """
    return json.loads(
        body,
        parse_float=_parse_decimal,
        parse_int=_parse_int,
        parse_constant=_out_of_bounds_constant,
    )


@functools.cache
def _number_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of `model` whose type can hold a `Decimal`, directly or nested."""
    return tuple(
        name for name, field in model.model_fields.items() if _may_hold_decimal(field.annotation)
    )


def _may_hold_decimal(annotation: object) -> bool:
    # A field typed `object` or `Any` is kept as sent, never computed with: not walked.
    if annotation is Decimal:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_may_hold_decimal(arg) for arg in get_args(annotation))


def _check_numbers(value: object) -> None:
    """Every `Decimal` in a validated model within bounds: numbers sent as strings (MK.IO's
    `cost`) are turned into `Decimal` by pydantic, after `loads`."""
    if isinstance(value, Decimal):
        check_decimal(value)
    elif isinstance(value, OutOfBounds):
        raise NumberOutOfBounds(value.why)
    elif isinstance(value, BaseModel):
        for name in _number_fields(type(value)):
            _check_numbers(getattr(value, name))
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_numbers(item)
    elif isinstance(value, dict):
        for item in value.values():
            _check_numbers(item)


@dataclass(frozen=True, slots=True)
class Api:
    """Who is being called, for messages: `Api("MK.IO", "token", "MKIO_TOKEN", ...)`."""

    name: str
    credential: str  # "token" / "key"
    variable: str  # the environment variable that holds it
    refused_hint: str  # what to do about a 401/403


@dataclass(frozen=True, slots=True)
class Answer:
    """A successful response, decoded."""

    status: int
    data: Any


class ApiClient:
    """One API's HTTP session: requests, decoding and error mapping, used by both clients."""

    def __init__(
        self,
        api: Api,
        base_url: str,
        headers: Mapping[str, str],
        *,
        secrets: Iterable[str] = (),
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        limits: Limits | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        rate: RequestRate | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.api = api
        #: Every call is counted and timed here (`_observed`), every retry under it.
        self.metrics = metrics or Metrics()
        self.policy = retry or RetryPolicy()
        self.timeout = timeout or DEFAULT_TIMEOUT
        self.limits = limits or Limits()
        self._secrets = tuple(s for s in secrets if s)
        #: Requests wait here for their turn before their deadline starts.
        self.gate = Gate(concurrency, rate)
        self.http = build_client(
            base_url,
            headers,
            transport=transport,
            retry=self.policy,
            timeout=self.timeout,
            concurrency=concurrency,
            rate=rate,
            on_retry=functools.partial(self.metrics.upstream_retry, api.name),
        )
        self.base_url = self.http.base_url

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- requests ---------------------------------------------------------------------------

    async def read(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Mapping[str, str | int] | None = None,
        json: object = None,
        what: str | None = None,
    ) -> Answer:
        """A call that changes nothing: retried per `RetryPolicy.for_reads`; JSON answer."""
        status, body = await self._fetch(
            method, url, params=params, json=json, what=what, retry=self.policy.for_reads()
        )
        return Answer(status, self._decode(status, body))

    async def change(
        self,
        method: str,
        url: str,
        *,
        json: object = None,
        what: str | None = None,
    ) -> Answer:
        """A billing change: never repeated once the server may have acted.

        `data` is None when the answer has no body (MK.IO's POST paymentMethod).
        """
        status, body = await self._fetch(
            method, url, params=None, json=json, what=what, retry=self.policy.for_changes()
        )
        data = self._decode(status, body) if body.strip() else None
        return Answer(status, data)

    async def stream_to(
        self,
        method: str,
        url: str,
        dest: Sink,
        *,
        json: object = None,
        what: str | None = None,
    ) -> int:
        """Stream a read's body into `dest` chunk by chunk; the number of bytes received.

        Bounded by `Limits.file_bytes` and `Limits.file_seconds`. If the call fails midway,
        `dest` holds a partial body: the caller must discard it.
        """

        async def write(chunk: bytes) -> None:
            dest.write(chunk)

        return await self.stream_chunks(method, url, write, json=json, what=what)

    async def stream_chunks(
        self,
        method: str,
        url: str,
        consume: Callable[[bytes], Awaitable[object]],
        *,
        json: object = None,
        what: str | None = None,
    ) -> int:
        """A read whose body is handed to `consume` chunk by chunk, decompressed, as it
        arrives (a streaming parser: nothing holds the whole body); the bytes received.

        Bounded like `stream_to`, by `Limits.file_bytes` and `Limits.file_seconds`: what is
        kept is what `consume` keeps, so the size cap only stops an endless body. An error
        `consume` raises stops the read and is raised as it is.
        """
        limits = self.limits
        received = 0
        with self._observed(method, url) as call:
            try:
                async with (
                    self.gate.turn(),
                    asyncio.timeout(limits.file_seconds),
                    self.http.stream(
                        method, url, json=json, extensions=self._extensions(self.policy.for_reads())
                    ) as response,
                ):
                    if not response.is_success:
                        raise await self._error_for_stream(response, what)
                    call.status = response.status_code
                    async for chunk in _decoded(response):
                        received += len(chunk)
                        if received > limits.file_bytes:
                            raise _TooLarge
                        await consume(chunk)
            except _FAILURES as exc:
                raise self._failure(
                    exc, method, url, limits.file_bytes, limits.file_seconds
                ) from exc
        return received

    async def _fetch(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Mapping[str, str | int] | None,
        json: object,
        what: str | None,
        retry: Retry,
    ) -> tuple[int, bytes]:
        """(status, body) of a successful answer, read within `Limits.json_*`."""
        limits = self.limits
        with self._observed(method, url) as call:
            try:
                async with (
                    self.gate.turn(),
                    asyncio.timeout(limits.json_seconds),
                    self.http.stream(
                        method,
                        url,
                        params=dict(params) if params is not None else None,
                        json=json,
                        extensions=self._extensions(retry),
                    ) as response,
                ):
                    if not response.is_success:
                        raise await self._error_for_stream(response, what)
                    call.status = response.status_code
                    return response.status_code, await _read(response, limits.json_bytes)
            except _FAILURES as exc:
                raise self._failure(
                    exc, method, url, limits.json_bytes, limits.json_seconds
                ) from exc

    def _observed(
        self, method: str, url: str | httpx.URL
    ) -> contextlib.AbstractContextManager[UpstreamCall]:
        """Counted by endpoint template (never the path itself: it holds names) and status."""
        raw = url.raw_path if isinstance(url, httpx.URL) else httpx.URL(url).raw_path
        endpoint = labels.endpoint(
            self.api.name, raw.decode("ascii", "replace"), self.base_url.raw_path.decode("ascii")
        )
        return self.metrics.upstream_call(self.api.name, endpoint, method)

    def _extensions(self, retry: Retry) -> dict[str, Any]:
        return {"retry": retry, PACED: self.gate.rate is not None}

    async def _error_for_stream(self, response: httpx.Response, what: str | None) -> UpstreamError:
        try:
            body = await _read(response, _MAX_ERROR_BODY)
        except (_TooLarge, _Undecodable, zlib.error, httpx.RequestError):
            body = b""  # the status says enough
        return self._error_for_response(response, what, body)

    def _failure(
        self, exc: Exception, method: str, url: str | httpx.URL, cap: int, seconds: float
    ) -> Unavailable:
        """What the user is told when a call failed on the wire or passed a bound."""
        if isinstance(exc, TimeoutError):
            self._log(method, url, None, None, f"no answer within {seconds:g} s")
            return self._timed_out(seconds)
        if isinstance(exc, _TooLarge):
            self._log(method, url, None, None, f"answer over {cap} bytes")
            return Unavailable(
                self.api.name,
                f"{self.api.name}'s answer was larger than the bot accepts ({_size(cap)}), so "
                "the bot stopped reading it. Ask for less (a shorter period); if it keeps "
                "happening, the API may be misbehaving.",
                code="too_large",
            )
        if isinstance(exc, httpx.RequestError):
            return self._error_for_exception(method, url, exc)
        return self.unreadable(None, why=f"undecodable body: {exc}")

    # -- decoding ---------------------------------------------------------------------------

    def _decode(self, status: int, body: bytes) -> Any:
        try:
            return loads(body)
        except NumberOutOfBounds as exc:
            raise self.unreadable(status, why=str(exc), numbers=True) from None
        except ValueError:  # JSONDecodeError, UnicodeDecodeError
            raise self.unreadable(status) from None

    def validate(self, model: type[M], data: Any, answer: Answer | None = None) -> M:
        """`model` from decoded JSON; a shape the API does not document, or a number out of
        bounds (`check_decimal`), is `Unavailable`."""
        status = answer.status if answer else None
        try:
            result = model.model_validate(data)
            _check_numbers(result)
        except ValidationError as exc:
            bounds = [e["input"].why for e in exc.errors() if isinstance(e["input"], OutOfBounds)]
            if bounds:
                raise self.unreadable(status, why=bounds[0], numbers=True) from None
            raise self.unreadable(status) from None
        except NumberOutOfBounds as exc:
            raise self.unreadable(status, why=str(exc), numbers=True) from None
        return result

    def unreadable(
        self,
        status: int | None,
        request: httpx.Request | None = None,
        why: str = "unreadable",
        *,
        numbers: bool = False,
    ) -> Unavailable:
        """The API answered, but not with something the bot understands. `numbers`: because
        a number was beyond what the bot reads (`MAX_DIGITS`, `MAX_EXPONENT`)."""
        if request is not None:
            self._log(request.method, request.url, status, None, why)
        else:
            log.warning("%s answer not understood: status=%s (%s)", self.api.name, status, why)
        shown = f" (HTTP {status})" if status is not None else ""
        reason = (
            f": it holds a number with more than {MAX_DIGITS} digits or an exponent beyond "
            f"±{MAX_EXPONENT}"
            if numbers
            else ""
        )
        return Unavailable(
            self.api.name,
            f"{self.api.name} sent an answer the bot could not read{shown}{reason}. "
            "Try again in a minute; if it keeps happening, the API may have changed.",
            status=status,
            code="number_out_of_bounds" if numbers else None,
        )

    def unavailable(self, message: str, *, status: int | None = None) -> Unavailable:
        """A protocol problem spotted by a client (e.g. endless pagination)."""
        log.warning("%s: %s", self.api.name, message)
        return Unavailable(self.api.name, f"{self.api.name} {message}", status=status)

    # -- error mapping ----------------------------------------------------------------------

    def _error_for_response(
        self, response: httpx.Response, what: str | None, body: bytes
    ) -> UpstreamError:
        status = response.status_code
        code, detail, ref = self._error_fields(response, body)
        self._log(response.request.method, response.request.url, status, ref, code)
        name = self.api.name
        fields: dict[str, Any] = {"status": status, "code": code, "detail": detail, "ref": ref}
        said = f": {detail}" if detail else "."
        if status == 404:
            thing = f"no {what}" if what else "nothing at the address the bot asked for"
            return NotFound(name, f"{name} has {thing} (404){said}", **fields)
        if status in (401, 403):
            return Unauthorized(
                name,
                f"{name} refused the configured {self.api.credential} ({self.api.variable}) "
                f"with {status} — {self.api.refused_hint}",
                **fields,
            )
        if status == 429:
            return Unavailable(
                name,
                f"{name} is limiting how fast the bot may ask (429) — try again in a minute.",
                **fields,
            )
        if status >= 500:
            return Unavailable(
                name,
                f"{name} is not answering right now ({status}) — try again in a minute.",
                **fields,
            )
        if 400 <= status < 500:
            return UpstreamError(name, f"{name} rejected the request ({status}){said}", **fields)
        return Unavailable(  # 1xx/3xx: redirects are never followed with the credential
            name,
            f"{name} gave an unexpected answer ({status}) — try again in a minute.",
            **fields,
        )

    def _error_for_exception(
        self, method: str, url: str | httpx.URL, exc: httpx.RequestError
    ) -> Unavailable:
        name = self.api.name
        with contextlib.suppress(RuntimeError):  # RuntimeError: no request attached
            url = exc.request.url  # the full URL, base path included
        if isinstance(exc, httpx.DecodingError):  # a body whose content-encoding is broken
            return self.unreadable(None, why=type(exc).__name__)
        self._log(method, url, None, None, type(exc).__name__)
        if isinstance(exc, httpx.PoolTimeout):  # the bot's own queue, not the API
            return Unavailable(
                name,
                f"The bot has too many questions for {name} in progress to ask yours in "
                "time — try again in a minute.",
                code="busy",
            )
        if isinstance(exc, httpx.TimeoutException):
            return self._timed_out(self._timeout_for(exc))
        host = httpx.URL(self.base_url).host
        return Unavailable(
            name,
            f"The bot could not reach {name} at {host} — try again in a minute.",
            code="unreachable",
        )

    def _timed_out(self, seconds: float | None) -> Unavailable:
        name = self.api.name
        within = f" within {seconds:g} s" if seconds is not None else " in time"
        return Unavailable(
            name, f"{name} did not answer{within} — try again in a minute.", code="timeout"
        )

    def _timeout_for(self, exc: httpx.TimeoutException) -> float | None:
        t = self.timeout
        if isinstance(exc, httpx.ConnectTimeout):
            return t.connect
        if isinstance(exc, httpx.WriteTimeout):
            return t.write
        return t.read

    def _error_fields(
        self, response: httpx.Response, body_bytes: bytes
    ) -> tuple[str | None, str | None, str | None]:
        """(code, detail, ref) from any error body the two APIs send, or none at all.

        MK.IO: `{"error": {"code", "detail", "extraDetail"?}, "status", "ref"}`;
        Contro: `{"success": false, "error": "msg"}` or `{"error": {"code", "message"}}`.
        """
        code = detail = ref = None
        try:
            body = loads(body_bytes)
        except ValueError:
            body = None
        if isinstance(body, dict):
            err = body.get("error")
            if isinstance(err, dict):
                code = _text(err.get("code"))
                detail = _text(err.get("detail")) or _text(err.get("message"))
                ref = _text(err.get("ref"))
            elif isinstance(err, str):
                detail = err
            detail = detail or _text(body.get("detail")) or _text(body.get("message"))
            code = code or _text(body.get("code"))
            ref = _text(body.get("ref")) or ref
        ref = ref or response.headers.get("x-request-id")
        # All three are shown to the user: none may carry a credential the API echoed back.
        return code and self.redact(code), detail and self.redact(detail), ref and self.redact(ref)

    def redact(self, text: str) -> str:
        """`text` without any credential, one line, bounded in length."""
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        text = " ".join(text.split())
        if len(text) > _MAX_DETAIL:
            text = text[: _MAX_DETAIL - 1] + "…"
        return text

    def _log(
        self,
        method: str,
        url: str | httpx.URL,
        status: int | None,
        ref: str | None,
        what: str | None,
    ) -> None:
        raw = httpx.URL(url).raw_path if isinstance(url, str) else url.raw_path
        path_only = raw.split(b"?", 1)[0].decode("ascii", "replace")
        log.warning(
            "%s call failed: %s %s status=%s ref=%s (%s)",
            self.api.name,
            method,
            path_only,
            status,
            ref,
            what,
        )


async def _read(response: httpx.Response, cap: int) -> bytes:
    """The whole body, decompressed; `_TooLarge` as soon as it passes `cap` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in _decoded(response):
        size += len(chunk)
        if size > cap:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _decoded(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body, inflated at most `_INFLATE_STEP` bytes at a time, so a caller counting
    bytes stops a compression bomb after a step past its cap, whatever one network read
    holds (httpx's own decoders inflate a whole read at once: ~1000x for gzip)."""
    if response.is_stream_consumed:
        # Built with its content (`httpx.Response(json=...)` in a MockTransport): httpx has
        # read and decoded it already; there is no network stream to bound.
        yield response.content
        return
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        async for chunk in response.aiter_raw():
            yield chunk
        return
    if encoding not in ("gzip", "x-gzip", "deflate"):  # never asked for (ACCEPT_ENCODING)
        raise _Undecodable(f"content-encoding {encoding[:40]!r}")
    # 32 + MAX_WBITS: a gzip or a zlib header, whichever comes.
    inflater = zlib.decompressobj(32 + zlib.MAX_WBITS)
    async for raw in response.aiter_raw():
        data = raw
        while data and not inflater.eof:
            out = inflater.decompress(data, _INFLATE_STEP)
            data = inflater.unconsumed_tail
            if out:
                yield out
    if not inflater.eof:
        raise _Undecodable("compressed body cut short")


def _size(count: int) -> str:
    if count >= MIB:
        return f"{count / MIB:.3g} MB"
    if count >= 1024:
        return f"{count / 1024:.3g} KB"
    return f"{count} bytes"


def _text(value: object) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None
