"""Who asked, and where: taken from the Slack payload, so the core never sees one."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Asker:
    user_id: str
    channel_id: str
