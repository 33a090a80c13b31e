"""The "Share in channel" button on personal answers, and the shared copy."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.slack.ids import ActionId, BlockId
from bot.slack.render.common import MAX_BUTTON_VALUE, Message, context, finish, section


def with_share_button(message: Message, command_text: str) -> Message:
    """`message` plus a button that posts the same answer in the channel. The button carries
    the command, not the answer: sharing asks again, so nothing private can ride along."""
    if len(command_text) > MAX_BUTTON_VALUE:
        return message
    button = ButtonElement(
        text="Share in channel", action_id=ActionId.SHARE.value, value=command_text
    )
    return finish(
        message.text,
        [*message.blocks, ActionsBlock(block_id=BlockId.SHARE.value, elements=[button])],
    )


def render_shared(message: Message, user_id: str) -> Message:
    """The answer as the channel sees it: without buttons, saying who shared it."""
    blocks: list[Block] = [b for b in message.blocks if not isinstance(b, ActionsBlock)]
    blocks.append(context(f":mega: Shared by <@{user_id}>"))
    return finish(message.text, blocks)


def render_already_shared() -> Message:
    """Told privately to whoever shares an answer that was already shared."""
    words = "That answer is already shared in the channel: it was not posted again."
    return finish(words, [section(words)])
