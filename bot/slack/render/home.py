"""The App Home tab: each project's cost this month so far, the organization total, the common
actions and how to ask; and the rate-card picker the Home tab's "Rate cards" button sends.

The Home tab is a `View` (type "home"), which Slack caps at 100 blocks: the project table folds
past `HOME_PROJECTS` lines into one "other projects (N)" line that keeps the exact sum, and
`render_home` cuts whatever still would not fit, always keeping the buttons.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement
from slack_sdk.models.views import View

from bot.clock import as_utc, month_start
from bot.core.answers import PaymentMethodsAnswer
from bot.core.reports.summary import ReportSummary, fold
from bot.money import ROUNDING_NOTE, currency_label, exact, format_money, round_to_total
from bot.slack.ids import ActionId, BlockId
from bot.slack.render.common import (
    ELLIPSIS,
    Align,
    Column,
    Message,
    code,
    context,
    divider,
    escape,
    facts,
    finish,
    header,
    lines,
    local_time,
    period_text,
    section,
    table,
)

__all__ = [
    "EXAMPLES",
    "HOME_PROJECTS",
    "MAX_VIEW_BLOCKS",
    "home_period",
    "render_dm_failed",
    "render_home",
    "render_rate_card_picker",
]

MAX_VIEW_BLOCKS = 100  # Slack's limit for a Home tab (and a modal)
HOME_PROJECTS = 40  # project lines shown before the rest fold into "other projects (N)"
TITLE = "Billing — this month so far"

# (command, what it does): a few to start from; `/billing help` has them all.
EXAMPLES: tuple[tuple[str, str], ...] = (
    ("/billing usage <project>", "one project's usage this month, per meter"),
    ("/billing report last-month", "last month's report, posted in the channel"),
    ("/billing report this-month by week csv", "this month per week, with the CSV file"),
    ("/billing payment-methods", "the organization's payment methods"),
    ("/billing ratecard <payment-method-id>", "a payment method's prices"),
    ("/billing contro summary", "this month's Contro usage"),
    ("/billing help", "every command"),
)

_USER_ID = re.compile(r"[UW][A-Z0-9_]{1,40}")


def home_period(now: datetime) -> tuple[date, date]:
    """What the Home tab covers: the 1st of this month to tomorrow (UTC, end exclusive)."""
    today = as_utc(now).date()
    return month_start(today), today + timedelta(days=1)


def _share(cost: Decimal, total: Decimal) -> str:
    """ "12.3%" of the total, half up; "—" when the total is not positive (credits)."""
    if total <= 0:
        return "—"
    with exact(rounds=True):  # quantize never fails, however lopsided the figures
        return f"{(cost * 100 / total).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _greeting(user_id: str) -> str:
    who = f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else "there"
    return f"Hi {who}: the organization's MK.IO costs this month so far, per project."


def _utc(at: datetime) -> str:
    return local_time(at, seconds=True)


def _figures(s: ReportSummary) -> list[Block]:
    projects = len(s.by_project)
    blocks: list[Block] = [
        section(f"*Organization total: {s.totals.text()}* ({_plural(projects, 'project')})")
    ]
    if s.by_project:
        columns = (
            Column("Project"),
            Column("Month to date", Align.RIGHT),
            Column("Share", Align.RIGHT),
        )
        shown = fold(s.by_project, HOME_PROJECTS, label="other projects")
        cents = round_to_total([line.cost for line in shown])
        rows = [
            [line.name, format_money(cost, s.currency), _share(line.cost, s.total)]
            for line, cost in zip(shown, cents, strict=True)
        ]
        blocks += table(
            columns,
            rows,
            title="*Cost per project*, largest first",
            max_rows=len(rows),
            noun="projects",
        )
    else:
        blocks.append(section("No usage so far this month."))
    notes: list[str] = []
    if s.uncharged_rows:
        uncharged = format_money(s.uncharged_cost, s.currency)
        notes.append(f":hourglass: {uncharged} not charged yet: figures may still change.")
    if s.other_currencies:
        others = ", ".join(str(o.cost_money) for o in s.other_currencies)
        notes.append(
            f":warning: Also {others} in other currencies: the table is in "
            f"{currency_label(s.currency)} only; amounts in different currencies are never added."
        )
    if s.by_project:
        notes.append(ROUNDING_NOTE)
    if notes:
        # One element, a line each: Slack flows a context's elements into one line.
        blocks.append(context("\n".join(notes)))
    blocks.append(facts(s.fetched_at, (s.query.start_date, s.query.end_date)))
    return blocks


def _unavailable(error: Message, now: datetime) -> list[Block]:
    return [
        section("*This month's figures are not available.*"),
        *error.blocks,
        context(period_text(*home_period(now)), f"Tried {_utc(now)}"),
    ]


def _not_loaded(now: datetime) -> list[Block]:
    return [
        section(":hourglass_flowing_sand: Fetching this month's figures…"),
        context(period_text(*home_period(now))),
    ]


def _actions() -> list[Block]:
    buttons = ActionsBlock(
        block_id=BlockId.HOME_ACTIONS.value,
        elements=[
            ButtonElement(text="Refresh", action_id=ActionId.HOME_REFRESH.value, style="primary"),
            ButtonElement(
                text="Last month's report", action_id=ActionId.HOME_LAST_MONTH_REPORT.value
            ),
            ButtonElement(text="Rate cards", action_id=ActionId.HOME_RATE_CARDS.value),
        ],
    )
    return [
        buttons,
        context(
            "_Last month's report_ and _Rate cards_ arrive in your direct messages with me "
            "(the Messages tab)."
        ),
    ]


def _how_to_ask() -> list[Block]:
    items = "\n".join(f"• {code(command)}: {escape(what)}" for command, what in EXAMPLES)
    return [
        section(f"*How to ask*\n{items}"),
        context(
            "The same words work in a direct message to me, or after @-mentioning me in a "
            "channel. Dates are UTC; report end dates are exclusive."
        ),
    ]


def _within(head: list[Block], body: list[Block], tail: list[Block]) -> list[Block]:
    """At most MAX_VIEW_BLOCKS blocks: `body` is cut (with a note) so `head` and `tail` —
    the title and the buttons — always stay."""
    room = MAX_VIEW_BLOCKS - len(head) - len(tail)
    if len(body) > room:
        body = [*body[: room - 1], context(f"{ELLIPSIS}more not shown")]
    return [*head, *body, *tail]


def render_home(
    summary: ReportSummary | None,
    *,
    user_id: str,
    error: Message | None,
    now: datetime,
    notice: Message | None = None,
) -> View:
    """The Home tab of `user_id`.

    With `error` (MK.IO not configured, or it failed) the reason is shown instead of figures;
    with neither `summary` nor `error` the figures are still being fetched. `notice` is shown
    above everything (e.g. why a button's direct message could not be sent). The buttons and
    the "how to ask" section are always there.
    """
    head: list[Block] = [header(TITLE), context(_greeting(user_id))]
    body: list[Block] = list(notice.blocks) if notice is not None else []
    if error is not None:
        body += _unavailable(error, now)
    elif summary is not None:
        body += _figures(summary)
    else:
        body += _not_loaded(now)
    tail: list[Block] = [*_actions(), divider(), *_how_to_ask()]
    return View(type="home", blocks=_within(head, body, tail))


# Slack takes at most 25 elements in an actions block; a button's text at most 75 characters.
MAX_PICKER_BUTTONS = 25
MAX_BUTTON_TEXT = 75


def render_rate_card_picker(a: PaymentMethodsAnswer) -> Message:
    """The Home tab's "Rate cards" answer (a DM): one button per payment method, each
    sending that method's rate card; methods past the buttons' limit are named with their
    command."""
    methods = [m for m in a.methods if m.id]
    if not methods:
        said = "There are no payment methods in this organization, so no rate cards."
        return finish(said, [section(said), facts(a.fetched_at)])
    buttons = [
        ButtonElement(
            text=_button_text(m.name),
            action_id=ActionId.HOME_RATE_CARD.value,
            value=m.id,
        )
        for m in methods[:MAX_PICKER_BUTTONS]
    ]
    blocks: list[Block] = [
        section("*Rate cards*: press a payment method to see its rate card."),
        ActionsBlock(block_id=BlockId.RATE_CARD_PICKER.value, elements=buttons),
    ]
    rest = methods[MAX_PICKER_BUTTONS:]
    if rest:
        commands = [f"• *{escape(m.name)}*: {code(f'/billing ratecard {m.id}')}" for m in rest]
        blocks += lines(commands, title="*More payment methods*", noun="payment methods")
    blocks.append(facts(a.fetched_at))
    return finish(f"Rate cards: {len(methods):,} payment methods to choose from.", blocks)


def _button_text(name: str) -> str:
    return name if len(name) <= MAX_BUTTON_TEXT else name[: MAX_BUTTON_TEXT - 1] + ELLIPSIS


def render_dm_failed(what: str, command: str) -> Message:
    """Shown on the Home tab when `what` ("last month's report") could not be sent as a direct
    message; `command` is what to type in a channel instead."""
    said = (
        f":warning: I couldn't send you {escape(what)} as a direct message. "
        f"Ask in a channel instead: {code(command)}"
    )
    return finish(escape(f"I couldn't send you {what} as a direct message."), [section(said)])
