"""Rotating the Contro key: with CONTRO_API_KEY_NEXT set, a request Contro refuses with the
old key (401) is answered with the next one, and the bot keeps to the next one from then on;
neither key reaches a user or the log."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from bot.devtools.sandbox import RecordedRequest
from tests.e2e.stack import close_stack, make_stack, seen

OLD, NEXT = "sk_test_old_key_1234", "sk_test_next_key_5678"


def keys_sent(requests: list[RecordedRequest]) -> list[str]:
    return [r.headers["x-contro-api-key"] for r in requests]


async def test_a_refused_key_falls_back_to_the_next_one_and_stays_there(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stack = await make_stack(
        contro_api_key=SecretStr(OLD), contro_api_key_next=SecretStr(NEXT), cache_ttl_seconds=0
    )
    stack.sandbox.revoked_contro_keys = {OLD}
    try:
        with caplog.at_level(logging.WARNING):
            _, first = await stack.ask("contro summary 2026-10")
            _, second = await stack.ask("contro summary 2026-09")

        for reply, period in ((first, "2026-10"), (second, "2026-09")):
            kind = stack.sandbox.contro_summary(period)["items"][0]["type"]
            assert kind in seen(reply)
            assert "refused" not in seen(reply)
        assert keys_sent(stack.billing_requests("/v1/partner/")) == [OLD, NEXT, NEXT]
        [warning] = [r for r in caplog.records if "accepted CONTRO_API_KEY_NEXT" in r.getMessage()]
        assert "set CONTRO_API_KEY to the new key" in warning.getMessage()
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert OLD not in logged
        assert NEXT not in logged
    finally:
        await close_stack(stack)


async def test_the_primary_key_is_used_while_it_works() -> None:
    stack = await make_stack(contro_api_key=SecretStr(OLD), contro_api_key_next=SecretStr(NEXT))
    try:
        await stack.ask("contro summary 2026-10")
        assert keys_sent(stack.billing_requests("/v1/partner/")) == [OLD]
    finally:
        await close_stack(stack)


async def test_both_keys_refused_says_so_naming_the_primary() -> None:
    stack = await make_stack(contro_api_key=SecretStr(OLD), contro_api_key_next=SecretStr(NEXT))
    stack.sandbox.revoked_contro_keys = {OLD, NEXT}
    try:
        _, reply = await stack.ask("contro summary 2026-10")
        text = seen(reply)
        assert "CONTRO_API_KEY" in text
        assert OLD not in text
        assert NEXT not in text
        assert keys_sent(stack.billing_requests("/v1/partner/")) == [OLD, NEXT]
    finally:
        await close_stack(stack)
