"""The "Share in channel" button (issue 5): not written yet."""

from slack_bolt.async_app import AsyncApp


def register(app: AsyncApp) -> None:
    """Listener for the share button."""
