"""Billing changes (payment-method switch, metrics export): the refusal for non-admins, the
previews with Confirm and Cancel, the final state that replaces a confirmation, the metrics
connection details (admin only, ephemeral) and the audit record.

Secrets: only `render_metrics_credentials` ever shows the metrics password, and only in its
blocks; `PendingChange` holds no secret, so nothing built from it (audit, outcomes) can leak one.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    PlainTextObject,
    SectionBlock,
)

from bot.apis.mkio.models import MetricsEndpoint, PaymentMethod
from bot.clock import as_utc
from bot.core.changes.audit import audit_line as audit_line  # re-exported: the handlers log it
from bot.core.changes.model import (
    ChangeKind,
    ChangeStatus,
    MeterPrices,
    MethodRef,
    MetricsPreview,
    MetricsPricing,
    Outcome,
    PaymentMethodPreview,
    PendingChange,
    PriceComparison,
)
from bot.money import currency_label, format_money, format_price, format_quantity
from bot.slack.ids import ActionId, BlockId
from bot.slack.render.common import (
    Align,
    Column,
    Message,
    code,
    context,
    escape,
    facts,
    finish,
    header,
    inert,
    local_time,
    section,
    table,
    truncate,
)
from bot.slack.render.metrics import secret_fields

PRICE_COLUMNS = (
    Column("Meter"),
    Column("Quantity", Align.RIGHT),
    Column("Unit", max_width=20),
    Column("Price now", Align.RIGHT),
    Column("Price new", Align.RIGHT),
    Column("Cost now", Align.RIGHT),
    Column("Cost new", Align.RIGHT),
)
NO_PRICE = "no price"
MAX_NAMES = 1000  # characters of meter names listed in a note
MAX_CONFIRM_NAME = 80  # a name inside the 300-character confirm dialog
_MENTIONABLE = re.compile(r"[A-Za-z0-9_.-]+")


# -- small pieces ---------------------------------------------------------------------------


def _hm(at: datetime) -> str:
    """20:41 UTC, in each reader's own zone (`local_time`)."""
    return local_time(at)


def _hm_utc(at: datetime) -> str:
    """ "20:41 UTC", for text that is escaped whole."""
    return f"{as_utc(at):%H:%M} UTC"


def _stamp(at: datetime) -> str:
    """2026-11-21 20:41 UTC, in each reader's own zone (`local_time`)."""
    return local_time(at)


def _mention(user: str) -> str:
    """A Slack mention of a user ID; anything that is not an ID is shown inert as code."""
    return f"<@{user}>" if _MENTIONABLE.fullmatch(user) else code(user)


def _one_line(text: str) -> str:
    """`text` with every control or separator character (line breaks, tabs) made a space."""
    return "".join(
        " " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in text
    ).strip()


def _plain(text: str, limit: int) -> PlainTextObject:
    """Plain text for a confirm dialog: one line, angle brackets as look-alikes (as `header`
    does), within `limit`."""
    inert_text = _one_line(text).replace("<", "‹").replace(">", "›")
    return PlainTextObject(text=truncate(inert_text, limit), emoji=False)


def _method(m: MethodRef | PaymentMethod | None, *, with_id: bool = True) -> str:
    """ "*Acme Azure* (azure) `3fa8…`", or "none assigned" (mrkdwn, escaped)."""
    if m is None:
        return "none assigned"
    kind = m.type if isinstance(m, MethodRef) else m.spec.type
    text = f"*{escape(m.name)}*" + (f" ({escape(kind)})" if kind else "")
    return f"{text} {code(m.id)}" if with_id and m.id else text


def _method_plain(m: MethodRef | PaymentMethod | None) -> str:
    """ "Acme Azure (azure)" or "none", unformatted (not escaped)."""
    if m is None:
        return "none"
    kind = m.type if isinstance(m, MethodRef) else m.spec.type
    return f"{m.name} ({kind})" if kind else m.name


def _names(meters: list[str]) -> str:
    return escape(truncate(", ".join(meters), MAX_NAMES))


def _signed_money(amount: Decimal, currency: str) -> str:
    text = format_money(amount, currency)
    return text if text.startswith("-") or text.startswith("0.00 ") else f"+{text}"


def _percent(change: Decimal, base: Decimal) -> str:
    """ "+12.5%": `change` as a share of `base` (non-zero), one decimal, half up."""
    value = (change / base * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if value.is_zero():
        return "0.0%"
    return f"{value:+f}%"


def _expiry(change: PendingChange, now: datetime) -> str:
    left = (change.expires_at - now).total_seconds()
    if left <= 0:
        return f"This request expired at {_hm(change.expires_at)}."
    minutes = math.ceil(left / 60)
    unit = "minute" if minutes == 1 else "minutes"
    return (
        f":hourglass_flowing_sand: Confirm by {_hm(change.expires_at)} — "
        f"this request expires in {minutes} {unit}"
    )


def _decision(change: PendingChange, *, confirm: ButtonElement) -> ActionsBlock:
    cancel = ButtonElement(text="Cancel", action_id=ActionId.CHANGE_CANCEL.value, value=change.id)
    return ActionsBlock(block_id=BlockId.CHANGE_DECISION.value, elements=[confirm, cancel])


def _retry_command(change: PendingChange) -> str:
    if change.kind is ChangeKind.METRICS:
        return f"/billing metrics {change.project} enable"
    method = change.after_method.id if change.after_method else "<payment-method-id>"
    return f"/billing payment-method {change.project} set {method}"


def _check_command(change: PendingChange) -> str:
    word = "metrics" if change.kind is ChangeKind.METRICS else "payment-method"
    return f"/billing {word} {change.project}"


def _before_after(change: PendingChange) -> str:
    """ "*Old* (azure) `id` → *New* (direct) `id`", or "export off → on" (mrkdwn)."""
    if change.kind is ChangeKind.METRICS:
        return "metrics export *off* → *on*"
    return f"{_method(change.before_method)} → {_method(change.after_method)}"


def _before_after_plain(change: PendingChange) -> str:
    """The same, for a fallback text: unformatted, escaped."""
    if change.kind is ChangeKind.METRICS:
        return "metrics export off → on"
    before, after = _method_plain(change.before_method), _method_plain(change.after_method)
    return escape(f"{before} → {after}")


def _what(change: PendingChange) -> str:
    if change.kind is ChangeKind.METRICS:
        return "metrics export enable"
    return "payment method switch"


# -- 1. not an admin ------------------------------------------------------------------------


def render_not_admin(admins: frozenset[str]) -> Message:
    """The polite refusal for anyone else asking for a change: who can do it."""
    if admins:
        who = ", ".join(_mention(a) for a in sorted(admins))
        said = f"Only billing admins can change billing settings: {who}."
    else:
        said = "No billing admins are configured: an operator sets `BILLING_ADMINS`."
    blocks: list[Block] = [
        section(f":no_entry: {said}"),
        context("Nothing was changed. Reading billing data is open to everyone: `/billing help`"),
    ]
    return finish(said, blocks)


# -- 2. payment-method preview --------------------------------------------------------------


def _price_rows(prices: PriceComparison) -> list[list[str]]:
    now, new = prices.current_currency, prices.new_currency

    def price(value: Decimal | None, currency: str) -> str:
        return NO_PRICE if value is None else format_price(value, currency)

    def cost(value: Decimal | None, currency: str) -> str:
        return NO_PRICE if value is None else format_money(value, currency)

    repeated = {
        m.meter for m in prices.meters if sum(n.meter == m.meter for n in prices.meters) > 1
    }

    def name(m: MeterPrices) -> str:
        """A meter priced on several lines (SD and HD encoding) says which line it is."""
        if m.meter not in repeated:
            return m.meter
        return f"{m.meter} ({m.label or m.sku or 'no SKU'})"

    return [
        [
            name(m),
            format_quantity(m.quantity),
            m.unit or "",
            price(m.current_price, now),
            price(m.new_price, new),
            cost(m.current_cost, now),
            cost(m.new_cost, new),
        ]
        for m in prices.meters
    ]


def _totals(p: PaymentMethodPreview) -> tuple[str, str]:
    """The totals priced both ways, the difference and what was billed: (mrkdwn, a short
    unformatted summary)."""
    prices = p.prices
    now_total = format_money(prices.current_total, prices.current_currency)
    new_total = format_money(prices.new_total, prices.new_currency)
    if p.current is None:
        out = ["*Priced with the current card:* no current payment method"]
        summary = f"{new_total} with the new card"
    else:
        out = [f"*Priced with the current card:* {now_total}"]
        summary = f"{now_total} now, {new_total} with the new card"
    out.append(f"*Priced with the new card:* {new_total}")
    if p.current is not None and prices.current_currency != prices.new_currency:
        out.append(
            "*Difference:* not comparable: the cards are in "
            f"{currency_label(prices.current_currency)} and {currency_label(prices.new_currency)}"
        )
    elif p.current is not None and prices.comparable[2] == 0:
        out.append("*Difference:* not comparable: no meter is priced on both cards")
    elif p.current is not None:
        cost_now, cost_new, priced_on_both = prices.comparable
        every_meter = priced_on_both == len(prices.meters)
        delta = cost_new - cost_now
        diff = _signed_money(delta, prices.new_currency)
        if not cost_now.is_zero():
            diff += f" ({_percent(delta, cost_now)})"
        scope = "" if every_meter else ", on the meters priced on both cards"
        out.append(f"*Difference (new − current{scope}):* {diff}")
        summary += f", difference {diff}"
    billed = prices.billed_so_far.text(empty_currency=prices.current_currency)
    out.append(f"*Billed so far this month:* {billed} (from the usage report: authoritative)")
    if len(prices.billed_so_far) > 1:
        out.append("(billed in several currencies: each is shown, none is added to another)")
    return "\n".join(out), summary


def _unpriced_notes(p: PaymentMethodPreview) -> list[str]:
    notes = []
    if p.current is not None and p.prices.unpriced_current:
        notes.append(
            f"No price on the current card for: {_names(p.prices.unpriced_current)} "
            "(not counted in its total)."
        )
    if p.prices.unpriced_new:
        notes.append(
            f"No price on the new card for: {_names(p.prices.unpriced_new)} "
            "(not counted in its total)."
        )
    return notes


def render_payment_method_preview(p: PaymentMethodPreview, *, now: datetime) -> Message:
    """Ephemeral to the admin who asked: what the switch changes, in words and in money, the
    warnings, and Confirm (primary, with a confirm dialog) / Cancel."""
    change = p.change
    project = code(change.project)
    blocks: list[Block] = [
        header(f"Switch the payment method of {change.project}?"),
        section(
            f"*Project:* {project}\n"
            f"*Current method:* {_method(p.current)}\n"
            f"*New method:* {_method(p.new)}"
        ),
        section(
            ":warning: *Before you confirm*\n"
            "• A payment method can only be *replaced, never removed*: once this is done, "
            f"{project} always has one.\n"
            f"• Assigning a payment method *activates the project* {project}: "
            "its usage is billed to the new method."
        ),
    ]
    title = "*This month's usage priced with each card*"
    if p.prices.meters:
        blocks += table(PRICE_COLUMNS, _price_rows(p.prices), title=title, noun="meters")
    else:
        blocks.append(section(f"{title}\nNo usage this month for {project}: nothing to price."))
    totals, summary = _totals(p)
    blocks.append(section(totals))
    notes = _unpriced_notes(p)
    notes.append("Costs are this month's usage at each card's list price, rounded to cents.")
    blocks.append(context(*notes))
    blocks.append(context(_expiry(change, now)))
    blocks.append(facts(now, (p.prices.start, p.prices.end)))
    confirm = _confirm_button(
        change,
        label="Confirm switch",
        title="Switch payment method?",
        question=f"Switch {truncate(change.project, MAX_CONFIRM_NAME)} to "
        f"{truncate(_method_plain(p.new), MAX_CONFIRM_NAME)}? "
        "This cannot be undone: a payment method can only be replaced, never removed.",
        yes="Switch",
        no="Keep current",
    )
    blocks.append(_decision(change, confirm=confirm))
    text = (
        f"Switch the payment method of {escape(change.project)} from "
        f"{escape(_method_plain(p.current))} to {escape(_method_plain(p.new))}? "
        f"This month: {summary}. Confirm by {_hm(change.expires_at)}."
    )
    return finish(text, blocks)


def _confirm_button(
    change: PendingChange, *, label: str, title: str, question: str, yes: str, no: str
) -> ButtonElement:
    """The primary Confirm button, behind Slack's own "are you sure?" dialog."""
    dialog = ConfirmObject(
        title=_plain(title, 100),
        text=_plain(question, 300),
        confirm=_plain(yes, 30),
        deny=_plain(no, 30),
    )
    return ButtonElement(
        text=label,
        action_id=ActionId.CHANGE_CONFIRM.value,
        value=change.id,
        style="primary",
        confirm=dialog,
    )


# -- 3. metrics preview ---------------------------------------------------------------------


def render_metrics_preview(p: MetricsPreview, *, now: datetime) -> Message:
    """Ephemeral to the admin who asked: enabling metrics export is billable; Confirm/Cancel."""
    change = p.change
    project = code(change.project)
    blocks: list[Block] = [
        header(f"Enable metrics export for {change.project}?"),
        section(f"*Project:* {project}\n*Metrics export:* *off* → *on*"),
        section(
            ":warning: *Before you confirm*\n"
            f"• Metrics export is *billable*: once on, {project} is charged for it"
            f"{_metrics_price(p.pricing)}.\n"
            "• The connection details (URL, username, password) will be shown *only to you, "
            "privately*, right after: never in a channel."
        ),
        context(_expiry(change, now)),
        facts(now),
    ]
    confirm = _confirm_button(
        change,
        label="Enable export",
        title="Enable metrics export?",
        question=f"Turn on metrics export for {truncate(change.project, MAX_CONFIRM_NAME)}? "
        "Metrics export is billable. The connection details will be shown only to you.",
        yes="Enable",
        no="Keep off",
    )
    blocks.append(_decision(change, confirm=confirm))
    text = (
        f"Enable metrics export for {change.project}? It is billable. "
        f"Confirm by {_hm_utc(change.expires_at)}."
    )
    return finish(escape(text), blocks)


def _metrics_price(pricing: MetricsPricing | None) -> str:
    """ " at 0.05 USD per hour (`metrics_export`) on the rate card of *Acme*", or as that card
    bills it when it names no metrics meter; nothing when no card could be read."""
    if pricing is None:
        return ""
    card = f"the rate card of *{escape(pricing.method)}*"
    if not pricing.prices:
        return f", as {card} bills it (it names no metrics meter)"
    said = ", ".join(
        f"{format_price(price.price, pricing.currency)}"
        f"{f' per {escape(price.unit)}' if price.unit else ''} ({code(price.name)})"
        for price in pricing.prices
    )
    return f" at {said} on {card}"


# -- 4. outcome -----------------------------------------------------------------------------
# Each helper returns (mrkdwn for the blocks, fallback text); both escape API and user strings
# and may mention Slack users.


def _by(change: PendingChange) -> str:
    return _mention(change.decided_by) if change.decided_by else "someone"


def _decided_context(change: PendingChange, now: datetime) -> Block:
    at = change.decided_at or now
    by = f" by {_mention(change.decided_by)}" if change.decided_by else ""
    return context(f"Decided{by} at {_stamp(at)}", f"Request {code(change.id)}")


def _already(change: PendingChange) -> tuple[str, str]:
    """A later click on a decided change: what became of it. Never suggests a repeat."""
    at = f" at {_stamp(change.decided_at)}" if change.decided_at else ""
    error = inert(change.error or "no reason given")
    match change.status:
        case ChangeStatus.DONE:
            said = f"Already done by {_by(change)}{at}"
            return (
                f":white_check_mark: {said}: {_before_after(change)}.",
                f"{said}: {_before_after_plain(change)}.",
            )
        case ChangeStatus.CANCELLED:
            said = f"Already cancelled by {_by(change)}{at}: nothing was changed."
            return f":no_entry_sign: {said}", said
        case ChangeStatus.FAILED:
            said = f"Already failed (confirmed by {_by(change)}{at}): {error}"
            ref_md = f"; reference {code(change.ref)}" if change.ref else ""
            ref = f"; reference {escape(change.ref)}" if change.ref else ""
            return f":x: {said}{ref_md}.", f"{said}{ref}."
        case ChangeStatus.STALE:
            said = (
                f"Already stopped (confirmed by {_by(change)}{at}): {error}; nothing was changed."
            )
            return f":warning: {said}", said
        case _:
            said = f"Already confirmed by {_by(change)}{at}: the change is being made."
            return f":hourglass: {said}", said


def _refusal(refused: str, change: PendingChange, now: datetime) -> Message:
    if refused == "not-yours":
        said = f"Only {_mention(change.requested_by)} who asked can confirm or cancel this change."
        return finish(said, [section(f":no_entry: {said}")])
    if refused == "expired":
        said = f"This confirmation expired at {_hm(change.expires_at)}; nothing was changed."
        retry = _retry_command(change)
        blocks: list[Block] = [
            section(f":hourglass: {said} Ask again: {code(retry)}"),
            context(_at_text(now)),
        ]
        return finish(f"{said} Ask again: {escape(retry)}", blocks)
    said, fallback = _already(change)
    return finish(fallback, [section(said), _decided_context(change, now)])


def _at_text(now: datetime) -> str:
    return f"At {_stamp(now)}"


def _recovered(change: PendingChange) -> tuple[str, str]:
    """A change cut off after its confirmation, whose outcome was just read back from MK.IO."""
    at = _stamp(change.decided_at or change.requested_at)
    if change.status is not ChangeStatus.DONE:
        said = (
            f"This change was confirmed at {at} but never made "
            f"({inert(change.error or 'no reason given')}): nothing was changed."
        )
        retry = _retry_command(change)
        return f":warning: {said} Ask again: {code(retry)}", f"{said} Ask again: {escape(retry)}"
    if change.kind is ChangeKind.METRICS:
        done = (
            f"metrics export is on for {code(change.project)}; "
            "the connection details were sent to you privately"
        )
        plain = f"metrics export is on for {escape(change.project)}"
    else:
        done = (
            f"{code(change.project)} now uses {_method(change.after_method, with_id=False)}, "
            f"was {_method(change.before_method, with_id=False)}"
        )
        plain = escape(
            f"{change.project} now uses {_method_plain(change.after_method)}, "
            f"was {_method_plain(change.before_method)}"
        )
    said = f"This change was made at {at}"
    return f":white_check_mark: {said}: {done}.", f"{said}: {plain}."


def _final(change: PendingChange) -> tuple[str, str]:
    """The final state of a change this click decided."""
    if change.recovered_at is not None:
        return _recovered(change)
    project = code(change.project)
    error = inert(change.error or "no reason given")
    match change.status:
        case ChangeStatus.DONE if change.kind is ChangeKind.METRICS:
            return (
                f":white_check_mark: Metrics export is now on for {project}; "
                "the connection details were sent to you privately.",
                f"Metrics export is now on for {escape(change.project)}.",
            )
        case ChangeStatus.DONE:
            after = _method(change.after_method, with_id=False)
            before = (
                _method(change.before_method, with_id=False) if change.before_method else "none"
            )
            plain = escape(
                f"Done: {change.project} now uses {_method_plain(change.after_method)}, "
                f"was {_method_plain(change.before_method)}."
            )
            return f":white_check_mark: Done: {project} now uses {after}, was {before}.", plain
        case ChangeStatus.FAILED:
            check = _check_command(change)
            ref_md = f"; reference {code(change.ref)}" if change.ref else ""
            ref = f"; reference {escape(change.ref)}" if change.ref else ""
            return (
                f":x: The change failed: {error}{ref_md}.\n"
                f"It may not have been made: check {code(check)}.",
                f"The change failed: {error}{ref}. Check {escape(check)}.",
            )
        case ChangeStatus.STALE:
            said = f"Not changed: {error}. Review and ask again."
            return f":warning: {said}", said
        case ChangeStatus.CANCELLED:
            said = f"Cancelled by {_by(change)}: nothing was changed."
            return f":no_entry_sign: {said}", said
        case _:
            what = _what(change).capitalize()
            return (
                f":hourglass: {what} for {project}: in progress.",
                f"{what} for {escape(change.project)}: in progress.",
            )


def _outcome_header(change: PendingChange) -> str:
    what = "Payment method" if change.kind is ChangeKind.PAYMENT_METHOD else "Metrics export"
    state = {
        ChangeStatus.DONE: "changed",
        ChangeStatus.FAILED: "not changed" if change.recovered_at else "change failed",
        ChangeStatus.STALE: "not changed",
        ChangeStatus.CANCELLED: "change cancelled",
    }.get(change.status, "change in progress")
    return f"{what} {state} — {change.project}"


def render_outcome(o: Outcome, *, now: datetime) -> Message:
    """What a click did. The clicker's own decision replaces the confirmation (no buttons);
    a refusal ("unknown", "not-yours", "expired", "decided") answers the clicker only."""
    change = o.change
    if change is None:
        said = (
            "This confirmation is not valid: it may have been tampered with or forgotten. "
            "Ask again."
        )
        return finish(said, [section(f":no_entry: {said}"), context(_at_text(now))])
    if o.refused is not None:
        return _refusal(o.refused, change, now)
    said, fallback = _final(change)
    blocks: list[Block] = [header(_outcome_header(change)), section(said)]
    if change.kind is ChangeKind.PAYMENT_METHOD and change.status is not ChangeStatus.DONE:
        blocks.append(context(f"Requested: {_before_after(change)}"))
    blocks.append(_decided_context(change, now))
    return finish(fallback, blocks)


# -- 5. metrics connection details ----------------------------------------------------------


def render_metrics_credentials(project: str, endpoint: MetricsEndpoint) -> Message:
    """For the admin who enabled export, ephemerally. The password is in the blocks only:
    the fallback `text` reaches notifications and must carry no connection detail."""
    status = endpoint.status
    blocks: list[Block] = [header(f"Metrics export — {project}")]
    if status is None:
        blocks.append(
            section(
                f"Metrics export is on for {code(project)}, but the API returned no connection "
                f"details. Ask again in a minute: {code(f'/billing metrics {project}')}"
            )
        )
        text = f"Metrics export is on for {project}; the API returned no connection details."
    else:
        blocks.append(section(f"Connection details for the metrics export of {code(project)}:"))
        blocks.append(SectionBlock(fields=secret_fields(status)))
        blocks.append(
            context(":lock: Only you can see this; store the password in your secrets manager.")
        )
        text = f"Metrics export connection details for {project} (only you can see them)."
    return finish(escape(text), blocks)


# -- 6. audit -------------------------------------------------------------------------------


def render_audit(change: PendingChange) -> Message:
    """The record posted to `AUDIT_CHANNEL`: who, what, project, before → after, when, result,
    request ref. Never a secret: `PendingChange` holds none."""
    who = change.decided_by or change.requested_by
    lines = [
        f"*Who:* {_mention(who)}",
        f"*What:* {_what(change)}",
        f"*Project:* {code(change.project)}",
        f"*Before → after:* {_before_after(change)}",
        f"*Result:* {change.status.value}",
        f"*Requested:* {_stamp(change.requested_at)} by {_mention(change.requested_by)}",
    ]
    if change.decided_at is not None:
        lines.append(f"*Decided:* {_stamp(change.decided_at)}")
    if change.recovered_at is not None:
        lines.append(
            f"*Recorded:* {_stamp(change.recovered_at)}, read back from MK.IO: "
            "the change was cut off before its outcome was recorded"
        )
    if change.error and change.status in (ChangeStatus.FAILED, ChangeStatus.STALE):
        lines.append(f"*Error:* {inert(change.error)}")
    refs = [f"Request {code(change.id)}"]
    if change.ref:
        refs.append(f"API reference {code(change.ref)}")
    blocks: list[Block] = [
        section(":ledger: *Billing change*\n" + "\n".join(lines)),
        context(*refs),
    ]
    text = (
        f"Billing change by {_mention(who)}: {_what(change)} for {escape(change.project)}, "
        f"{_before_after_plain(change)}: {change.status.value}"
    )
    return finish(text, blocks)
