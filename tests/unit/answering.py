"""What a user would see of a question asked of the core: for the generated-body tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.errors import BillingBotError
from bot.slack.render.common import Message


def answer_or_typed_error(ask: Callable[[], Awaitable[Message]]) -> Message | BillingBotError:
    """A rendered answer (checked to fit Slack, as the asker sees it: secrets included) or a
    typed error; anything else is raised."""

    async def run() -> Message | BillingBotError:
        try:
            message = await ask()
        except BillingBotError as error:
            return error
        message.to_slack(ephemeral=True)
        return message

    return asyncio.run(run())
