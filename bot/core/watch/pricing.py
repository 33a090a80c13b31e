"""What an MK.IO anomaly's change in units costs on the project's rate card.

The unit price comes from the rate card of the payment method assigned to the project
(`GET /projects/<p>/paymentMethod`, then that method's rate card; both cached answers of
`BillingService`, so a check with several anomalies asks each once), matched by meter name,
then SKU, as `reconcile` matches. When the card cannot price it (no method assigned, the card
unreadable, the meter not on it, another currency or unit), the report's unit price stays,
and the anomaly says why: `Anomaly.price_from` says which was used.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from bot.core.billing import BillingService
from bot.core.watch.anomalies import Source
from bot.core.watch.check import PriceAnomaly
from bot.core.watch.lifecycle import Anomaly, PriceFrom
from bot.errors import BillingBotError, NotFound

__all__ = ["rate_card_pricer"]

log = logging.getLogger(__name__)


def rate_card_pricer(billing: BillingService) -> PriceAnomaly:
    async def price(anomaly: Anomaly) -> Anomaly:
        if anomaly.source is not Source.MKIO or anomaly.quantity_change is None:
            return anomaly
        found = await _card_price(billing, anomaly)
        if isinstance(found, str):
            fallback = PriceFrom.REPORT if anomaly.unit_price is not None else None
            return anomaly.model_copy(update={"price_from": fallback, "price_note": found})
        unit_price, method = found
        return anomaly.model_copy(
            update={
                "unit_price": unit_price,
                "price_from": PriceFrom.RATE_CARD,
                "rate_card": method,
            }
        )

    return price


async def _card_price(billing: BillingService, anomaly: Anomaly) -> tuple[Decimal, str] | str:
    """The card's unit price and the method's name, or why there is none."""
    try:
        method = (await billing.project_payment_method(anomaly.project)).method
        if method.id is None:
            return "MK.IO did not say which payment method the project has"
        card = (await billing.rate_card(method.id)).card
    except NotFound:
        return "the project has no payment method assigned"
    except BillingBotError as error:
        log.info("anomaly %s: no rate card (%s)", anomaly.id, type(error).__name__)
        return "its rate card could not be read"
    name = method.name
    price = card.price_for(anomaly.name, anomaly.sku or None)
    if price is None:
        return f"the meter is not on the rate card of {name}"
    if card.spec.currency != anomaly.currency:
        return f"the rate card of {name} is in {card.spec.currency}"
    if not price.per(anomaly.unit):
        return f"the rate card of {name} prices it per {price.unit}"
    return price.price, name
