"""The App Home tab (issue 5): not written yet."""

from slack_bolt.async_app import AsyncApp


def register(app: AsyncApp) -> None:
    """Listeners for app_home_opened and the Home tab's buttons."""
