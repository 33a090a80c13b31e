"""Budget messages: each alert kind says what happened to which scope, with the crossing date;
a scope's name typed by a person cannot mention or format."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.core.language.commands import ScopeKind
from bot.core.scheduled.budgets import AlertKind, Budget, BudgetAlert, BudgetFigures, Forecast
from bot.slack.render.budgets import render_budget_alert, render_budget_check_failed
from tests.unit.test_render_common import visible

D = Decimal
AT = datetime(2026, 11, 21, 9, tzinfo=UTC)


def budget(kind: ScopeKind = ScopeKind.PROJECT, name: str = "web", **more: object) -> Budget:
    return Budget.model_validate(
        {
            "scope": kind,
            "name": name,
            "amount": D(1000),
            "channel": "C1",
            "set_by": "U1",
            "set_at": AT,
            **more,
        }
    )


def figures(spent: str, daily: str | None = None) -> BudgetFigures:
    forecast = None
    if daily is not None:
        rate = D(daily)
        end = D(spent) + rate * 9
        forecast = Forecast("USD", end, end, rate, rate, date(2026, 11, 21), date(2026, 12, 1))
    return BudgetFigures("2026-11", D(spent), forecast, D(1000), "USD")


@pytest.mark.parametrize(
    ("alert", "spent", "daily", "says"),
    [
        (BudgetAlert(AlertKind.SPENT, 80), "800", "25", "`web` has used 80% of its 1,000.00 USD"),
        (BudgetAlert(AlertKind.SPENT, 80), "800", "25", "reaches the budget on Nov 29 (UTC)."),
        (BudgetAlert(AlertKind.SPENT, 100), "1000", "25", "`web` is over its 1,000.00 USD budget"),
        (BudgetAlert(AlertKind.SPENT, 120), "1200", "25", ":rotating_light: `web` is over"),
        (BudgetAlert(AlertKind.FORECAST), "600", "50", "on course to pass its 1,000.00 USD"),
        (BudgetAlert(AlertKind.FORECAST), "600", "50", "Month-end estimate: 1,050.00 USD\n"),
        (BudgetAlert(AlertKind.RECOVERED), "600", "10", "Recovered: `web` is back on course"),
        (BudgetAlert(AlertKind.RECOVERED), "600", "10", "stays under the budget this month."),
        (BudgetAlert(AlertKind.NEW_MONTH), "5", None, "New month: the 1,000.00 USD budget of"),
    ],
)
def test_each_alert_says_what_happened(
    alert: BudgetAlert, spent: str, daily: str | None, says: str
) -> None:
    assert says in visible(render_budget_alert(budget(), alert, figures(spent, daily)))


@pytest.mark.parametrize(
    ("scoped", "named", "remove"),
    [
        (budget(ScopeKind.ORGANIZATION, ""), "The organization", "budget remove organization"),
        (
            budget(ScopeKind.METER, "web", meter="drm"),
            "Meter `drm` of `web`",
            "budget remove web meter drm",
        ),
        (
            budget(ScopeKind.PAYMENT_METHOD, "pm-1", label="Azure (Contoso)"),
            "Payment method `Azure (Contoso)`",
            "budget remove payment-method pm-1",
        ),
        (
            budget(ScopeKind.CONTRO_TYPE, "card_issuance"),
            "Contro usage type `card_issuance`",
            "budget remove contro card_issuance",
        ),
    ],
)
def test_each_scope_is_named(scoped: Budget, named: str, remove: str) -> None:
    alert = render_budget_alert(scoped, BudgetAlert(AlertKind.SPENT, 100), figures("1000"))
    assert visible(alert).startswith(f":red_circle: {named} is over")
    failed = visible(render_budget_check_failed(scoped, RuntimeError("x")))
    assert remove in failed


def test_typed_names_cannot_mention_or_format() -> None:
    sneaky = budget(ScopeKind.CONTRO_TYPE, "<!channel>*bold*")
    shown = visible(render_budget_alert(sneaky, BudgetAlert(AlertKind.SPENT, 80), figures("800")))
    assert "<!channel>" not in shown
    assert "`&lt;!channel&gt;*bold*`" in shown


def test_a_project_name_cannot_break_out_of_its_code_span() -> None:
    sneaky = budget(name="web` *bold* <!here> `")
    shown = visible(render_budget_alert(sneaky, BudgetAlert(AlertKind.SPENT, 80), figures("800")))
    assert "`/billing usage webˋ *bold* &lt;!here&gt; ˋ`" in shown  # one code span
    assert "<!here>" not in shown
