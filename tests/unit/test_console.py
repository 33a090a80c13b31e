"""bot.devtools.console: the `billing-bot demo` console.

The first tests run the whole demo (sandbox, local Slack, the real bot): slash commands,
mentions, DMs, the Home tab and the report form. The others drive the console against a small
Bolt app of their own, so the console's behaviour (numbered buttons, replacements, audit
lines, uploads) is pinned down whatever the bot's answers say, and fill in the report form
without any server.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.apis.mkio.models import Granularity
from bot.core.language import commands as c
from bot.core.report_form import Choice, ChoiceList, FormChoices, FormState, defaults, to_submission
from bot.devtools.console import CONSOLE_HELP, Console, OpenForm, render_call, run_demo
from bot.devtools.console.stdin import stdin_lines
from bot.devtools.fakeslack import LocalSlack, SlackCall, SlackSender
from bot.slack.ids import ReportFormId as F
from bot.slack.render.common import FENCE, MAX_TABLE_WIDTH
from bot.slack.render.report_form import render_report_form

SECRET = "console-test-signing-secret"
# The quiet that ends a reply, shortened to keep this file fast: the bot's and the test app's
# messages follow each other within some 30 ms on loopback.
QUIET_SECONDS = 0.3


@pytest.fixture(autouse=True)
def short_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.devtools.console.loop.QUIET_SECONDS", QUIET_SECONDS)
    # A slow machine may take longer than a person would wait; only a failure waits this long.
    monkeypatch.setattr("bot.devtools.console.loop.REPLY_TIMEOUT_SECONDS", 120.0)


async def demo(*lines: str) -> str:
    """Run the whole demo with `lines` piped in; what it printed."""
    stdin = io.StringIO("".join(f"{line}\n" for line in lines))
    stdout = io.StringIO()
    # asyncio.timeout, not wait_for: the demo runs in this task, which its server's shutdown
    # does not wait for (it would wait for a wait_for's caller).
    async with asyncio.timeout(600):
        status = await run_demo(stdin=stdin, stdout=stdout)
    assert status == 0
    printed = stdout.getvalue()
    assert not wide_table_lines(printed), "a table wider than a phone shows"
    return printed


def wide_table_lines(printed: str) -> list[str]:
    """Lines of the printed code blocks (tables) wider than MAX_TABLE_WIDTH: every demo of
    this file is checked, as every e2e stack is (`tests/e2e/stack.py`)."""
    wide, inside = [], False
    for line in printed.splitlines():
        if line.strip() == FENCE:
            inside = not inside
        elif inside and len(line.removeprefix("  ")) > MAX_TABLE_WIDTH:
            wide.append(line)
    return wide


def after(printed: str, line: str, nth: int = 1) -> str:
    """What the console printed for the `nth` time `line` was typed, up to the next prompt."""
    rest = printed.split(f"> {line}\n")[nth]
    return rest.split("\n> ", 1)[0]


async def test_demo_prints_the_help_text() -> None:
    printed = await demo("/billing help", "quit")

    assert "billing-bot demo" in printed
    assert "> /billing help" in printed
    reply = printed.split("> /billing help", 1)[1]
    assert "usage" in reply
    assert "payment-method" in reply
    assert "contro" in reply
    assert printed.rstrip().endswith("Bye.")


async def test_demo_answers_a_mention_in_its_thread_and_a_dm() -> None:
    question = "@billing how much has my-project used this month?"
    printed = await demo(question, "dm contro summary")

    assert "`@billing <text>` to mention the bot, `dm <text>` to message it" in printed
    mention = after(printed, question)
    assert "billing-bot (in thread):\n" in mention
    # After a "Working on it…" message when the machine is slow.
    assert "\n  Usage — my-project" in mention
    assert "Total month to date" in mention
    dm = after(printed, "dm contro summary")
    # A one-to-one DM is answered in the conversation, not in a thread.
    assert "billing-bot (direct message):\n  Contro usage — " in dm
    assert "Total:" in dm
    assert printed.rstrip().endswith("Bye.")


async def test_demo_shows_the_home_tab_and_presses_its_buttons() -> None:
    printed = await demo("home", "1", "report form", "cancel", "submit")

    home = after(printed, "home")
    assert home.startswith("[Home tab] billing-bot:\n  Billing — this month so far\n")
    assert "Organization total:" in home
    assert "my-project" in home
    assert "[1] Refresh   [2] Last month's report   [3] Rate cards" in home
    refreshed = after(printed, "1")
    assert refreshed.startswith("(you press [1] Refresh)\n[Home tab] billing-bot:\n")
    assert "Organization total:" in refreshed
    # The "Billing report" shortcut opens the same form as the command.
    shortcut = after(printed, "report form")
    assert shortcut.startswith("[modal] Billing report:\n")
    assert "[modal] Billing report (updated):" in shortcut
    assert after(printed, "cancel") == "(you close the Billing report form)"
    assert after(printed, "submit").startswith("No form is open")


async def test_demo_runs_schedules_and_budget_checks_and_acts_as_a_member() -> None:
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    printed = await demo(
        ":run-schedule",
        "/billing budget my-project 1000000",
        ":check-budgets",
        "/billing schedule daily project my-project",
        ":run-schedule",
        "/billing schedule weekly",
        ":run-schedule",
        ":run-schedule 1",
        ":as member",
        "/billing budget my-project 5",
        ":as someone",
        ":as admin",
        "/billing report last-month csv",
    )

    assert after(printed, ":run-schedule").startswith("(no schedules yet")
    # Nothing crossed: said at once, not a wait for a reply that never comes.
    assert after(printed, ":check-budgets") == (
        "(budgets checked: no budget crossed a new threshold, nothing posted)"
    )
    # The only schedule, without its ID: the run a person expects, yesterday's.
    ran = after(printed, ":run-schedule", 2)
    assert f"Usage report — {yesterday}" in ran
    assert "Scheduled report" in ran
    which = after(printed, ":run-schedule", 3)
    assert which.startswith("(which schedule? `:run-schedule <number or id>`)\n  1. ")
    assert "daily  project my-project" in which
    assert f"Usage report — {yesterday}" in after(printed, ":run-schedule 1")
    assert (
        after(printed, ":as member") == "(you are now U_MEMBER, a team member, not a billing admin)"
    )
    assert "Only billing admins can change billing settings" in after(
        printed, "/billing budget my-project 5"
    )
    assert after(printed, ":as someone").startswith("Type `:as member`")
    # Files go to the report's thread and are saved where they can be opened.
    report = after(printed, "/billing report last-month csv")
    [saved] = re.findall(
        r"\[file\] (\S+\.csv) \(\d+ bytes\) in #C_DEMO \(in thread\)\n"
        r"\s+saved as (\S+)",
        report,
    )
    assert saved[1].endswith(saved[0])
    assert "Files the bot uploads (charts, CSVs) are saved in " in printed
    assert not os.path.exists(saved[1])  # removed with the demo


async def test_demo_fills_in_and_submits_the_report_form() -> None:
    today = datetime.now(UTC).date()
    start = defaults(today).start  # the 1st of last month, the form's default
    end = start + timedelta(days=7)
    printed = await demo(
        "/billing report",
        "set granularity week",
        "set projects my-project",
        "set payment-methods azure",
        "submit",
        "set payment-methods",
        f"set start {start}",
        f"set end {end}",
        "set csv on",
        "submit",
    )

    opened = after(printed, "/billing report")
    assert opened.startswith("[modal] Billing report:\n")
    assert f"Start date (UTC): {defaults(today).start}" in opened
    assert f"End date (UTC, exclusive): {defaults(today).end}" in opened
    assert "Granularity: day" in opened
    assert "Loading projects and payment methods" in opened
    assert "Post in: #C_DEMO" in opened
    updated = opened.split("[modal] Billing report (updated):\n", 1)[1]
    assert "Projects (optional): (empty: Every project)" in updated
    assert "any of, comma-separated: archive, live-events, my-project, staging" in updated
    assert "Azure Marketplace (Contoso Media)" in updated
    assert after(printed, "set granularity week") == "(form) granularity  Granularity: week"
    assert "Projects (optional): my-project" in after(printed, "set projects my-project")

    refused = after(printed, "submit")
    assert refused.startswith(
        "(you press [Post report])\n"
        "billing-bot (on the form, which stays open):\n"
        "  payment-methods (Payment methods): Choose projects or payment methods, not both"
    )

    posted = after(printed, "submit", nth=2)
    assert posted.startswith("(you press [Post report])\n(the form closes)\n")
    assert "Usage report" in posted
    assert f"Period: {start} → {end} (UTC, end exclusive)" in posted
    assert "Per week · projects `my-project`" in posted
    assert f"[file] mkio-usage_{start}_to_{end}" in posted
    assert ".csv (" in posted
    assert "bytes) in #C_DEMO" in posted
    assert printed.rstrip().endswith("Bye.")


# -- the console against a small Bolt app ---------------------------------------------------

PAGE_MESSAGE: dict[str, Any] = {
    "text": "Records 1-2",
    "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Records* 1-2 of 4"}},
        {
            "type": "actions",
            "block_id": "nav",
            "elements": [
                {
                    "type": "button",
                    "action_id": "page",
                    "text": {"type": "plain_text", "text": "Next page"},
                    "value": "2",
                },
                {
                    "type": "button",
                    "action_id": "csv",
                    "text": {"type": "plain_text", "text": "Download CSV"},
                    "value": "all",
                },
            ],
        },
    ],
}


def rig_form(title: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "rig_form",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "name",
                "label": {"type": "plain_text", "text": "Your name"},
                "element": {"type": "plain_text_input", "action_id": "name_input"},
            }
        ],
    }


def small_app(client: AsyncWebClient) -> AsyncApp:
    app = AsyncApp(client=client, signing_secret=SECRET)

    async def billing(ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any]) -> None:
        await ack()
        if command["text"] == "slow":
            await respond(text="Working on it… fetching records")
            await asyncio.sleep(2 * QUIET_SECONDS)  # longer than the console's quiet period
            await respond(replace_original=True, **PAGE_MESSAGE)
        elif command["text"] == "silent":
            return
        elif command["text"] == "form":
            await client.views_open(trigger_id=command["trigger_id"], view=rig_form("Rig form"))
        else:
            await respond(**PAGE_MESSAGE)

    async def page(ack: AsyncAck, respond: AsyncRespond, body: dict[str, Any]) -> None:
        await ack()
        value = body["actions"][0]["value"]
        await respond(replace_original=True, text=f"*Records* page {value}")
        await client.chat_postMessage(channel="C_AUDIT", text=f"<@{body['user']['id']}> paged")

    async def csv(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await client.files_upload_v2(
            channel=body["container"]["channel_id"], filename="records.csv", content="a,b\n1,2\n"
        )

    async def submitted(ack: AsyncAck, view: dict[str, Any]) -> None:
        name = view["state"]["values"]["name"]["name_input"]["value"]
        if name == "again":
            await ack(response_action="update", view=rig_form("Second step"))
            return
        await ack()
        await client.chat_postMessage(channel="C_DEMO", text=f"Hello {name}")

    app.command("/billing")(billing)
    app.view("rig_form")(submitted)
    app.action("page")(page)
    app.action("csv")(csv)
    return app


@dataclass
class Rig:
    slack: LocalSlack
    console: Console
    out: io.StringIO


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    slack = LocalSlack()
    await slack.start()
    client = AsyncWebClient(token="xoxb-console-test", base_url=slack.api_url)
    app = small_app(client)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    sender = SlackSender(f"http://{host}:{port}", SECRET, slack)
    out = io.StringIO()
    console = Console(slack, sender, out, interactive=False, banner="test console")
    yield Rig(slack, console, out)
    await sender.aclose()
    await runner.cleanup()
    await slack.aclose()


async def test_numbers_press_the_buttons_of_the_last_message(rig: Rig) -> None:
    await rig.console.handle("/billing records")
    await rig.console.handle("1")

    printed = rig.out.getvalue()
    assert "billing-bot (only visible to you):\n  *Records* 1-2 of 4" in printed
    assert "[1] Next page   [2] Download CSV" in printed
    assert "(you press [1] Next page)" in printed
    assert "billing-bot (only visible to you, updated):\n  *Records* page 2" in printed
    assert "#C_AUDIT: <@U_DEMO> paged" in printed
    [click] = [c for c in rig.slack.responses() if c.body.get("replace_original")]
    assert click.ts == rig.slack.responses()[0].ts


async def test_a_replaced_message_has_no_buttons_left(rig: Rig) -> None:
    await rig.console.handle("records")
    await rig.console.handle("1")
    await rig.console.handle("1")

    assert rig.out.getvalue().rstrip().endswith("There is no button to press.")


async def test_uploads_are_shown_as_files(rig: Rig) -> None:
    await rig.console.handle("records")
    await rig.console.handle("2")

    assert "[file] records.csv (8 bytes) in #C_DEMO" in rig.out.getvalue()


async def test_waits_past_a_working_message_for_its_replacement(rig: Rig) -> None:
    await rig.console.handle("slow")

    printed = rig.out.getvalue()
    assert "Working on it… fetching records" in printed
    assert "(only visible to you, updated):\n  *Records* 1-2 of 4" in printed


async def test_quit_and_other_commands(rig: Rig) -> None:
    assert await rig.console.handle("quit") is False
    assert await rig.console.handle("/deploy now") is True
    assert await rig.console.handle("   ") is True
    assert await rig.console.handle("3") is True

    printed = rig.out.getvalue()
    assert "Only /billing is installed here: try `/billing now`." in printed
    assert "There is no button to press." in printed


async def test_console_help_and_what_it_does_not_take(rig: Rig) -> None:
    for line in (":help", "@someone hello", "dm", "set start 2026-10-01", "form", "cancel"):
        assert await rig.console.handle(line) is True

    printed = rig.out.getvalue()
    assert CONSOLE_HELP in printed
    assert "Only @billing is here: try `@billing hello`." in printed
    assert "Type the message after `dm`" in printed
    assert printed.count("No form is open: `report form` or `/billing report` opens one.") == 3
    assert rig.slack.calls == [], "none of these reached the bot"


async def test_any_modal_can_be_filled_in_and_answered_with_a_new_view(rig: Rig) -> None:
    await rig.console.handle("/billing form")  # `form` alone shows the open form
    await rig.console.handle("set name again")
    await rig.console.handle("submit")
    await rig.console.handle("set name Ada Lovelace")
    await rig.console.handle("submit")

    printed = rig.out.getvalue()
    assert "[modal] Rig form:\n  name  Your name: (empty)\n" in printed
    assert "(form) name  Your name: again" in printed
    # As in Slack, an input keeps what was entered when the new view has it too.
    assert "(you press [Send])\n[modal] Second step (updated):\n  name  Your name: again" in (
        printed
    )
    assert printed.endswith(
        "(form) name  Your name: Ada Lovelace\n"
        "(you press [Send])\n"
        "(the form closes)\n"
        "billing-bot:\n  Hello Ada Lovelace\n"
    )


async def test_run_reads_until_eof(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.devtools.console.loop.REPLY_TIMEOUT_SECONDS", 0.3)

    status = await rig.console.run(io.StringIO("silent\n"))

    printed = rig.out.getvalue()
    assert status == 0
    assert printed.startswith("test console\n> silent\n")
    assert "(no reply from the bot within 0.3 s)" in printed
    assert printed.endswith("Bye.\n")


# -- pieces -----------------------------------------------------------------------------------


def test_render_call_shows_other_channels_on_one_line() -> None:
    slack = LocalSlack()
    audit = SlackCall(
        kind="api",
        method="chat.postMessage",
        body={"channel": "C_AUDIT", "text": "pm changed"},
        headers={},
        channel="C_AUDIT",
    )
    plumbing = SlackCall(kind="api", method="auth.test", body={}, headers={})
    refused = SlackCall(
        kind="api",
        method="chat.postMessage",
        body={"channel": "C_AUDIT", "text": "x"},
        headers={},
        status=200,
        error="not_in_channel",
    )

    assert render_call(audit, slack, home_channel="C_DEMO") == "#C_AUDIT: pm changed"
    assert render_call(plumbing, slack, home_channel="C_DEMO") is None
    assert render_call(refused, slack, home_channel="C_DEMO") == (
        "(Slack refused the bot's chat.postMessage: not_in_channel)"
    )


# -- the report form, without a server --------------------------------------------------------

TODAY = datetime(2026, 11, 21, tzinfo=UTC).date()
METHOD_ID = "0699897e-fcdd-41b2-9939-fd3dacff3862"


def form_call(*, choices: FormChoices | None, method: str = "views.update") -> SlackCall:
    view = render_report_form(defaults(TODAY), channel_id="C_DEMO", choices=choices).to_dict()
    body: dict[str, Any] = {"view": view, "view_id": "V0001"} if choices else {"view": view}
    return SlackCall(kind="api", method=method, body=body, headers={})


CHOICES = FormChoices(
    projects=ChoiceList.of(Choice(name, name) for name in ("alpha", "alpine", "beta")),
    payment_methods=ChoiceList.of([Choice(METHOD_ID, "Direct invoice SO-10042", "invoice")]),
)


def test_set_lines_fill_in_what_the_bot_reads_from_the_submission() -> None:
    form = OpenForm(form_call(choices=CHOICES), view_id="V0001", current_conversation="C_DEMO")

    assert form.set("granularity", "Week") == "granularity  Granularity: week"
    assert form.set("project", "alpha, BETA,alpha") == "projects  Projects (optional): alpha, beta"
    assert form.set("csv", "") == "csv  Options: [x] CSV file"
    assert form.set("reported", "on") == "reported  Options: [x] By reported date"
    assert form.set("csv", "off") == "csv  Options: [ ] CSV file"
    assert form.set("start", "2026-09-01") == "start  Start date (UTC): 2026-09-01"
    assert form.set("channel", "<#C_FINANCE|finance>") == "channel  Post in: #C_FINANCE"

    view = {**form.view, "state": form.state()}
    submission = to_submission(FormState.from_view(view), today=TODAY)
    assert submission.channel == "C_FINANCE"
    command = submission.command
    assert (command.range.start, command.range.end) == (
        datetime(2026, 9, 1).date(),
        datetime(2026, 11, 1).date(),
    )
    assert command.granularity == Granularity.WEEK
    assert command.projects == ("alpha", "beta")
    assert (command.reported, command.csv) == (True, False)

    form.set("projects", "")
    assert form.set("pm", "direct") == (
        "payment-methods  Payment methods (optional): Direct invoice SO-10042"
    )
    view = {**form.view, "state": form.state()}
    command = to_submission(FormState.from_view(view), today=TODAY).command
    assert isinstance(command, c.Report)
    assert command.payment_methods == (METHOD_ID,)


@pytest.mark.parametrize(
    ("name", "typed", "says"),
    [
        ("colour", "blue", "The form has no field `colour`; it has: start, end, granularity"),
        ("start", "1st October", "`start` takes a date as YYYY-MM-DD"),
        ("granularity", "fortnight", "“fortnight” is not a choice for `granularity`: hour, day"),
        ("projects", "al", "“al” could be alpha, alpine: type more of it."),
        ("csv", "maybe", "`set csv on` or `set csv off`."),
    ],
)
def test_what_set_cannot_use_is_explained(name: str, typed: str, says: str) -> None:
    form = OpenForm(form_call(choices=CHOICES), view_id="V0001", current_conversation="C_DEMO")
    with pytest.raises(ValueError, match=re.escape(says)) as raised:
        form.set(name, typed)
    assert str(raised.value).startswith(says)
    assert form.chosen == {}


def test_the_form_shows_values_choices_and_keeps_what_was_set_through_an_update() -> None:
    loading = OpenForm(
        form_call(choices=None, method="views.open"), view_id=None, current_conversation="C_DEMO"
    )
    loading.set("granularity", "month")
    with pytest.raises(ValueError, match="no field `projects`"):
        loading.set("projects", "alpha")

    filled = OpenForm(form_call(choices=CHOICES), view_id="V0001", current_conversation="C_DEMO")
    filled.keep({**loading.chosen, F.PROJECTS_BLOCK.value: ["gone"]})
    assert filled.chosen == {F.GRANULARITY_BLOCK.value: "month"}, "only what is still offered"

    lines = filled.text().splitlines()
    assert lines[0] == "Usage and cost from MK.IO per project and meter, posted in a channel."
    assert "start            Start date (UTC): 2026-10-01" in lines
    assert "granularity      Granularity: month" in lines
    assert "                 one of: hour, day, week, month, year" in lines
    assert "projects         Projects (optional): (empty: Every project)" in lines
    assert "                 any of, comma-separated: alpha, alpine, beta" in lines
    assert "payment-methods  Payment methods (optional): (empty: Any payment method)" in lines
    assert "reported         Options: [ ] By reported date" in lines
    assert "channel          Post in: #C_DEMO" in lines
    assert lines[-1].startswith("(fill it in with `set <field> <value>`, then `submit`")

    errors = {F.PAYMENT_METHODS_BLOCK.value: "Not both.", "elsewhere": "Odd."}
    assert filled.errors_text(errors) == (
        "payment-methods (Payment methods): Not both.\nelsewhere: Odd."
    )


def test_lines_from_a_pipe() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, "help\r\nusage café\nlast".encode())
    os.close(write_fd)
    with os.fdopen(read_fd, encoding="utf-8") as stream:
        assert list(stdin_lines(stream)) == ["help", "usage café", "last"]


async def test_demo_budgets_cross_and_alert_once() -> None:
    printed = await demo(
        "/billing budget organization 1 at 50,100 notify <@U_DEMO|demo>",
        "/billing budget list",
        ":check-budgets",
        ":check-budgets",
    )
    set_reply = after(printed, "/billing budget organization 1 at 50,100 notify <@U_DEMO|demo>")
    assert "Budget for the organization: 1.00 USD a month" in set_reply
    assert "reaches 50% and 100%" in set_reply
    assert "Monthly budgets" in after(printed, "/billing budget list")
    first = after(printed, ":check-budgets")
    assert "(budgets checked: 1 new alert)" in first
    assert "The organization is over its 1.00 USD budget" in first
    assert "direct message" in first  # also to the person it names
    assert "no budget crossed a new threshold, nothing posted" in after(
        printed, ":check-budgets", 2
    )


async def test_demo_finds_the_sandbox_anomalies_and_presses_their_buttons() -> None:
    printed = await demo("/billing anomalies on", ":check-anomalies", "1", "quit")

    assert "Anomaly alerts go to" in after(printed, "/billing anomalies on")
    found = after(printed, ":check-anomalies")
    for title in ("Cost spike", "Cost drop", "New meter", "New usage type"):
        assert title in found
    assert "(anomalies checked)" in found
    assert "[1] Acknowledge" in found
    assert "Acknowledged by" in after(printed, "1")


async def test_demo_slows_a_sandbox_project_down_for_a_budget_to_recover() -> None:
    printed = await demo(":slow-down video-platform", ":slow-down nope", "quit")

    slowed = after(printed, ":slow-down video-platform")
    assert "(video-platform used a tenth of its usual from " in slowed
    assert "`:check-budgets` tells a budget it was on course to pass that it recovered" in slowed
    assert "(the sandbox has no project 'nope')" in after(printed, ":slow-down nope")
