"""A message holding a secret is refused on every path that posts a stored or public
message, and sent only as an ephemeral message to its asker; each command's route says
where its answer may go."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.language import commands as c
from bot.errors import SecretNotPostable
from bot.logs import redactor
from bot.slack.delivery import (
    ChannelGuard,
    ChannelMessage,
    EphemeralReply,
    ResponseUrlMessage,
    refuse_private,
)
from bot.slack.handlers.reply import payload
from bot.slack.handlers.routes import ROUTES, Reach
from bot.slack.render.common import Message, SecretText, finish, md, refuse_secret, section
from bot.slack.render.home import render_home
from bot.slack.render.share import render_shared, with_share_button
from bot.store.external_channels import MemoryExternalChannelStore

PASSWORD = "unit-test-password-31337"


class RecordingClient:
    """Stands in for AsyncWebClient: notes each Web API call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, method: str) -> Callable[..., Awaitable[dict[str, Any]]]:
        async def call(**kwargs: Any) -> dict[str, Any]:
            self.calls.append((method, kwargs))
            return {"ok": True, "ts": "1.2", "channel": "C1"}

        return call


def secret_message() -> Message:
    fields = [md("*Password*"), SecretText(text=PASSWORD)]
    return finish("Connection details", [section("Details:"), SectionBlock(fields=fields)])


def client(recording: RecordingClient) -> AsyncWebClient:
    return recording  # type: ignore[return-value]


def test_a_secret_text_anywhere_makes_a_message_secret() -> None:
    message = secret_message()
    assert message.secret
    assert not finish("plain", [section("no secret")]).secret
    # whatever is built from it stays secret: a shared copy, a share button added
    assert render_shared(message, "U1").secret
    assert with_share_button(message, "metrics x").secret


def test_to_slack_refuses_a_secret_unless_ephemeral() -> None:
    with pytest.raises(SecretNotPostable):
        secret_message().to_slack()
    shown = secret_message().to_slack(ephemeral=True)
    assert PASSWORD in str(shown["blocks"])
    assert PASSWORD not in shown["text"]
    assert redactor.clean(f"body {PASSWORD}") == "body ***", "masked in logs once shown"


StoredPost = Callable[[Message], Awaitable[object]]


def stored_paths(web: RecordingClient, responses: list[dict[str, Any]]) -> dict[str, StoredPost]:
    async def respond(**kwargs: Any) -> None:
        responses.append(kwargs)

    guard = ChannelGuard(client(web), MemoryExternalChannelStore())
    guard.remember("C1", False)  # a channel of this organization only
    channel = ChannelMessage(client(web), "C1", guard=guard)
    in_thread = ChannelMessage(client(web), "C1", guard=guard, thread_ts="9.9")
    edited = ChannelMessage(client(web), "C1", guard=guard)
    edited.ts = "1.1"
    via_url = ResponseUrlMessage(respond, "C1")

    async def stored_respond(message: Message) -> None:  # a `respond` adapter posting
        await respond(**refuse_private(message.to_slack(ephemeral=True), "a DM"))

    return {
        "chat.postMessage": channel.post,
        "chat.postMessage in a thread": in_thread.post,
        "chat.update": edited.update,
        "reply in a thread": channel.reply,
        "response_url in_channel": via_url.post,
        "response_url in_channel edit": via_url.update,
        "respond adapter to a stored post": stored_respond,
    }


@pytest.mark.parametrize(
    "path",
    [
        "chat.postMessage",
        "chat.postMessage in a thread",
        "chat.update",
        "reply in a thread",
        "response_url in_channel",
        "response_url in_channel edit",
        "respond adapter to a stored post",
    ],
)
async def test_every_stored_path_refuses_a_secret_and_sends_nothing(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    web, responses = RecordingClient(), list[dict[str, Any]]()
    post = stored_paths(web, responses)[path]
    with pytest.raises(SecretNotPostable):
        await post(secret_message())
    assert web.calls == []
    assert responses == []
    assert "refused to post a message holding a secret" in caplog.text


async def test_stored_paths_still_post_what_holds_no_secret() -> None:
    web, responses = RecordingClient(), list[dict[str, Any]]()
    for post in stored_paths(web, responses).values():
        await post(finish("plain", [section("no secret")]))
    assert len(web.calls) + len(responses) == 7


async def test_an_ephemeral_reply_to_the_asker_carries_it() -> None:
    web = RecordingClient()
    await EphemeralReply(client(web), "C1", "U_ADMIN", thread_ts="9.9").post(secret_message())
    [(method, sent)] = web.calls
    assert method == "chat_postEphemeral"
    assert (sent["channel"], sent["user"], sent["thread_ts"]) == ("C1", "U_ADMIN", "9.9")
    assert PASSWORD in str(sent["blocks"])


def test_a_refused_answer_is_replaced_by_the_words_for_it() -> None:
    refused = payload(secret_message(), ephemeral=False)
    assert PASSWORD not in str(refused)
    assert "slash command" in refused["text"]
    assert PASSWORD in str(payload(secret_message(), ephemeral=True))


def test_a_view_holding_a_secret_is_refused() -> None:
    view = render_home(
        None, user_id="U1", error=secret_message(), now=datetime(2026, 11, 21, tzinfo=UTC)
    )
    with pytest.raises(SecretNotPostable):
        refuse_secret(view, "the Home tab")


def test_secrets_go_only_where_the_asker_alone_sees_them() -> None:
    assert ROUTES[c.ShowMetrics].reach is Reach.ASKER
    assert all(
        ROUTES[t].reach is Reach.SLASH_COMMAND for t in (c.SetPaymentMethod, c.EnableMetrics)
    )
