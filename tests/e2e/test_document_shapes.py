"""Answers MK.IO's OpenAPI document allows but the sandbox never sends, served through it.

A payment method's `metadata` (its ID and display name) is optional in the document: every
command that reads payment methods must still answer, naming such a method as best it can.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e.stack import ADMIN, Stack, close_stack, make_stack, seen

LIST = "/organization/paymentMethods"
ANONYMOUS_TYPE = "invoice"


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    s = await make_stack(billing_admins=frozenset({ADMIN}))
    try:
        yield s
    finally:
        await close_stack(s)


def without_metadata(method: dict[str, Any], type: str = ANONYMOUS_TYPE) -> dict[str, Any]:
    bare = {k: v for k, v in method.items() if k != "metadata"}
    return bare | {"spec": method["spec"] | {"type": type}}


def serve_once(stack: Stack, path: str, body: object) -> None:
    """The next GET whose path starts with `path` answers `body` (200, JSON)."""
    stack.sandbox.add_fault(method="GET", path=path, status=200, body=json.dumps(body).encode())


def list_with_a_method_without_metadata(stack: Stack) -> None:
    methods = stack.sandbox.payment_methods()
    items = [*methods, without_metadata(methods[0])]
    supplemental = {
        "count": len(items),
        "kind": "PaymentMethod",
        "operation": "list",
        "pagination": {"start": 0, "end": len(items), "records": len(items), "total": len(items)},
    }
    serve_once(stack, LIST, {"value": items, "supplemental": supplemental})


def method_id(stack: Stack, word: str) -> str:
    return next(i for name, i in stack.sandbox.payment_method_ids().items() if word in name)


async def test_payment_methods_lists_a_method_without_metadata(stack: Stack) -> None:
    list_with_a_method_without_metadata(stack)
    _, reply = await stack.ask("payment-methods")
    text = seen(reply)
    assert "could not read" not in text
    for name in stack.sandbox.payment_method_ids():
        assert name in text
    assert f"({ANONYMOUS_TYPE})" in text, "the method without metadata is listed too"


async def test_ratecard_by_id_still_works_when_another_method_has_no_metadata(
    stack: Stack,
) -> None:
    list_with_a_method_without_metadata(stack)
    _, reply = await stack.ask(f"ratecard {method_id(stack, 'AWS')}")
    text = seen(reply)
    assert "could not read" not in text
    assert "Rate card" in text
    assert "AWS Marketplace" in text


async def test_payment_method_of_a_project_whose_method_has_no_metadata(stack: Stack) -> None:
    current = stack.sandbox.project_payment_method("my-project")
    assert current is not None
    serve_once(stack, "/projects/my-project/paymentMethod", without_metadata(current))
    _, reply = await stack.ask("payment-method my-project")
    text = seen(reply)
    assert "could not read" not in text
    assert "Payment method — my-project" in text
    assert ANONYMOUS_TYPE in text


async def test_change_preview_when_another_method_in_the_list_has_no_metadata(
    stack: Stack,
) -> None:
    list_with_a_method_without_metadata(stack)
    _, preview = await stack.ask(
        f"payment-method my-project set {method_id(stack, 'AWS')}", user_id=ADMIN
    )
    text = seen(preview)
    assert "could not read" not in text
    assert "AWS Marketplace" in text
    assert "billing_change_confirm" in str(preview.body)


async def test_change_preview_when_the_current_method_has_no_metadata(stack: Stack) -> None:
    current = stack.sandbox.project_payment_method("my-project")
    assert current is not None
    serve_once(stack, "/projects/my-project/paymentMethod", without_metadata(current))
    _, preview = await stack.ask(
        f"payment-method my-project set {method_id(stack, 'AWS')}", user_id=ADMIN
    )
    text = seen(preview)
    assert "could not read" not in text
    assert "AWS Marketplace" in text
    assert ANONYMOUS_TYPE in text, "the current method is shown by what is known of it"

    serve_once(stack, "/projects/my-project/paymentMethod", without_metadata(current))
    sent = await stack.sender.click(preview.body, "billing_change_confirm", user_id=ADMIN)
    assert sent.status == 200
    done = seen(await stack.final_response(sent.response_url))
    assert "Done" in done, done
    assert [r.json for r in stack.sandbox.requests if r.path.endswith("/paymentMethod")][-1:] == [
        {"paymentMethodId": method_id(stack, "AWS")}
    ]
