from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.apis.mkio.models import IdentifiedPaymentMethod
from bot.core.answers import PaymentMethodsAnswer, ProjectPaymentMethodAnswer
from bot.slack.render.payment_methods import render_payment_methods, render_project_payment_method
from tests.unit.test_render_common import dump, texts, visible

AT = datetime(2026, 11, 21, 20, 15, 3, tzinfo=UTC)
AZURE_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
DIRECT_ID = "0b5e7f3c-1c1d-4e7a-9a43-5f1d0d6b2a11"


def _method(id_: str, name: str | None, **over: Any) -> IdentifiedPaymentMethod:
    data: dict[str, Any] = {
        "metadata": {"id": id_, "displayName": name, "organizationId": "org-1"},
        "spec": {"type": "azure", "productPublicationName": "mkio-payg", "startDate": "2026-01-01"},
        "status": {"isActive": True, "termsAndConditionsAccepted": True},
        "related": {"projects": ["acme-prod", "acme-dev"]},
    }
    data.update(over)
    return IdentifiedPaymentMethod.model_validate(data)


def test_list_shows_name_type_id_status_and_projects() -> None:
    methods = [
        _method(AZURE_ID, "Acme Azure"),
        _method(
            DIRECT_ID,
            None,
            spec={"type": "direct"},
            status={"isActive": False, "termsAndConditionsAccepted": False},
            related={"projects": []},
        ),
    ]
    message = render_payment_methods(PaymentMethodsAnswer(methods, AT))
    lines = visible(message).split("\n")
    azure = next(ln for ln in lines if "Acme Azure" in ln)
    assert azure == (
        f"• *Acme Azure* (azure) `{AZURE_ID}` — active, terms accepted"
        " — projects: `acme-prod`, `acme-dev`"
    )
    direct = next(ln for ln in lines if DIRECT_ID in ln)
    assert direct == (
        f"• *{DIRECT_ID}* (direct) `{DIRECT_ID}` — *inactive*, terms *not accepted*"
        " — projects: no projects"
    )
    assert "As of now" not in lines
    assert "Fetched 2026-11-21 20:15:03 UTC" in lines
    assert message.text == f"2 payment methods: Acme Azure, {DIRECT_ID}"


def test_many_methods_stay_compact() -> None:
    methods = [_method(f"00000000-0000-0000-0000-{i:012d}", f"Method {i}") for i in range(60)]
    payload = render_payment_methods(PaymentMethodsAnswer(methods, AT)).to_slack()
    assert len(payload["blocks"]) <= 6  # one line per method, packed into few sections
    shown = "\n".join(texts(render_payment_methods(PaymentMethodsAnswer(methods, AT))))
    assert all(f"*Method {i}*" in shown for i in range(60))


def test_long_project_lists_are_cut() -> None:
    projects = [f"p{i}" for i in range(25)]
    method = _method(AZURE_ID, "Big", related={"projects": projects})
    shown = visible(render_payment_methods(PaymentMethodsAnswer([method], AT)))
    assert "`p9` and 15 more" in shown
    assert "`p10`" not in shown


def test_no_methods() -> None:
    message = render_payment_methods(PaymentMethodsAnswer([], AT))
    assert "This organization has no payment methods." in visible(message)
    assert message.text == "0 payment methods"


def test_project_payment_method() -> None:
    method = _method(AZURE_ID, "Acme Azure")
    message = render_project_payment_method(ProjectPaymentMethodAnswer("acme-prod", method, AT))
    shown = texts(message)
    assert shown[0] == "Payment method — acme-prod"
    assert "*Name*\nAcme Azure" in shown
    assert f"*ID*\n`{AZURE_ID}`" in shown
    assert "*Status*\nactive, terms accepted" in shown
    assert "*Valid*\n2026-01-01 → no end date" in shown
    assert "*Also used by*\n`acme-dev`" in shown  # the project itself is not listed again
    assert message.text == f"Project acme-prod uses payment method Acme Azure (azure, {AZURE_ID})"


def test_api_names_are_escaped() -> None:
    method = _method(AZURE_ID, "<!channel> pay", related={"projects": ["<@U1>"]})
    out = dump(render_payment_methods(PaymentMethodsAnswer([method], AT)))
    assert "<!channel>" not in out
    assert "<@U1>" not in out
    assert "&lt;!channel&gt; pay" in out
