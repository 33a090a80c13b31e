"""MK.IO Management API: the client and its models."""

from bot.apis.mkio.client import MkioClient

__all__ = ["MkioClient"]
