"""A small local stand-in for Slack, over real HTTP on loopback: for end-to-end tests and the demo.

- `LocalSlack` impersonates the Slack Web API (point `AsyncWebClient(base_url=...)` at
  `api_url`), the `response_url` endpoints and the file upload URLs, and records every call.
- `SlackSender` sends the bot what Slack would: signed slash commands, `block_actions` clicks
  built from the buttons the bot actually rendered (in messages and in the Home tab), Events
  API envelopes (mentions, DMs, the Home tab opened), shortcuts and modal submissions.
- `message_text` and `buttons` show a message the way a user would see it; `view_state` fills
  in a modal the way a user would.

Nothing here logs request headers: the bot token arrives in `Authorization`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import mimetypes
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

import httpx
from aiohttp import BodyPartReader, web
from multidict import MultiDictProxy
from slack_sdk.signature import SignatureVerifier

from bot.apis.http import tls_context

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_DOMAIN",
    "LocalSlack",
    "SentRequest",
    "SlackCall",
    "SlackSender",
    "buttons",
    "element_options",
    "message_text",
    "view_state",
]

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
APP_ID = "A0BILLING"
TEAM_DOMAIN = "demo"

# Form fields that Slack takes as JSON text ("A JSON-based array ..., presented as a URL-encoded
# string"); they are recorded parsed, as if the client had posted JSON.
_JSON_FIELDS = frozenset(
    {"blocks", "attachments", "files", "view", "metadata", "unfurls", "user_auth_blocks"}
)
# Calls a user sees: the console shows these, `SlackCall.visible` tells them apart.
_VISIBLE_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.update",
        "chat.delete",
        "files.completeUploadExternal",
        "views.open",
        "views.update",
        "views.push",
        "views.publish",
    }
)
# Slack's documented limits on response URLs.
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60
TRIGGER_ID_TTL_SECONDS = 3.0


# --------------------------------------------------------------------------------------------
# What was recorded


@dataclass
class SlackCall:
    """One request the bot made to (the stand-in for) Slack.

    `body` is the parsed JSON or form body merged with the query string, with JSON-text fields
    (`blocks`, `attachments`, `files`, `view`, ...) parsed. `headers` are as received,
    `Authorization` included: never print them.

    Past the four fields of the contract, LocalSlack notes what it made of the call: `status`
    and `error` (None when Slack would have said ok), and for message calls the `channel`, the
    message `ts` and whether the message is `ephemeral`.
    """

    kind: Literal["api", "response", "upload"]
    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 200
    error: str | None = None
    channel: str | None = None
    ts: str | None = None
    ephemeral: bool = False
    url: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and self.status < 400

    @property
    def visible(self) -> bool:
        """A message, file or view a user would see (whether or not Slack accepted it)."""
        return self.kind == "response" or (self.kind == "api" and self.method in _VISIBLE_METHODS)

    def summary(self) -> str:
        """One line for listings; never includes headers."""
        where = f" channel={self.channel}" if self.channel else ""
        ts = f" ts={self.ts}" if self.ts else ""
        outcome = "" if self.ok else f" -> {self.status} {self.error or ''}".rstrip()
        text = _one_line(message_text(self.body)) if self.visible else _one_line(_brief(self.body))
        return f"{self.kind} {self.method}{where}{ts}{outcome}: {text}"


@dataclass
class _Failure:
    error: str
    status: int
    retry_after: int | None

    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


@dataclass
class _ResponseUrl:
    channel: str | None
    user: str | None
    message_ts: str | None
    ephemeral: bool
    issued: float
    uses: int = 0


@dataclass
class _Upload:
    file_id: str
    filename: str
    length: int
    alt_txt: str | None = None
    snippet_type: str | None = None
    uploaded: bool = False
    completed: bool = False
    title: str | None = None
    channels: list[str] = field(default_factory=list)
    created: int = 0


# --------------------------------------------------------------------------------------------
# The server


class LocalSlack:
    """An aiohttp server that answers like the Slack Web API and records every call.

    `wait_timeout` is how long `wait_for` waits unless told otherwise; `trigger_ttl` how long
    `views.open` accepts a trigger_id (Slack: 3 s). Tests that must pass on a slow machine
    raise both: the order of events is what they check, not how fast they came.
    """

    def __init__(
        self, *, wait_timeout: float = 10.0, trigger_ttl: float = TRIGGER_ID_TTL_SECONDS
    ) -> None:
        self.wait_timeout = wait_timeout
        self.trigger_ttl = trigger_ttl
        self.calls: list[SlackCall] = []
        self.files: dict[str, bytes] = {}
        self._uploads: dict[str, _Upload] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._triggers: dict[str, float] = {}
        self._cond = asyncio.Condition()
        self._base: str | None = None
        self._runner: web.AppRunner | None = None
        self._counter = itertools.count(1)
        self._ts_base = int(time.time())
        self._ts_counter = itertools.count(1)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on `host:port` (0: any free port); returns the base URL."""
        if self._runner is not None:
            raise RuntimeError("LocalSlack is already started")
        app = web.Application(client_max_size=1024 * 1024 * 1024)  # exports of 1M+ rows
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{n}", self._handle_response)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_get("/files/{file_id}/{name}", self._handle_download)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self._base = f"http://{_url_host(str(bound_host))}:{bound_port}"
        return self._base

    async def aclose(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LocalSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def base_url(self) -> str:
        if self._base is None:
            raise RuntimeError("LocalSlack is not started")
        return self._base

    @property
    def api_url(self) -> str:
        """What to pass as the slack-sdk client's `base_url` (ends with a slash)."""
        return f"{self.base_url}/api/"

    # -- what the sender hands out -----------------------------------------------------------

    def response_url(
        self,
        *,
        channel_id: str | None = None,
        user_id: str | None = None,
        message_ts: str | None = None,
        ephemeral: bool = True,
    ) -> str:
        """A fresh response URL for one slash command or action.

        For a click, pass the clicked message (`message_ts`, `ephemeral`): `replace_original`
        then replaces that message. For a slash command, `replace_original` replaces the last
        message posted through the same URL (e.g. a "working…" message).
        """
        url = f"{self.base_url}/response/{next(self._counter)}"
        self._response_urls[urlsplit(url).path] = _ResponseUrl(
            channel=channel_id,
            user=user_id,
            message_ts=message_ts,
            ephemeral=ephemeral,
            issued=time.monotonic(),
        )
        return url

    def trigger_id(self) -> str:
        """A fresh trigger_id; `views.open` accepts it for `trigger_ttl` seconds (Slack: 3)."""
        trigger = f"{next(self._counter)}.{self._ts_base}.{secrets.token_hex(16)}"
        self._triggers[trigger] = time.monotonic()
        return trigger

    def new_ts(self) -> str:
        """A message timestamp, later than every one handed out before."""
        n = next(self._ts_counter)
        return f"{self._ts_base + n // 1_000_000}.{n % 1_000_000:06d}"

    # -- what tests read ---------------------------------------------------------------------

    def api_calls(self, method: str, *, include_failed: bool = False) -> list[SlackCall]:
        """Web API calls of `method` that Slack accepted (and the refused ones if asked)."""
        return [
            c
            for c in self.calls
            if c.kind == "api" and c.method == method and (include_failed or c.ok)
        ]

    def responses(self, url: str | None = None, *, include_failed: bool = False) -> list[SlackCall]:
        """What was POSTed to response URLs (to `url` only, if given)."""
        path = urlsplit(url).path if url else None
        return [
            c
            for c in self.calls
            if c.kind == "response"
            and (path is None or c.method == path)
            and (include_failed or c.ok)
        ]

    def upload(self, file_id: str) -> dict[str, Any]:
        """The file object Slack would return for `file_id` (name, title, size, channels...)."""
        upload = self._uploads.get(file_id)
        if upload is None:
            raise KeyError(file_id)
        return self._file_object(upload)

    async def wait_for(
        self,
        predicate: Callable[[SlackCall], bool],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - tests read better with a timeout argument
        count: int = 1,
        after: int = 0,
        include_failed: bool = False,
    ) -> list[SlackCall]:
        """Wait until `count` recorded calls match; returns every match.

        `timeout` defaults to the `wait_timeout` given to the constructor.

        Only calls Slack accepted are considered unless `include_failed`; only `calls[after:]`
        are considered (pass `len(slack.calls)` to wait for new calls). A predicate that raises
        KeyError, IndexError, TypeError or AttributeError does not match. On timeout, raises
        TimeoutError listing what was recorded.
        """

        def matching() -> list[SlackCall]:
            return [
                c for c in self.calls[after:] if (include_failed or c.ok) and _safe(predicate, c)
            ]

        if timeout is None:
            timeout = self.wait_timeout
        try:
            async with asyncio.timeout(timeout), self._cond:
                await self._cond.wait_for(lambda: len(matching()) >= count)
        except TimeoutError:
            found = len(matching())
            raise TimeoutError(
                f"waited {timeout:g}s for {count} matching Slack call(s), found {found}; "
                f"recorded:\n{self.describe(after=after)}"
            ) from None
        return matching()

    def describe(self, *, after: int = 0) -> str:
        """Every recorded call from `after` on, one per line (no headers, no tokens)."""
        lines = [f"  #{i} {c.summary()}" for i, c in enumerate(self.calls) if i >= after]
        return "\n".join(lines) if lines else "  (nothing)"

    # -- failure injection -------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error: str = "ratelimited",
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail.

        `method` is a Web API method ("chat.postMessage"), "response" (any response URL) or a
        response path ("/response/3"), or "upload" (any upload URL). With status 200 a Web API
        call answers `{"ok": false, "error": error}`; otherwise that status, with `Retry-After`
        when `retry_after` is not None.
        """
        queue = self._failures.setdefault(method, deque())
        for _ in range(times):
            queue.append(_Failure(error=error, status=status, retry_after=retry_after))

    def _take_failure(self, *names: str) -> _Failure | None:
        for name in names:
            queue = self._failures.get(name)
            if queue:
                return queue.popleft()
        return None

    # -- recording ---------------------------------------------------------------------------

    async def _record(self, call: SlackCall) -> None:
        async with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    # -- Web API -----------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        headers = dict(request.headers)
        try:
            body = await _read_body(request)
        except ValueError:  # a body that is not the JSON or form it claims to be
            call = SlackCall(
                kind="api", method=method, body={}, headers=headers, url=str(request.url)
            )
            call.error = "invalid_json"
            await self._record(call)
            return web.json_response({"ok": False, "error": "invalid_json"})
        form_token = body.pop("token", None)  # a token as a form field is auth, not content
        call = SlackCall(
            kind="api", method=method, body=body, headers=headers, url=str(request.url)
        )

        failure = self._take_failure(method)
        if failure is not None:
            call.status, call.error = failure.status, failure.error
            await self._record(call)
            return web.json_response(
                {"ok": False, "error": failure.error},
                status=failure.status,
                headers=failure.headers(),
            )

        auth = headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else form_token
        if not token:
            answer: dict[str, Any] = {"ok": False, "error": "not_authed"}
        elif not str(token).startswith("xox"):
            answer = {"ok": False, "error": "invalid_auth"}
        else:
            handler = self._methods().get(method)
            answer = handler(call) if handler else {"ok": False, "error": "unknown_method"}
        if not answer.get("ok"):
            call.error = str(answer.get("error", "unknown_error"))
        await self._record(call)
        return web.json_response(answer)

    def _methods(self) -> dict[str, Callable[[SlackCall], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.join": self._conversations_join,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "files.info": self._files_info,
        }

    def _auth_test(self, call: SlackCall) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Demo",
            "user": "billing-bot",
            "team_id": "T0001",
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, call: SlackCall) -> dict[str, Any]:
        problem = _message_problem(call.body)
        if problem is not None:
            return problem
        channel = _conversation_id(str(call.body["channel"]))
        ts = self.new_ts()
        call.channel, call.ts = channel, ts
        return {"ok": True, "channel": channel, "ts": ts, "message": _bot_message(call.body, ts)}

    def _chat_post_ephemeral(self, call: SlackCall) -> dict[str, Any]:
        problem = _message_problem(call.body)
        if problem is not None:
            return problem
        if not call.body.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        ts = self.new_ts()
        call.channel, call.ts, call.ephemeral = str(call.body["channel"]), ts, True
        return {"ok": True, "message_ts": ts}

    def _chat_update(self, call: SlackCall) -> dict[str, Any]:
        if not call.body.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        problem = _message_problem(call.body)
        if problem is not None:
            return problem
        channel, ts = str(call.body["channel"]), str(call.body["ts"])
        call.channel, call.ts = channel, ts
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": str(call.body.get("text") or ""),
            "message": _bot_message(call.body, ts),
        }

    def _chat_delete(self, call: SlackCall) -> dict[str, Any]:
        if not call.body.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not call.body.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        call.channel, call.ts = str(call.body["channel"]), str(call.body["ts"])
        return {"ok": True, "channel": call.channel, "ts": call.ts}

    def _chat_get_permalink(self, call: SlackCall) -> dict[str, Any]:
        channel, ts = call.body.get("channel"), call.body.get("message_ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not ts:
            return {"ok": False, "error": "message_not_found"}
        return {
            "ok": True,
            "channel": channel,
            "permalink": (
                f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{str(ts).replace('.', '')}"
            ),
        }

    def _conversations_join(self, call: SlackCall) -> dict[str, Any]:
        channel = call.body.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        call.channel = str(channel)
        return {"ok": True, "channel": _channel_object(str(channel))}

    def _conversations_info(self, call: SlackCall) -> dict[str, Any]:
        channel = call.body.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": _channel_object(str(channel))}

    def _users_info(self, call: SlackCall) -> dict[str, Any]:
        user = call.body.get("user")
        if not user:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": _user_object(str(user))}

    def _views_open(self, call: SlackCall) -> dict[str, Any]:
        trigger = str(call.body.get("trigger_id") or "")
        issued = self._triggers.get(trigger)
        if issued is None:
            return {"ok": False, "error": "invalid_trigger_id"}
        if time.monotonic() - issued > self.trigger_ttl:
            return {"ok": False, "error": "expired_trigger_id"}
        return self._view_answer(call, view_id=f"V{next(self._counter):08d}")

    def _views_update(self, call: SlackCall) -> dict[str, Any]:
        view_id = call.body.get("view_id") or call.body.get("external_id")
        if not view_id:
            return {"ok": False, "error": "not_found"}
        return self._view_answer(call, view_id=str(view_id))

    def _views_publish(self, call: SlackCall) -> dict[str, Any]:
        if not call.body.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return self._view_answer(call, view_id=f"V{next(self._counter):08d}")

    def _view_answer(self, call: SlackCall, *, view_id: str) -> dict[str, Any]:
        view = call.body.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        blocks = view.get("blocks") or []
        problems = _block_problems(blocks, max_blocks=100) if isinstance(blocks, list) else []
        if problems:
            return _invalid_blocks(problems)
        return {
            "ok": True,
            "view": {
                "id": view_id,
                "team_id": "T0001",
                "app_id": APP_ID,
                "bot_id": BOT_ID,
                "hash": secrets.token_hex(8),
                "state": {"values": {}},
                "previous_view_id": None,
                "root_view_id": view_id,
                **view,
            },
        }

    def _files_get_upload_url(self, call: SlackCall) -> dict[str, Any]:
        filename = call.body.get("filename")
        length = call.body.get("length")
        if not filename or length is None or not str(length).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._counter):08d}"
        self._uploads[file_id] = _Upload(
            file_id=file_id,
            filename=str(filename),
            length=int(str(length)),
            alt_txt=_opt_str(call.body.get("alt_txt")),
            snippet_type=_opt_str(call.body.get("snippet_type")),
        )
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, call: SlackCall) -> dict[str, Any]:
        entries = call.body.get("files")
        if not isinstance(entries, list) or not entries:
            return {"ok": False, "error": "invalid_arguments"}
        channels = [
            str(c)
            for c in [call.body.get("channel_id"), *str(call.body.get("channels") or "").split(",")]
            if c
        ]
        uploads: list[_Upload] = []
        for entry in entries:
            upload = self._uploads.get(str(entry.get("id"))) if isinstance(entry, dict) else None
            if upload is None or not upload.uploaded:
                return {"ok": False, "error": "file_not_found"}
            uploads.append(upload)
        for upload, entry in zip(uploads, entries, strict=True):
            upload.completed = True
            upload.title = str(entry.get("title") or upload.filename)
            upload.channels = channels
            upload.created = int(time.time())
        call.channel = channels[0] if channels else None
        return {"ok": True, "files": [self._file_object(u) for u in uploads]}

    def _files_info(self, call: SlackCall) -> dict[str, Any]:
        upload = self._uploads.get(str(call.body.get("file") or ""))
        if upload is None or not upload.completed:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": self._file_object(upload)}

    def _file_object(self, upload: _Upload) -> dict[str, Any]:
        name = upload.filename
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else "text"
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        base = self._base or ""
        return {
            "id": upload.file_id,
            "created": upload.created,
            "timestamp": upload.created,
            "name": name,
            "title": upload.title or name,
            "mimetype": mimetype,
            "filetype": ext,
            "pretty_type": ext.upper(),
            "user": BOT_USER_ID,
            "user_team": "T0001",
            "size": len(self.files.get(upload.file_id, b"")),
            "is_external": False,
            "is_public": True,
            "url_private": f"{base}/files/{upload.file_id}/{name}",
            "url_private_download": f"{base}/files/{upload.file_id}/{name}",
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{upload.file_id}/{name}",
            "alt_txt": upload.alt_txt,
            "channels": list(upload.channels),
            "groups": [],
            "ims": [],
        }

    # -- upload URLs -------------------------------------------------------------------------

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        data = await _read_upload(request)
        call = SlackCall(
            kind="upload",
            method=file_id,
            body={"size": len(data), "content_type": request.content_type},
            headers=dict(request.headers),
            url=str(request.url),
        )
        failure = self._take_failure(file_id, "upload")
        upload = self._uploads.get(file_id)
        extra: dict[str, str] = {}
        if failure is not None:
            call.status, call.error = failure.status, failure.error
            status, text = failure.status, failure.error
            extra = failure.headers()
        elif upload is None:
            call.status, call.error = 404, "file_not_found"
            status, text = 404, "file_not_found"
        else:
            self.files[file_id] = data
            upload.uploaded = True
            call.body["filename"] = upload.filename
            status, text = 200, f"OK - {len(data)}"
        await self._record(call)
        return web.Response(status=status, text=text, content_type="text/plain", headers=extra)

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        data = self.files.get(request.match_info["file_id"])
        if data is None:
            return web.Response(status=404, text="file_not_found", content_type="text/plain")
        return web.Response(body=data, content_type="application/octet-stream")

    # -- response URLs -----------------------------------------------------------------------

    async def _handle_response(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        headers = dict(request.headers)
        try:
            parsed = json.loads(await request.text() or "null")
        except ValueError:
            parsed = None
        body: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
        call = SlackCall(
            kind="response", method=path, body=body, headers=headers, url=str(request.url)
        )
        failure = self._take_failure(call.method, "response")
        status: int
        error: str | None
        extra: dict[str, str] = {}
        if failure is not None:
            status, error, extra = failure.status, failure.error, failure.headers()
        else:
            status, error = self._answer_response(call, is_object=isinstance(parsed, dict))
        if error is not None:
            call.status, call.error = status, error
        await self._record(call)
        return web.Response(
            status=status, text=error or "ok", content_type="text/html", headers=extra
        )

    def _answer_response(self, call: SlackCall, *, is_object: bool) -> tuple[int, str | None]:
        origin = self._response_urls.get(call.method)
        if origin is None:
            return 404, "no_service"
        if time.monotonic() - origin.issued > RESPONSE_URL_TTL_SECONDS:
            return 404, "expired_url"
        if origin.uses >= RESPONSE_URL_USES:
            return 404, "used_url"
        if not is_object:
            return 400, "invalid_payload"
        body = call.body
        if not _truthy(body.get("delete_original")):
            if not (body.get("text") or body.get("blocks") or body.get("attachments")):
                return 400, "no_text"
            blocks = body.get("blocks")
            problems = _block_problems(blocks, max_blocks=50) if isinstance(blocks, list) else []
            if problems:
                return 400, "invalid_blocks"
        origin.uses += 1
        call.channel = origin.channel
        replace = _truthy(body.get("replace_original")) or _truthy(body.get("delete_original"))
        if replace and origin.message_ts is not None:
            call.ts, call.ephemeral = origin.message_ts, origin.ephemeral
        else:
            call.ts = self.new_ts()
            call.ephemeral = body.get("response_type") != "in_channel"
            origin.message_ts, origin.ephemeral = call.ts, call.ephemeral
        return 200, None


# --------------------------------------------------------------------------------------------
# The sender


@dataclass
class SentRequest:
    """What came back from one request to the bot."""

    status: int
    body: str
    elapsed: float
    response_url: str


class SlackSender:
    """Sends the bot signed requests, over real HTTP, shaped as Slack's.

    `bot_url` is the bot's `/slack/events` URL; a bare base URL gets `/slack/events` added.
    """

    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        slack: LocalSlack,
        *,
        team_id: str = "T0001",
        clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(bot_url)
        self.url = bot_url.rstrip("/") + "/slack/events" if parts.path in ("", "/") else bot_url
        self.slack = slack
        self.team_id = team_id
        self._verifier = SignatureVerifier(signing_secret)
        self._clock = clock
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(120.0), trust_env=False, verify=tls_context()
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> SlackSender:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def signed_headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        """The v0 signature headers for `body` (timestamp: now by the sender's clock)."""
        stamp = str(int(self._clock()) if timestamp is None else timestamp)
        signature = self._verifier.generate_signature(timestamp=stamp, body=body)
        assert signature is not None
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}

    async def command(
        self,
        text: str,
        *,
        user_id: str = "U_MEMBER",
        channel_id: str = "C_GENERAL",
        command: str = "/billing",
    ) -> SentRequest:
        """A slash command, form-encoded, with a fresh response_url and trigger_id."""
        response_url = self.slack.response_url(channel_id=channel_id, user_id=user_id)
        form = {
            "token": "deprecated-verification-token",
            "team_id": self.team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": _channel_name(channel_id),
            "user_id": user_id,
            "user_name": _user_name(user_id),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": self.slack.trigger_id(),
        }
        return await self._send_form(form, response_url=response_url)

    async def click(
        self,
        message: SlackCall | dict[str, Any],
        action_id: str,
        *,
        user_id: str = "U_MEMBER",
        channel_id: str = "C_GENERAL",
        value: str | None = None,
        retry_num: int | None = None,
        text: str | None = None,
        nth: int = 0,
    ) -> SentRequest:
        """Press a button the bot rendered in `message`.

        The button is the `nth` (0-based) one with `action_id` (and label `text`, if given);
        its value and block_id are taken from the message unless `value` overrides the value
        (to simulate tampering). A recorded call carries its channel, ts and whether it is
        ephemeral; as in Slack, a click on an ephemeral message has no `message` field.
        """
        if isinstance(message, SlackCall):
            content: Mapping[str, Any] = message.body
            channel = message.channel or channel_id
            ts = message.ts or self.slack.new_ts()
            ephemeral = message.ephemeral
        else:
            content = message
            channel = str(message.get("channel") or channel_id)
            ts = str(message.get("ts") or self.slack.new_ts())
            ephemeral = bool(message.get("is_ephemeral", False))

        button = _find_button(content, action_id, text=text, nth=nth)
        action: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "block_id": button["block_id"],
            "text": button.get("text", {"type": "plain_text", "text": ""}),
            "action_ts": f"{self._clock():.6f}",
        }
        if value is not None:
            action["value"] = value
        elif "value" in button:
            action["value"] = button["value"]
        if "style" in button:
            action["style"] = button["style"]

        response_url = self.slack.response_url(
            channel_id=channel, user_id=user_id, message_ts=ts, ephemeral=ephemeral
        )
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        }
        thread_ts = content.get("thread_ts")
        if thread_ts:
            container["thread_ts"] = thread_ts
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {
                "id": user_id,
                "username": _user_name(user_id),
                "name": _user_name(user_id),
                "team_id": self.team_id,
            },
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "container": container,
            "trigger_id": self.slack.trigger_id(),
            "team": {"id": self.team_id, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": _channel_name(channel)},
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [action],
        }
        if not ephemeral:
            payload["message"] = _bot_message(content, ts)
        headers = _retry_headers(retry_num)
        return await self._send_form(
            {"payload": json.dumps(payload)}, response_url=response_url, headers=headers
        )

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
    ) -> SentRequest:
        """An Events API `event_callback` envelope around `event`, as JSON."""
        inner = dict(event)
        if "ts" not in inner and inner.get("type") in ("message", "app_mention"):
            inner["ts"] = self.slack.new_ts()
        inner.setdefault("event_ts", inner.get("ts") or self.slack.new_ts())
        envelope = {
            "token": "deprecated-verification-token",
            "team_id": self.team_id,
            "api_app_id": APP_ID,
            "event": inner,
            "type": "event_callback",
            "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
            "event_time": int(self._clock()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": secrets.token_hex(16),
        }
        body = json.dumps(envelope).encode()
        headers = {"Content-Type": "application/json", **_retry_headers(retry_num)}
        return await self._send(body, headers, response_url="")

    async def mention(
        self,
        text: str,
        *,
        user_id: str = "U_MEMBER",
        channel_id: str = "C_GENERAL",
        ts: str | None = None,
        thread_ts: str | None = None,
        event_id: str | None = None,
        retry_num: int | None = None,
    ) -> SentRequest:
        """An `app_mention` event: `user_id` wrote "@billing `text`" in `channel_id`."""
        event: dict[str, Any] = {
            "type": "app_mention",
            "user": user_id,
            "channel": channel_id,
            "text": f"<@{BOT_USER_ID}> {text}".rstrip(),
        }
        if ts is not None:
            event["ts"] = ts
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        return await self.event(event, event_id=event_id, retry_num=retry_num)

    async def direct_message(
        self,
        text: str,
        *,
        user_id: str = "U_MEMBER",
        ts: str | None = None,
        thread_ts: str | None = None,
        event_id: str | None = None,
        retry_num: int | None = None,
    ) -> SentRequest:
        """A `message.im` event: `user_id` wrote `text` in their DM with the bot.

        The DM channel is the one LocalSlack posts in for `chat.postMessage(channel=user_id)`
        ("D" and the user ID without its first letter).
        """
        event: dict[str, Any] = {
            "type": "message",
            "channel_type": "im",
            "user": user_id,
            "channel": _conversation_id(user_id),
            "text": text,
        }
        if ts is not None:
            event["ts"] = ts
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        return await self.event(event, event_id=event_id, retry_num=retry_num)

    async def home_opened(
        self,
        *,
        user_id: str = "U_MEMBER",
        tab: str = "home",
        event_id: str | None = None,
        retry_num: int | None = None,
    ) -> SentRequest:
        """An `app_home_opened` event: `user_id` opened the app's `tab` ("home" or "messages")."""
        event = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": _conversation_id(user_id),
            "tab": tab,
        }
        return await self.event(event, event_id=event_id, retry_num=retry_num)

    async def interaction(
        self, payload: Mapping[str, Any], *, retry_num: int | None = None
    ) -> SentRequest:
        """Any interactivity payload, signed and form-encoded as `payload=<json>`, as Slack
        posts block actions, shortcuts and view submissions."""
        response_url = payload.get("response_url")
        return await self._send_form(
            {"payload": json.dumps(payload)},
            response_url=response_url if isinstance(response_url, str) else "",
            headers=_retry_headers(retry_num),
        )

    async def shortcut(self, callback_id: str, *, user_id: str = "U_MEMBER") -> SentRequest:
        """A global shortcut (the lightning-bolt menu): a fresh trigger_id, and no channel."""
        payload: dict[str, Any] = {
            "type": "shortcut",
            "token": "deprecated-verification-token",
            "action_ts": f"{self._clock():.6f}",
            "team": {"id": self.team_id, "domain": TEAM_DOMAIN},
            "user": _user_payload(user_id, self.team_id),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self.slack.trigger_id(),
        }
        return await self.interaction(payload)

    async def home_click(
        self,
        view: SlackCall | Mapping[str, Any],
        action_id: str,
        *,
        user_id: str = "U_MEMBER",
        text: str | None = None,
        nth: int = 0,
        view_id: str | None = None,
        retry_num: int | None = None,
    ) -> SentRequest:
        """Press a button of a Home tab the bot published: `view` is the `views.publish` call
        (or the view itself). Slack sends `block_actions` with a `view` container and the view,
        and neither a response_url nor a channel. The button is chosen as `click` chooses it.
        """
        content = _view_of(view)
        button = _find_button(content, action_id, text=text, nth=nth)
        the_id = view_id or str(content.get("id") or f"V{secrets.token_hex(4).upper()}")
        action: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "block_id": button["block_id"],
            "text": button.get("text", {"type": "plain_text", "text": ""}),
            "action_ts": f"{self._clock():.6f}",
        }
        for key in ("value", "style"):
            if key in button:
                action[key] = button[key]
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": _user_payload(user_id, self.team_id),
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "container": {"type": "view", "view_id": the_id},
            "trigger_id": self.slack.trigger_id(),
            "team": {"id": self.team_id, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "view": self._view_payload(content, the_id, state={"values": {}}),
            "actions": [action],
        }
        return await self.interaction(payload, retry_num=retry_num)

    async def view_submission(
        self,
        view: SlackCall | Mapping[str, Any],
        *,
        user_id: str = "U_MEMBER",
        state: Mapping[str, Any] | None = None,
        view_id: str | None = None,
    ) -> SentRequest:
        """Submit a modal the bot rendered: `view` is its `views.open`, `views.update` or
        `views.push` call (or the view itself).

        `state` is the submitted `view.state` (`{"values": ...}`, see `view_state`); by default
        every input keeps its initial value. The view ID is `view_id`, else the one the
        `views.update` named, else a new one. The bot's answer is in the returned body: empty
        to close the modal, or a `response_action` (`errors`, `update`, `push`, `clear`).
        """
        content = _view_of(view)
        named = view.body.get("view_id") if isinstance(view, SlackCall) else None
        the_id = view_id or str(named or content.get("id") or f"V{secrets.token_hex(4).upper()}")
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": TEAM_DOMAIN},
            "user": _user_payload(user_id, self.team_id),
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "trigger_id": self.slack.trigger_id(),
            "view": self._view_payload(
                content, the_id, state=dict(state) if state is not None else view_state(content)
            ),
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return await self.interaction(payload)

    def _view_payload(
        self, view: Mapping[str, Any], view_id: str, *, state: dict[str, Any]
    ) -> dict[str, Any]:
        """The view as Slack sends it back in a payload: what the bot rendered, plus Slack's
        own fields."""
        return {
            **view,
            "id": view_id,
            "team_id": self.team_id,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "hash": secrets.token_hex(8),
            "root_view_id": view_id,
            "previous_view_id": None,
            "state": state,
        }

    async def raw(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST `body` with exactly `headers` (nothing signed): for bad-signature tests."""
        return await self._client.post(self.url, content=body, headers=headers)

    async def _send_form(
        self,
        form: Mapping[str, str],
        *,
        response_url: str,
        headers: Mapping[str, str] | None = None,
    ) -> SentRequest:
        body = urlencode(form).encode()
        all_headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return await self._send(body, all_headers, response_url=response_url)

    async def _send(
        self, body: bytes, headers: dict[str, str], *, response_url: str
    ) -> SentRequest:
        signed = {**headers, **self.signed_headers(body)}
        started = time.perf_counter()
        response = await self._client.post(self.url, content=body, headers=signed)
        elapsed = time.perf_counter() - started
        return SentRequest(
            status=response.status_code,
            body=response.text,
            elapsed=elapsed,
            response_url=response_url,
        )


# --------------------------------------------------------------------------------------------
# What a user would see


def buttons(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every button element of the message, in display order, each with its `block_id`."""
    return [dict(button) for button in _iter_buttons(message)]


def message_text(message: Mapping[str, Any]) -> str:
    """The message as readable plain text; buttons numbered as `buttons` orders them.

    Renders header, section (text, fields, accessory), context, actions ("[1] Next page"),
    divider, image, rich_text and markdown blocks; mrkdwn is shown as is. Without blocks,
    the message's `text`.
    """
    lines: list[str] = []
    counter = itertools.count(1)
    for blocks in _block_lists(message):
        for block in blocks:
            lines.extend(_render_block(block, counter))
    if not lines:
        return str(message.get("text") or "")
    return "\n".join(lines)


def _render_block(block: Mapping[str, Any], counter: Iterator[int]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        return [_text(block.get("text"))]
    if kind == "section":
        out = [_text(block.get("text"))] if block.get("text") else []
        out.extend(_text(f) for f in block.get("fields") or [])
        accessory = block.get("accessory")
        if isinstance(accessory, Mapping):
            out.append(_element(accessory, counter))
        return out
    if kind == "context":
        parts = [_element(e, counter) for e in block.get("elements") or []]
        return ["  ".join(p for p in parts if p)]
    if kind == "actions":
        parts = [_element(e, counter) for e in block.get("elements") or []]
        return ["   ".join(p for p in parts if p)]
    if kind == "divider":
        return ["---"]
    if kind == "image":
        return [f"[image] {_text(block.get('title')) or block.get('alt_text', '')}"]
    if kind == "markdown":
        return [str(block.get("text") or "")]
    if kind == "rich_text":
        return ["\n".join(_rich(e) for e in block.get("elements") or [])]
    if kind == "input":
        return [f"{_text(block.get('label'))}: [input]"]
    if kind == "file":
        return [f"[file] {block.get('external_id', '')}"]
    return [f"[{kind}]"]


def _element(element: Mapping[str, Any], counter: Iterator[int]) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{next(counter)}] {_label(element)}"
    if kind in ("mrkdwn", "plain_text"):
        return str(element.get("text") or "")
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    placeholder = _text(element.get("placeholder"))
    return f"<{kind}{': ' + placeholder if placeholder else ''}>"


def _rich(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    children = element.get("elements") or []
    if kind == "rich_text_list":
        bullet = "1." if element.get("style") == "ordered" else "•"
        return "\n".join(f"{bullet} {_rich(c)}" for c in children)
    inner = "".join(_rich_leaf(c) for c in children)
    if kind == "rich_text_preformatted":
        return f"```\n{inner}\n```"
    if kind == "rich_text_quote":
        return "\n".join(f"> {line}" for line in inner.splitlines())
    return inner


def _rich_leaf(leaf: Mapping[str, Any]) -> str:
    kind = leaf.get("type")
    if kind == "text":
        return str(leaf.get("text") or "")
    if kind == "link":
        return str(leaf.get("text") or leaf.get("url") or "")
    if kind == "emoji":
        return f":{leaf.get('name', '')}:"
    if kind == "user":
        return f"<@{leaf.get('user_id', '')}>"
    if kind == "channel":
        return f"<#{leaf.get('channel_id', '')}>"
    if "elements" in leaf:
        return _rich(leaf)
    return ""


def _text(obj: object) -> str:
    if isinstance(obj, Mapping):
        return str(obj.get("text") or "")
    return "" if obj is None else str(obj)


def _label(button: Mapping[str, Any]) -> str:
    return _text(button.get("text"))


def _block_lists(message: Mapping[str, Any]) -> list[list[Mapping[str, Any]]]:
    """The message's blocks, then those of its attachments (JSON text is parsed)."""
    lists: list[list[Mapping[str, Any]]] = []
    blocks = _maybe_json(message.get("blocks"))
    if isinstance(blocks, list):
        lists.append([b for b in blocks if isinstance(b, Mapping)])
    attachments = _maybe_json(message.get("attachments"))
    if isinstance(attachments, list):
        for attachment in attachments:
            if isinstance(attachment, Mapping):
                inner = _maybe_json(attachment.get("blocks"))
                if isinstance(inner, list):
                    lists.append([b for b in inner if isinstance(b, Mapping)])
    return lists


def _iter_buttons(message: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for list_index, blocks in enumerate(_block_lists(message)):
        for index, block in enumerate(blocks):
            # Slack gives a block without block_id one of its own; keep it stable here.
            block_id = str(block.get("block_id") or f"auto-{list_index}-{index}")
            elements: list[Any] = []
            if block.get("type") == "section" and isinstance(block.get("accessory"), Mapping):
                elements = [block["accessory"]]
            elif block.get("type") in ("actions", "context"):
                elements = list(block.get("elements") or [])
            for element in elements:
                if isinstance(element, Mapping) and element.get("type") == "button":
                    yield {**element, "block_id": block_id}


# --------------------------------------------------------------------------------------------
# Views: what a user fills in and presses


def view_state(
    view: Mapping[str, Any],
    chosen: Mapping[str, Any] | None = None,
    *,
    current_conversation: str | None = None,
) -> dict[str, Any]:
    """`view.state` as Slack builds it from a view's inputs: `{"values": {block_id:
    {action_id: {"type": ..., "selected_...": ...}}}}`.

    Each input holds its initial value unless `chosen` (by block_id) says otherwise: a date
    ("YYYY-MM-DD"), an option value (a list of them for multi-selects and checkboxes), a
    conversation, channel or user ID, or text; None (or an empty list) leaves it empty. Only
    options the view offers can be chosen (LookupError). `current_conversation` is what a
    conversation select with `default_to_current_conversation` starts with. An input of a kind
    this cannot fill raises ValueError.
    """
    given = chosen or {}
    values: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if not isinstance(block, Mapping) or block.get("type") != "input":
            continue
        element = block.get("element")
        if not isinstance(element, Mapping):
            continue
        block_id = str(block.get("block_id") or "")
        entry = _input_state(
            element,
            given.get(block_id),
            chosen=block_id in given,
            current_conversation=current_conversation,
        )
        values[block_id] = {str(element.get("action_id") or ""): entry}
    return {"values": values}


def element_options(element: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The options a select or checkbox group offers, option groups flattened, in order."""
    found = [dict(o) for o in element.get("options") or [] if isinstance(o, Mapping)]
    for group in element.get("option_groups") or []:
        if isinstance(group, Mapping):
            found.extend(dict(o) for o in group.get("options") or [] if isinstance(o, Mapping))
    return found


# The state key and the initial-value key of each input kind holding one plain value.
_PLAIN_INPUTS: dict[str, tuple[str, str]] = {
    "datepicker": ("selected_date", "initial_date"),
    "timepicker": ("selected_time", "initial_time"),
    "channels_select": ("selected_channel", "initial_channel"),
    "users_select": ("selected_user", "initial_user"),
    "plain_text_input": ("value", "initial_value"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
    "multi_users_select": ("selected_users", "initial_users"),
}


def _input_state(
    element: Mapping[str, Any],
    value: object,
    *,
    chosen: bool,
    current_conversation: str | None,
) -> dict[str, Any]:
    kind = str(element.get("type") or "")
    entry: dict[str, Any] = {"type": kind}
    if kind in _PLAIN_INPUTS:
        key, initial = _PLAIN_INPUTS[kind]
        entry[key] = value if chosen else element.get(initial)
    elif kind in ("static_select", "radio_buttons"):
        picked = _pick_option(element, str(value)) if value else None
        entry["selected_option"] = picked if chosen else element.get("initial_option")
    elif kind in ("multi_static_select", "checkboxes"):
        items = value if isinstance(value, list | tuple) else [] if value is None else [value]
        picked_all = [_pick_option(element, str(v)) for v in items]
        entry["selected_options"] = (
            picked_all if chosen else list(element.get("initial_options") or [])
        )
    elif kind == "conversations_select":
        default = element.get("initial_conversation") or (
            current_conversation if element.get("default_to_current_conversation") else None
        )
        entry["selected_conversation"] = value if chosen else default
    else:
        raise ValueError(f"cannot fill an input of type {kind!r}")
    return entry


def _pick_option(element: Mapping[str, Any], value: str) -> dict[str, Any]:
    for option in element_options(element):
        if option.get("value") == value:
            return option
    raise LookupError(f"{value!r} is not an option of {element.get('action_id')!r}")


def _view_of(view: SlackCall | Mapping[str, Any]) -> Mapping[str, Any]:
    """The view of a `views.*` call (or the view itself)."""
    if isinstance(view, SlackCall):
        content = view.body.get("view")
        if not isinstance(content, Mapping):
            raise ValueError(f"the {view.method} call has no view")
        return content
    return view


def _find_button(
    content: Mapping[str, Any], action_id: str, *, text: str | None, nth: int
) -> dict[str, Any]:
    """The `nth` button with `action_id` (and label `text`, if given), with its block_id."""
    candidates = [
        b
        for b in buttons(content)
        if b.get("action_id") == action_id and (text is None or _label(b) == text)
    ]
    if len(candidates) <= nth:
        rendered = ", ".join(f"{b.get('action_id')!r} ({_label(b)})" for b in buttons(content))
        raise LookupError(
            f"no button #{nth} with action_id {action_id!r}"
            f"{f' and text {text!r}' if text else ''}; it has: {rendered or 'none'}"
        )
    return candidates[nth]


def _user_payload(user_id: str, team_id: str) -> dict[str, str]:
    name = _user_name(user_id)
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


# --------------------------------------------------------------------------------------------
# Block Kit limits Slack enforces (a message Slack would refuse is refused here too)


def _message_problem(body: Mapping[str, Any]) -> dict[str, Any] | None:
    if not body.get("channel"):
        return {"ok": False, "error": "channel_not_found"}
    if not (body.get("text") or body.get("blocks") or body.get("attachments")):
        return {"ok": False, "error": "no_text"}
    blocks = body.get("blocks")
    if blocks is not None and not isinstance(blocks, list):
        return _invalid_blocks(["blocks must be an array"])
    problems = _block_problems(blocks or [], max_blocks=50)
    return _invalid_blocks(problems) if problems else None


def _invalid_blocks(problems: list[str]) -> dict[str, Any]:
    return {
        "ok": False,
        "error": "invalid_blocks",
        "errors": problems,
        "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
    }


def _block_problems(blocks: list[Any], *, max_blocks: int) -> list[str]:
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"no more than {max_blocks} items allowed [json-pointer:/blocks]")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{i}"
        if not isinstance(block, Mapping) or not block.get("type"):
            problems.append(f"a block needs a type {where}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if len(str(block_id)) > 255:
                problems.append(f"must be less than 256 characters {where}/block_id]")
            if str(block_id) in seen:
                problems.append(f"duplicate block_id {block_id!r} {where}/block_id]")
            seen.add(str(block_id))
        kind = block["type"]
        if kind == "header" and len(_text(block.get("text"))) > 150:
            problems.append(f"must be less than 151 characters {where}/text/text]")
        if kind == "section":
            if len(_text(block.get("text"))) > 3000:
                problems.append(f"must be less than 3001 characters {where}/text/text]")
            fields = block.get("fields") or []
            if len(fields) > 10:
                problems.append(f"no more than 10 items allowed {where}/fields]")
            for j, item in enumerate(fields):
                if len(_text(item)) > 2000:
                    problems.append(f"must be less than 2001 characters {where}/fields/{j}/text]")
            if not block.get("text") and not fields:
                problems.append(f"a section needs text or fields {where}]")
        elements = block.get("elements") or []
        if kind == "actions" and len(elements) > 25:
            problems.append(f"no more than 25 items allowed {where}/elements]")
        if kind == "context" and len(elements) > 10:
            problems.append(f"no more than 10 items allowed {where}/elements]")
        accessory = block.get("accessory")
        for j, element in enumerate([*elements, *([accessory] if accessory else [])]):
            if isinstance(element, Mapping) and element.get("type") == "button":
                path = f"{where}/elements/{j}" if j < len(elements) else f"{where}/accessory"
                if len(_label(element)) > 75:
                    problems.append(f"must be less than 76 characters {path}/text/text]")
                if len(str(element.get("value") or "")) > 2000:
                    problems.append(f"must be less than 2001 characters {path}/value]")
                if len(str(element.get("action_id") or "")) > 255:
                    problems.append(f"must be less than 256 characters {path}/action_id]")
    return problems


# --------------------------------------------------------------------------------------------
# Small helpers


async def _read_body(request: web.Request) -> dict[str, Any]:
    """Query string merged with the JSON, urlencoded or multipart body; JSON text fields parsed."""
    body: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            data = await request.json()
            if isinstance(data, dict):
                body.update(data)
        else:
            form: MultiDictProxy[Any] = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    body[key] = {"filename": value.filename, "size": len(value.file.read())}
                else:
                    body[key] = value
    for key in _JSON_FIELDS & body.keys():
        body[key] = _maybe_json(body[key])
    return body


async def _read_upload(request: web.Request) -> bytes:
    """The file bytes of an upload: a raw body (what slack-sdk sends) or a multipart file part."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and part.filename is not None:
                return bytes(await part.read())
        return b""
    return await request.read()


def _maybe_json(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _safe(predicate: Callable[[SlackCall], bool], call: SlackCall) -> bool:
    try:
        return bool(predicate(call))
    except (KeyError, IndexError, TypeError, AttributeError):
        return False


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _bot_message(body: Mapping[str, Any], ts: str) -> dict[str, Any]:
    """The message object Slack returns (and sends with clicks) for a message the bot posted."""
    message: dict[str, Any] = {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "team": "T0001",
        "text": str(body.get("text") or ""),
        "ts": ts,
    }
    for key in ("blocks", "attachments", "thread_ts", "metadata"):
        if body.get(key):
            message[key] = body[key]
    return message


def _retry_headers(retry_num: int | None) -> dict[str, str]:
    if retry_num is None:
        return {}
    return {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}


def _conversation_id(channel: str) -> str:
    """chat.postMessage to a user ID posts in the DM with that user."""
    return "D" + channel[1:] if channel.startswith(("U", "W")) else channel


def _channel_name(channel_id: str) -> str:
    if channel_id.startswith("D"):
        return "directmessage"
    return channel_id.removeprefix("C_").removeprefix("G_").lower().replace("_", "-")


def _user_name(user_id: str) -> str:
    return user_id.removeprefix("U_").lower().replace("_", ".")


def _channel_object(channel_id: str) -> dict[str, Any]:
    is_im = channel_id.startswith("D")
    return {
        "id": channel_id,
        "name": _channel_name(channel_id),
        "is_channel": not is_im,
        "is_group": False,
        "is_im": is_im,
        "is_private": is_im,
        "is_archived": False,
        "is_general": channel_id == "C_GENERAL",
        "is_member": True,
        "created": 1_600_000_000,
        "creator": "U_ADMIN",
        "context_team_id": "T0001",
        "num_members": 2 if is_im else 42,
    }


def _user_object(user_id: str) -> dict[str, Any]:
    name = _user_name(user_id)
    real_name = name.replace(".", " ").title()
    return {
        "id": user_id,
        "team_id": "T0001",
        "name": name,
        "deleted": False,
        "real_name": real_name,
        "tz": "Etc/UTC",
        "tz_label": "Coordinated Universal Time",
        "tz_offset": 0,
        "is_admin": False,
        "is_owner": False,
        "is_bot": user_id == BOT_USER_ID,
        "is_app_user": False,
        "profile": {"real_name": real_name, "display_name": name, "team": "T0001"},
    }


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _brief(body: Mapping[str, Any]) -> str:
    keys = ("channel", "user", "filename", "file", "size", "ts", "message_ts")
    return " ".join(f"{k}={body[k]}" for k in keys if k in body)
