"""Thin Slack listeners: parse, call the core, render, reply."""

from slack_bolt.async_app import AsyncApp

from handlers import changes, commands, contro, errors


def register_all(app: AsyncApp) -> None:
    commands.register(app)
    contro.register(app)
    changes.register(app)
    errors.register(app)
