"""`billing-bot demo`: the production Bolt app, driven from a console.

Everything runs on 127.0.0.1 ephemeral ports: the built-in billing sandbox, a local stand-in
for Slack (`bot.devslack.LocalSlack`) and the bot's own HTTP server. A typed line becomes a
signed `/billing` slash command (or a button click) sent over HTTP, exactly as Slack would
send it; what the bot posts back to the stand-in is printed the way a user would read it.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import io
import json
import os
import secrets
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TextIO

import httpx
from pydantic import SecretStr

from bot.config import Settings
from bot.devslack import LocalSlack, SentRequest, SlackCall, SlackSender, buttons, message_text

HOST = "127.0.0.1"
DEMO_USER = "U_DEMO"
DEMO_CHANNEL = "C_DEMO"
AUDIT_CHANNEL = "C_AUDIT"
# How long to wait for the bot's first reply, and for quiet after it.
REPLY_TIMEOUT_SECONDS = 15.0
QUIET_SECONDS = 0.75
# Slack shows the user an error when the ack takes longer than this.
ACK_LIMIT_SECONDS = 3.0
PROMPT = "> "
QUIT_WORDS = frozenset({"quit", "exit", "q", "/quit", "/exit"})


async def run_demo(*, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    """Start the sandbox, the local Slack and the bot; run the console until `quit` or EOF.

    Returns the exit status: 0 after `quit`, EOF or Ctrl-C; 1 if the demo could not start.
    Every server is closed on the way out.
    """
    async with contextlib.AsyncExitStack() as stack:
        try:
            console = await _start(stack, stdout, interactive=_is_tty(stdin))
        except OSError as exc:
            print(f"billing-bot demo could not start: {exc}", file=stdout, flush=True)
            return 1
        return await console.run(stdin)


async def _start(stack: contextlib.AsyncExitStack, out: TextIO, *, interactive: bool) -> Console:
    # Imported here, as the CLI does: `bot.console` stays light to import (and to test).
    from bot.app import build_app
    from bot.sandbox import Sandbox
    from bot.sandbox import start as start_sandbox
    from bot.server import start_server

    sandbox = Sandbox()
    sandbox_runner, sandbox_base = await start_sandbox(sandbox, HOST, 0)
    stack.push_async_callback(sandbox_runner.cleanup)

    slack = LocalSlack()
    stack.push_async_callback(slack.aclose)
    await slack.start(HOST, 0)

    signing_secret = secrets.token_urlsafe(24)  # a new one every run: nothing to configure
    settings = Settings(
        slack_bot_token=SecretStr("xoxb-demo"),
        slack_signing_secret=SecretStr(signing_secret),
        slack_app_token=None,
        slack_api_url=slack.api_url,
        mkio_api_url=f"{sandbox_base}/api/v1",
        mkio_token=SecretStr(sandbox.mkio_token),
        contro_api_url=f"{sandbox_base}/v1",
        contro_api_key=SecretStr(sandbox.contro_key),
        billing_admins=frozenset({DEMO_USER}),
        audit_channel=AUDIT_CHANNEL,
        redis_url=None,  # in-process, whatever the environment says
        _env_file=None,
    )
    bot = build_app(settings)
    stack.push_async_callback(bot.aclose)
    bot_runner, bot_url = await start_server(bot, HOST, 0)
    stack.push_async_callback(bot_runner.cleanup)

    sender = SlackSender(bot_url, signing_secret, slack)
    stack.push_async_callback(sender.aclose)

    banner = _banner(
        sandbox_base=sandbox_base,
        slack_base=slack.base_url,
        events_url=sender.url,
        projects=sandbox.project_names(),
    )
    return Console(slack, sender, out, interactive=interactive, banner=banner)


def _banner(*, sandbox_base: str, slack_base: str, events_url: str, projects: list[str]) -> str:
    lines = [
        "billing-bot demo: the production Bolt app, answering signed Slack requests on this",
        "machine. No Slack, no credentials, no network beyond 127.0.0.1.",
        f"  billing sandbox (MK.IO, Contro)  {sandbox_base}",
        f"  local Slack stand-in             {slack_base}",
        f"  the bot                          {events_url}",
        f"You are {DEMO_USER}, a billing admin, in #{DEMO_CHANNEL}; "
        f"billing changes are audited in #{AUDIT_CHANNEL}.",
    ]
    if projects:
        lines.append(f"Sandbox projects: {', '.join(projects)}")
    lines.append(
        "Type `/billing help` (or just `help`), a number to press a button, `quit` to leave."
    )
    return "\n".join(lines)


class Console:
    """Reads lines, sends them to the bot, prints what comes back."""

    def __init__(
        self,
        slack: LocalSlack,
        sender: SlackSender,
        out: TextIO,
        *,
        interactive: bool,
        banner: str,
    ) -> None:
        self.slack = slack
        self.sender = sender
        self.out = out
        self.interactive = interactive
        self.banner = banner
        self._shown = 0  # slack.calls[:_shown] have been printed
        self._pressable: SlackCall | None = None  # the last message shown with buttons
        self._at_prompt = False

    # -- the loop ----------------------------------------------------------------------------

    async def run(self, stdin: TextIO) -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        interrupted = False

        def on_sigint() -> None:
            nonlocal interrupted
            interrupted = True
            if task is not None:
                task.cancel()

        sigint = _install_sigint(loop, on_sigint)
        follower = asyncio.create_task(self._follow())
        try:
            await self._loop(_read_lines(stdin, loop))
        except asyncio.CancelledError:
            if not interrupted or task is None:
                raise
            task.uncancel()
            self._say("\n(interrupted)")
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            if sigint:
                loop.remove_signal_handler(signal.SIGINT)
        self._say("Bye.")
        return 0

    async def _loop(self, lines: asyncio.Queue[str | None]) -> None:
        self._say(self.banner)
        while True:
            self._prompt()
            line = await lines.get()
            self._at_prompt = False
            if line is None:
                if self.interactive:
                    self._write("\n")
                return
            if not self.interactive:
                self._say(f"{PROMPT}{line}")
            if not await self.handle(line):
                return

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False to leave."""
        words = line.strip()
        if not words:
            return True
        if words.lower() in QUIT_WORDS:
            return False
        if words.isdigit():
            await self._press(int(words))
            return True
        if words.startswith("/"):
            command, _, rest = words.partition(" ")
            if command.lower() != "/billing":
                self._say(f"Only /billing is installed here: try `/billing {rest}`.")
                return True
            words = rest.strip()
        await self._command(words)
        return True

    async def _command(self, text: str) -> None:
        start = len(self.slack.calls)
        try:
            sent = await self.sender.command(text, user_id=DEMO_USER, channel_id=DEMO_CHANNEL)
        except httpx.HTTPError as exc:
            self._say(f"(could not reach the bot: {type(exc).__name__})")
            return
        self._show_ack(sent)
        await self._await_reply(start)

    async def _press(self, number: int) -> None:
        target = self._pressable
        found = buttons(target.body) if target is not None else []
        if target is None or not found:
            self._say("There is no button to press.")
            return
        if not 1 <= number <= len(found):
            self._say(f"Choose a button from 1 to {len(found)}.")
            return
        button = found[number - 1]
        action_id = str(button.get("action_id") or "")
        nth = sum(1 for b in found[: number - 1] if b.get("action_id") == action_id)
        self._say(f"(you press [{number}] {_label(button)})")
        start = len(self.slack.calls)
        try:
            sent = await self.sender.click(
                target, action_id, user_id=DEMO_USER, channel_id=DEMO_CHANNEL, nth=nth
            )
        except httpx.HTTPError as exc:
            self._say(f"(could not reach the bot: {type(exc).__name__})")
            return
        self._show_ack(sent)
        await self._await_reply(start)

    async def _await_reply(self, start: int) -> None:
        """Print the bot's answer: wait for its first message, then until things go quiet.

        While the last message is a "working…" placeholder or a file upload is under way,
        keep waiting (up to the reply timeout) for what replaces it.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REPLY_TIMEOUT_SECONDS
        try:
            await self.slack.wait_for(
                lambda c: c.visible,
                after=start,
                timeout=REPLY_TIMEOUT_SECONDS,
                include_failed=True,
            )
        except TimeoutError:
            self._drain()
            self._say(f"(no reply from the bot within {REPLY_TIMEOUT_SECONDS:g} s)")
            return
        while True:
            self._drain()
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            wait = remaining if self._expecting_more(start) else min(QUIET_SECONDS, remaining)
            try:
                await self.slack.wait_for(
                    lambda c: True,
                    after=len(self.slack.calls),
                    timeout=wait,
                    include_failed=True,
                )
            except TimeoutError:
                self._drain()
                return

    def _expecting_more(self, start: int) -> bool:
        calls = self.slack.calls[start:]
        uploads = sum(1 for c in calls if c.ok and c.method == "files.getUploadURLExternal")
        completed = sum(
            len(c.body.get("files") or [])
            for c in calls
            if c.ok and c.method == "files.completeUploadExternal"
        )
        if uploads > completed:
            return True
        visible = [c for c in calls if c.visible and c.ok]
        return bool(visible) and _is_progress(visible[-1].body)

    async def _follow(self) -> None:
        """Print what arrives while nobody is waiting for it (late replacements, audit lines)."""
        while True:
            try:
                await self.slack.wait_for(
                    lambda c: True, after=self._shown, timeout=3600, include_failed=True
                )
            except TimeoutError:
                continue
            self._drain()

    # -- output ------------------------------------------------------------------------------

    def _drain(self) -> None:
        """Print every recorded call not printed yet (synchronous: never interleaves)."""
        pending = self.slack.calls[self._shown :]
        self._shown += len(pending)
        texts = [t for t in (self._render(c) for c in pending) if t]
        if not texts:
            return
        resume_prompt = self._at_prompt
        if resume_prompt:
            self._write("\n")
            self._at_prompt = False
        for text in texts:
            self._say(text)
        if resume_prompt:
            self._prompt()

    def _render(self, call: SlackCall) -> str | None:
        text = render_call(call, self.slack, home_channel=DEMO_CHANNEL)
        if call.ok and call.visible and call.method != "files.completeUploadExternal":
            pressable = self._pressable
            if buttons(call.body):
                self._pressable = call
            elif pressable is not None and call.ts == pressable.ts:
                self._pressable = None  # replaced or deleted: its buttons are gone
        return text

    def _show_ack(self, sent: SentRequest) -> None:
        if sent.status != 200:
            self._say(f"(the bot answered HTTP {sent.status}: {_one_line(sent.body)})")
        elif sent.body.strip():
            try:
                parsed = json.loads(sent.body)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                self._say(_block("billing-bot (only visible to you)", _seen(parsed)))
            else:
                self._say(_block("billing-bot (only visible to you)", sent.body))
        if sent.elapsed > ACK_LIMIT_SECONDS:
            self._say(
                f"(the bot took {sent.elapsed:.1f} s to acknowledge: Slack would have shown "
                f"the user an error after {ACK_LIMIT_SECONDS:g} s)"
            )

    def _prompt(self) -> None:
        if self.interactive:
            self._write(PROMPT)
            self._at_prompt = True

    def _say(self, text: str) -> None:
        self._write(text + "\n")

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()


def render_call(call: SlackCall, slack: LocalSlack, *, home_channel: str) -> str | None:
    """What a user would see of one call the bot made, or None for plumbing (auth.test...)."""
    if call.kind == "upload":
        return None
    if not call.ok:
        if not call.visible:
            return None
        return f"(Slack refused the bot's {_what(call)}: {call.error or call.status})"
    body = call.body
    if call.kind == "response":
        if _truthy(body.get("delete_original")):
            return "(billing-bot deleted its message)"
        notes = ["only visible to you"] if call.ephemeral else []
        if _truthy(body.get("replace_original")):
            notes.append("updated")
        return _block(_who("billing-bot", notes), _seen(body))
    method = call.method
    channel = call.channel or str(body.get("channel") or "")
    if method == "chat.postMessage":
        notes = ["in thread"] if body.get("thread_ts") else []
        if channel == home_channel:
            return _block(_who("billing-bot", notes), _seen(body))
        if channel.startswith("D"):
            return _block(_who("billing-bot", ["direct message", *notes]), _seen(body))
        return _block(_who(f"#{channel}", notes), _seen(body))
    if method == "chat.postEphemeral":
        return _block(_who("billing-bot", ["only visible to you"]), _seen(body))
    if method == "chat.update":
        who = "billing-bot" if channel == home_channel else f"#{channel}"
        return _block(_who(who, ["updated"]), _seen(body))
    if method == "chat.delete":
        return "(billing-bot deleted a message)"
    if method == "files.completeUploadExternal":
        return _files_text(call, slack)
    if method.startswith("views."):
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        assert isinstance(view, dict)
        title = _plain(view.get("title")) or "view"
        return _block(f"[modal] {title}", _seen({"blocks": view.get("blocks") or []}))
    return None


def _files_text(call: SlackCall, slack: LocalSlack) -> str:
    lines: list[str] = []
    comment = call.body.get("initial_comment")
    if comment:
        lines.append(_block("billing-bot", str(comment)))
    where = f" in #{call.channel}" if call.channel else ""
    for entry in call.body.get("files") or []:
        file_id = str(entry.get("id")) if isinstance(entry, dict) else ""
        try:
            info = slack.upload(file_id)
        except KeyError:
            continue
        lines.append(f"[file] {info['name']} ({len(slack.files.get(file_id, b''))} bytes){where}")
    return "\n".join(lines)


# -- formatting helpers ---------------------------------------------------------------------


def _seen(message: dict[str, Any]) -> str:
    """The message as the user reads it: Slack shows its three escapes as the characters."""
    text = message_text(message)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _who(name: str, notes: list[str]) -> str:
    return f"{name} ({', '.join(notes)})" if notes else name


def _block(header: str, text: str) -> str:
    lines = text.splitlines() or [""]
    if len(lines) == 1 and header.startswith("#"):
        return f"{header}: {lines[0]}"
    return header + ":\n" + "\n".join(f"  {line}" if line else "" for line in lines)


def _what(call: SlackCall) -> str:
    return "reply" if call.kind == "response" else call.method


def _label(button: dict[str, Any]) -> str:
    return _plain(button.get("text"))


def _plain(obj: object) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return "" if obj is None else str(obj)


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def _is_progress(message: dict[str, Any]) -> bool:
    text = message_text(message).strip().lower()
    return "working on it" in text or text.endswith(("…", "..."))


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# -- input ----------------------------------------------------------------------------------


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False


def _read_lines(stdin: TextIO, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str | None]:
    """Lines of `stdin`, read in a daemon thread; None at EOF.

    A daemon thread rather than `asyncio.to_thread`: a read blocked on a terminal cannot be
    interrupted, and the default executor would make the interpreter wait for it (for the
    next Enter) after Ctrl-C. A real file descriptor is read with `os.read`, so the abandoned
    thread holds no lock on `sys.stdin` at interpreter shutdown.
    """
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def put(item: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def read() -> None:
        try:
            for line in _lines(stdin):
                put(line)
        except (OSError, ValueError):
            pass
        finally:
            put(None)

    threading.Thread(target=read, name="billing-bot-demo-stdin", daemon=True).start()
    return queue


def _lines(stdin: TextIO) -> Iterator[str]:
    fd = _fileno(stdin)
    if fd is None:
        for line in iter(stdin.readline, ""):
            yield line.rstrip("\r\n")
        return
    decoder = codecs.getincrementaldecoder(getattr(stdin, "encoding", None) or "utf-8")(
        errors="replace"
    )
    pending = ""
    while True:
        chunk = os.read(fd, 65536)
        pending += decoder.decode(chunk, final=not chunk)
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line.rstrip("\r")
        if not chunk:
            break
    if pending:
        yield pending.rstrip("\r")


def _fileno(stream: TextIO) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _install_sigint(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> bool:
    """Ctrl-C leaves the console cleanly (only possible in the main thread, on Unix)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        loop.add_signal_handler(signal.SIGINT, callback)
    except (NotImplementedError, RuntimeError, ValueError):
        return False
    return True
