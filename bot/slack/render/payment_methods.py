"""`/billing payment-methods` and `/billing payment-method <project>`."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, SectionBlock

from bot.apis.mkio.models import PaymentMethod
from bot.core.answers import PaymentMethodsAnswer, ProjectPaymentMethodAnswer
from bot.slack.render.common import (
    Message,
    code,
    context,
    escape,
    facts,
    finish,
    header,
    lines,
    md,
    section,
)

MAX_PROJECTS_LISTED = 10


def _status(method: PaymentMethod) -> str:
    active = {True: "active", False: "*inactive*", None: "status unknown"}[method.status.is_active]
    terms = method.status.terms_and_conditions_accepted
    if terms is None:
        return active
    return f"{active}, terms {'accepted' if terms else '*not accepted*'}"


def _id(method: PaymentMethod) -> str:
    return code(method.id) if method.id else "(no ID given)"


def _projects(names: list[str]) -> str:
    if not names:
        return "no projects"
    shown = ", ".join(code(n) for n in names[:MAX_PROJECTS_LISTED])
    more = len(names) - MAX_PROJECTS_LISTED
    return f"{shown} and {more} more" if more > 0 else shown


def _line(m: PaymentMethod) -> str:
    kind = f" ({escape(m.spec.type)})" if m.spec.type else ""
    used = _projects(m.related.projects)
    return f"• *{escape(m.name)}*{kind} {_id(m)} — {_status(m)} — projects: {used}"


def render_payment_methods(a: PaymentMethodsAnswer) -> Message:
    methods: list[PaymentMethod] = [*a.methods, *a.unidentified]
    count = len(methods)
    blocks: list[Block] = [header("Payment methods")]
    if methods:
        blocks += lines([_line(m) for m in methods], noun="payment methods")
        blocks.append(context("Prices of a method: `/billing ratecard <payment-method-id>`"))
    else:
        blocks.append(section("This organization has no payment methods."))
    blocks.append(facts(a.fetched_at))
    names = ", ".join(m.name for m in methods)
    text = f"{count} payment method{'s' if count != 1 else ''}" + (f": {names}" if names else "")
    return finish(escape(text), blocks)


def render_project_payment_method(a: ProjectPaymentMethodAnswer) -> Message:
    m = a.method
    spec = m.spec
    fields = [
        f"*Name*\n{escape(m.name)}",
        f"*Type*\n{escape(spec.type or 'unknown')}",
        f"*ID*\n{_id(m)}",
        f"*Status*\n{_status(m)}",
    ]
    if spec.product_publication_name:
        fields.append(f"*Publication*\n{escape(spec.product_publication_name)}")
    if spec.start_date or spec.end_date:
        start = spec.start_date.isoformat() if spec.start_date else "…"
        end = spec.end_date.isoformat() if spec.end_date else "no end date"
        fields.append(f"*Valid*\n{start} → {end}")
    others = [p for p in m.related.projects if p != a.project]
    fields.append(f"*Also used by*\n{_projects(others) if others else 'no other project'}")
    blocks: list[Block] = [
        header(f"Payment method — {a.project}"),
        SectionBlock(fields=[md(f) for f in fields]),
        facts(a.fetched_at),
    ]
    kind = f"{spec.type}, " if spec.type else ""
    text = f"Project {a.project} uses payment method {m.name} ({kind}{m.id or 'no ID given'})"
    return finish(escape(text), blocks)
