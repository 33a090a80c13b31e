"""Mentions and direct messages (issue 5): not written yet."""

from slack_bolt.async_app import AsyncApp


def register(app: AsyncApp) -> None:
    """Listeners for app_mention and message.im."""
