"""Budgets: the confirmation, the list with each one's month so far, and the alerts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from slack_sdk.models.blocks import Block

from bot.core.language.commands import ScopeKind
from bot.core.scheduled.budget_spend import CONTRO_FORECAST_MAX_RECORDS
from bot.core.scheduled.budgets import (
    AlertKind,
    Budget,
    BudgetAlert,
    BudgetFigures,
    MonthSpend,
    month_key,
)
from bot.errors import BillingBotError
from bot.money import currency_label, format_money
from bot.slack.render.common import (
    Message,
    code,
    context,
    escape,
    fetched_text,
    finish,
    header,
    section,
)
from bot.slack.render.errors import render_error

__all__ = [
    "render_budget_alert",
    "render_budget_check_failed",
    "render_budget_removed",
    "render_budget_set",
    "render_budgets",
    "scope_text",
]


def scope_text(budget: Budget) -> str:
    """What the budget covers, for a sentence: "`my-project`", "the organization"."""
    match budget.scope:
        case ScopeKind.PROJECT:
            return code(budget.name)
        case ScopeKind.METER:
            return f"meter {code(budget.meter or '')} of {code(budget.name)}"
        case ScopeKind.PAYMENT_METHOD:
            return f"payment method {code(budget.label or budget.name)}"
        case ScopeKind.ORGANIZATION:
            return "the organization"
        case ScopeKind.CONTRO_TYPE:
            return f"Contro usage type {code(budget.name)}"


def _plain_scope(budget: Budget) -> str:
    """The same, for a notification's plain text (no markup)."""
    return scope_text(budget).replace("`", "")


def _percents(thresholds: tuple[int, ...]) -> str:
    shown = [f"{p}%" for p in thresholds]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def _people(users: tuple[str, ...]) -> str:
    return ", ".join(f"<@{escape(u)}>" for u in users)


def _range(low: Decimal, high: Decimal, currency: str) -> str:
    """ "3,094.56 USD – 3,118.65 USD", or one figure when both ends show the same."""
    shown_low, shown_high = format_money(low, currency), format_money(high, currency)
    return shown_low if shown_low == shown_high else f"{shown_low} – {shown_high}"


def _day(day: date) -> str:
    return f"{day:%b} {day.day}"


def _remove_command(budget: Budget) -> str:
    return code(" ".join(("/billing budget remove", *budget.target.words)))


def render_budget_set(
    budget: Budget, replaced: Budget | None = None, *, note: str | None = None
) -> Message:
    """The confirmation of a budget, saying which one it replaced (if any); `note`, a warning
    about what it covers (bot-written mrkdwn)."""
    amount = format_money(budget.amount, budget.currency)
    scope = scope_text(budget)
    plain = _plain_scope(budget)
    if replaced is None:
        what = f"Budget for {scope}: {amount} a month."
        summary = f"Budget for {plain}: {amount}"
    elif replaced.amount == budget.amount and replaced.currency == budget.currency:
        what = f"Budget for {scope} set again: {amount} a month, as before."
        summary = f"Budget for {plain} set again: {amount}"
    else:
        old = format_money(replaced.amount, replaced.currency)
        what = f"Budget for {scope} changed from {old} to {amount} a month."
        summary = f"Budget for {plain} changed from {old} to {amount}"
    moved = (
        f" (instead of <#{replaced.channel}>)"
        if replaced is not None and replaced.channel != budget.channel
        else ""
    )
    forecast = ", and when the month-end estimate reaches 100% (and when it falls back under)"
    if budget.scope is ScopeKind.CONTRO_TYPE:
        forecast += (
            f" (the estimate, from the month's records while they are at most "
            f"{CONTRO_FORECAST_MAX_RECORDS:,})"
        )
    dm = f" I also tell {_people(budget.notify)} by direct message." if budget.notify else ""
    text = (
        f":moneybag: {what} I check every hour and post in <#{budget.channel}>{moved} when "
        f"this month's cost reaches {_percents(budget.thresholds)}{forecast}: each at most "
        f"once a month, afresh on the 1st (UTC).{dm}"
    )
    blocks: list[Block] = [section(text)]
    if note is not None:
        blocks.append(section(f":warning: {note}"))
    return finish(summary, blocks)


SpendOf = Callable[[Budget], MonthSpend]


def render_budgets(budgets: list[Budget], spend_of: SpendOf | None, now: datetime) -> Message:
    """Each budget with its month so far: spent, % used, the month-end estimate, and when it
    is reached at this pace. `spend_of` None: the month could not be read (the list still
    shows); a budget whose figures fail shows why in one word."""
    if not budgets:
        return finish("No budgets.", [section("No budgets: `/billing budget <project> <amount>`.")])
    month = month_key(now)
    blocks: list[Block] = [header(f"Monthly budgets · {month}")]
    for budget in budgets:
        amount = format_money(budget.amount, budget.currency)
        first = (
            f"*{scope_text(budget)}* · {amount} a month · alerts at "
            f"{_percents(budget.thresholds)} in <#{budget.channel}>"
        )
        if budget.notify:
            first += f" and to {_people(budget.notify)}"
        blocks.append(section(f"{first}\n{_month_line(budget, spend_of, month)}"))
    blocks.append(context(fetched_text(now)))
    return finish(f"{len(budgets)} budgets", blocks)


def _month_line(budget: Budget, spend_of: SpendOf | None, month: str) -> str:
    if spend_of is None:
        return "_This month's cost could not be read just now._"
    try:
        figures = spend_of(budget).figures(budget, month)
    except BillingBotError as error:
        return f"_Not readable: {error.user_message}_"
    except Exception:
        return "_This month's cost could not be read just now._"
    spent = format_money(figures.month_to_date, figures.currency)
    parts = [f"Spent {spent} ({figures.share * 100:.0f}%)"]
    forecast = figures.forecast
    if forecast is not None:
        parts.append(f"month-end {_range(forecast.low, forecast.high, figures.currency)}")
        reached = _reached_text(figures)
        if reached:
            parts.append(reached)
    elif figures.no_forecast:
        parts.append(escape(figures.no_forecast))
    else:
        parts.append("no estimate yet (from the 3rd)")
    return " · ".join(parts)


def _reached_text(figures: BudgetFigures) -> str:
    """ "at this pace it reaches the budget on Nov 24", or between two dates, or ""."""
    reached = figures.reached()
    if reached is None or figures.month_to_date >= figures.amount:
        return ""
    early, late = reached
    if early is None:
        return "at this pace it stays under the budget this month"
    if late == early:
        return f"at this pace it reaches the budget on {_day(early)} (UTC)"
    if late is None:
        return f"at this pace it reaches the budget on {_day(early)} (UTC), or not this month"
    return f"at this pace it reaches the budget between {_day(early)} and {_day(late)} (UTC)"


def render_budget_removed(label: str, found: bool) -> Message:
    said = (
        f"Removed the budget of {label}."
        if found
        else f"{label} has no budget: `/billing budget list` shows them."
    )
    return finish(said, [section(said)])


def _headline(budget: Budget, alert: BudgetAlert, figures: BudgetFigures) -> str:
    amount = format_money(figures.amount, figures.currency)
    share = f"{figures.share * 100:.0f}%"
    scope = scope_text(budget)
    scope = scope[0].upper() + scope[1:]  # it starts the sentence ("The organization")
    match alert.kind:
        case AlertKind.SPENT if alert.percent >= 100 and figures.month_to_date >= figures.amount:
            icon = ":red_circle:" if alert.percent == 100 else ":rotating_light:"
            return f"{icon} {scope} is over its {amount} budget ({share}) for {figures.month}."
        case AlertKind.SPENT:
            return (
                f":large_yellow_circle: {scope} has used {share} of its {amount} budget for "
                f"{figures.month} (threshold {alert.percent}%)."
            )
        case AlertKind.FORECAST:
            return (
                f":chart_with_upwards_trend: {scope} is on course to pass its {amount} budget "
                f"for {figures.month}."
            )
        case AlertKind.RECOVERED:
            return (
                f":white_check_mark: Recovered: {scope} is back on course to stay under its "
                f"{amount} budget for {figures.month}."
            )
        case AlertKind.NEW_MONTH:
            return (
                f":new_moon: New month: the {amount} budget of {scope_text(budget)} starts "
                f"afresh for {figures.month}; its thresholds can alert again."
            )


def render_budget_alert(budget: Budget, alert: BudgetAlert, figures: BudgetFigures) -> Message:
    headline = _headline(budget, alert, figures)
    lines = [headline, f"Month to date: *{format_money(figures.month_to_date, figures.currency)}*"]
    forecast = figures.forecast
    if forecast is not None:
        lines.append(f"Month-end estimate: {_range(forecast.low, forecast.high, figures.currency)}")
        reached = _reached_text(figures)
        if reached:
            lines.append(reached[0].upper() + reached[1:] + ".")
    if figures.other_currencies:
        others = " + ".join(str(m) for m in figures.other_currencies)
        lines.append(
            f":warning: Also {others} this month in other currencies: not counted against "
            f"this {currency_label(figures.currency)} budget (amounts in different currencies "
            "are never added)."
        )
    usage = (
        f" · {code(f'/billing usage {budget.name}')}" if budget.scope is ScopeKind.PROJECT else ""
    )
    blocks: list[Block] = [
        section("\n".join(lines)),
        context(
            f"Budget set by <@{escape(budget.set_by)}> · alerts at "
            f"{_percents(budget.thresholds)}, each once a month{usage}"
        ),
    ]
    plain = headline.split(" ", 1)[1].replace("`", "")
    return finish(f"Budget alert: {plain}", blocks)


def render_budget_check_failed(budget: Budget, error: Exception) -> Message:
    """Said once a month in the budget's channel: its check fails, and why (no internals)."""
    said = f"The budget of {scope_text(budget)} could not be checked this month."
    blocks: list[Block] = [section(f":warning: {said}")]
    if isinstance(error, BillingBotError):
        blocks.extend(render_error(error).blocks)
    blocks.append(
        context(
            "The check runs every hour; this notice is not repeated this month. "
            f"To stop it: {_remove_command(budget)}"
        )
    )
    return finish(f"The budget of {_plain_scope(budget)} could not be checked this month.", blocks)
