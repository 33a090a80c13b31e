"""The placeholder shown while a slow answer is being fetched."""

from __future__ import annotations

from bot.slack.render.common import Message, finish, inert, section


def render_working(what: str) -> Message:
    """ "Working on it… fetching usage for `x`".

    `what` is a short mrkdwn phrase written by the bot, with any user or API text in it
    already made safe (`common.code`, or escaped inside the caller's backticks). As a last
    guard, `inert` escapes any `<` or `>` left.
    """
    text = f"Working on it… {inert(what)}"
    return finish(text, [section(f":hourglass_flowing_sand: {text}")])
