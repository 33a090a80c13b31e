"""Typed errors. Each carries the words a Slack user should read; `render.errors` shows them.

Nothing here may hold a token, a key or a password: messages are shown to users and logged.
"""

from __future__ import annotations


class BillingBotError(Exception):
    """Base class: `user_message` is safe to show in Slack."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class CommandError(BillingBotError):
    """The user typed something the bot cannot run: words it cannot read (nothing was sent
    upstream), or a name the billing API does not know (told with the nearest known names).

    `suggestion` is a complete command to type instead (e.g. "/billing report 2026-03 by day").
    """

    def __init__(self, user_message: str, suggestion: str | None = None) -> None:
        super().__init__(user_message)
        self.suggestion = suggestion


class NotConfigured(BillingBotError):
    """An API the command needs has no credentials configured."""

    def __init__(self, api: str, variable: str) -> None:
        super().__init__(f"{api} is not configured: set `{variable}` to use this command.")
        self.api = api
        self.variable = variable


class NotAllowed(BillingBotError):
    """The user may not do this (e.g. a billing change by a non-admin)."""


class SecretNotPostable(NotAllowed):
    """A message holding a secret (metrics connection details) was about to be posted where
    someone other than its asker could see it, or that keeps it (a thread, a DM's history, a
    shared answer, a view): refused before anything was sent."""

    def __init__(self) -> None:
        super().__init__(
            "That answer holds connection details, which I only show to you privately, never "
            "in a conversation or a shared message. Ask with the slash command: only you see "
            "its answers."
        )


class UpstreamError(BillingBotError):
    """A billing API answered with an error, or could not be reached.

    `detail` is the API's own explanation (MK.IO `error.detail`, Contro `error`), `ref` the
    request reference to quote to the provider's support, `status` the HTTP status (None when
    no answer came back at all).
    """

    def __init__(
        self,
        api: str,
        user_message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
        ref: str | None = None,
    ) -> None:
        super().__init__(user_message)
        self.api = api
        self.status = status
        self.code = code
        self.detail = detail
        self.ref = ref


class NotFound(UpstreamError):
    """404: the project, payment method, ... does not exist."""


class Unauthorized(UpstreamError):
    """401/403: the configured credentials were refused."""


class Unavailable(UpstreamError):
    """5xx, 429, timeouts, resets or a body that is not what the API documents, after retries."""


class TooManyRows(BillingBotError):
    """A usage report with more rows than the bot reads (`REPORT_MAX_ROWS`): it stopped reading."""

    def __init__(self, max_rows: int) -> None:
        super().__init__(
            f"This report has more than {max_rows:,} rows, more than the bot reads at once, so "
            "it stopped reading it. Ask for a coarser granularity (`by day` or `by month` "
            "instead of `by hour`) or a narrower filter (a shorter period, or only some "
            "projects or payment methods)."
        )
        self.max_rows = max_rows
