"""Stopping the server finishes the answers it already acknowledged, then closes."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from bot.slack import server
from tests.e2e.stack import DRAINING, PATIENCE, Stack, eventually, seen


async def test_an_answer_in_progress_is_delivered_before_the_server_closes(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=server.__name__)
    stack.sandbox.hold()
    sent = await stack.sender.command("usage my-project")
    assert sent.status == 200
    await stack.sandbox.wait_held()  # the answer is waiting for MK.IO
    bot_runner = stack.runners[0]
    # What SIGTERM does: stop listening, drain, close the clients. MK.IO answers only once
    # the drain is waiting for the answer.
    closing = asyncio.create_task(bot_runner.cleanup())
    await eventually(lambda: DRAINING.search(caplog.text) is not None, "the drain to start")
    stack.sandbox.release()
    await closing

    answers = [seen(c) for c in stack.slack.responses(sent.response_url)]
    assert any("Total month to date" in a for a in answers), "delivered before the clients closed"
    assert "did not finish in time" not in caplog.text
    with pytest.raises(httpx.ConnectError):
        await stack.sender.command("help")
    stack.runners.remove(bot_runner)


async def test_the_drain_is_bounded(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "DRAIN_SECONDS", 0.2)  # the teardown's drain too
    stack.sandbox.hold()
    await stack.sender.command("usage my-project")
    await stack.sandbox.wait_held()  # the answer is waiting for MK.IO, until the teardown
    async with asyncio.timeout(PATIENCE):
        assert await server.drain(0.2) >= 1, "the waiting answer is cut off, not waited for"
