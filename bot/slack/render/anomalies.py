"""Anomalies: the alert with its buttons (edited in place as people act), its thread notes and
details, the list, and the replies to `anomalies on|off|check`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DatePickerElement,
    PlainTextObject,
)

from bot.clock import as_utc
from bot.core.watch.anomalies import Kind, Rules, Source
from bot.core.watch.check import CheckResult, NoteKind, Reach
from bot.core.watch.lifecycle import Anomaly, PriceFrom
from bot.money import exact, format_money, format_price, format_quantity
from bot.slack.ids import ActionId, anomaly_block_id
from bot.slack.render.changes import _mention as mention
from bot.slack.render.common import (
    Align,
    Column,
    Message,
    context,
    escape,
    finish,
    header,
    section,
    table,
)

INVITE = "/invite @billing"
_TITLE = {Kind.SPIKE: "Cost spike", Kind.DROP: "Cost drop", Kind.NEW: "New"}
_ICON = {Kind.SPIKE: ":chart_with_upwards_trend:", Kind.DROP: ":chart_with_downwards_trend:"}


def _stamp(at: datetime) -> str:
    return f"{as_utc(at):%Y-%m-%d %H:%M} UTC"


def _signed(amount: Decimal, currency: str) -> str:
    return ("+" if amount > 0 else "") + format_money(amount, currency)


def _percent(percent: Decimal | None) -> str:
    if percent is None:
        return ""
    with exact(rounds=True):  # a change against a tiny median may have more than 28 digits
        whole = percent.quantize(Decimal(1))
    return f" ({'+' if percent > 0 else ''}{whole:,f}%)"


def title(anomaly: Anomaly) -> str:
    what = "meter" if anomaly.source is Source.MKIO else "usage type"
    if anomaly.kind is Kind.NEW:
        return f"New {what}: {anomaly.label}"
    return f"{_TITLE[anomaly.kind]}: {anomaly.label}"


def what_moved(anomaly: Anomaly) -> str:
    """One sentence: the day, the cost, the change in money and percent, the baseline."""
    money = format_money(anomaly.cost, anomaly.currency)
    if anomaly.kind is Kind.NEW or anomaly.median is None:
        before = Rules().new_lookback_days
        return f"*{anomaly.day}*: {money}, the first usage in the {before} days before."
    band = ""
    if anomaly.low is not None and anomaly.high is not None:
        low, high = (format_money(v, anomaly.currency) for v in (anomaly.low, anomaly.high))
        band = f"; usual range {low} to {high}"
    return (
        f"*{anomaly.day}*: {money}, {_signed(anomaly.change, anomaly.currency)}"
        f"{_percent(anomaly.percent)} against a median of "
        f"{format_money(anomaly.median, anomaly.currency)} over {anomaly.baseline_days} "
        f"comparable days before it{band}."
    )


def what_it_means(anomaly: Anomaly) -> list[str]:
    """The change priced by the project's rate card, and what it costs if it stays."""
    said: list[str] = []
    unit = escape(anomaly.unit) if anomaly.unit else "units"
    if anomaly.quantity_change is not None and anomaly.unit_price is not None:
        sign = "+" if anomaly.quantity_change > 0 else ""
        said.append(
            f"That is {sign}{format_quantity(anomaly.quantity_change)} {unit}, "
            f"{_priced(anomaly, anomaly.quantity_change, anomaly.unit_price)}"
        )
    elif anomaly.quantity_change is not None and anomaly.price_note:
        said.append(f"No unit price for it: {escape(anomaly.price_note)}.")
    elif anomaly.count is not None:
        typical = (
            f" (usually {format_quantity(anomaly.median_count)})" if anomaly.median_count else ""
        )
        said.append(f"{anomaly.count} records that day{typical}.")
    if anomaly.days_left_in_month > 0 and anomaly.kind is not Kind.NEW:
        more = "more" if anomaly.rest_of_month > 0 else "less"
        said.append(
            f"If it stays like this, the {anomaly.days_left_in_month} days left in "
            f"{anomaly.day:%B} cost {format_money(abs(anomaly.rest_of_month), anomaly.currency)} "
            f"{more} than usual."
        )
    elif anomaly.days_left_in_month > 0:
        said.append(
            f"Every day like it adds {format_money(anomaly.cost, anomaly.currency)}; "
            f"{anomaly.days_left_in_month} days are left in {anomaly.day:%B}."
        )
    return said


def _priced(anomaly: Anomaly, quantity: Decimal, unit_price: Decimal) -> str:
    """The units' cost at the unit price, and which price it is."""
    price = format_price(unit_price, anomaly.currency)
    with exact():
        cost = _signed(quantity * unit_price, anomaly.currency)
    match anomaly.price_from:
        case PriceFrom.RATE_CARD:
            card = escape(anomaly.rate_card or "its payment method")
            return (
                f"{cost} at {price} a unit on the rate card of {card}, the project's payment "
                "method."
            )
        case PriceFrom.REPORT:
            why = f": {escape(anomaly.price_note)}" if anomaly.price_note else ""
            return f"{cost} at {price} a unit, the usage report's price (not the rate card's{why})."
        case None:
            return f"at {price} a unit on the project's rate card."


def state_lines(anomaly: Anomaly) -> list[str]:
    """Who did what and when."""
    said: list[str] = []
    if anomaly.days > 1:
        said.append(f"Still unusual on {anomaly.last_day} ({anomaly.days} days).")
    if anomaly.acknowledged_by and anomaly.acknowledged_at:
        said.append(
            f":eyes: Acknowledged by {mention(anomaly.acknowledged_by)} at "
            f"{_stamp(anomaly.acknowledged_at)}."
        )
    if anomaly.expected_until and anomaly.expected_by and anomaly.expected_at:
        said.append(
            f":calendar: Expected until {anomaly.expected_until} (no alerts for it until then), "
            f"said {mention(anomaly.expected_by)} at {_stamp(anomaly.expected_at)}."
        )
    if anomaly.snoozed_until and anomaly.snoozed_by and anomaly.snoozed_at:
        said.append(
            f":zzz: Snoozed until {_stamp(anomaly.snoozed_until)} by "
            f"{mention(anomaly.snoozed_by)} at {_stamp(anomaly.snoozed_at)}."
        )
    if anomaly.recovered_on is not None and anomaly.kind is not Kind.NEW:
        said.append(
            f":white_check_mark: Recovered: back within its usual range on {anomaly.recovered_on}."
        )
    return said


def _buttons(anomaly: Anomaly) -> ActionsBlock:
    value = anomaly.id
    elements: list[ButtonElement | DatePickerElement] = []
    if anomaly.acknowledged_by is None:
        elements.append(
            ButtonElement(text="Acknowledge", action_id=ActionId.ANOMALY_ACK, value=value)
        )
    if anomaly.open:
        elements += [
            DatePickerElement(
                action_id=ActionId.ANOMALY_EXPECTED,
                placeholder=PlainTextObject(text="Expected until…"),
            ),
            ButtonElement(text="Snooze 1 day", action_id=ActionId.ANOMALY_SNOOZE_DAY, value=value),
            ButtonElement(
                text="Snooze 1 week", action_id=ActionId.ANOMALY_SNOOZE_WEEK, value=value
            ),
        ]
    elements.append(ButtonElement(text="Details", action_id=ActionId.ANOMALY_DETAILS, value=value))
    return ActionsBlock(block_id=anomaly_block_id(anomaly.id), elements=elements)


def render_alert(anomaly: Anomaly) -> Message:
    icon = _ICON.get(anomaly.kind, ":sparkles:")
    if not anomaly.open and anomaly.kind is not Kind.NEW:
        icon = ":white_check_mark:"
    blocks: list[Block] = [
        header(title(anomaly)),
        section(f"{icon} {what_moved(anomaly)}"),
    ]
    meaning = what_it_means(anomaly)
    if meaning:
        blocks.append(section(" ".join(meaning)))
    state = state_lines(anomaly)
    if state:
        blocks.append(context(*state))
    blocks.append(_buttons(anomaly))
    blocks.append(
        context(f"Found {_stamp(anomaly.found_at)} · `/billing anomalies` lists the open ones")
    )
    return finish(f"{escape(title(anomaly))}: {what_moved(anomaly)}", blocks)


def render_note(anomaly: Anomaly, kind: NoteKind) -> Message:
    if kind is NoteKind.RECOVERED:
        text = (
            f":white_check_mark: *Recovered*: {escape(anomaly.label)} is back within its usual "
            f"range on {anomaly.recovered_on}, after {anomaly.days} unusual day"
            f"{'s' if anomaly.days != 1 else ''}."
        )
    else:
        text = (
            f":warning: {escape(anomaly.label)} is still unusual on {anomaly.last_day} "
            f"(day {anomaly.days}). Acknowledge, snooze or mark it expected to stop these notes."
        )
    return finish(text, [section(text)])


def render_details(anomaly: Anomaly) -> Message:
    rows = [
        [
            f"{day} {day:%a}",
            format_money(cost, anomaly.currency),
            "◀ this day" if day == anomaly.day else "",
        ]
        for day, cost in anomaly.daily
    ]
    columns = (Column("Day"), Column("Cost", Align.RIGHT), Column(""))
    comparison = what_moved(anomaly)
    blocks: list[Block] = [
        section(f"*Details: {escape(title(anomaly))}*\n{comparison}"),
        *table(columns, rows, noun="days"),
        context(_rule_words(Rules())),
    ]
    return finish(f"Details: {escape(title(anomaly))}", blocks)


def _rule_words(rules: Rules) -> str:
    return (
        f"Baseline: the median and median absolute deviation of the {rules.window_days} days "
        f"before (weekends compared with weekends); a day is unusual beyond {rules.mads} scaled "
        f"deviations, at least {rules.min_share * 100:.0f}% of the median and at least "
        f"{rules.min_change} in money. New: no usage in the {rules.new_lookback_days} days before."
    )


def render_anomalies(anomalies: list[Anomaly], channels: list[str]) -> Message:
    where = (
        "Alerts go to " + ", ".join(f"<#{c}>" for c in channels) + "."
        if channels
        else "No channel hears of anomalies: an admin turns them on with `/billing anomalies on`."
    )
    if not anomalies:
        return finish("No open anomalies.", [section(f"No open anomalies. {where}")])
    items = [
        f"• *{escape(title(a))}*: {what_moved(a)}"
        + (f" _{' '.join(state_lines(a))}_" if state_lines(a) else "")
        for a in anomalies
    ]
    blocks: list[Block] = [header(f"Open anomalies ({len(anomalies)})")]
    blocks += [section(item) for item in items[:40]]
    blocks.append(context(where))
    return finish(f"{len(anomalies)} open anomalies", blocks)


def render_alerts_switched(
    channel: str, on: bool, changed: bool, reach: Reach | None = None
) -> Message:
    if on:
        text = (
            f":bell: Anomaly alerts go to <#{channel}>."
            if changed
            else f"Anomaly alerts already go to <#{channel}>."
        )
        if reach is Reach.JOINED:
            text += " I joined the channel to post them."
        elif reach is Reach.UNKNOWN:
            text += (
                " Slack did not tell me whether I am in this channel: if I am not, alerts "
                f"cannot reach it. Invite me with `{INVITE}`."
            )
    else:
        text = (
            f":no_bell: No more anomaly alerts in <#{channel}>."
            if changed
            else f"<#{channel}> did not hear of anomalies."
        )
    return finish(text, [section(text)])


def render_cannot_post(channel: str) -> Message:
    text = (
        f":warning: I am not a member of <#{channel}>, so alerts cannot be posted here: "
        f"invite me with `{INVITE}`, then `/billing anomalies on` again. Nothing changed."
    )
    return finish(text, [section(text)])


def render_check(result: CheckResult, channels: list[str]) -> Message:
    settled = sum(1 for a in result.recovered if a.kind is Kind.NEW)
    when = f"on {result.day}"
    if result.first_day is not None:
        when = f"from {result.first_day} to {result.day} ({result.days} days since the last check)"
    parts = [
        f"Checked {result.series} series {when}: "
        f"{len(result.alerted)} new anomal{'y' if len(result.alerted) == 1 else 'ies'}, "
        f"{len(result.continued)} continuing, {len(result.recovered) - settled} recovered."
    ]
    if settled:
        parts.append(f"{settled} new series {'is' if settled == 1 else 'are'} now usual.")
    if result.suppressed:
        parts.append(f"{len(result.suppressed)} expected, not alerted.")
    if result.errors:
        parts.append("Could not read: " + ", ".join(escape(e) for e in result.errors) + ".")
    if result.alerted and not channels:
        parts.append("No channel hears of them: `/billing anomalies on` in one.")
    text = " ".join(parts)
    return finish(text, [section(f":mag: {text}")])


def render_action_refused(reason: str) -> Message:
    return finish(reason, [section(f":information_source: {escape(reason)}")])


def expected_date_problem(chosen: date, today: date) -> str | None:
    if chosen < today:
        return f"{chosen} is in the past: choose today or a later day."
    if (chosen - today).days > 366:
        return "Choose a day within a year."
    return None
