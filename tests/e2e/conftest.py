"""Fixtures of the end-to-end tests; the helpers they use are in `tests/e2e/stack.py`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.stack import Stack, close_stack, make_stack


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    s = await make_stack()
    try:
        yield s
    finally:
        await close_stack(s)
