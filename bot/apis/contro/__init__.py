"""Contro partner usage API: the client and its models."""

from bot.apis.contro.client import ControClient

__all__ = ["ControClient"]
