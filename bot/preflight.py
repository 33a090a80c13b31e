"""What `serve` and `socket` check before they start.

A setting that cannot work is named, with what to do about it, and the process exits: an
operator reads it at deploy time instead of users reading "something went wrong" later.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from bot.config import Settings


class ConfigError(Exception):
    """A one-line explanation of what to set; shown without a traceback."""


# Slack's signing secrets are 32 hex characters. Anything much shorter is a placeholder or a
# typo, and a guessable key lets anyone sign requests as any user, admins included.
MIN_SIGNING_SECRET_LENGTH = 16
_PLACEHOLDER_STARTS = ("your", "change", "replace", "insert", "example", "placeholder", "todo")
WHERE_TO_FIND_IT = (
    "set it to your Slack app's Signing Secret (api.slack.com/apps, your app, "
    "Basic Information, App Credentials)"
)
REDIS_TIMEOUT_SECONDS = 5.0


def signing_secret(secret: SecretStr | None) -> str:
    """The configured signing secret, or ConfigError when it is missing, blank or a placeholder:
    with a guessable secret, anyone who can reach the URL can act as any Slack user."""
    value = secret.get_secret_value() if secret is not None else ""
    if not value.strip():
        problem = "is empty"
    elif value != value.strip():
        problem = "has spaces around it"
    elif len(value) < MIN_SIGNING_SECRET_LENGTH:
        problem = f"is too short ({len(value)} characters; Slack's have 32)"
    elif len(set(value.lower())) < 4 or value.lower().lstrip("<{[\"'").startswith(
        _PLACEHOLDER_STARTS
    ):
        problem = "looks like a placeholder"
    else:
        return value
    raise ConfigError(
        f"SLACK_SIGNING_SECRET {problem}: {WHERE_TO_FIND_IT} (the bot serves no unverified request)"
    )


def url_problem(name: str, value: str) -> str | None:
    """Why `value` cannot be the base URL in `name`, or None. The value is not quoted back:
    a URL may carry credentials."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError on a port that is not a number)
    except ValueError:
        reason = "is not a valid URL"
    else:
        if parts.scheme not in ("http", "https"):
            reason = "must start with https:// (or http://)"
        elif not parts.hostname:
            reason = "has no host name"
        elif any(c.isspace() for c in value):
            reason = "contains spaces"
        else:
            return None
    return f"{name} {reason}: set a base URL such as {Settings.model_fields[name.lower()].default}"


def sqlite_problem(path: str) -> str | None:
    """Why schedules and budgets could not be written to `path`, or None. Nothing is kept:
    the probe's table is rolled back."""
    try:
        if path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path, timeout=5.0, isolation_level=None)) as connection:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("CREATE TABLE billing_bot_preflight (x)")
            connection.execute("ROLLBACK")
    except (OSError, sqlite3.Error) as exc:
        return (
            f"SQLITE_PATH {path} cannot be written ({exc}): point SQLITE_PATH at a file in a "
            "writable directory (schedules and budgets are kept there), or set REDIS_URL"
        )
    return None


async def redis_problem(url: SecretStr) -> str | None:
    """Why Redis at `url` does not answer, or None. The URL (it may hold a password) is not
    quoted back, only its host and port."""
    from redis.exceptions import RedisError

    from bot.store.redis_client import redis_client

    try:
        client = redis_client(url.get_secret_value())
    except ValueError as exc:
        return f"{exc}: fix REDIS_URL, or unset it to keep state in this process"
    kwargs = client.connection_pool.connection_kwargs
    where = kwargs.get("path") or f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"
    try:
        async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
            await client.ping()
    except (RedisError, OSError, TimeoutError) as exc:
        return (
            f"REDIS_URL: Redis at {where} does not answer ({type(exc).__name__}): start Redis "
            "or fix REDIS_URL (host, port, password), or unset it to keep state in this process"
        )
    finally:
        await client.aclose()
    return None


async def check(settings: Settings, *, serving_http: bool) -> None:
    """Every problem with `settings` at once, as one ConfigError line."""
    problems: list[str] = []
    secret = settings.slack_signing_secret
    # Socket Mode needs no signing secret, but a set one keys the signatures of what is kept
    # in Redis: a placeholder is refused there too.
    if serving_http or (secret is not None and secret.get_secret_value().strip()):
        try:
            signing_secret(secret)
        except ConfigError as exc:
            problems.append(str(exc))
    for name in ("SLACK_API_URL", "MKIO_API_URL", "CONTRO_API_URL"):
        if problem := url_problem(name, getattr(settings, name.lower())):
            problems.append(problem)
    if settings.redis_url is None:
        if problem := await asyncio.to_thread(sqlite_problem, settings.sqlite_path):
            problems.append(problem)
    elif problem := await redis_problem(settings.redis_url):
        problems.append(problem)
    if problems:
        raise ConfigError("; ".join(problems))
