"""Stopping the server finishes the answers it already acknowledged, then closes."""

from __future__ import annotations

import httpx
import pytest

from bot import server
from tests.e2e.conftest import Stack, seen


async def test_an_answer_in_progress_is_delivered_before_the_server_closes(stack: Stack) -> None:
    stack.sandbox.delay = 1.5
    sent = await stack.sender.command("usage my-project")
    assert sent.status == 200
    bot_runner = stack.runners[0]
    await bot_runner.cleanup()  # what SIGTERM does: stop listening, drain, close clients

    final = await stack.final_response(sent.response_url, wait=1.0)
    assert "Total month to date" in seen(final), "delivered before the clients closed"
    with pytest.raises(httpx.ConnectError):
        await stack.sender.command("help")
    stack.runners.remove(bot_runner)


async def test_the_drain_is_bounded(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "DRAIN_SECONDS", 0.2)  # the teardown's drain too
    stack.sandbox.delay = 2
    await stack.sender.command("usage my-project")
    assert await server.drain(0.2) >= 1, "the slow answer is cut off, not waited for"
