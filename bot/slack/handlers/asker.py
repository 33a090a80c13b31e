"""Who asked, and where: taken from the Slack payload, so the core never sees one."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Asker:
    user_id: str
    channel_id: str
    # True when only the asker will see the answer (an ephemeral reply): secrets may be shown
    # to an admin then, never in a thread, a DM history or a shared message.
    private: bool = True
    thread_ts: str | None = None  # answer inside this thread (a mention's)
