"""The report form (issue 5): not written yet."""

from slack_bolt.async_app import AsyncApp


def register(app: AsyncApp) -> None:
    """Listeners for the report modal and the "Billing report" shortcut."""
