"""compose.yml and the image's health check, checked offline, without Docker.

compose.yml is validated against the Compose Specification's JSON schema
(tests/schemas/compose-spec.json, schema/compose-spec.json of compose-spec/compose-spec at
170098b, Apache-2.0; strict: an unknown or misspelt key is an error), and agrees with the
bot: liveness on /livez, readiness forwarded by the proxy and /metrics not, secrets as files
named after settings, the shutdown within the grace period, Redis up before the bot.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.config import SECRET_NAMES, Settings
from bot.slack.server import DRAIN_SECONDS, EVENTS_PATH

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "schemas" / "compose-spec.json"


@functools.cache
def _compose() -> str:
    return (ROOT / "compose.yml").read_text(encoding="utf-8")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(_compose())
    return loaded


def problems(document: dict[str, Any]) -> list[str]:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def bot() -> dict[str, Any]:
    service: dict[str, Any] = compose()["services"]["bot"]
    return service


def nginx_locations() -> dict[str, str]:
    """The proxy's `location = <path>` blocks, by path: what each does."""
    content = compose()["configs"]["nginx-conf"]["content"]
    return dict(re.findall(r"location = (\S+) \{\s*([^;]+);", content))


def test_compose_validates_against_the_compose_specification() -> None:
    assert problems(compose()) == []


def test_the_validator_refuses_what_compose_would() -> None:
    misspelt = copy.deepcopy(compose())
    misspelt["services"]["bot"]["healthchek"] = {"disable": True}
    assert any("healthchek" in p for p in problems(misspelt))
    wrong_type = copy.deepcopy(compose())
    wrong_type["services"]["bot"]["secrets"] = "slack_bot_token"
    assert problems(wrong_type)


def test_the_image_s_health_check_is_liveness_on_the_port_it_serves() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    [check] = re.findall(r"^HEALTHCHECK .*?CMD (.*)$", dockerfile, re.MULTILINE | re.DOTALL)
    [url] = re.findall(r"http://127\.0\.0\.1:\d+/\w+", check)
    [port] = re.findall(r'^CMD \[.*"--port", "(\d+)"\]$', dockerfile, re.MULTILINE)
    assert url == f"http://127.0.0.1:{port}/livez", "a Redis outage must not make it unhealthy"
    assert "healthcheck" not in bot(), "the image's check, not one of the compose file's"


def test_the_proxy_forwards_slack_and_readiness_never_metrics() -> None:
    forwarded = {path for path, what in nginx_locations().items() if what.startswith("proxy_pass")}
    assert forwarded == {EVENTS_PATH, "/readyz", "/healthz"}
    content = compose()["configs"]["nginx-conf"]["content"]
    assert re.search(r"location / \{\s*return 404;", content), "nothing else is forwarded"


def test_secrets_are_files_named_after_settings_and_not_committed() -> None:
    declared = compose()["secrets"]
    assert set(bot()["secrets"]) == set(declared)
    assert {"slack_bot_token", "slack_signing_secret"} <= set(declared) <= set(SECRET_NAMES)
    for name, secret in declared.items():
        assert secret == {"file": f"./secrets/{name}"}
    # Compose mounts each as /run/secrets/<name>: the directory the bot reads
    assert bot()["environment"]["SECRETS_DIR"] == "/run/secrets"
    assert not set(bot()["environment"]) & {n.upper() for n in SECRET_NAMES} - {"REDIS_URL"}
    assert "/secrets/" in (ROOT / ".gitignore").read_text().splitlines()
    assert set(bot()["environment"]) <= {n.upper() for n in Settings.model_fields}


def test_shutdown_fits_in_the_grace_period() -> None:
    grace = float(bot()["environment"].get("READY_GRACE_SECONDS", 0))
    [seconds] = re.fullmatch(r"(\d+)s", bot()["stop_grace_period"]).groups()  # type: ignore[union-attr]
    assert float(seconds) > grace + DRAIN_SECONDS


def test_the_bot_starts_once_redis_answers_and_shares_it() -> None:
    services = compose()["services"]
    assert bot()["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert services["redis"]["healthcheck"]["test"][-1] == "ping"
    assert bot()["environment"]["REDIS_URL"].startswith("redis://redis:6379/")
    assert "ports" not in services["redis"]
    assert "ports" not in services["bot"]
