"""What `billing-bot check` asks Slack, MK.IO and Contro: whether each credential works and
grants what the bot's features need, one line per check with what to do about it."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from ipaddress import ip_address
from typing import Literal
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from bot import clock as clock_module
from bot.config import Settings
from bot.core.scheduled.expiry import Expiry
from bot.preflight import ConfigError, check

Outcome = Literal["ok", "warn", "FAIL"]

# The bot scopes manifest.yml asks for (tests/unit/test_manifest.py keeps them equal).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "files:write",
    "channels:join",
    "app_mentions:read",
    "im:history",
    "channels:read",
    "groups:read",
    "mpim:read",
    "users:read",
)

# What each feature needs of the MK.IO token, as MK.IO's document names the capability each
# endpoint requires ("RBAC Capability Required: ...").
MKIO_CAPABILITIES: tuple[tuple[str, str], ...] = (
    ("core.project.get", "projects and `usage <project>`"),
    ("core.customer.get", "usage reports"),
    ("core.subscription.get", "payment methods, rate cards and `payment-method <project>`"),
    ("core.subscription.create", "`payment-method <project> set`"),
    ("mkio.metrics.get", "`metrics <project>`"),
    ("mkio.metrics.update", "`metrics <project> enable`"),
)
EXPIRY_WARNING = timedelta(days=30)
TIMEOUT_SECONDS = 15.0
_REFUSED = "the key is refused"
_TEST_HOST_WORDS = ("sandbox", "test", "staging", "localhost")


@dataclass(frozen=True, slots=True)
class Finding:
    outcome: Outcome
    what: str
    text: str
    expiry: Expiry | None = None

    def line(self) -> str:
        return f"{self.outcome:<4} {self.what}: {self.text}"


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value().strip() if value is not None else ""


async def settings_findings(settings: Settings) -> list[Finding]:
    try:
        # Socket Mode (an app token set) serves no HTTP, so needs no signing secret.
        await check(settings, serving_http=settings.slack_app_token is None)
    except ConfigError as exc:
        return [Finding("FAIL", "settings", str(exc))]
    return [Finding("ok", "settings", "valid")]


async def slack_findings(settings: Settings, client: httpx.AsyncClient) -> list[Finding]:
    token = _secret(settings.slack_bot_token)
    if not token:
        return [
            Finding(
                "FAIL",
                "slack",
                "SLACK_BOT_TOKEN is not set: set the Bot User OAuth "
                "Token (xoxb-…, OAuth & Permissions)",
            )
        ]
    url = settings.slack_api_url.rstrip("/") + "/auth.test"
    try:
        response = await client.post(url, headers={"Authorization": f"Bearer {token}"})
        answer = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return [
            Finding(
                "FAIL",
                "slack",
                f"auth.test failed ({type(exc).__name__}): check SLACK_API_URL and the network",
            )
        ]
    if not isinstance(answer, dict) or not answer.get("ok"):
        error = answer.get("error", response.status_code) if isinstance(answer, dict) else "?"
        return [
            Finding(
                "FAIL",
                "slack",
                f"auth.test refused the bot token ({error}): set "
                "SLACK_BOT_TOKEN to the app's current Bot User OAuth Token",
            )
        ]
    granted = {s.strip() for s in response.headers.get("x-oauth-scopes", "").split(",")}
    missing = [scope for scope in BOT_SCOPES if scope not in granted]
    team = answer.get("team") or answer.get("team_id") or "the workspace"
    if missing:
        return [
            Finding(
                "FAIL",
                "slack scopes",
                f"missing {', '.join(missing)}: add them under "
                "OAuth & Permissions (or from manifest.yml) and reinstall the app",
            )
        ]
    return [Finding("ok", "slack", f"bot token works in {team}, every scope granted")]


def _capabilities(body: object, prefix: str = "") -> set[str]:
    """Capability names in an RBAC answer. MK.IO's document gives no shape beyond capability
    names (`core.project.get`) and a token's `permissions` object, so these are read: a list of
    names, an object of name → true, or nested objects and lists (`{"core": {"project":
    ["get"]}}`), under `capabilities`, `permissions` or at the top; `*` matches anything."""
    if isinstance(body, str):
        return {f"{prefix}{body}"}
    if isinstance(body, list):
        return set().union(*(_capabilities(item, prefix) for item in body))
    if not isinstance(body, dict):
        return set()
    if not prefix:
        for key in ("capabilities", "permissions"):
            if key in body:
                return _capabilities(body[key])
    found: set[str] = set()
    for key, value in body.items():
        if value is True:
            found.add(f"{prefix}{key}")
        elif isinstance(value, dict | list | str):
            found |= _capabilities(value, f"{prefix}{key}.")
    return found


def _granted(needed: str, capabilities: Iterable[str]) -> bool:
    return any(fnmatchcase(needed, pattern) for pattern in capabilities)


def jwt_claims(token: str) -> dict[str, object] | None:
    """The claims of a JWT (its signature is not checked), or None for any other token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def jwt_expiry(token: str) -> datetime | None:
    """The `exp` claim of a JWT (its signature is not checked), or None for any other token."""
    exp = (jwt_claims(token) or {}).get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    try:
        return datetime.fromtimestamp(exp, UTC)
    except (ValueError, OverflowError, OSError):
        return None


@dataclass(frozen=True, slots=True)
class ListedToken:
    """The bot's own token as `GET /organization/tokens` lists it."""

    id: str
    expires: datetime
    revoked: bool
    description: str


async def listed_token(
    settings: Settings, client: httpx.AsyncClient, token: str
) -> ListedToken | None:
    """MKIO_TOKEN in MK.IO's list of the organization's tokens, where the token may read it
    (`core.token.get`); None when it may not, or the list does not show it. The list names
    tokens by id, which a JWT carries among its claims (`jti`, or another claim)."""
    ids = {v for v in (jwt_claims(token) or {}).values() if isinstance(v, str)}
    if not ids:
        return None
    url = settings.mkio_api_url.rstrip("/") + "/organization/tokens"
    try:
        response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
        body = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    items = body.get("value") if isinstance(body, dict) else None
    for item in items if isinstance(items, list) else []:
        metadata = item.get("metadata") if isinstance(item, dict) else None
        spec = item.get("spec") if isinstance(item, dict) else None
        if not isinstance(metadata, dict) or not isinstance(spec, dict):
            continue
        if metadata.get("id") not in ids:
            continue
        try:
            expires = datetime.fromisoformat(str(spec.get("expires")))
        except ValueError:
            return None
        description = spec.get("description")
        return ListedToken(
            id=str(metadata["id"]),
            expires=expires if expires.tzinfo else expires.replace(tzinfo=UTC),
            revoked=spec.get("revoked") is not None,
            description=description if isinstance(description, str) else "",
        )
    return None


def expiry_finding(
    expires: datetime | None,
    now: datetime,
    *,
    what: str,
    variable: str,
    renew: str,
    named: str = "",
) -> Finding | None:
    """The finding on a credential that `expires`, carrying its `Expiry` for the reminders."""
    if expires is None:
        return None
    when = expires.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    expiry = Expiry(variable, what, expires, named, renew)
    if expires <= now:
        return Finding("FAIL", what, f"{named}expired {when}: {renew} and set {variable}", expiry)
    left = expires - now
    if left < EXPIRY_WARNING:
        return Finding(
            "warn",
            what,
            f"{named}expires {when}, in {left.days} days: {renew} and set {variable} before then",
            expiry,
        )
    return Finding("ok", what, f"{named}expires {when}", expiry)


def _unset(what: str, variable: str, service: str) -> Finding:
    text = f'{variable} is not set: {service} commands answer "not configured"; set it to use them'
    return Finding("warn", what, text)


async def mkio_findings(
    settings: Settings, client: httpx.AsyncClient, now: datetime
) -> list[Finding]:
    token = _secret(settings.mkio_token)
    if not token:
        return [_unset("mkio", "MKIO_TOKEN", "MK.IO")]
    findings: list[Finding] = []
    expires = jwt_expiry(token)
    named = ""
    listed = await listed_token(settings, client, token)
    if listed is not None:
        named = f"“{listed.description}” ({listed.id}) " if listed.description else ""
        named = named or f"{listed.id} "
        if listed.revoked:
            findings.append(
                Finding(
                    "FAIL",
                    "mkio token",
                    f"{named}is revoked: create a new token in MK.IO and set MKIO_TOKEN",
                )
            )
        expires = listed.expires if expires is None else min(expires, listed.expires)
    expiry = expiry_finding(
        expires,
        now,
        what="mkio token",
        variable="MKIO_TOKEN",
        renew="create a new token in MK.IO",
        named=named,
    )
    if expiry is not None and not (listed is not None and listed.revoked):
        findings.append(expiry)
    url = settings.mkio_api_url.rstrip("/") + "/user/rbac"
    try:
        response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        return [
            *findings,
            Finding(
                "FAIL",
                "mkio",
                f"GET /user/rbac failed ({type(exc).__name__}): check MKIO_API_URL and the network",
            ),
        ]
    if response.status_code in (401, 403):
        return [
            *findings,
            Finding(
                "FAIL",
                "mkio",
                f"the token is refused ({response.status_code}): set MKIO_TOKEN to a valid token",
            ),
        ]
    try:
        response.raise_for_status()
        capabilities = _capabilities(response.json())
    except (httpx.HTTPError, ValueError):
        return [
            *findings,
            Finding(
                "FAIL",
                "mkio",
                f"GET /user/rbac answered {response.status_code}: check MKIO_API_URL",
            ),
        ]
    missing = [(name, use) for name, use in MKIO_CAPABILITIES if not _granted(name, capabilities)]
    if missing:
        named = "; ".join(f"{name} (for {use})" for name, use in missing)
        findings.append(
            Finding(
                "FAIL",
                "mkio capabilities",
                f"missing {named}: grant them to the token in MK.IO, or use a token that has them",
            )
        )
    else:
        findings.append(Finding("ok", "mkio", "token works, every capability granted"))
    return findings


def is_test_host(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    try:
        return ip_address(host).is_loopback or ip_address(host).is_private
    except ValueError:
        pass
    labels = host.replace("-", ".").split(".")
    return any(word in labels for word in _TEST_HOST_WORDS)


async def contro_findings(
    settings: Settings, client: httpx.AsyncClient, now: datetime
) -> list[Finding]:
    """The Contro key, and the next one while Contro rotates them (CONTRO_API_KEY_NEXT)."""
    key = _secret(settings.contro_api_key)
    following = _secret(settings.contro_api_key_next)
    if not key:
        if following:
            text = "CONTRO_API_KEY_NEXT is set without CONTRO_API_KEY: set CONTRO_API_KEY too"
            return [Finding("FAIL", "contro", text)]
        return [_unset("contro", "CONTRO_API_KEY", "Contro")]
    found = await _contro_key_findings(settings, client, now, key, "contro", "CONTRO_API_KEY")
    if not following:
        return found
    nexts = await _contro_key_findings(
        settings, client, now, following, "contro next key", "CONTRO_API_KEY_NEXT"
    )
    [first], [second] = found, nexts
    if first.text.startswith(_REFUSED) and second.outcome == "ok":
        # the rotation has happened: the bot works, on the next key
        text = (
            "refused, and CONTRO_API_KEY_NEXT works (the bot uses it): set CONTRO_API_KEY "
            "to the new key and unset CONTRO_API_KEY_NEXT"
        )
        found = [Finding("warn", "contro", text)]
    return [*found, *nexts]


async def _contro_key_findings(
    settings: Settings,
    client: httpx.AsyncClient,
    now: datetime,
    key: str,
    what: str,
    variable: str,
) -> list[Finding]:
    test_host = is_test_host(settings.contro_api_url)
    # A key for the other kind of host is not sent there: a live key must not reach a test host.
    if key.startswith("sk_test_") and not test_host:
        return [
            Finding(
                "FAIL",
                what,
                f"{variable} is a test key (sk_test_…) but "
                "CONTRO_API_URL is a live host: set a live key (sk_live_…) or point "
                "CONTRO_API_URL at the sandbox",
            )
        ]
    if key.startswith("sk_live_") and test_host:
        return [
            Finding(
                "FAIL",
                what,
                f"{variable} is a live key (sk_live_…) but "
                "CONTRO_API_URL is a test host: set a test key (sk_test_…) or point "
                "CONTRO_API_URL at the live API",
            )
        ]
    url = settings.contro_api_url.rstrip("/") + "/partner/usage/summary"
    try:
        response = await client.get(
            url, params={"period": now.strftime("%Y-%m")}, headers={"x-contro-api-key": key}
        )
    except httpx.HTTPError as exc:
        return [
            Finding(
                "FAIL",
                what,
                f"GET /partner/usage/summary failed "
                f"({type(exc).__name__}): check CONTRO_API_URL and the network",
            )
        ]
    if response.status_code in (401, 403):
        return [
            Finding(
                "FAIL",
                what,
                f"{_REFUSED} ({response.status_code}): set {variable} to a valid key",
            )
        ]
    if response.status_code != 200:
        return [
            Finding(
                "FAIL",
                what,
                f"GET /partner/usage/summary answered {response.status_code}: check CONTRO_API_URL",
            )
        ]
    return [Finding("ok", what, "key works")]


async def findings(
    settings: Settings, *, clock: clock_module.Clock = clock_module.utc_now
) -> list[Finding]:
    """Every check's finding, in a fixed order: settings, Slack, MK.IO, Contro."""
    now = clock()
    found = await settings_findings(settings)
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
        found += await slack_findings(settings, client)
        found += await mkio_findings(settings, client, now)
        found += await contro_findings(settings, client, now)
    return found
