"""The bot's answers in progress: an explicit registry of the tasks working on a Slack request.

A request is handled inside `answering()`. Every task started from there, directly or through
tasks it starts in turn (Bolt's listener runs, the bot's uploads and progress edits), inherits
that context and is registered as it is created, by the task factory `track_answers` installs
on the event loop. Which code a task runs, or where that code lives, does not matter.

Used to finish the work in hand before shutting down, and by the demo console to know when
an answer (its summary, then its upload) is complete rather than guessing from a quiet spell.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import Collection, Coroutine, Generator
from contextlib import contextmanager
from typing import Any

_answering: contextvars.ContextVar[bool] = contextvars.ContextVar("answering", default=False)
_answers: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()


@contextmanager
def answering() -> Generator[None]:
    """Tasks started inside this block (and theirs) are answers in progress."""
    token = _answering.set(True)
    try:
        yield
    finally:
        _answering.reset(token)


def track_answers(loop: asyncio.AbstractEventLoop) -> None:
    """Register the tasks started in `answering()` on `loop` (idempotent; keeps a factory
    already installed, such as an eager one)."""
    previous = loop.get_task_factory()
    if getattr(previous, "tracks_answers", False):
        return

    def factory(
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, Any],
        context: contextvars.Context | None = None,
    ) -> asyncio.Future[Any]:
        if previous is None:
            task: asyncio.Future[Any] = asyncio.Task(coro, loop=loop, context=context)
        elif context is None:
            task = previous(loop, coro)
        else:  # the loop passes `context` to a factory when create_task was given one
            task = previous(loop, coro, context=context)  # type: ignore[call-arg]
        creator = context if context is not None else contextvars.copy_context()
        if creator.get(_answering, False) and isinstance(task, asyncio.Task):
            _answers.add(task)
        return task

    factory.tracks_answers = True  # type: ignore[attr-defined]
    loop.set_task_factory(factory)  # type: ignore[arg-type]


def answers_in_progress(ignore: Collection[asyncio.Task[Any]] = ()) -> set[asyncio.Task[Any]]:
    """Unfinished answer tasks other than the caller's and those in `ignore`."""
    current, loop = asyncio.current_task(), asyncio.get_running_loop()
    return {
        t
        for t in list(_answers)
        if t is not current and t not in ignore and not t.done() and t.get_loop() is loop
    }


async def wait_for_answers(seconds: float, *, ignore: Collection[asyncio.Task[Any]] = ()) -> int:
    """Wait, at most `seconds`, until no answer is in progress; how many were still running.

    An answer can start others (an acknowledged command is dispatched to Bolt, which starts
    its listener), so this waits until none is left, not only for those running at first.
    `ignore`: tasks of the caller's own that were started while answering.
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
