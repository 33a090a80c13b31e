"""The placeholder shown while a slow answer is being fetched."""

from __future__ import annotations

from bot.slack.render.common import Message, finish, inert, section


def render_working(what: str, *, queued: int = 0) -> Message:
    """ "Working on it… fetching usage for `x`", and, when the bot's own queue to the billing
    APIs is not empty, that the question waits its turn (so a slow answer is not taken for a
    slow API).

    `what` is a short mrkdwn phrase written by the bot, with any user or API text in it
    already made safe (`common.code`, or escaped inside the caller's backticks). As a last
    guard, `inert` escapes any `<` or `>` left.
    """
    text = f"Working on it… {inert(what)}"
    if queued > 0:
        waiting = f"{queued:,} {'request' if queued == 1 else 'requests'}"
        text += f" · The billing APIs are busy: {waiting} waiting their turn in the bot."
    return finish(text, [section(f":hourglass_flowing_sand: {text}")])
