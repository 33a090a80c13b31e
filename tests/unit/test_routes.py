"""The route table: total over the command language, each row consistent with itself."""

from __future__ import annotations

import inspect
import typing
from datetime import date

import pytest

from bot.core.language import commands as c
from bot.slack.handlers.routes import (
    ANOMALY_BUTTONS,
    CONTRO_EXPORT,
    ROUTES,
    Answered,
    Posted,
    Reach,
    Route,
    Who,
    route_of,
)
from bot.slack.ids import ActionId

TODAY = date(2026, 11, 21)
COMMAND_TYPES = typing.get_args(c.Command)


def help_examples() -> list[c.Command]:
    """One command per example in the help: the words a user is told to type."""
    return [c.parse(example, TODAY) for spec in c.COMMANDS for example in spec.examples]


def test_every_command_type_has_a_route_and_nothing_else_does() -> None:
    missing = [t.__name__ for t in COMMAND_TYPES if t not in ROUTES]
    assert not missing, f"add a row to ROUTES in bot/slack/handlers/routes.py for {missing}"
    assert set(ROUTES) == set(COMMAND_TYPES)


@pytest.mark.parametrize("route", [*ROUTES.items(), (c.ControRecords, CONTRO_EXPORT)])
def test_each_route_runs_a_handler_for_its_own_command(
    route: tuple[type[c.Command], Route[object]],
) -> None:
    command_type, row = route
    first = next(iter(inspect.signature(row.does.run).parameters))
    taken = typing.get_type_hints(row.does.run)[first]
    assert command_type in (typing.get_args(taken) or (taken,)), (command_type, taken)


def test_every_command_in_the_help_finds_a_route_with_words_while_working() -> None:
    examples = help_examples()
    assert {type(command) for command in examples} == set(COMMAND_TYPES)
    for command in examples:
        route = route_of(command)
        if isinstance(route.does, Answered):
            assert route.does.working(command).strip(), command


def test_a_csv_export_is_posted_in_the_channel_and_records_are_answered() -> None:
    period = c.Period(2026, 10)
    assert isinstance(route_of(c.ControRecords(period, csv=True)).does, Posted)
    assert isinstance(route_of(c.ControRecords(period)).does, Answered)
    assert route_of(c.ControRecords(period)).shareable


def test_only_an_answer_for_everyone_may_be_shared() -> None:
    answered: Answered[c.Help] = Answered(
        lambda command, asker, deps: _never(), lambda command: "working"
    )
    with pytest.raises(ValueError, match="only an answer everyone may see"):
        Route(answered, Who.ANYONE, Reach.ASKER, shareable=True)
    with pytest.raises(ValueError, match="only an answer everyone may see"):
        Route(Posted(lambda *args: _never()), Who.ANYONE, Reach.EVERYONE, shareable=True)
    with pytest.raises(ValueError, match="seen by everyone"):
        Route(Posted(lambda *args: _never()), Who.ANYONE, Reach.ASKER, shareable=False)


def test_what_changes_billing_or_what_the_bot_posts_is_for_admins_by_slash_command() -> None:
    admin_only = {t for t, route in ROUTES.items() if route.who is Who.ADMIN}
    assert admin_only == {
        c.SetPaymentMethod,
        c.EnableMetrics,
        c.ScheduleReport,
        c.CancelSchedule,
        c.SetBudget,
        c.RemoveBudget,
        c.AnomalyAlerts,
        c.CheckAnomalies,
        c.AllowExternalChannel,
    }
    assert all(ROUTES[t].reach is Reach.SLASH_COMMAND for t in admin_only)


async def _never() -> typing.NoReturn:
    raise AssertionError("not called")


def test_every_anomaly_button_has_its_row_and_silencing_is_for_admins() -> None:
    """Who may press an alert's button is decided in the route table, as for commands."""
    buttons = {a for a in ActionId if a.value.startswith("anomaly_")}
    assert set(ANOMALY_BUTTONS) == buttons
    admin = {a for a, who in ANOMALY_BUTTONS.items() if who is Who.ADMIN}
    assert admin == {
        ActionId.ANOMALY_EXPECTED,
        ActionId.ANOMALY_SNOOZE_DAY,
        ActionId.ANOMALY_SNOOZE_WEEK,
    }
