"""Answers in progress are the tasks started while answering, wherever their code lives."""

from __future__ import annotations

import asyncio

from bot.slack.inflight import answering, answers_in_progress, track_answers, wait_for_answers


async def test_tasks_started_while_answering_and_theirs_are_answers() -> None:
    track_answers(asyncio.get_running_loop())
    release = asyncio.Event()
    children: list[asyncio.Task[None]] = []

    async def child() -> None:
        await release.wait()

    async def listener() -> None:  # code outside the bot's folders, as a test's is
        children.append(asyncio.create_task(child()))
        await release.wait()

    with answering():
        answer = asyncio.create_task(listener())
    unrelated = asyncio.create_task(release.wait())
    await asyncio.sleep(0)
    assert answers_in_progress() == {answer, *children}
    assert unrelated not in answers_in_progress()
    assert await wait_for_answers(0.01) == 2, "both still running"
    release.set()
    assert await wait_for_answers(60) == 0
    await unrelated


async def test_installing_twice_keeps_one_factory_and_a_factory_already_there() -> None:
    loop = asyncio.get_running_loop()
    made: list[object] = []

    def eager(
        loop: asyncio.AbstractEventLoop, coro: object, **kwargs: object
    ) -> asyncio.Task[object]:
        made.append(coro)
        return asyncio.Task(coro, loop=loop, **kwargs)  # type: ignore[arg-type]

    loop.set_task_factory(eager)  # type: ignore[arg-type]
    try:
        track_answers(loop)
        installed = loop.get_task_factory()
        track_answers(loop)
        assert loop.get_task_factory() is installed
        with answering():
            task = asyncio.create_task(asyncio.sleep(0))
        assert task in answers_in_progress()
        await task
        assert len(made) == 1, "the factory already installed still makes the tasks"
    finally:
        loop.set_task_factory(None)
