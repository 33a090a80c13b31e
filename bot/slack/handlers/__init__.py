"""Thin Slack listeners: parse, call the core, render, reply."""

from slack_bolt.async_app import AsyncApp

from bot.slack.handlers import (
    changes,
    commands,
    contro,
    errors,
    home,
    messages,
    report_form,
    routes,
    share,
)


def register_all(app: AsyncApp) -> None:
    commands.register(app)
    messages.register(app)
    contro.register(app)
    changes.register(app)
    routes.register_buttons(app)
    share.register(app)
    report_form.register(app)
    home.register(app)
    errors.register(app)
