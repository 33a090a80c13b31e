"""Posting in a channel for everyone to see: a message the bot keeps editing in place
(progress, then the result) and files uploaded in its thread.

`ChannelMessage` posts with the Web API. Where the bot is not a member and cannot join (a
private channel, a DM), a slash command's answer still reaches the channel through its
response_url (`ResponseUrlMessage`); only files need the bot in the channel.

Neither posts a `Message` that is `secret`: `Message.to_slack()` refuses it
(`SecretNotPostable`) before anything is sent. A secret goes only to its asker, ephemerally:
a slash command's ephemeral reply, or `EphemeralReply` in a conversation.

A `Posting` says where an answer for the channel goes, and where the words meant for its
asker alone go (a `Reply`: why nothing was posted, which files could not be attached).

No billing data goes to a channel shared with another organization (Slack Connect) unless a
billing admin allowed it there (`/billing allow-external-channel`): every `ChannelMessage`
asks its `ChannelGuard` before its first post, so whoever posts (a report, a scheduled
report, a budget or anomaly alert, a mention's answer) is held by the same rule. The share
button asks the same guard before its in-channel response.

No billing data goes by DM to a person from another organization either (a Slack Connect
member named by a budget's `notify`): `PersonGuard` (the channel guard's `people`) is asked
when the budget is set and before every alert DM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import aiohttp
from cachetools import TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import BillingBotError
from bot.slack.render.common import Message, refuse_secret
from bot.store.external_channels import ExternalChannelStore

log = logging.getLogger(__name__)

# Slack refuses these when the bot is not a member of the conversation.
_NOT_A_MEMBER = frozenset({"not_in_channel", "channel_not_found"})
# chat.update is rate limited (Tier 3): progress edits are spaced out.
PROGRESS_INTERVAL_SECONDS = 2.0
# files_upload_v2 reads the whole file into memory (and copies it); past this size the same
# three Web API steps run with the file streamed from disk instead.
STREAM_UPLOADS_OVER_BYTES = 16 * 1024 * 1024


class ChannelUnavailable(BillingBotError):
    """The bot cannot post in the channel; the message says how to invite it."""

    def __init__(self, channel: str) -> None:
        super().__init__(
            f"I can't post in <#{channel}> because I'm not a member of it. "
            "Invite me with `/invite @billing` and ask again."
        )


class ExternalChannel(BillingBotError):
    """The channel is shared with another organization (or that cannot be told), and no
    billing admin allowed billing data there: nothing is posted."""

    def __init__(self, channel: str, *, unknown: bool = False) -> None:
        self.channel = channel
        if unknown:
            said = (
                f":lock: I could not check whether <#{channel}> is shared with another "
                "organization, so I posted nothing there. Invite me with `/invite @billing` "
                "and ask again."
            )
        else:
            said = (
                f":lock: <#{channel}> is shared with another organization (Slack Connect), so "
                "I post no billing data there. A billing admin can allow it with "
                "`/billing allow-external-channel` in that channel."
            )
        super().__init__(said)


# How long a channel's "shared with another organization" answer is reused: a channel can
# be shared (or stop being) at any time.
SHARED_MEMORY_SECONDS: Final = 600.0


class ChannelGuard:
    """Whether billing data may be posted in a channel: not where it is shared with another
    organization (conversations.info's `is_ext_shared`, asked once per channel and reused for
    SHARED_MEMORY_SECONDS; an event's `is_ext_shared_channel` is remembered too), unless a
    billing admin allowed that channel (`allowed`, read at every check so that a change is
    seen at once on every replica). A channel whose status cannot be read is refused.

    Direct messages (IDs starting with `D`) are not checked: the bot's DM is its asker's,
    and a slash command's answer in someone's DM reaches only its two members."""

    def __init__(
        self,
        client: AsyncWebClient,
        allowed: ExternalChannelStore,
        *,
        ttl: float = SHARED_MEMORY_SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.allowed = allowed
        self._shared: TTLCache[str, bool] = TTLCache(maxsize=10_000, ttl=ttl, timer=timer)
        self.people = PersonGuard(client, ttl=ttl, timer=timer)  # the same rule for DMs

    def remember(self, channel: str, shared: bool) -> None:
        """What an event said (`is_ext_shared_channel`), saving a conversations.info call."""
        self._shared[channel] = shared

    def forget(self, channel: str) -> None:
        self._shared.pop(channel, None)

    async def is_shared(self, channel: str) -> bool | None:
        """Whether `channel` is shared with another organization; None when Slack won't say."""
        if channel.startswith("D"):
            return False
        if channel in self._shared:
            return self._shared[channel]
        try:
            response = await self.client.conversations_info(channel=channel)
        except SlackApiError as exc:
            log.warning("could not tell whether %s is shared: %s", channel, _error_of(exc))
            return None
        info = response.get("channel") or {}
        shared = bool(info.get("is_ext_shared") or info.get("is_pending_ext_shared"))
        self._shared[channel] = shared
        return shared

    async def check(self, channel: str) -> None:
        """Raises `ExternalChannel` unless billing data may be posted in `channel`."""
        shared = await self.is_shared(channel)
        if shared is False:
            return
        if shared is True and await self.allowed.get(channel) is not None:
            return
        log.info("refused to post billing data in %s (shared: %s)", channel, shared)
        raise ExternalChannel(channel, unknown=shared is None)


class ExternalPerson(BillingBotError):
    """The person belongs to another organization (Slack Connect), or that cannot be told:
    no billing data goes to them by DM."""

    def __init__(self, user: str, *, unknown: bool = False) -> None:
        self.user = user
        # The only asker who reads this is one naming people to notify: nothing is stored.
        # (An error's words are shown inert, so the person is named by ID, not mentioned.)
        if unknown:
            said = (
                f":lock: I could not check whether `{user}` belongs to this organization, so "
                "I send them no billing data by direct message. Nothing was changed: try again."
            )
        else:
            said = (
                f":lock: `{user}` belongs to another organization (Slack Connect), so I send "
                "them no billing data by direct message. Nothing was changed."
            )
        super().__init__(said)


class PersonGuard:
    """Whether billing data may go to a person by DM: only to a member of the bot's own
    organization. users.info says: not a stranger (`is_stranger`), and the same enterprise
    (`enterprise_user.enterprise_id`, when both are in one) or else the same workspace
    (`team_id`) as the bot's (auth.test, asked once). Each answer is reused for
    SHARED_MEMORY_SECONDS; a person whose membership cannot be read is refused."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = SHARED_MEMORY_SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self._home: tuple[str, str] | None = None  # (team_id, enterprise_id or "")
        self._ours: TTLCache[str, bool] = TTLCache(maxsize=10_000, ttl=ttl, timer=timer)

    async def _home_team(self) -> tuple[str, str] | None:
        if self._home is None:
            try:
                answer = await self.client.auth_test()
            except SlackApiError as exc:
                log.warning("could not tell the bot's own team: %s", _error_of(exc))
                return None
            team = str(answer.get("team_id") or "")
            if not team:
                return None
            self._home = (team, str(answer.get("enterprise_id") or ""))
        return self._home

    async def is_ours(self, user: str) -> bool | None:
        """Whether `user` belongs to the bot's organization; None when Slack won't say."""
        if user in self._ours:
            return self._ours[user]
        home = await self._home_team()
        if home is None:
            return None
        try:
            response = await self.client.users_info(user=user)
        except SlackApiError as exc:
            log.warning("could not tell whether %s is external: %s", user, _error_of(exc))
            return None
        info = response.get("user") or {}
        team, enterprise = home
        theirs = str((info.get("enterprise_user") or {}).get("enterprise_id") or "")
        if info.get("is_stranger"):
            ours = False
        elif enterprise and theirs:
            ours = theirs == enterprise
        else:
            ours = str(info.get("team_id") or "") == team
        self._ours[user] = ours
        return ours

    async def check(self, user: str) -> None:
        """Raises `ExternalPerson` unless billing data may go to `user` by DM."""
        ours = await self.is_ours(user)
        if ours is True:
            return
        log.info("refused to send billing data to %s (ours: %s)", user, ours)
        raise ExternalPerson(user, unknown=ours is None)


class SlackRefused(BillingBotError):
    """Slack would not take a message in the channel, even after retrying."""

    def __init__(self) -> None:
        super().__init__("Slack would not take my message in this channel just now: try again.")


class Reply(Protocol):
    """Where a word for the asker alone goes when the answer itself is for the channel."""

    async def post(self, message: Message) -> object: ...


class Delivery(Protocol):
    """One message for everyone in a channel, posted, then edited, with replies and files."""

    channel: str
    takes_files: bool  # False: upload and upload_bytes raise FilesNeedMembership

    async def post(self, message: Message) -> str | None: ...
    async def update(self, message: Message) -> None: ...
    async def progress(self, message: Message) -> None: ...
    async def reply(self, message: Message) -> None: ...
    async def upload_bytes(
        self, data: bytes, *, filename: str, title: str, comment: str
    ) -> None: ...
    async def upload(self, path: Path, *, comment: str) -> None: ...


class FilesNeedMembership(BillingBotError):
    """The answer reached the channel through the response_url; its files cannot."""

    def __init__(self, channel: str) -> None:
        super().__init__(
            f"The answer is in <#{channel}>, but I can only attach files in a channel I'm a "
            "member of: invite me with `/invite @billing` and ask again for the files."
        )


def _error_of(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "")) if exc.response is not None else ""


class ChannelMessage:
    """One message in `channel`: posted once, then edited; files go in its thread. Nothing
    is posted where `guard` refuses (`ExternalChannel`)."""

    takes_files = True

    def __init__(
        self,
        client: AsyncWebClient,
        channel: str,
        *,
        guard: ChannelGuard,
        thread_ts: str | None = None,
    ) -> None:
        self.client = client
        self.channel = channel
        self.guard = guard
        self.thread_ts = thread_ts  # post inside this thread (an answer to a mention)
        self.ts: str | None = None
        self._last_progress = 0.0
        self._checked = False

    async def _check(self) -> None:
        if not self._checked:
            await self.guard.check(self.channel)
            self._checked = True

    async def post(self, message: Message) -> str:
        await self._check()
        try:
            self.ts = await self._post(message)
        except SlackApiError as exc:
            if _error_of(exc) not in _NOT_A_MEMBER:
                raise
            await self._join()
            self.ts = await self._post(message)
        return self.ts

    async def _post(self, message: Message) -> str:
        response = await self.client.chat_postMessage(
            channel=self.channel, thread_ts=self.thread_ts, **message.to_slack()
        )
        return str(response["ts"])

    @property
    def _thread(self) -> str | None:
        """Where replies and files go: the thread this message is in, or its own."""
        return self.thread_ts or self.ts

    async def _join(self) -> None:
        """Public channels can be joined; anything else needs an invitation."""
        try:
            await self.client.conversations_join(channel=self.channel)
        except SlackApiError as exc:
            log.info("could not join %s: %s", self.channel, _error_of(exc))
            raise ChannelUnavailable(self.channel) from None

    async def update(self, message: Message) -> None:
        if self.ts is None:
            await self.post(message)
            return
        await self.client.chat_update(channel=self.channel, ts=self.ts, **message.to_slack())

    async def progress(self, message: Message) -> None:
        """An update that is dropped when the last one was under PROGRESS_INTERVAL ago."""
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_INTERVAL_SECONDS:
            return
        self._last_progress = now
        await self.update(message)

    async def reply(self, message: Message) -> None:
        """A message in this message's thread."""
        await self._check()
        await self.client.chat_postMessage(
            channel=self.channel, thread_ts=self._thread, **message.to_slack()
        )

    async def upload_bytes(self, data: bytes, *, filename: str, title: str, comment: str) -> None:
        """Upload a small file held in memory (a chart) into this message's thread."""
        await self._check()
        await self.client.files_upload_v2(
            channel=self.channel,
            thread_ts=self._thread,
            content=data,
            filename=filename,
            title=title,
            initial_comment=comment,
        )

    async def upload(self, path: Path, *, comment: str) -> None:
        """Upload `path` into this message's thread, named and titled by its file name."""
        await self._check()
        filename = title = path.name
        size = (await asyncio.to_thread(path.stat)).st_size
        if size <= STREAM_UPLOADS_OVER_BYTES:
            await self.client.files_upload_v2(
                channel=self.channel,
                thread_ts=self._thread,
                file=str(path),
                filename=filename,
                title=title,
                initial_comment=comment,
            )
            return
        ticket = await self.client.files_getUploadURLExternal(filename=filename, length=size)
        async with aiohttp.ClientSession() as session:
            with path.open("rb") as body:
                async with session.post(str(ticket["upload_url"]), data=body) as response:
                    if response.status != 200:
                        raise BillingBotError(
                            f"Slack did not accept the file ({response.status}): try again."
                        )
        await self.client.files_completeUploadExternal(
            files=[{"id": str(ticket["file_id"]), "title": title}],
            channel_id=self.channel,
            thread_ts=self._thread,
            initial_comment=comment,
        )


@contextlib.contextmanager
def spooled(filename: str) -> Iterator[Path]:
    """A path named `filename` in a private temporary folder, removed with what was written."""
    with tempfile.TemporaryDirectory(prefix="billing-bot-") as folder:
        yield Path(folder) / filename


class ResponseUrlMessage:
    """A `Delivery` through a slash command's response_url, for a channel the bot is not in.

    Slack accepts at most five posts to a response_url within 30 minutes, so progress edits
    are dropped. Files cannot go this way: only a member of the channel can upload them.
    """

    takes_files = False

    def __init__(self, respond: Callable[..., Awaitable[Any]], channel: str) -> None:
        self._respond = respond
        self.channel = channel
        self._posted = False

    async def post(self, message: Message) -> None:
        await self._respond(**message.to_slack(), response_type="in_channel")
        self._posted = True

    async def update(self, message: Message) -> None:
        await self._respond(
            **message.to_slack(), response_type="in_channel", replace_original=self._posted
        )
        self._posted = True

    async def progress(self, message: Message) -> None:
        """Dropped: each edit would spend one of the response_url's five posts."""

    async def reply(self, message: Message) -> None:
        """To the asker only: a response_url has no thread."""
        await self._respond(**message.to_slack(), response_type="ephemeral", replace_original=False)

    async def upload_bytes(self, data: bytes, *, filename: str, title: str, comment: str) -> None:
        raise FilesNeedMembership(self.channel)

    async def upload(self, path: Path, *, comment: str) -> None:
        raise FilesNeedMembership(self.channel)


class EphemeralReply:
    """Messages only `user` sees in `channel` (inside `thread_ts`'s thread, if any), which
    Slack does not keep: chat.postEphemeral. The one way a conversation may carry a secret."""

    def __init__(
        self, client: AsyncWebClient, channel: str, user: str, *, thread_ts: str | None = None
    ) -> None:
        self.client = client
        self.channel = channel
        self.user = user
        self.thread_ts = thread_ts

    async def post(self, message: Message) -> None:
        """Raises SlackApiError when Slack refuses (the bot or the user not in the channel)."""
        await self.client.chat_postEphemeral(
            channel=self.channel,
            user=self.user,
            thread_ts=self.thread_ts,
            **message.to_slack(ephemeral=True),
        )


def refuse_private(payload: dict[str, Any], where: str) -> dict[str, Any]:
    """`payload` (a `respond`'s keyword arguments) about to become a stored message: refused
    with `SecretNotPostable` if it was made for an ephemeral reply with a secret in it."""
    refuse_secret(payload.get("blocks"), where)
    return payload


class ResponseUrlReply:
    """An ephemeral reply through a slash command's response_url: only its asker sees it."""

    def __init__(self, respond: Callable[..., Awaitable[Any]]) -> None:
        self._respond = respond

    async def post(self, message: Message) -> None:
        await self._respond(**message.to_slack(ephemeral=True), response_type="ephemeral")


class EphemeralOrDirectMessage:
    """For work with no response_url (a modal's submission): ephemeral in `channel`, or, when
    Slack refuses that (the bot cannot post there), in the user's direct messages with the
    bot, which Slack keeps, so never a secret."""

    def __init__(
        self, client: AsyncWebClient, channel: str, user: str, *, thread_ts: str | None = None
    ) -> None:
        self._ephemeral = EphemeralReply(client, channel, user, thread_ts=thread_ts)
        self._client = client

    async def post(self, message: Message) -> None:
        try:
            await self._ephemeral.post(message)
            return
        except SlackApiError as exc:
            where = self._ephemeral.channel
            log.info("no ephemeral note in %s (%s): sent by DM", where, _error_of(exc))
        direct = message.to_slack()  # refused if secret: a DM's history is kept
        try:
            await self._client.chat_postMessage(channel=self._ephemeral.user, **direct)
        except SlackApiError as exc:
            log.warning("could not tell %s: %s", self._ephemeral.user, _error_of(exc))


class Logged:
    """Nobody to tell (the scheduler asked): the words are logged."""

    def __init__(self, about: str) -> None:
        self.about = about

    async def post(self, message: Message) -> None:
        log.warning("%s: %s", self.about, message.text)


@dataclass(frozen=True)
class Posting:
    """Where an answer for a channel goes: the asker's channel (and thread) with `client`;
    `note` takes what only the asker should read; `fallback`, if any, carries the answer when
    the bot cannot post in the channel (a slash command's response_url). `scheduled`: the
    scheduler asked, and the answer says so. `guard` holds every channel message it makes
    (`message`) out of channels shared with another organization."""

    client: AsyncWebClient
    guard: ChannelGuard
    note: Reply
    fallback: Delivery | None
    scheduled: bool = False

    def message(self, channel: str, *, thread_ts: str | None = None) -> ChannelMessage:
        """A message for everyone in `channel`, posted only where the guard allows."""
        return ChannelMessage(self.client, channel, guard=self.guard, thread_ts=thread_ts)
