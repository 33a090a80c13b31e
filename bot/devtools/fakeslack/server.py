"""The local stand-in for the Slack Web API, the response URLs and the file upload URLs:
an aiohttp server that answers as Slack would and records every call.

Nothing here logs request headers: the bot token arrives in `Authorization`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from multidict import MultiDictProxy

from bot.access import BOT_SCOPES
from bot.devtools.fakeslack.calls import SlackCall
from bot.devtools.fakeslack.files import UploadedFiles, read_upload
from bot.devtools.fakeslack.limits import (
    RESPONSE_URL_TTL_SECONDS,
    RESPONSE_URL_USES,
    TRIGGER_ID_TTL_SECONDS,
    block_problems,
    invalid_blocks,
    message_problem,
)
from bot.devtools.fakeslack.reading import maybe_json
from bot.devtools.fakeslack.workspace import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_DOMAIN,
    bot_message,
    channel_object,
    conversation_id,
    user_object,
)

# Form fields that Slack takes as JSON text ("A JSON-based array ..., presented as a URL-encoded
# string"); they are recorded parsed, as if the client had posted JSON.
_JSON_FIELDS = frozenset(
    {"blocks", "attachments", "files", "view", "metadata", "unfurls", "user_auth_blocks"}
)


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
        self.scopes: list[str] = list(BOT_SCOPES)
        self.not_in: set[str] = set()
        """Channels the bot is not a member of: posting there answers `not_in_channel`;
        conversations.info says `is_member: false` (a public `C…` one, which
        conversations.join then joins) or, as Slack does for a private one it is not in,
        `channel_not_found`."""
        """The scopes auth.test says the bot token has (`x-oauth-scopes`): manifest.yml's."""
        self.trigger_ttl = trigger_ttl
        self.external_channels: set[str] = set()
        """Channels shared with another organization (Slack Connect): conversations.info says
        `is_ext_shared`, and the sender's events `is_ext_shared_channel`."""
        self.external_users: set[str] = set()
        """People of another organization (Slack Connect): users.info gives their own
        workspace's `team_id`."""
        self.calls: list[SlackCall] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._triggers: dict[str, float] = {}
        self._cond = asyncio.Condition()
        self._base: str | None = None
        self._runner: web.AppRunner | None = None
        self._counter = itertools.count(1)
        self._uploads = UploadedFiles(self._counter)
        self.files: dict[str, bytes] = self._uploads.data
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
        return self._uploads.file_object(file_id, base=self._base or "")

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
        scopes = {"x-oauth-scopes": ",".join(self.scopes)} if method == "auth.test" else None
        return web.json_response(answer, headers=scopes)

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
        problem = message_problem(call.body)
        if problem is not None:
            return problem
        channel = conversation_id(str(call.body["channel"]))
        if channel in self.not_in:
            return {"ok": False, "error": "not_in_channel"}
        ts = self.new_ts()
        call.channel, call.ts = channel, ts
        return {"ok": True, "channel": channel, "ts": ts, "message": bot_message(call.body, ts)}

    def _chat_post_ephemeral(self, call: SlackCall) -> dict[str, Any]:
        problem = message_problem(call.body)
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
        problem = message_problem(call.body)
        if problem is not None:
            return problem
        channel, ts = str(call.body["channel"]), str(call.body["ts"])
        call.channel, call.ts = channel, ts
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": str(call.body.get("text") or ""),
            "message": bot_message(call.body, ts),
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
        if channel in self.not_in and not str(channel).startswith("C"):
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        self.not_in.discard(str(channel))
        return {"ok": True, "channel": channel_object(str(channel))}

    def _conversations_info(self, call: SlackCall) -> dict[str, Any]:
        channel = call.body.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        shared = str(channel) in self.external_channels
        found = channel_object(str(channel), ext_shared=shared)
        if channel in self.not_in:
            if not str(channel).startswith("C"):
                return {"ok": False, "error": "channel_not_found"}
            found["is_member"] = False
        return {"ok": True, "channel": found}

    def _users_info(self, call: SlackCall) -> dict[str, Any]:
        user = call.body.get("user")
        if not user:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user_object(str(user), external=user in self.external_users)}

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
        problems = block_problems(blocks, max_blocks=100) if isinstance(blocks, list) else []
        if problems:
            return invalid_blocks(problems)
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
        return self._uploads.get_upload_url(call, base=self.base_url)

    def _files_complete_upload(self, call: SlackCall) -> dict[str, Any]:
        return self._uploads.complete(call, base=self._base or "")

    def _files_info(self, call: SlackCall) -> dict[str, Any]:
        return self._uploads.info(call, base=self._base or "")

    # -- upload URLs -------------------------------------------------------------------------

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        data = await read_upload(request)
        call = SlackCall(
            kind="upload",
            method=file_id,
            body={"size": len(data), "content_type": request.content_type},
            headers=dict(request.headers),
            url=str(request.url),
        )
        failure = self._take_failure(file_id, "upload")
        extra: dict[str, str] = {}
        if failure is not None:
            call.status, call.error = failure.status, failure.error
            status, text = failure.status, failure.error
            extra = failure.headers()
        elif (filename := self._uploads.receive(file_id, data)) is None:
            call.status, call.error = 404, "file_not_found"
            status, text = 404, "file_not_found"
        else:
            call.body["filename"] = filename
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
            problems = block_problems(blocks, max_blocks=50) if isinstance(blocks, list) else []
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
        body[key] = maybe_json(body[key])
    return body


def _safe(predicate: Callable[[SlackCall], bool], call: SlackCall) -> bool:
    try:
        return bool(predicate(call))
    except (KeyError, IndexError, TypeError, AttributeError):
        return False


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
