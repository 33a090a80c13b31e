"""Faults and hostile input, over real HTTP: what the user sees stays clear and safe.

- Every read command against every upstream fault: the user gets either the right answer
  (after a bounded retry) or a clear error (no traceback, no credential, the API named, what
  to do next), and the bot stays healthy: `/healthz` answers and the next command is
  answered. `test_resilience.py` has the first examples; this file covers the whole grid.
- Slack's own Web API failing: slack-sdk's retry handlers retry 429s and 5xx.
- Hostile words in commands and in the APIs' error bodies reach Slack only escaped.
- Requests without a valid, recent signature get 401 before any work.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import SecretStr

from bot.devtools.fakeslack import SlackCall, SlackSender
from bot.devtools.sandbox.faults import FaultKind
from tests.e2e.stack import ADMIN, Stack, close_stack, make_stack, seen, upload_named

PROJECT = "my-project"
PERIOD = "2026-10"
CONTRO_RECORDS = 150  # one page of 100 per type in an export, eight pages of 20 inline
READ_TIMEOUT = 2.0
"""The bot's read timeout in the tests of a hung API: every answer that does not hang must
come within it, so it bounds how slow a machine these tests pass on (the slowest answer
here takes ~20 ms of CPU: ~100 times slower still passes, as the README promises for a CPU
throttled to 5%). Only those tests wait it out, each once (twice for a report's CSV): it is
the most of their time, the one real wait left in this file."""
HANG = 3600.0  # a hung API: the bot gives up long before (its request is then cancelled)


_TLS_CONTEXTS: dict[tuple[Any, ...], ssl.SSLContext] = {}
_create_default_context = ssl.create_default_context


@pytest.fixture(autouse=True)
def one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each httpx client loads the CA bundle (~20 ms of CPU) though all traffic here is plain
    HTTP on loopback, and this file builds over a hundred stacks: load it once."""

    def shared(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        key = (args, tuple(sorted(kwargs.items())))
        if key not in _TLS_CONTEXTS:
            _TLS_CONTEXTS[key] = _create_default_context(*args, **kwargs)
        return _TLS_CONTEXTS[key]

    monkeypatch.setattr(ssl, "create_default_context", shared)


# -- the commands ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """A read command, the one upstream call the faults hit, and what a right answer shows."""

    words: str  # `{method}` stands for a payment method ID
    path: str  # under the API's base; `{method}` likewise
    api: str  # "MK.IO" or "Contro"
    unknown: str  # what a 404 on `path` must name
    shows: Callable[[Stack], list[str]]  # strings the right answer contains
    calls: int = 1  # requests to `path` a fault-free answer makes
    at_once: int = 1  # requests to `path` made together, each failing on its own
    channel: bool = False  # posted in the channel (report, export) rather than answered
    upload: bool = False  # and a file uploaded in its thread
    # The requests made together stop when one of them has failed for good (an export's
    # chains): from `tries` requests (one failed first) to `tries * at_once`.
    cancels_the_rest: bool = False

    @property
    def id(self) -> str:
        return self.words.split(" {")[0].replace(" ", "-")

    @property
    def variable(self) -> str:
        return "MKIO_TOKEN" if self.api == "MK.IO" else "CONTRO_API_KEY"


def method_id(stack: Stack) -> str:
    return next(iter(stack.sandbox.payment_method_ids().values()))


def _payment_methods(stack: Stack) -> list[str]:
    return list(stack.sandbox.payment_method_ids().values())


def _rate_card(stack: Stack) -> list[str]:
    card = stack.sandbox.rate_card(method_id(stack))
    return ["Rate card", card["spec"]["rateCard"][0]["prices"][0]["name"]]


def _project_method(stack: Stack) -> list[str]:
    method = stack.sandbox.project_payment_method(PROJECT)
    assert method is not None
    return [method["metadata"]["displayName"], method["metadata"]["id"]]


def _contro_summary(stack: Stack) -> list[str]:
    return ["Contro usage", *(i["type"] for i in stack.sandbox.contro_summary(PERIOD)["items"])]


def _contro_records(stack: Stack) -> list[str]:
    return [r["id"] for r in stack.sandbox.contro_records(PERIOD)[:20]]


READS = [
    Read(
        f"usage {PROJECT}",
        f"/projects/{PROJECT}/usage",
        "MK.IO",
        f"project `{PROJECT}`",
        lambda s: ["Total month to date", "video_encoding_ondemand"],
    ),
    Read(
        "payment-methods",
        "/organization/paymentMethods",
        "MK.IO",
        "payment methods",
        _payment_methods,
    ),
    Read(
        "ratecard {method}",
        "/organization/paymentMethods/{method}/rateCard",
        "MK.IO",
        "payment method `{method}`",
        _rate_card,
    ),
    Read(
        f"payment-method {PROJECT}",
        f"/projects/{PROJECT}/paymentMethod",
        "MK.IO",
        f"project `{PROJECT}`",
        _project_method,
    ),
    Read(
        f"metrics {PROJECT}",
        f"/projects/{PROJECT}/metricsEndpoint",
        "MK.IO",
        f"project `{PROJECT}`",
        lambda s: [f"Metrics export is *off* for `{PROJECT}`"],
    ),
    Read(
        f"contro summary {PERIOD}",
        "/partner/usage/summary",
        "Contro",
        "usage summary",
        _contro_summary,
    ),
    Read(
        f"contro records {PERIOD}",
        "/partner/usage/records",
        "Contro",
        "usage records",
        _contro_records,
    ),
    Read(
        "report 2026-03 csv",
        "/organization/reports/usage",
        "MK.IO",
        "usage report",
        lambda s: ["Total: ", PROJECT],
        calls=3,  # the summary and the period it is compared with, then the CSV
        at_once=2,
        channel=True,
        upload=True,
    ),
    Read(
        f"contro records {PERIOD} csv",
        "/partner/usage/records",
        "Contro",
        "usage records",
        lambda s: [f"{CONTRO_RECORDS} records, total"],
        # one page of each of the five types, fetched at once
        calls=5,
        at_once=5,
        cancels_the_rest=True,
        channel=True,
        upload=True,
    ),
]


# -- the faults --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """An upstream fault on one call. `says` is what the error must say (`api` and
    `variable` filled in); `tries` is how many requests the failing call may make."""

    name: str
    kind: FaultKind = "status"
    status: int = 500
    times: int = 100
    retry_after: str | None = None
    delay: float = 0.0
    recovers: bool = False  # the user gets the right answer
    tries: int = 1
    says: tuple[str, ...] = ()
    unreachable: bool = False  # nothing listens where the bot is told the API is

    def add(self, stack: Stack, path: str) -> None:
        stack.sandbox.add_fault(
            path=path,
            status=self.status,
            times=self.times,
            retry_after=self.retry_after,
            kind=self.kind,
            delay=self.delay,
        )


TRIES = 3  # RetryPolicy's default, kept by RetryPolicy.immediate()

FAULTS = [
    # answered right after a bounded retry
    Fault("500-once", status=500, times=1, recovers=True),
    Fault("429-retry-after-1", status=429, times=2, retry_after="1", recovers=True),
    # The sandbox adds `Retry-After: 1` to Contro's 429s, as Contro documents; MK.IO sends none.
    Fault("429-no-retry-after", status=429, times=1, recovers=True),
    Fault("reset-once", kind="reset", times=1, recovers=True),
    # a clear error
    Fault("503-always", status=503, tries=TRIES, says=("{api}", "503", "try again")),
    Fault("429-always", status=429, retry_after="1", tries=TRIES, says=("{api}", "429")),
    Fault("reset-always", kind="reset", tries=TRIES, says=("could not reach {api}", "try again")),
    Fault(
        "malformed-json", kind="malformed", says=("{api} sent an answer the bot could not read",)
    ),
    Fault("401", status=401, says=("{api} refused the configured", "{variable}", "401")),
    Fault("404", status=404, says=("{api} has no {unknown}", "404")),
    Fault(
        "read-timeout",
        kind="hang",
        delay=HANG,
        says=(f"{{api}} did not answer within {READ_TIMEOUT:g} s", "try again"),
    ),
    Fault("unreachable", unreachable=True, tries=0, says=("could not reach {api}",)),
]


# -- running one command -----------------------------------------------------------------------


def read_timeout(fault: Fault) -> float | None:
    """The bot gives up on a hung API after READ_TIMEOUT, not `DEFAULT_TIMEOUT`'s 15 s."""
    return READ_TIMEOUT if fault.kind == "hang" else None


def assert_paced(stack: Stack, read: Read, fault: Fault) -> None:
    """Contro's 429s held every request back for as long as their `Retry-After` asked (one
    second unless the fault says: the sandbox sends Contro's own); nothing else waited."""
    waits = stack.pacer.slept
    if read.api == "Contro" and fault.kind == "status" and fault.status == 429:
        assert waits, "the retry waited for Retry-After"
        assert set(waits) == {float(fault.retry_after or "1")}, waits
    else:
        assert waits == []


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port bound but never listened on: connections to it are refused, and no
    other test (another xdist worker) can take it while it is held."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


async def run(stack: Stack, read: Read, *, reachable: bool = True) -> str:
    """Send the command; what the user finally sees (with a note of the uploaded file).

    A command answered in the channel is sent while the sandbox holds every request: it
    must be acknowledged before the API answers anything (unless the API cannot be reached
    at all: then nothing reaches the sandbox to hold)."""
    words = read.words.format(method=method_id(stack))
    if not read.channel:
        _, reply = await stack.ask(words)
        assert reply.body.get("response_type", "ephemeral") == "ephemeral"
        return seen(reply)
    after, before = len(stack.slack.calls), len(stack.sandbox.requests)
    if reachable:
        stack.sandbox.hold()
    sent = await stack.sender.command(words, channel_id="C_FINANCE")
    assert sent.status == 200
    if reachable:
        assert stack.sandbox.held == stack.sandbox.requests[before:], "acked before any answer"
        await stack.sandbox.wait_held()
        stack.sandbox.release()

    def final(call: SlackCall) -> bool:
        return call.method == "chat.update" and not str(call.body["text"]).startswith("Preparing")

    [result] = await stack.slack.wait_for(final, after=after)
    text = seen(result)
    if read.upload and not text.startswith(":x:") and "Could not" not in text:
        [complete] = await stack.slack.wait_for(upload_named(stack, ".csv"), after=after)
        assert complete.body["thread_ts"] == result.body["ts"]
        [entry] = complete.body["files"]
        text += f"\n[uploaded {stack.slack.upload(entry['id'])['name']}]"
    return text


def requests_to(stack: Stack, path: str) -> int:
    return sum(1 for r in stack.sandbox.requests if r.path.endswith(path))


def assert_clean(stack: Stack, text: str) -> None:
    """No traceback, no exception's repr, no credential in what the user sees or in any
    message the bot sent."""
    for bad in ("Traceback", "Error(", "Exception", "httpx", "aiohttp", 'File "'):
        assert bad not in text, text
    traffic = " ".join(str(c.body) for c in stack.slack.calls)
    for secret in stack.settings.secrets():
        assert secret not in traffic


async def assert_healthy(stack: Stack, read: Read, *, same_command: bool) -> None:
    """`/healthz` answers; the next command is answered (the same one, once the fault is
    gone, when the API can be reached at all)."""
    async with httpx.AsyncClient(verify=False, trust_env=False) as client:  # noqa: S501 - http
        health = await client.get(stack.bot_url + "/healthz")
    assert health.status_code == 200
    _, reply = await stack.ask("help")
    assert "/billing usage" in seen(reply)
    if same_command:
        stack.sandbox.faults.clear()
        text = await run(stack, read)
        for expected in read.shows(stack):
            assert expected in text, (expected, text)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
@pytest.mark.parametrize("read", READS, ids=lambda r: r.id)
async def test_a_fault_gives_the_right_answer_or_a_clear_error_and_the_bot_stays_healthy(
    read: Read, fault: Fault, refused_port: int
) -> None:
    overrides: dict[str, str] = {}
    if fault.unreachable:
        key = "mkio_api_url" if read.api == "MK.IO" else "contro_api_url"
        base = "/api/v1" if read.api == "MK.IO" else "/v1"
        overrides[key] = f"http://127.0.0.1:{refused_port}{base}"
    stack = await make_stack(read_timeout=read_timeout(fault), **overrides)
    try:
        stack.sandbox.set_contro_records(PERIOD, CONTRO_RECORDS)
        path = read.path.format(method=method_id(stack))
        if not fault.unreachable:
            fault.add(stack, path)

        text = await run(stack, read, reachable=not fault.unreachable)

        assert_clean(stack, text)
        if fault.recovers:
            for expected in read.shows(stack):
                assert expected in text, (expected, text)
            assert requests_to(stack, path) > read.calls, "the failed call was retried"
            assert requests_to(stack, path) <= read.calls + TRIES - 1
        else:
            for phrase in fault.says:
                expected = phrase.format(
                    api=read.api,
                    variable=read.variable,
                    unknown=read.unknown.format(method=path.split("/")[-2]),
                )
                assert expected in text, (expected, text)
            assert "[uploaded" not in text
            if read.cancels_the_rest:
                assert fault.tries <= requests_to(stack, path) <= fault.tries * read.at_once
            else:
                assert requests_to(stack, path) == fault.tries * read.at_once
        assert_paced(stack, read, fault)
        await assert_healthy(stack, read, same_command=not fault.unreachable)
    finally:
        await close_stack(stack)


# -- unknown names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words", ["usage no-such-project", "payment-method no-such-project", "metrics no-such-project"]
)
async def test_an_unknown_project_is_named_in_the_reply(stack: Stack, words: str) -> None:
    _, reply = await stack.ask(words)
    text = seen(reply)
    assert "no project `no-such-project`" in text
    assert "`my-project`" in text  # the nearest known name
    assert "Reference" not in text  # a typo is not an incident
    assert_clean(stack, text)


async def test_an_unknown_payment_method_says_so_before_asking_for_its_rate_card(
    stack: Stack,
) -> None:
    _, reply = await stack.ask("ratecard 00000000-0000-4000-8000-000000000000")
    text = seen(reply)
    assert "no payment method with that ID or name" in text
    assert "/billing payment-methods" in text
    assert not [r for r in stack.sandbox.requests if r.path.endswith("/rateCard")]


# -- a wrong credential ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "setting", "wrong", "variable"),
    [
        ("payment-methods", "mkio_token", "wrong-mkio-token-1234", "MKIO_TOKEN"),
        ("contro summary", "contro_api_key", "sk_live_wrong_key_5678", "CONTRO_API_KEY"),
    ],
)
async def test_a_refused_credential_says_which_and_never_shows_it(
    words: str, setting: str, wrong: str, variable: str
) -> None:
    overrides: dict[str, Any] = {setting: SecretStr(wrong)}
    stack = await make_stack(**overrides)
    try:
        _, reply = await stack.ask(words)
        text = seen(reply)
        assert f"refused the configured {'token' if 'mkio' in setting else 'key'}" in text
        assert variable in text
        assert wrong not in str(reply.body)
        assert_clean(stack, text)
    finally:
        await close_stack(stack)


# -- Slack's own Web API failing -----------------------------------------------------------------


def _final_update(call: SlackCall) -> bool:
    return call.method == "chat.update" and not str(call.body["text"]).startswith("Preparing")


async def test_a_rate_limited_post_message_is_retried_after_retry_after(stack: Stack) -> None:
    stack.slack.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0)
    sent = await stack.sender.command("report 2026-03", channel_id="C_FINANCE")
    assert sent.status == 200
    [summary] = await stack.slack.wait_for(_final_update)
    assert "Total: " in seen(summary)
    posts = stack.slack.api_calls("chat.postMessage", include_failed=True)
    assert [p.status for p in posts] == [429, 200], "slack-sdk retried the rate-limited post"
    assert summary.body["ts"] == posts[1].ts
    assert not stack.slack.responses(sent.response_url), "nothing went wrong for the user"


async def test_a_slack_server_error_on_update_is_retried(stack: Stack) -> None:
    status = 503
    stack.slack.fail_next("chat.update", error="internal_error", status=status, retry_after=None)
    await stack.sender.command("report 2026-03", channel_id="C_FINANCE")
    [summary] = await stack.slack.wait_for(_final_update)
    assert "Total: " in seen(summary)
    updates = stack.slack.api_calls("chat.update", include_failed=True)
    assert [u.status for u in updates] == [status, 200]


async def test_a_channel_post_slack_keeps_refusing_gives_the_asker_a_clear_error(
    stack: Stack,
) -> None:
    stack.slack.fail_next(
        "chat.postMessage", error="internal_error", status=500, retry_after=None, times=3
    )
    sent = await stack.sender.command("report 2026-03", channel_id="C_FINANCE")
    await stack.slack.wait_for(
        lambda c: c.method == "chat.postMessage", count=3, include_failed=True
    )
    reply = await stack.final_response(sent.response_url)
    assert "Slack" in seen(reply)
    assert_clean(stack, seen(reply))


# -- the CSV of a report failing after its summary is posted -------------------------------------


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (Fault("503-always", status=503), "MK.IO is not answering right now (503)"),
        (Fault("read-timeout", kind="hang", delay=HANG), "MK.IO did not answer within"),
        (Fault("401", status=401), "MK.IO refused the configured token (MKIO_TOKEN)"),
    ],
    ids=lambda v: v.name if isinstance(v, Fault) else "",
)
async def test_a_failing_csv_keeps_the_summary_and_says_why_in_its_thread(
    fault: Fault, says: str
) -> None:
    stack = await make_stack(read_timeout=read_timeout(fault))
    try:
        path = "/organization/reports/usage"
        # The first report request (the summary) passes untouched; the CSV one fails.
        stack.sandbox.add_fault(path=path, kind="hang", delay=0.0, times=1)
        fault.add(stack, path)
        await stack.sender.command("report 2026-03 csv", channel_id="C_FINANCE")
        [summary] = await stack.slack.wait_for(_final_update)
        assert "Total: " in seen(summary)
        [reason] = await stack.slack.wait_for(
            lambda c: c.method == "chat.postMessage" and c.body.get("thread_ts") == summary.ts
        )
        text = seen(reason)
        assert says in text, text
        assert_clean(stack, text)
        csv_uploads = [c for c in stack.slack.calls if c.ok and upload_named(stack, ".csv")(c)]
        assert csv_uploads == []
        await assert_healthy(stack, READS[0], same_command=True)
    finally:
        await close_stack(stack)


# -- hostile words -------------------------------------------------------------------------------

#: What Slack would turn into a mention, a channel link or a link if it reached it unescaped.
HOSTILE = {
    "<!channel>": "<!channel",
    "<!here>": "<!here",
    "<!everyone>": "<!everyone",
    "<@U0EVIL>": "<@U0EVIL",
    "<#C0EVIL|general>": "<#C0EVIL",
    "<https://evil.example|click>": "<https://evil",
    "<!subteam^S0EVIL>": "<!subteam",
}


def assert_no_injection(stack: Stack) -> None:
    """Not one recorded Slack call (messages, updates, responses, uploads) carries any of
    the user's control sequences unescaped."""
    assert stack.slack.calls
    for call in stack.slack.calls:
        sent = json.dumps(call.body, ensure_ascii=False)
        for raw in HOSTILE.values():
            assert raw not in sent, (call.method, sent)


@pytest.mark.parametrize("hostile", list(HOSTILE), ids=list(HOSTILE.values()))
async def test_hostile_words_reach_slack_only_escaped(stack: Stack, hostile: str) -> None:
    texts = [
        hostile,
        f"usage {hostile}",
        f"{hostile} usage my-project",
        f"help {hostile}",
        f"report {hostile}",
        f"report 2026-03 project my-project,{hostile}",
        f"report 2026-03 by {hostile}",
        f"payment-method my-project set {hostile}",
        f"ratecard {hostile}",
        f"metrics my-project {hostile}",
        f"contro summary {hostile}",
        f"contro records 2026-10 type {hostile} csv",
        f"contro {hostile}",
        f"usage my-project{hostile}",
    ]
    for text in texts:
        _, reply = await stack.ask(text, user_id=ADMIN)
        assert "Try: `/billing" in seen(reply), seen(reply)
    assert stack.sandbox.requests == [], "nothing hostile was sent upstream"
    assert not stack.slack.api_calls("chat.postMessage"), "nothing was posted in the channel"
    assert_no_injection(stack)


@pytest.mark.parametrize(
    ("words", "path", "error"),
    [
        ("payment-methods", "/organization/paymentMethods", "mkio"),
        ("contro summary", "/partner/usage/summary", "contro-string"),
        ("contro records", "/partner/usage/records", "contro-object"),
    ],
)
async def test_an_api_error_body_is_shown_escaped_and_without_any_credential(
    stack: Stack, words: str, path: str, error: str
) -> None:
    """The API's own words reach the user, but never a credential it echoed back (in its
    code, detail or reference) and never as a mention or a link."""
    token = stack.sandbox.mkio_token if error == "mkio" else stack.sandbox.contro_key
    said = f"{token} is not allowed <!channel> <@U0EVIL> <https://evil.example|click>"
    code, ref = f"Bad_{token}", f"ref-{token}"
    body: dict[str, Any] = {
        "mkio": {"error": {"code": code, "detail": said}, "status": 400, "ref": ref},
        "contro-string": {"success": False, "error": said, "ref": ref},
        "contro-object": {"success": False, "error": {"code": code, "message": said, "ref": ref}},
    }[error]
    stack.sandbox.add_fault(path=path, status=400, body=json.dumps(body).encode())
    _, reply = await stack.ask(words)
    text = seen(reply)
    assert "rejected the request (400)" in text
    assert "is not allowed" in text
    assert token not in json.dumps(reply.body)
    assert_clean(stack, text)
    assert_no_injection(stack)


# -- requests Slack did not sign -----------------------------------------------------------------


def _form(text: str, response_url: str = "http://127.0.0.1:9/response/1") -> bytes:
    return urlencode(
        {
            "command": "/billing",
            "text": text,
            "user_id": ADMIN,
            "channel_id": "C_GENERAL",
            "team_id": "T0001",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    ).encode()


def _unsigned(stack: Stack, body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded"}


def _no_signature(stack: Stack, body: bytes) -> dict[str, str]:
    headers = {**_unsigned(stack, body), **stack.sender.signed_headers(body)}
    del headers["X-Slack-Signature"]
    return headers


def _no_timestamp(stack: Stack, body: bytes) -> dict[str, str]:
    headers = {**_unsigned(stack, body), **stack.sender.signed_headers(body)}
    del headers["X-Slack-Request-Timestamp"]
    return headers


def _bad_signature(stack: Stack, body: bytes) -> dict[str, str]:
    return {
        **_unsigned(stack, body),
        **stack.sender.signed_headers(body),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }


def _other_secret(stack: Stack, body: bytes) -> dict[str, str]:
    other = SlackSender(stack.bot_url, "not-the-signing-secret", stack.slack)
    return {**_unsigned(stack, body), **other.signed_headers(body)}


def _other_body(stack: Stack, body: bytes) -> dict[str, str]:
    """Signed for the harmless `help`, sent with the billing change."""
    return {**_unsigned(stack, body), **stack.sender.signed_headers(_form("help"))}


def _aged(seconds: int) -> Callable[[Stack, bytes], dict[str, str]]:
    def headers(stack: Stack, body: bytes) -> dict[str, str]:
        stamp = int(time.time()) + seconds
        return {**_unsigned(stack, body), **stack.sender.signed_headers(body, timestamp=stamp)}

    return headers


REFUSED = {
    "unsigned": _unsigned,
    "no-signature": _no_signature,
    "no-timestamp": _no_timestamp,
    "bad-signature": _bad_signature,
    "signed-with-another-secret": _other_secret,
    "signature-of-another-body": _other_body,
    "six-minutes-old": _aged(-6 * 60),
    "an-hour-old": _aged(-3600),
    "six-minutes-ahead": _aged(6 * 60),
}


@pytest.mark.parametrize("make_headers", list(REFUSED.values()), ids=list(REFUSED))
async def test_a_request_without_a_valid_recent_signature_gets_401_before_any_work(
    stack: Stack, make_headers: Callable[[Stack, bytes], dict[str, str]]
) -> None:
    body = _form(f"payment-method my-project set {method_id(stack)}")
    response = await stack.sender.raw(body, make_headers(stack, body))
    assert response.status_code == 401
    assert "Traceback" not in response.text
    await asyncio.sleep(0.05)  # had anything been started, it would show by now
    assert stack.sandbox.requests == []
    assert stack.slack.calls == [], "not one Slack call"


@pytest.mark.parametrize("kind", ["click", "event"])
async def test_unsigned_clicks_and_events_are_refused_too(stack: Stack, kind: str) -> None:
    if kind == "click":
        payload = {"type": "block_actions", "user": {"id": ADMIN}, "actions": []}
        body = urlencode({"payload": json.dumps(payload)}).encode()
        content_type = "application/x-www-form-urlencoded"
    else:
        envelope = {"type": "event_callback", "event": {"type": "app_mention", "text": "usage x"}}
        body = json.dumps(envelope).encode()
        content_type = "application/json"
    headers = {"Content-Type": content_type, **_bad_signature(stack, body)}
    response = await stack.sender.raw(body, headers)
    assert response.status_code == 401
    await asyncio.sleep(0.05)
    assert stack.sandbox.requests == []
    assert stack.slack.calls == []


async def test_a_signature_four_minutes_old_is_still_accepted(stack: Stack) -> None:
    url = stack.slack.response_url(channel_id="C_GENERAL", user_id=ADMIN)
    body = _form("help", url)
    response = await stack.sender.raw(body, _aged(-4 * 60)(stack, body))
    assert response.status_code == 200
    assert "/billing usage" in seen(await stack.final_response(url))
