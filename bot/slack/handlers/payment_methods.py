"""`payment-methods`, `ratecard <method>` and `payment-method <project>`: read-only answers."""

from bot.core.language import commands as c
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.render.common import Message
from bot.slack.render.payment_methods import render_payment_methods, render_project_payment_method
from bot.slack.render.rate_card import render_rate_card


async def list_all(command: c.PaymentMethods, asker: Asker, deps: Deps) -> Message:
    return render_payment_methods(await deps.billing.payment_methods())


async def rate_card(command: c.RateCard, asker: Asker, deps: Deps) -> Message:
    return render_rate_card(await deps.billing.rate_card(command.payment_method))


async def show_for_project(command: c.ShowPaymentMethod, asker: Asker, deps: Deps) -> Message:
    return render_project_payment_method(await deps.billing.project_payment_method(command.project))
