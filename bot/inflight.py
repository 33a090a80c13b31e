"""The bot's answers in progress: the asyncio tasks running its code or Bolt's listeners.

Used to finish the work in hand before shutting down, and by the demo console to know when
an answer (its summary, then its upload) is complete rather than guessing from a quiet spell.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Collection
from pathlib import Path
from typing import Any


def _package_dir(name: str) -> str:
    spec = importlib.util.find_spec(name)  # found, not imported: this module stays light
    if spec is None or spec.origin is None:
        raise ImportError(f"{name} is not installed")
    return str(Path(spec.origin).parent)


# Code whose tasks are answers in progress: Bolt's listener runs and the bot's own work.
_ANSWER_CODE = (
    _package_dir("slack_bolt"),
    str(Path(__file__).parent),  # bot/
    str(Path(__file__).parent.parent / "handlers"),
)


def _is_answer(task: asyncio.Task[Any]) -> bool:
    """Work the bot started (listeners, answers, uploads), not aiohttp's connections nor
    whoever is waiting for them."""
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and code.co_filename.startswith(_ANSWER_CODE)


def answers_in_progress(ignore: Collection[asyncio.Task[Any]] = ()) -> set[asyncio.Task[Any]]:
    """Unfinished answer tasks other than the caller's and those in `ignore`."""
    current = asyncio.current_task()
    return {
        t
        for t in asyncio.all_tasks()
        if t is not current and t not in ignore and not t.done() and _is_answer(t)
    }


async def wait_for_answers(seconds: float, *, ignore: Collection[asyncio.Task[Any]] = ()) -> int:
    """Wait, at most `seconds`, until no answer is in progress; how many were still running.

    An answer can start others (an acknowledged command is dispatched to Bolt, which starts
    its listener), so this waits until none is left, not only for those running at first.
    `ignore`: long-lived tasks of the caller's own that live in the bot's code.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    pending = answers_in_progress(ignore)
    while pending:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return len(pending)
        await asyncio.wait(pending, timeout=remaining)
        pending = answers_in_progress(ignore)
    return 0
