"""Label values for metrics, each from a bounded set: no text a user typed ever becomes a label.

- `endpoint`: the template of the API path called (`/projects/{project}/usage`), matched
  against the endpoints the clients know; any other path is `other`.
- `command`: the command's type (`usage`, `contro_records_csv`), from the parser's classes.
- `outcome`: what became of an answer, from the error's type.
- `project`: only names MK.IO answered for (a usage answer, a month-to-date report row, a
  budget, which the bot sets only for projects MK.IO has), shaped as a name
  (`PROJECT_NAME`); the gauges keep at most `MAX_PROJECTS` of them.
- `currency`: an ISO-4217-like code (`[A-Z]{3}`), else the figure is left out.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Final

from bot.errors import (
    BillingBotError,
    CommandError,
    NotAllowed,
    NotConfigured,
    NotFound,
    TooManyRows,
    Unauthorized,
    Unavailable,
    UpstreamError,
)

OTHER: Final = "other"

#: Every endpoint each API's client calls (and the preflight check), by API name as in
#: `bot.apis.http.Api.name`. `{…}` matches one path segment.
ENDPOINTS: Final[Mapping[str, tuple[str, ...]]] = {
    "MK.IO": (
        "/projects",
        "/projects/{project}/usage",
        "/projects/{project}/paymentMethod",
        "/projects/{project}/metricsEndpoint",
        "/organization/reports/usage",
        "/organization/paymentMethods",
        "/organization/paymentMethods/{id}/rateCard",
        "/organization/tokens",
        "/user/rbac",
    ),
    "Contro": ("/partner/usage/summary", "/partner/usage/records"),
}


def _pattern(template: str) -> re.Pattern[str]:
    parts = ("[^/]+" if part.startswith("{") else re.escape(part) for part in template.split("/"))
    return re.compile("/".join(parts) + "/?")


_PATTERNS: Final = {
    api: tuple((_pattern(t), t) for t in templates) for api, templates in ENDPOINTS.items()
}


def endpoint(api: str, path: str, base_path: str = "/") -> str:
    """The template of `path` (the request's path, with or without `base_path` before it,
    query and all): `/projects/{project}/usage`, or `other`."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    base = base_path.rstrip("/")
    if base and path.startswith(base + "/"):
        path = path[len(base) :]
    if not path.startswith("/"):
        path = "/" + path
    for pattern, template in _PATTERNS.get(api, ()):
        if pattern.fullmatch(path):
            return template
    return OTHER


def api_label(api: str) -> str:
    """`mkio` / `contro` (the APIs the bot knows), else `other`."""
    return {"MK.IO": "mkio", "Contro": "contro"}.get(api, OTHER)


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def command_label(type_name: str, *, csv: bool = False) -> str:
    """`ControRecords` -> `contro_records` (`_csv` for an export): a parser class's name."""
    if not re.fullmatch(r"[A-Za-z]{1,40}", type_name):
        return OTHER
    label = _CAMEL.sub("_", type_name).lower()
    return f"{label}_csv" if csv else label


def outcome(exc: BaseException | None) -> str:
    """What became of an answer: `ok`, or the kind of error its asker was told."""
    match exc:
        case None:
            return "ok"
        case asyncio.CancelledError():
            return "cancelled"
        case NotAllowed():
            return "refused"
        case CommandError():
            return "bad_input"
        case NotConfigured():
            return "not_configured"
        case TooManyRows():
            return "too_large"
        case NotFound():
            return "not_found"
        case Unauthorized():
            return "upstream_refused"
        case Unavailable():
            return "upstream_unavailable"
        case UpstreamError():
            return "upstream_error"
        case BillingBotError():
            return "declined"
        case _:
            return "error"


#: What an upstream call ended with when it got no HTTP status: `Unavailable.code`'s values.
FAILURE_CODES: Final = frozenset({"timeout", "too_large", "unreachable", "busy"})


def status(value: int | None, code: str | None = None) -> str:
    """An HTTP status (`200`, `429`), or how a call failed without one (`timeout`…)."""
    if value is not None and 100 <= value <= 599:
        return str(value)
    if code in FAILURE_CODES:
        return code
    return "unreadable" if code == "number_out_of_bounds" else "error"


#: Project names the bot reads: MK.IO's names are DNS-like; anything else is left out.
PROJECT_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MAX_PROJECTS: Final = 500
CURRENCY: Final = re.compile(r"[A-Z]{3}")


def project(name: str) -> str | None:
    """`name` as a label, or None to leave the figure out."""
    return name if PROJECT_NAME.fullmatch(name) else None


def currency(code: str) -> str | None:
    return code if CURRENCY.fullmatch(code) else None


_SLACK_METHOD: Final = re.compile(r"[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*){1,3}")
_SLACK_ERROR: Final = re.compile(r"[a-z0-9_]{1,40}")


def slack_method(name: str) -> str:
    """A Web API method (`chat.postMessage`), as the bot's code names it."""
    return name if len(name) <= 60 and _SLACK_METHOD.fullmatch(name) else OTHER


def slack_error(error: object) -> str:
    """Slack's error code (`ratelimited`, `not_in_channel`), shaped as Slack's codes are."""
    return error if isinstance(error, str) and _SLACK_ERROR.fullmatch(error) else OTHER


#: Slack request kinds (the payload's `type`, or `command` for a slash command).
REQUEST_KINDS: Final = frozenset(
    {
        "command",
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "event_callback",
        "url_verification",
    }
)


def request_kind(kind: object) -> str:
    return kind if isinstance(kind, str) and kind in REQUEST_KINDS else OTHER
