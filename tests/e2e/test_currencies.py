"""An organization billed in two currencies: one meter in EUR, the rest in USD. Every answer
shows each currency's total and no figure adds the two (audit F14); a currency string from
MK.IO never reaches Slack live (audit F5)."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from bot.devtools.sandbox import catalog
from tests.e2e.stack import ADMIN, Stack, row_of, seen

MONTH_TO_DATE: dict[str, object] = {
    "startDate": "2026-11-01",
    "endDate": "2026-11-22",
    "granularity": "month",
}
MY_PROJECT: dict[str, object] = {**MONTH_TO_DATE, "projectNames": ["my-project"]}


@pytest.fixture(autouse=True)
def egress_in_eur(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog, "METER_CURRENCIES", {"egress": "EUR"})


def money(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(Decimal('0.01')):,} {currency}"


def by_currency(stack: Stack, body: dict[str, object]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for row in stack.sandbox.report_rows(body):
        sums[row["currency"]] = sums.get(row["currency"], Decimal(0)) + Decimal(row["cost"])
    return sums


def assert_never_added(text: str, sums: dict[str, Decimal]) -> None:
    mixed = money(sum(sums.values(), Decimal(0)), "")
    assert mixed.strip() not in text, "the two currencies were added up"


def amounts(line: str, currency: str) -> list[Decimal]:
    pattern = rf"(-?[\d,]+\.\d\d)(?:–(-?[\d,]+\.\d\d))? {currency}"
    return [Decimal(m.replace(",", "")) for found in re.findall(pattern, line) for m in found if m]


async def test_usage_totals_and_estimates_each_currency_apart(stack: Stack) -> None:
    sums = by_currency(stack, MY_PROJECT)
    assert set(sums) == {"USD", "EUR"}
    _, reply = await stack.ask("usage my-project")
    text = seen(reply)
    assert f"Total month to date: {money(sums['USD'], 'USD')} + {money(sums['EUR'], 'EUR')}" in text
    assert_never_added(text, sums)
    estimate = next(line for line in text.splitlines() if "Month-end estimate" in line)
    for currency in ("USD", "EUR"):
        low, *_ = amounts(estimate, currency)
        assert low >= sums[currency].quantize(Decimal("0.01")), estimate  # never below to date
    egress = row_of(text, "streaming_egress")
    assert money(sums["EUR"], "EUR") in egress
    assert "2 currencies" in text


async def test_home_tab_shows_each_currencys_total(stack: Stack) -> None:
    from tests.e2e.test_home import home_text, open_home, published

    sums = by_currency(stack, MONTH_TO_DATE)
    await open_home(stack)
    text = home_text(await published(stack))
    assert f"Organization total: {money(sums['USD'], 'USD')} + {money(sums['EUR'], 'EUR')}" in text
    assert_never_added(text, sums)


async def test_report_shows_each_currencys_total(stack: Stack) -> None:
    from tests.e2e.test_reports import channel_messages

    march = {**MONTH_TO_DATE, "startDate": "2026-03-01", "endDate": "2026-04-01"}
    sums = by_currency(stack, march)
    await stack.sender.command("report 2026-03", channel_id="C_FINANCE")
    [summary] = await channel_messages(stack)
    text = seen(summary)
    assert f"Total: {money(sums['USD'], 'USD')}" in text
    assert f"+ *{money(sums['EUR'], 'EUR')}*" in text
    assert_never_added(text, sums)


async def test_change_preview_shows_billed_so_far_per_currency(stack: Stack) -> None:
    from tests.e2e.test_changes import switch_preview

    sums = by_currency(stack, MY_PROJECT)
    text = seen(await switch_preview(stack))
    billed = next(line for line in text.splitlines() if "Billed so far" in line)
    assert f"{money(sums['USD'], 'USD')} + {money(sums['EUR'], 'EUR')}" in billed
    assert_never_added(text, sums)


async def test_a_usd_budget_counts_only_usd_and_names_the_rest(stack: Stack) -> None:
    sums = by_currency(stack, MY_PROJECT)
    budget = Decimal(600)
    # the USD cost alone is under the budget; USD and EUR added would be over it
    assert sums["USD"] < budget < sums["USD"] + sums["EUR"]
    await stack.ask("budget my-project 600", user_id=ADMIN)
    await stack.bot.scheduler.check_budgets(stack.clock.now)
    alerts = await stack.slack.wait_for(lambda c: c.method == "chat.postMessage")
    text = "\n".join(seen(alert) for alert in alerts)
    assert "has used 95% of its 600.00 USD budget" in text
    assert "over its" not in text
    assert f"Month to date: *{money(sums['USD'], 'USD')}*" in text
    assert f"Also {money(sums['EUR'], 'EUR')} this month in other currencies" in text
    assert_never_added(text, sums)


async def test_a_hostile_currency_never_reaches_slack_live(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.e2e.test_changes import switch_preview
    from tests.e2e.test_reports import channel_messages

    monkeypatch.setattr(catalog, "CURRENCY", "<!channel>")
    await stack.ask("usage my-project")
    await switch_preview(stack)
    await stack.sender.command("report 2026-03 by day", channel_id="C_FINANCE")
    await channel_messages(stack)
    await stack.slack.wait_for(lambda c: c.method == "files.completeUploadExternal")
    sent = json.dumps([c.body for c in stack.slack.calls])
    assert "<!channel>" not in sent
    assert "&lt;!channel&gt;" in sent
