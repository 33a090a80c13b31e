"""The sender: what Slack would send the bot, signed, over real HTTP (slash commands, clicks
on the buttons the bot rendered, Events API envelopes, shortcuts, modal submissions).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.apis.http import tls_context
from bot.devtools.fakeslack.calls import SlackCall
from bot.devtools.fakeslack.reading import button_label, buttons, date_pickers
from bot.devtools.fakeslack.server import LocalSlack
from bot.devtools.fakeslack.views import view_state
from bot.devtools.fakeslack.workspace import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_DOMAIN,
    bot_message,
    channel_name,
    conversation_id,
    user_name,
)


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
            "channel_name": channel_name(channel_id),
            "user_id": user_id,
            "user_name": user_name(user_id),
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
        selected_date: str | None = None,
        action_ts: str | None = None,
    ) -> SentRequest:
        """Press a button the bot rendered in `message` (or, with `selected_date`, choose that
        day in its date picker `action_id`).

        The button is the `nth` (0-based) one with `action_id` (and label `text`, if given);
        its value and block_id are taken from the message unless `value` overrides the value
        (to simulate tampering). A recorded call carries its channel, ts and whether it is
        ephemeral; as in Slack, a click on an ephemeral message has no `message` field.
        `action_ts` is the click's own (the same for a click Slack delivers twice).
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

        stamp = action_ts or f"{self._clock():.6f}"
        if selected_date is not None:
            button = _find_picker(content, action_id)
            action: dict[str, Any] = {
                "type": "datepicker",
                "action_id": action_id,
                "block_id": button["block_id"],
                "selected_date": selected_date,
                "action_ts": stamp,
            }
        else:
            button = _find_button(content, action_id, text=text, nth=nth)
            action = {
                "type": "button",
                "action_id": action_id,
                "block_id": button["block_id"],
                "text": button.get("text", {"type": "plain_text", "text": ""}),
                "action_ts": stamp,
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
                "username": user_name(user_id),
                "name": user_name(user_id),
                "team_id": self.team_id,
            },
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "container": container,
            "trigger_id": self.slack.trigger_id(),
            "team": {"id": self.team_id, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": channel_name(channel)},
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [action],
        }
        if not ephemeral:
            payload["message"] = bot_message(content, ts)
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
            "is_ext_shared_channel": str(inner.get("channel")) in self.slack.external_channels,
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
            "channel": conversation_id(user_id),
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
            "channel": conversation_id(user_id),
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
        if b.get("action_id") == action_id and (text is None or button_label(b) == text)
    ]
    if len(candidates) <= nth:
        rendered = ", ".join(
            f"{b.get('action_id')!r} ({button_label(b)})" for b in buttons(content)
        )
        raise LookupError(
            f"no button #{nth} with action_id {action_id!r}"
            f"{f' and text {text!r}' if text else ''}; it has: {rendered or 'none'}"
        )
    return candidates[nth]


def _find_picker(content: Mapping[str, Any], action_id: str) -> dict[str, Any]:
    found = [p for p in date_pickers(content) if p.get("action_id") == action_id]
    if not found:
        raise LookupError(f"no date picker with action_id {action_id!r}")
    return found[0]


def _user_payload(user_id: str, team_id: str) -> dict[str, str]:
    name = user_name(user_id)
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _retry_headers(retry_num: int | None) -> dict[str, str]:
    if retry_num is None:
        return {}
    return {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
