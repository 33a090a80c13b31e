"""Budgets: the admin commands, and the list (with each budget's month so far)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.core.language import commands as c
from bot.core.scheduled.budgets import Budget, MonthSpend, budget_key
from bot.errors import CommandError
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.render.budgets import render_budget_removed, render_budget_set, render_budgets
from bot.slack.render.common import Message, code

log = logging.getLogger(__name__)

Budgeting = c.SetBudget | c.ListBudgets | c.RemoveBudget


async def run(command: Budgeting, asker: Asker, deps: Deps) -> Message:
    match command:
        case c.SetBudget():
            return await _set(command, asker, deps)
        case c.ListBudgets():
            return await _list(deps)
        case c.RemoveBudget():
            key, label = await _key(command.scope, deps)
            return render_budget_removed(label, await deps.budgets.remove(key))


async def _set(command: c.SetBudget, asker: Asker, deps: Deps) -> Message:
    """Checks the scope names something that exists before anything is stored."""
    scope = command.scope
    name, label = scope.name, None
    match scope.kind:
        case c.ScopeKind.PROJECT | c.ScopeKind.METER:
            await deps.billing.require_project(scope.name, help_topic="budget")
        case c.ScopeKind.PAYMENT_METHOD:
            method = await deps.billing.find_payment_method(scope.name)
            name, label = method.id, method.name
        case c.ScopeKind.CONTRO_TYPE:
            _ = deps.billing.contro  # "not configured" unless it is
        case c.ScopeKind.ORGANIZATION:
            _ = deps.billing.mkio
    for person in command.notify:
        await deps.guard.people.check(person)  # ExternalPerson: no billing data by DM to them
    budget = Budget(
        scope=scope.kind,
        name=name,
        meter=scope.meter,
        label=label,
        amount=command.amount,
        thresholds=command.thresholds,
        notify=command.notify,
        channel=asker.channel_id,
        set_by=asker.user_id,
        set_at=deps.clock(),
    )
    note = await _meter_note(scope, deps) if scope.kind is c.ScopeKind.METER else None
    replaced = await deps.budgets.get(budget.key)
    await deps.budgets.set(budget)
    return render_budget_set(budget, replaced, note=note)


async def _meter_note(scope: c.BudgetScope, deps: Deps) -> str | None:
    """A word when the meter has had no cost in the project this month (a typo, most often):
    the budget is kept, as a meter may start later in the month."""
    meters = sorted({r.meter for r in await deps.billing.month_rows() if r.project == scope.name})
    if scope.meter in meters:
        return None
    known = ", ".join(code(m) for m in meters) if meters else "none yet"
    return (
        f"{code(scope.meter or '')} has had no cost in {code(scope.name)} this month so far "
        f"(meters with cost: {known}); the budget counts it from its first use."
    )


async def _key(scope: c.BudgetScope, deps: Deps) -> tuple[str, str]:
    """The stored key of the budget the words name, and how to name it in the reply. A payment
    method is stored by ID: its name is looked up (a method gone from MK.IO: as typed)."""
    if scope.kind is c.ScopeKind.PAYMENT_METHOD:
        try:
            method = await deps.billing.find_payment_method(scope.name)
        except CommandError:
            return budget_key(scope), f"payment method {code(scope.name)}"
        found = c.BudgetScope(scope.kind, method.id)
        return budget_key(found), f"payment method {code(method.name)}"
    words = " ".join(scope.words)
    return budget_key(scope), "the organization" if not scope.name else code(words)


async def _list(deps: Deps) -> Message:
    budgets = await deps.budgets.list()
    spend_of: Callable[[Budget], MonthSpend] | None = None
    if budgets:
        try:
            spend_of = (await deps.billing.budget_month(budgets)).spend
        except Exception:
            log.exception("the budgets' month could not be read for the list")
    return render_budgets(budgets, spend_of, deps.clock())
