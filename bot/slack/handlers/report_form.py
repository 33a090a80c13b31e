"""The report form: `/billing report` with no arguments and the "Billing report" shortcut
open it; its submission is checked like the command and posted by the same report path."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.report_form import (
    Choice,
    ChoiceList,
    FormChoices,
    FormErrors,
    FormState,
    defaults,
    to_submission,
)
from bot.slack.delivery import EphemeralOrDirectMessage, Posting
from bot.slack.handlers import routes
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.handlers.reply import words_for
from bot.slack.ids import CallbackId
from bot.slack.render.report_form import render_report_form

log = logging.getLogger(__name__)


def _slack_error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "")) if exc.response is not None else ""


# --- Opening ---------------------------------------------------------------------------------


async def open_form(
    client: AsyncWebClient, trigger_id: str, deps: Deps, *, channel_id: str | None
) -> None:
    """Open the report modal at once (trigger_id expires after 3 s), options filled after.

    `views.open` goes first with everything the bot knows without asking MK.IO; the project
    and payment-method lists follow through `views.update` of that view (its id, with its
    hash, so a view changed meanwhile is not overwritten)."""
    form_defaults = defaults(deps.today())
    try:
        opened = await client.views_open(
            trigger_id=trigger_id,
            view=render_report_form(form_defaults, channel_id=channel_id, choices=None),
        )
    except SlackApiError as exc:
        log.warning("could not open the report form: %s", _slack_error(exc))
        return
    view = opened.get("view")
    view_id = view.get("id") if isinstance(view, dict) else None
    if not isinstance(view_id, str):
        log.warning("views.open answered without a view id")
        return
    view_hash = view.get("hash") if isinstance(view, dict) else None

    choices = await load_choices(deps)
    try:
        await client.views_update(
            view_id=view_id,
            hash=view_hash if isinstance(view_hash, str) else None,
            view=render_report_form(form_defaults, channel_id=channel_id, choices=choices),
        )
    except SlackApiError as exc:
        # hash_conflict, not_found: the form changed, or was closed or submitted, meanwhile
        log.info("report form %s not updated: %s", view_id, _slack_error(exc))


async def load_choices(deps: Deps) -> FormChoices:
    """Both lists at once; a list that cannot be loaded says why in the form instead."""
    projects, methods = await asyncio.gather(
        _choices("projects", lambda: _projects(deps)),
        _choices("payment methods", lambda: _payment_methods(deps)),
    )
    return FormChoices(projects=projects, payment_methods=methods)


async def _choices(what: str, load: Callable[[], Awaitable[list[Choice]]]) -> ChoiceList:
    try:
        return ChoiceList.of(await load())
    except Exception as exc:
        return ChoiceList(problem=f"Couldn't load the {what}: {words_for(exc).text}")


async def _projects(deps: Deps) -> list[Choice]:
    """MK.IO `GET /projects`: the value is the name, which the report filter takes."""
    projects = await deps.billing.mkio.list_projects()
    return [
        Choice(
            value=p.name,
            label=p.name,
            description=p.spec.display_name if p.spec.display_name not in (None, p.name) else None,
        )
        for p in projects
    ]


async def _payment_methods(deps: Deps) -> list[Choice]:
    """The value is the ID: display names need not be unique."""
    methods = (await deps.billing.payment_methods()).methods
    choices: list[Choice] = []
    for method in methods:
        notes = [method.spec.type or ""]
        if method.status.is_active is False:
            notes.append("inactive")
        choices.append(
            Choice(
                value=method.id,
                label=method.name,
                description=" · ".join(n for n in notes if n) or None,
            )
        )
    return choices


async def on_shortcut(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """The "Billing report" global shortcut (a message shortcut would carry its channel)."""
    await ack()
    channel = body.get("channel")
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    await open_form(
        client,
        str(body["trigger_id"]),
        Deps.of(context),
        channel_id=channel_id if isinstance(channel_id, str) else None,
    )


# --- Submitting ------------------------------------------------------------------------------


async def on_submit(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Errors go back on their fields (the modal stays open); a valid form closes and the
    report is posted in the chosen channel exactly as `/billing report …` posts it."""
    deps = Deps.of(context)
    user_id = str(body["user"]["id"])
    try:
        submission = to_submission(FormState.from_view(view), today=deps.today())
    except FormErrors as exc:
        await ack(response_action="errors", errors=exc.errors)
        return
    await ack()
    asker = Asker(user_id=user_id, channel_id=submission.channel)
    # A modal has no response_url (the conversation select does not set
    # `response_url_enabled`): notes for the submitter go ephemerally in the chosen channel.
    note = EphemeralOrDirectMessage(client, submission.channel, user_id)
    await routes.post(
        submission.command, asker, deps, Posting(client, deps.guard, note=note, fallback=None)
    )


def register(app: AsyncApp) -> None:
    """Listeners for the report modal and the "Billing report" shortcut."""
    app.shortcut(CallbackId.REPORT_SHORTCUT.value)(on_shortcut)
    app.view_submission(CallbackId.REPORT_FORM.value)(on_submit)
