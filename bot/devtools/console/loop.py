"""The console: reads lines, sends them to the bot as Slack would, prints what comes back."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import httpx

from bot.devtools.console.form import OpenForm
from bot.devtools.console.stdin import install_sigint, read_lines
from bot.devtools.console.text import (
    button_label,
    content_of,
    headed,
    is_modal,
    is_progress,
    json_object,
    one_line,
    seen_text,
)
from bot.devtools.console.transcript import render_call
from bot.devtools.fakeslack import (
    LocalSlack,
    SentRequest,
    SlackCall,
    SlackSender,
    buttons,
)
from bot.slack.ids import CallbackId
from bot.slack.inflight import wait_for_answers

if TYPE_CHECKING:
    from bot.core.scheduled.scheduler import Scheduler

DEMO_USER = "U_DEMO"  # a billing admin
MEMBER_USER = "U_MEMBER"  # a team member who is not: `:as member`
ROLES = {"admin": DEMO_USER, "member": MEMBER_USER}
DEMO_CHANNEL = "C_DEMO"


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
  :run-schedule [<n>]    post a scheduled report of the latest ended period now (yesterday
                         for a daily one): the only schedule, or the n-th (or ID) of the list
  :check-budgets         check every budget now, instead of at the next hour
  :check-anomalies       run the anomaly check now (alerts go where `/billing anomalies on`
                         was said; the sandbox has a spike, a drop and two new series)
  :as member | :as admin go on as a team member who is not a billing admin (U_MEMBER), or
                         back as the admin (U_DEMO)
  :slow-down <project>   the sandbox project's last 7 days at a tenth of its usual: its
                         month-end estimate falls, so a budget it was on course to pass
                         recovers at the next `:check-budgets`
  :help                  this list
  quit                   leave (so does Ctrl-D)"""


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
        files_dir: Path | None = None,
        slow_down: Callable[[str], date] | None = None,
    ) -> None:
        self.slow_down = slow_down  # the sandbox's, for `:slow-down`
        self.scheduler = scheduler  # for `:run-schedule`, `:check-budgets`, `:check-anomalies`
        self.files_dir = files_dir  # where the files the bot uploads are saved, if anywhere
        self.user = DEMO_USER  # who types: `:as member` / `:as admin`
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

        sigint = install_sigint(loop, on_sigint)
        follower = asyncio.create_task(self._follow())
        self._own_tasks.add(follower)
        try:
            await self._loop(read_lines(stdin, loop))
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
        if lowered.startswith((":run-schedule", ":check-budgets", ":check-anomalies")):
            await self._scheduled(lowered)
            return True
        if lowered.startswith(":as"):
            self._act_as(lowered.removeprefix(":as").strip())
            return True
        if lowered.startswith(":slow-down"):
            self._slow_down(words.partition(" ")[2].strip())
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
                await self._exchange(self.sender.home_opened(user_id=self.user))
            case "report" if rest.lower() == "form":
                shortcut = self.sender.shortcut(CallbackId.REPORT_SHORTCUT.value, user_id=self.user)
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
        command, _, which = words.partition(" ")
        if command == ":check-budgets":
            alerts = await self.scheduler.check_budgets(now)
            posted = sum(1 for alert in alerts if alert.posted)
            if not posted and not any(c.visible for c in self.slack.calls[start:]):
                self._say("(budgets checked: no budget crossed a new threshold, nothing posted)")
                return
            self._say(f"(budgets checked: {posted} new alert{'' if posted == 1 else 's'})")
        elif command == ":check-anomalies":
            await self.scheduler.check_anomalies(now)
            self._say("(anomalies checked)")
        else:
            schedule_id = await self._schedule_id(self.scheduler, which.strip())
            if schedule_id is None:
                return
            if await self.scheduler.run_now(schedule_id, now) is None:
                self._say("(no such schedule: `/billing schedule list` shows them)")
                return
        await self._await_reply(start)

    async def _schedule_id(self, scheduler: Scheduler, which: str) -> str | None:
        """The schedule `:run-schedule <which>` names: its ID or its number in the list, or
        the only one when nothing is named; None (said why) when that is no schedule."""
        schedules = await scheduler.schedules()
        ids = [s.id for s in schedules]
        if which in ids:
            return which
        if which.isdigit() and 1 <= int(which) <= len(ids):
            return ids[int(which) - 1]
        if not which and len(ids) == 1:
            return ids[0]
        if not ids:
            self._say("(no schedules yet: `/billing schedule daily` makes one)")
            return None
        listed = "\n".join(
            f"  {n}. {s.id}  {s.frequency.value}  {s.report_words or '(default report)'}"
            for n, s in enumerate(schedules, start=1)
        )
        self._say(f"(which schedule? `:run-schedule <number or id>`)\n{listed}")
        return None

    def _act_as(self, role: str) -> None:
        user = ROLES.get(role)
        if user is None:
            self._say("Type `:as member` (a team member) or `:as admin` (a billing admin).")
            return
        self.user = user
        who = "a billing admin" if role == "admin" else "a team member, not a billing admin"
        self._say(f"(you are now {user}, {who})")

    def _slow_down(self, project: str) -> None:
        if self.slow_down is None:
            self._say("(no sandbox in this console)")
            return
        try:
            first = self.slow_down(project)
        except ValueError as error:
            self._say(f"({error})")
            return
        self._say(
            f"({project} used a tenth of its usual from {first} on: `:check-budgets` tells a "
            "budget it was on course to pass that it recovered)"
        )

    async def _command(self, text: str) -> None:
        await self._exchange(self.sender.command(text, user_id=self.user, channel_id=DEMO_CHANNEL))

    async def _mention(self, words: str) -> None:
        handle, _, rest = words.partition(" ")
        if handle.lower() not in MENTION_NAMES:
            self._say(f"Only @billing is here: try `@billing {rest.strip()}`.")
            return
        await self._exchange(
            self.sender.mention(rest.strip(), user_id=self.user, channel_id=DEMO_CHANNEL)
        )

    async def _direct_message(self, text: str) -> None:
        if not text:
            self._say("Type the message after `dm`, e.g. `dm contro summary`.")
            return
        await self._exchange(self.sender.direct_message(text, user_id=self.user))

    async def _press(self, number: int) -> None:
        target = self._pressable
        found = buttons(content_of(target)) if target is not None else []
        if target is None or not found:
            self._say("There is no button to press.")
            return
        if not 1 <= number <= len(found):
            self._say(f"Choose a button from 1 to {len(found)}.")
            return
        button = found[number - 1]
        action_id = str(button.get("action_id") or "")
        nth = sum(1 for b in found[: number - 1] if b.get("action_id") == action_id)
        self._say(f"(you press [{number}] {button_label(button)})")
        if target.method == "views.publish":
            click = self.sender.home_click(target, action_id, user_id=self.user, nth=nth)
        else:
            click = self.sender.click(
                target, action_id, user_id=self.user, channel_id=DEMO_CHANNEL, nth=nth
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
            self._say(headed(f"[modal] {form.title}", form.text()))

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
                form.call, user_id=self.user, state=state, view_id=form.view_id
            )
        )
        if sent is None:
            return
        answer = json_object(sent.body) if sent.status == 200 else None
        action = answer.get("response_action") if answer is not None else None
        if answer is not None and action == "errors":
            errors = answer.get("errors")
            self._say(
                headed(
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
        return bool(visible) and is_progress(visible[-1].body)

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
        if call.ok and call.kind == "api" and call.method in MODAL_METHODS and is_modal(call):
            return self._render_form(call)
        text = render_call(call, self.slack, home_channel=DEMO_CHANNEL, files_dir=self.files_dir)
        if call.ok and call.visible and call.method != "files.completeUploadExternal":
            pressable = self._pressable
            if buttons(content_of(call)):
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
        return headed(f"[modal] {form.title}{note}", form.text())

    def _show_ack(self, sent: SentRequest) -> None:
        if sent.status != 200:
            self._say(f"(the bot answered HTTP {sent.status}: {one_line(sent.body)})")
        elif sent.body.strip():
            parsed = json_object(sent.body)
            if parsed is not None:
                self._say(headed("billing-bot (only visible to you)", seen_text(parsed)))
            else:
                self._say(headed("billing-bot (only visible to you)", sent.body))
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
