"""Thin Slack listeners: parse, call the core, render, reply."""

from slack_bolt.async_app import AsyncApp

from handlers import commands, contro, errors


def register_all(app: AsyncApp) -> None:
    commands.register(app)
    contro.register(app)
    errors.register(app)
