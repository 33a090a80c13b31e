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
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, BinaryIO, Final, TypeVar
from urllib.parse import quote

import httpx
from httpx_retries import Retry, RetryTransport
from pydantic import BaseModel, ValidationError

from bot.errors import CommandError, NotFound, Unauthorized, Unavailable, UpstreamError

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

#: connect ~3 s, read ~15 s: a slow report is worth waiting for, a dead host is not.
DEFAULT_TIMEOUT: Final = httpx.Timeout(connect=3.0, read=15.0, write=10.0, pool=5.0)

RETRY_STATUSES: Final = frozenset({429, 500, 503})
CHANGE_RETRY_STATUSES: Final = frozenset({429})

#: Failures after which a read may safely be sent again: the connection could not be made,
#: or it broke (reset, closed without an answer). A read timeout is not retried: the server
#: is up but slow, and asking again would only triple the wait.
READ_RETRY_EXCEPTIONS: Final[tuple[type[Exception], ...]] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
#: Failures that prove a change never reached the server.
CHANGE_RETRY_EXCEPTIONS: Final[tuple[type[Exception], ...]] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)

_MAX_DETAIL = 300


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
) -> httpx.AsyncClient:
    """An `AsyncClient` for `base_url` whose transport retries (see the module docstring).

    `transport` replaces the network (tests pass `httpx.MockTransport`); the retry layer
    wraps it all the same. Requests that do not name their own `Retry` get the cautious
    change policy, so nothing is ever repeated by accident. Redirects are not followed: the
    credential header must never travel to another host.
    """
    policy = retry or RetryPolicy()
    inner = transport if transport is not None else httpx.AsyncHTTPTransport(verify=tls_context())
    return httpx.AsyncClient(
        base_url=base_url,
        headers=dict(headers),
        timeout=timeout or DEFAULT_TIMEOUT,
        transport=RetryTransport(transport=inner, retry=policy.for_changes()),
        follow_redirects=False,
    )


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


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


def loads(body: bytes | str) -> Any:
    """JSON with every non-integer number as `Decimal` (money never passes through float)."""
    return json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)


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
    ) -> None:
        self.api = api
        self.policy = retry or RetryPolicy()
        self.timeout = timeout or DEFAULT_TIMEOUT
        self._secrets = tuple(s for s in secrets if s)
        self.http = build_client(
            base_url, headers, transport=transport, retry=self.policy, timeout=self.timeout
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
        response = await self._send(
            method, url, params=params, json=json, what=what, retry=self.policy.for_reads()
        )
        return Answer(response.status_code, self._decode(response))

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
        response = await self._send(
            method, url, params=None, json=json, what=what, retry=self.policy.for_changes()
        )
        data = self._decode(response) if response.content.strip() else None
        return Answer(response.status_code, data)

    async def stream_to(
        self,
        method: str,
        url: str,
        dest: BinaryIO,
        *,
        json: object = None,
        what: str | None = None,
    ) -> int:
        """Stream a read's body into `dest` chunk by chunk; the number of bytes written.

        If the connection breaks midway, `Unavailable` is raised and `dest` holds a partial
        body: the caller must discard it.
        """
        written = 0
        try:
            async with self.http.stream(
                method, url, json=json, extensions={"retry": self.policy.for_reads()}
            ) as response:
                if not response.is_success:
                    await response.aread()
                    raise self._error_for_response(response, what)
                async for chunk in response.aiter_bytes():
                    dest.write(chunk)
                    written += len(chunk)
        except httpx.RequestError as exc:
            raise self._error_for_exception(method, url, exc) from exc
        return written

    async def _send(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Mapping[str, str | int] | None,
        json: object,
        what: str | None,
        retry: Retry,
    ) -> httpx.Response:
        try:
            response = await self.http.request(
                method,
                url,
                params=dict(params) if params is not None else None,
                json=json,
                extensions={"retry": retry},
            )
        except httpx.RequestError as exc:
            raise self._error_for_exception(method, url, exc) from exc
        if not response.is_success:
            raise self._error_for_response(response, what)
        return response

    # -- decoding ---------------------------------------------------------------------------

    def _decode(self, response: httpx.Response) -> Any:
        try:
            return loads(response.content)
        except ValueError:  # JSONDecodeError, UnicodeDecodeError, non-finite numbers
            raise self.unreadable(response.status_code, response.request) from None

    def validate(self, model: type[M], data: Any, answer: Answer | None = None) -> M:
        """`model` from decoded JSON; a shape the API does not document is `Unavailable`."""
        try:
            return model.model_validate(data)
        except ValidationError:
            raise self.unreadable(answer.status if answer else None) from None

    def unreadable(
        self, status: int | None, request: httpx.Request | None = None, why: str = "unreadable"
    ) -> Unavailable:
        """The API answered, but not with something the bot understands."""
        if request is not None:
            self._log(request.method, request.url, status, None, why)
        else:
            log.warning("%s answer not understood: status=%s (%s)", self.api.name, status, why)
        shown = f" (HTTP {status})" if status is not None else ""
        return Unavailable(
            self.api.name,
            f"{self.api.name} sent an answer the bot could not read{shown}. "
            "Try again in a minute; if it keeps happening, the API may have changed.",
            status=status,
        )

    def unavailable(self, message: str, *, status: int | None = None) -> Unavailable:
        """A protocol problem spotted by a client (e.g. endless pagination)."""
        log.warning("%s: %s", self.api.name, message)
        return Unavailable(self.api.name, f"{self.api.name} {message}", status=status)

    # -- error mapping ----------------------------------------------------------------------

    def _error_for_response(self, response: httpx.Response, what: str | None) -> UpstreamError:
        status = response.status_code
        code, detail, ref = self._error_fields(response)
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
        if isinstance(exc, httpx.TimeoutException):
            seconds = self._timeout_for(exc)
            within = f" within {seconds:g} s" if seconds is not None else " in time"
            return Unavailable(
                name, f"{name} did not answer{within} — try again in a minute.", code="timeout"
            )
        host = httpx.URL(self.base_url).host
        return Unavailable(
            name,
            f"The bot could not reach {name} at {host} — try again in a minute.",
            code="unreachable",
        )

    def _timeout_for(self, exc: httpx.TimeoutException) -> float | None:
        t = self.timeout
        if isinstance(exc, httpx.ConnectTimeout):
            return t.connect
        if isinstance(exc, httpx.WriteTimeout):
            return t.write
        if isinstance(exc, httpx.PoolTimeout):
            return t.pool
        return t.read

    def _error_fields(self, response: httpx.Response) -> tuple[str | None, str | None, str | None]:
        """(code, detail, ref) from any error body the two APIs send, or none at all.

        MK.IO: `{"error": {"code", "detail", "extraDetail"?}, "status", "ref"}`;
        Contro: `{"success": false, "error": "msg"}` or `{"error": {"code", "message"}}`.
        """
        code = detail = ref = None
        try:
            body = loads(response.content)
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


def _text(value: object) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None
