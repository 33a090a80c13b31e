"""The report form (issue 5): not written yet."""

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from handlers.deps import Deps


async def open_form(
    client: AsyncWebClient, trigger_id: str, deps: Deps, *, channel_id: str | None
) -> None:
    """Open the report modal at once (trigger_id expires after 3 s), options filled after."""
    raise NotImplementedError


def register(app: AsyncApp) -> None:
    """Listeners for the report modal and the "Billing report" shortcut."""
