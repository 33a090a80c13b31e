"""`billing-bot demo`: the production Bolt app, driven from a console.

Everything runs on 127.0.0.1 ephemeral ports: the built-in billing sandbox, a local stand-in
for Slack (`bot.devtools.fakeslack.LocalSlack`) and the bot's own HTTP server. A typed line becomes
what
Slack would send over HTTP, signed: a `/billing` slash command, a button click, an
`@billing` mention or a direct message (Events API), the Home tab being opened, the "Billing
report" shortcut, or the submission of the report form filled in with `set` lines. What the
bot posts back to the stand-in is printed the way a user would read it.
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
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import httpx
from pydantic import SecretStr

from bot.config import Settings
from bot.devtools.fakeslack import (
    LocalSlack,
    SentRequest,
    SlackCall,
    SlackSender,
    buttons,
    element_options,
    message_text,
    view_state,
)
from bot.slack.ids import CallbackId
from bot.slack.ids import ReportFormId as F
from bot.slack.inflight import wait_for_answers

if TYPE_CHECKING:
    from bot.core.scheduled.scheduler import Scheduler

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
HELP_WORDS = frozenset({":help", ":h", "?"})
MENTION_NAMES = frozenset({"@billing", "@billing-bot"})
MODAL_METHODS = frozenset({"views.open", "views.update", "views.push"})

CONSOLE_HELP = f"""\
What you can type (anything else is sent as `/billing <text>`):
  /billing <command>     a slash command in #{DEMO_CHANNEL} (`/billing help` lists them)
  @billing <text>        mention the bot in #{DEMO_CHANNEL}: it answers in the thread,
                         e.g. `@billing how much has my-project used this month?`
  dm <text>              a direct message to the bot, e.g. `dm contro summary`
  home                   open the bot's Home tab
  <number>               press that button of the last message or Home tab shown
  report form            the "Billing report" shortcut (`/billing report` opens it too)
  set <field> <value>    fill in the open form: `set start 2026-10-01`, `set end 2026-11-01`,
                         `set granularity week`, `set projects my-project,archive`,
                         `set payment-methods <name or id>`, `set csv on`, `set reported off`,
                         `set channel C_DEMO`; `set <field>` alone empties the field
  form                   show the open form again
  submit | cancel        submit the form | close it
  :run-schedule <id>     post a scheduled report now (`/billing schedule list` shows ids)
  :check-budgets         check every budget now, instead of at the next hour
  :help                  this list
  quit                   leave (so does Ctrl-D)"""


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
    # Imported here, as the CLI does: `bot.devtools.console` stays light to import (and to test).
    from bot.app import build_app
    from bot.devtools.sandbox import Sandbox
    from bot.devtools.sandbox import start as start_sandbox
    from bot.slack.server import start_server

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
        sqlite_path=str(Path(stack.enter_context(tempfile.TemporaryDirectory())) / "demo.db"),
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
    return Console(
        slack, sender, out, interactive=interactive, banner=banner, scheduler=bot.scheduler
    )


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
    lines += [
        "Type `/billing help` (or just `help`) for the bot's commands, a number to press a button,",
        "`@billing <text>` to mention the bot, `dm <text>` to message it, `home` for its Home tab,",
        "`report form` for the report form (then `set <field> <value>` and `submit`),",
        "`:help` for everything the console takes, `quit` to leave.",
    ]
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
        scheduler: Scheduler | None = None,
    ) -> None:
        self.scheduler = scheduler  # for `:run-schedule` and `:check-budgets`
        self.slack = slack
        self.sender = sender
        self.out = out
        self.interactive = interactive
        self.banner = banner
        self._shown = 0  # slack.calls[:_shown] have been printed
        self._pressable: SlackCall | None = None  # the last message or Home tab with buttons
        self._form: OpenForm | None = None  # the modal open in the console, if any
        self._at_prompt = False
        # Set while no line is being handled: only then does the follower print, so what a
        # line brings is printed in order (an ack before the messages that raced it).
        self._idle = asyncio.Event()
        self._idle.set()
        self._own_tasks: set[asyncio.Task[None]] = set()  # its follower: never an answer

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
        self._own_tasks.add(follower)
        try:
            await self._loop(_read_lines(stdin, loop))
            # Work still in progress (an upload after its summary) is shown before leaving.
            await wait_for_answers(REPLY_TIMEOUT_SECONDS, ignore=self._own_tasks)
            self._drain()
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
        self._idle.clear()
        try:
            return await self._handle(line)
        finally:
            self._idle.set()

    async def _handle(self, line: str) -> bool:
        words = line.strip()
        if not words:
            return True
        lowered = words.lower()
        if lowered in QUIT_WORDS:
            return False
        if lowered in HELP_WORDS:
            self._say(CONSOLE_HELP)
            return True
        if words.isdigit():
            await self._press(int(words))
            return True
        if lowered.startswith((":run-schedule", ":check-budgets")):
            await self._scheduled(lowered)
            return True
        if words.startswith("/"):
            command, _, rest = words.partition(" ")
            if command.lower() != "/billing":
                self._say(f"Only /billing is installed here: try `/billing {rest}`.")
                return True
            await self._command(rest.strip())
            return True
        if words.startswith("@"):
            await self._mention(words)
            return True
        first, _, rest = words.partition(" ")
        rest = rest.strip()
        match first.lower():
            case "dm":
                await self._direct_message(rest)
            case "home" if not rest:
                await self._exchange(self.sender.home_opened(user_id=DEMO_USER))
            case "report" if rest.lower() == "form":
                shortcut = self.sender.shortcut(CallbackId.REPORT_SHORTCUT.value, user_id=DEMO_USER)
                await self._exchange(shortcut)
            case "set":
                self._set(rest)
            case "form" if not rest:
                self._show_form()
            case "submit" if not rest:
                await self._submit()
            case "cancel" if not rest:
                self._cancel()
            case _:
                await self._command(words)
        return True

    async def _scheduled(self, words: str) -> None:
        """Make a scheduled run or a budget check happen now, instead of at its hour."""
        if self.scheduler is None:
            self._say("(no scheduler in this console)")
            return
        start = len(self.slack.calls)
        now = datetime.now(UTC)
        command, _, schedule_id = words.partition(" ")
        if command == ":check-budgets":
            await self.scheduler.check_budgets(now)
            self._say("(budgets checked)")
        elif await self.scheduler.run_now(schedule_id.strip(), now) is None:
            self._say("(no such schedule: `/billing schedule list` shows them)")
            return
        await self._await_reply(start)

    async def _command(self, text: str) -> None:
        await self._exchange(self.sender.command(text, user_id=DEMO_USER, channel_id=DEMO_CHANNEL))

    async def _mention(self, words: str) -> None:
        handle, _, rest = words.partition(" ")
        if handle.lower() not in MENTION_NAMES:
            self._say(f"Only @billing is here: try `@billing {rest.strip()}`.")
            return
        await self._exchange(
            self.sender.mention(rest.strip(), user_id=DEMO_USER, channel_id=DEMO_CHANNEL)
        )

    async def _direct_message(self, text: str) -> None:
        if not text:
            self._say("Type the message after `dm`, e.g. `dm contro summary`.")
            return
        await self._exchange(self.sender.direct_message(text, user_id=DEMO_USER))

    async def _press(self, number: int) -> None:
        target = self._pressable
        found = buttons(_content(target)) if target is not None else []
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
        if target.method == "views.publish":
            click = self.sender.home_click(target, action_id, user_id=DEMO_USER, nth=nth)
        else:
            click = self.sender.click(
                target, action_id, user_id=DEMO_USER, channel_id=DEMO_CHANNEL, nth=nth
            )
        await self._exchange(click)

    async def _exchange(self, request: Awaitable[SentRequest]) -> None:
        """Send one request (not yet sent: awaited here), show its ack, then the bot's reply."""
        start = len(self.slack.calls)
        sent = await self._send(request)
        if sent is None:
            return
        self._show_ack(sent)
        await self._await_reply(start)

    async def _send(self, request: Awaitable[SentRequest]) -> SentRequest | None:
        try:
            return await request
        except httpx.HTTPError as exc:
            self._say(f"(could not reach the bot: {type(exc).__name__})")
            return None

    # -- the form ----------------------------------------------------------------------------

    def _open_form(self) -> OpenForm | None:
        if self._form is None:
            self._say("No form is open: `report form` or `/billing report` opens one.")
        return self._form

    def _show_form(self) -> None:
        form = self._open_form()
        if form is not None:
            self._say(_block(f"[modal] {form.title}", form.text()))

    def _set(self, args: str) -> None:
        form = self._open_form()
        if form is None:
            return
        name, _, value = args.partition(" ")
        if not name:
            self._say(f"Which field? The form has: {', '.join(form.field_names())}.")
            return
        try:
            line = form.set(name, value.strip())
        except ValueError as exc:
            self._say(str(exc))
            return
        self._say(f"(form) {line}")

    def _cancel(self) -> None:
        form = self._open_form()
        if form is not None:
            self._form = None
            self._say(f"(you close the {form.title} form)")

    async def _submit(self) -> None:
        form = self._open_form()
        if form is None:
            return
        try:
            state = form.state()
        except (LookupError, ValueError) as exc:
            self._say(f"(the form cannot be submitted: {exc})")
            return
        self._say(f"(you press [{form.submit_label}])")
        start = len(self.slack.calls)
        sent = await self._send(
            self.sender.view_submission(
                form.call, user_id=DEMO_USER, state=state, view_id=form.view_id
            )
        )
        if sent is None:
            return
        answer = _json_object(sent.body) if sent.status == 200 else None
        action = answer.get("response_action") if answer is not None else None
        if answer is not None and action == "errors":
            errors = answer.get("errors")
            self._say(
                _block(
                    "billing-bot (on the form, which stays open)",
                    form.errors_text(errors if isinstance(errors, dict) else {}),
                )
            )
            self._warn_if_slow(sent)
            return
        replacement = answer.get("view") if answer is not None else None
        if action in ("update", "push") and isinstance(replacement, dict):
            method = "views.update" if action == "update" else "views.push"
            body: dict[str, Any] = {"view": replacement}
            if action == "update" and form.view_id:
                body["view_id"] = form.view_id
            replaced = SlackCall(kind="api", method=method, body=body, headers={})
            self._say(self._render_form(replaced))
            self._warn_if_slow(sent)
            return
        if sent.status == 200 and (not sent.body.strip() or action == "clear"):
            if self._form is form:
                self._form = None
            self._say("(the form closes)")
            self._warn_if_slow(sent)
        else:
            self._show_ack(sent)  # not what the report form answers: shown as it came
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
            if self._expecting_more(start):
                wait = remaining
            else:
                # The bot's own work is known to be over, not guessed from a quiet spell;
                # the quiet spell is for what the bot does not run itself (an app under test).
                await wait_for_answers(remaining, ignore=self._own_tasks)
                self._drain()
                wait = min(QUIET_SECONDS, max(deadline - loop.time(), 0))
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
            await self._idle.wait()
            try:
                await self.slack.wait_for(
                    lambda c: True, after=self._shown, timeout=3600, include_failed=True
                )
            except TimeoutError:
                continue
            if self._idle.is_set():
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
        if call.ok and call.kind == "api" and call.method in MODAL_METHODS and _is_modal(call):
            return self._render_form(call)
        text = render_call(call, self.slack, home_channel=DEMO_CHANNEL)
        if call.ok and call.visible and call.method != "files.completeUploadExternal":
            pressable = self._pressable
            if buttons(_content(call)):
                self._pressable = call
            elif pressable is not None and call.ts is not None and call.ts == pressable.ts:
                self._pressable = None  # replaced or deleted: its buttons are gone
        return text

    def _render_form(self, call: SlackCall) -> str:
        """A modal the bot opened or updated becomes the console's form: what the user set
        stays through an update, as Slack keeps it (same block and action IDs)."""
        previous = self._form if call.method == "views.update" else None
        named = call.body.get("view_id")
        view_id = str(named) if named else None
        if previous is not None and view_id and previous.view_id not in (None, view_id):
            previous = None  # an update of another view than the open one
        form = OpenForm(
            call,
            view_id=view_id or (previous.view_id if previous else None),
            current_conversation=DEMO_CHANNEL,
        )
        if previous is not None:
            form.keep(previous.chosen)
        self._form = form
        note = " (updated)" if call.method == "views.update" else ""
        return _block(f"[modal] {form.title}{note}", form.text())

    def _show_ack(self, sent: SentRequest) -> None:
        if sent.status != 200:
            self._say(f"(the bot answered HTTP {sent.status}: {_one_line(sent.body)})")
        elif sent.body.strip():
            parsed = _json_object(sent.body)
            if parsed is not None:
                self._say(_block("billing-bot (only visible to you)", _seen(parsed)))
            else:
                self._say(_block("billing-bot (only visible to you)", sent.body))
        self._warn_if_slow(sent)

    def _warn_if_slow(self, sent: SentRequest) -> None:
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
        if channel.startswith("D"):
            return _block(_who("billing-bot", ["direct message", "updated"]), _seen(body))
        who = "billing-bot" if channel == home_channel else f"#{channel}"
        return _block(_who(who, ["updated"]), _seen(body))
    if method == "chat.delete":
        return "(billing-bot deleted a message)"
    if method == "files.completeUploadExternal":
        return _files_text(call, slack)
    if method == "views.publish":
        return _block("[Home tab] billing-bot", _seen(dict(_content(call))))
    if method.startswith("views."):
        if _is_modal(call):
            with contextlib.suppress(LookupError, ValueError):  # inputs it cannot show
                form = OpenForm(call, view_id=None, current_conversation=home_channel)
                return _block(f"[modal] {form.title}", form.text())
        view = _content(call)
        title = _plain(view.get("title")) or "view"
        return _block(f"[modal] {title}", _seen({"blocks": view.get("blocks") or []}))
    return None


# -- the form -------------------------------------------------------------------------------

# What `set` calls the report form's fields (other inputs go by their block_id) ...
FIELD_NAMES: dict[str, str] = {
    F.START_BLOCK.value: "start",
    F.END_BLOCK.value: "end",
    F.GRANULARITY_BLOCK.value: "granularity",
    F.PROJECTS_BLOCK.value: "projects",
    F.PAYMENT_METHODS_BLOCK.value: "payment-methods",
    F.CHANNEL_BLOCK.value: "channel",
}
# ... and its checkboxes (others go by their value), each a field of its own: `set csv on`.
CHECKBOX_NAMES: dict[str, str] = {
    F.OPTION_CSV.value: "csv",
    F.OPTION_REPORTED.value: "reported",
}
FIELD_ALIASES: dict[str, str] = {
    "from": "start",
    "to": "end",
    "by": "granularity",
    "project": "projects",
    "payment-method": "payment-methods",
    "methods": "payment-methods",
    "pm": "payment-methods",
    "post-in": "channel",
}
ON_WORDS = frozenset({"", "on", "yes", "y", "true", "1", "x"})
OFF_WORDS = frozenset({"off", "no", "n", "false", "0"})
MAX_CHOICES_SHOWN = 12
_SINGLE_SELECTS = frozenset({"static_select", "radio_buttons"})
_MULTI_SELECTS = frozenset({"multi_static_select", "checkboxes"})
_CONVERSATION_INPUTS = frozenset(
    {
        "conversations_select",
        "channels_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)


@dataclass(frozen=True)
class FormField:
    """One thing `set` changes: an input of the form, or one checkbox of a checkbox group."""

    name: str
    block: Mapping[str, Any]
    element: Mapping[str, Any]
    option: Mapping[str, Any] | None = None  # the checkbox, for one of a group

    @property
    def block_id(self) -> str:
        return str(self.block.get("block_id") or "")

    @property
    def label(self) -> str:
        return _plain(self.block.get("label"))

    @property
    def kind(self) -> str:
        return str(self.element.get("type") or "")


@dataclass
class OpenForm:
    """A modal the bot rendered (its `views.open`/`views.update` call), as the console shows
    it, and what the user `set` in it (by block_id, as `view_state` takes it)."""

    call: SlackCall
    view_id: str | None
    current_conversation: str | None
    chosen: dict[str, Any] = field(default_factory=dict)

    @property
    def view(self) -> Mapping[str, Any]:
        return _content(self.call)

    @property
    def title(self) -> str:
        return _plain(self.view.get("title")) or "form"

    @property
    def submit_label(self) -> str:
        return _plain(self.view.get("submit")) or "Submit"

    @property
    def fields(self) -> list[FormField]:
        return _form_fields(self.view)

    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def state(self) -> dict[str, Any]:
        """`view.state` as Slack would submit it."""
        return view_state(self.view, self.chosen, current_conversation=self.current_conversation)

    def keep(self, chosen: Mapping[str, Any]) -> None:
        """Carry over what was set in the previous rendering, where this one still offers it."""
        inputs = {f.block_id for f in self.fields}
        for block_id, value in chosen.items():
            if block_id not in inputs:
                continue
            try:
                view_state(self.view, {block_id: value})
            except (LookupError, ValueError):
                continue
            self.chosen[block_id] = value

    def set(self, name: str, typed: str) -> str:
        """Set field `name` from what was typed (empty: clear it); the field's new line.

        ValueError, with what to type instead, for an unknown field or an unusable value."""
        key = name.lower().replace("_", "-")
        key = FIELD_ALIASES.get(key, key)
        found = next((f for f in self.fields if f.name.lower() == key), None)
        if found is None:
            raise ValueError(
                f"The form has no field `{name}`; it has: {', '.join(self.field_names())}."
            )
        entry = self._entries().get(found.block_id, {})
        self.chosen[found.block_id] = _typed_value(found, typed, entry)
        return self._line(found, self._entries().get(found.block_id, {}), width=0)

    def text(self) -> str:
        """Every block of the form; each input with its field name, its value and choices."""
        entries = self._entries()
        fields = self.fields
        width = max((len(f.name) for f in fields), default=0)
        lines: list[str] = []
        for block in self.view.get("blocks") or []:
            if not isinstance(block, Mapping):
                continue
            if block.get("type") != "input":
                shown = _seen({"blocks": [block]})
                if shown:
                    lines.append(shown)
                continue
            for f in fields:
                if f.block is block:
                    entry = entries.get(f.block_id, {})
                    lines.append(self._line(f, entry, width=width))
                    choices = _choices_text(f)
                    if choices:
                        lines.append(" " * (width + 2) + choices)
        lines.append(
            f"(fill it in with `set <field> <value>`, then `submit` to press "
            f"[{self.submit_label}], or `cancel`)"
        )
        return "\n".join(lines)

    def errors_text(self, errors: Mapping[str, Any]) -> str:
        """The field errors of a `response_action: errors` answer, each on its field."""
        fields = self.fields
        lines: list[str] = []
        for block_id, message in errors.items():
            names = [f.name for f in fields if f.block_id == block_id]
            label = next((f.label for f in fields if f.block_id == block_id), "")
            where = f"{'/'.join(names)} ({label})" if names else block_id
            lines.append(f"{where}: {message}")
        return "\n".join(lines) or "(errors, but on no field)"

    def _entries(self) -> dict[str, Mapping[str, Any]]:
        """block_id -> that input's state entry ({"type": ..., "selected_...": ...})."""
        values = self.state()["values"]
        entries: dict[str, Mapping[str, Any]] = {}
        for block_id, by_action in values.items():
            for entry in by_action.values():
                entries[block_id] = entry
        return entries

    @staticmethod
    def _line(f: FormField, entry: Mapping[str, Any], *, width: int) -> str:
        name = f.name.ljust(width)
        if f.option is not None:
            picked = {o.get("value") for o in entry.get("selected_options") or []}
            box = "[x]" if f.option.get("value") in picked else "[ ]"
            return f"{name}  {f.label}: {box} {_plain(f.option.get('text'))}"
        optional = " (optional)" if f.block.get("optional") else ""
        return f"{name}  {f.label}{optional}: {_entry_text(f, entry)}"


def _form_fields(view: Mapping[str, Any]) -> list[FormField]:
    fields: list[FormField] = []
    for block in view.get("blocks") or []:
        if not isinstance(block, Mapping) or block.get("type") != "input":
            continue
        element = block.get("element")
        if not isinstance(element, Mapping):
            continue
        if element.get("type") == "checkboxes":
            for option in element_options(element):
                value = str(option.get("value") or "")
                fields.append(FormField(CHECKBOX_NAMES.get(value, value), block, element, option))
        else:
            block_id = str(block.get("block_id") or "")
            fields.append(FormField(FIELD_NAMES.get(block_id, block_id), block, element))
    return fields


def _option_name(option: Mapping[str, Any]) -> str:
    """How the console names an option: its value, or its label when the value is an ID."""
    value = str(option.get("value") or "")
    label = _plain(option.get("text"))
    return value if not label or label.lower() == value.lower() else label


def _entry_text(f: FormField, entry: Mapping[str, Any]) -> str:
    values = [v for k, v in entry.items() if k != "type"]
    value = values[0] if values else None
    if isinstance(value, list):
        shown = [_one_value(f, v) for v in value]
        return ", ".join(shown) if shown else _empty(f)
    return _one_value(f, value) if value else _empty(f)


def _one_value(f: FormField, value: object) -> str:
    if isinstance(value, Mapping):
        return _option_name(value)
    return f"#{value}" if f.kind in _CONVERSATION_INPUTS else str(value)


def _empty(f: FormField) -> str:
    placeholder = _plain(f.element.get("placeholder"))
    return f"(empty: {placeholder})" if placeholder else "(empty)"


def _choices_text(f: FormField) -> str:
    if f.option is not None or f.kind not in _SINGLE_SELECTS | _MULTI_SELECTS:
        return ""
    names = [_option_name(o) for o in element_options(f.element)]
    if not names:
        return "(nothing to choose from)"
    shown = ", ".join(names[:MAX_CHOICES_SHOWN])
    if len(names) > MAX_CHOICES_SHOWN:
        shown += f", …and {len(names) - MAX_CHOICES_SHOWN} more"
    how = "one of" if f.kind in _SINGLE_SELECTS else "any of, comma-separated"
    return f"{how}: {shown}"


def _typed_value(f: FormField, typed: str, entry: Mapping[str, Any]) -> object:
    """What `view_state` takes for field `f`, from what the user typed."""
    if f.option is not None:
        word = typed.lower()
        if word not in ON_WORDS | OFF_WORDS:
            raise ValueError(f"`set {f.name} on` or `set {f.name} off`.")
        mine = f.option.get("value")
        picked = {o.get("value") for o in entry.get("selected_options") or []}
        picked = picked | {mine} if word in ON_WORDS else picked - {mine}
        return [o.get("value") for o in element_options(f.element) if o.get("value") in picked]
    if not typed:
        return [] if f.kind in _MULTI_SELECTS or f.kind.startswith("multi_") else None
    if f.kind == "datepicker":
        try:
            return date.fromisoformat(typed).isoformat()
        except ValueError:
            raise ValueError(
                f"`{f.name}` takes a date as YYYY-MM-DD, e.g. `set {f.name} 2026-10-01`."
            ) from None
    if f.kind in _SINGLE_SELECTS:
        return _match_option(f, typed)
    if f.kind in _MULTI_SELECTS:
        return list(dict.fromkeys(_match_option(f, item) for item in _items(typed)))
    if f.kind in _CONVERSATION_INPUTS:
        ids = [_conversation(item) for item in _items(typed)]
        return ids if f.kind.startswith("multi_") else ids[0] if ids else None
    if f.kind.startswith("multi_"):
        return _items(typed)
    return typed


def _items(typed: str) -> list[str]:
    return [item.strip() for item in typed.split(",") if item.strip()]


def _conversation(typed: str) -> str:
    """`#C_DEMO`, `<#C_DEMO|demo>` or `C_DEMO`: the conversation ID."""
    return typed.strip().removeprefix("<").removeprefix("#").split("|", 1)[0].rstrip(">")


def _match_option(f: FormField, typed: str) -> str:
    """The value of the option `typed` names: its value or label, or the start of one."""
    options = element_options(f.element)
    exact = [o for o in options if o.get("value") == typed]
    low = typed.lower()

    def names(option: Mapping[str, Any]) -> tuple[str, str]:
        return str(option.get("value") or "").lower(), _plain(option.get("text")).lower()

    same = [o for o in options if low in names(o)]
    starting = [o for o in options if any(n.startswith(low) for n in names(o))]
    for found in (exact, same, starting):
        if len(found) == 1:
            return str(found[0].get("value"))
    if starting:
        could = ", ".join(_option_name(o) for o in starting)
        raise ValueError(f"“{typed}” could be {could}: type more of it.")
    listed = ", ".join(_option_name(o) for o in options) or "nothing to choose from"
    raise ValueError(f"“{typed}” is not a choice for `{f.name}`: {listed}.")


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


def _content(call: SlackCall) -> Mapping[str, Any]:
    """What a call shows: the view of a `views.*` call, the message of the others."""
    if call.method.startswith("views."):
        view = call.body.get("view")
        return view if isinstance(view, Mapping) else {}
    return call.body


def _is_modal(call: SlackCall) -> bool:
    return call.method.startswith("views.") and _content(call).get("type") == "modal"


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


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
