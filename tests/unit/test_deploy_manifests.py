"""deploy/kubernetes/ validates offline against Kubernetes' own schemas (`kubernetes-validate`,
which bundles them; strict: an unknown field is an error), and agrees with the bot: the probes
it serves, its drain time, the settings it reads, the image's user.

The ServiceMonitor is a CRD whose schema kubernetes-validate does not hold: it is checked
against SERVICE_MONITOR below, the part of the Prometheus Operator's schema it uses (unknown
fields refused there too), and its selector and port against the Service.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from bot.config import Settings
from bot.slack.server import DRAIN_SECONDS

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.31"
# Not Kubernetes objects, or not applied: kustomize's own file, and an example Secret.
NOT_APPLIED = {"kustomization.yaml", "secret.example.yaml"}
# Variables the image reads that are not settings of the bot.
OTHER_VARIABLES = {"MPLCONFIGDIR"}

_STRICT: dict[str, Any] = {"type": "object", "additionalProperties": False}
SERVICE_MONITOR: dict[str, Any] = {
    **_STRICT,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {
            **_STRICT,
            "required": ["selector", "endpoints"],
            "properties": {
                "selector": {
                    **_STRICT,
                    "properties": {
                        "matchLabels": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        }
                    },
                },
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        **_STRICT,
                        "required": ["port"],
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string"},
                            "interval": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                            "scrapeTimeout": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                        },
                    },
                },
            },
        },
    },
}


@functools.cache
def _parsed(name: str) -> tuple[dict[str, Any], ...]:
    return tuple(d for d in yaml.safe_load_all((MANIFESTS / name).read_text()) if d is not None)


def documents(name: str) -> list[dict[str, Any]]:
    """The file's documents, each a fresh copy a test may change."""
    return copy.deepcopy(list(_parsed(name)))


def objects() -> list[tuple[str, dict[str, Any]]]:
    return [
        (path.name, doc)
        for path in sorted(MANIFESTS.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in documents(path.name)
    ]


def one(kind: str, name: str) -> dict[str, Any]:
    [found] = [d for _, d in objects() if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def bot_container() -> dict[str, Any]:
    [container] = one("Deployment", "billing-bot")["spec"]["template"]["spec"]["containers"]
    found: dict[str, Any] = container
    return found


def config() -> dict[str, str]:
    data: dict[str, str] = one("ConfigMap", "billing-bot-config")["data"]
    return data


@pytest.mark.parametrize(
    ("name", "document"),
    [(n, d) for n, d in objects() if d["kind"] != "ServiceMonitor"],
    ids=lambda value: value if isinstance(value, str) else value["kind"],
)
def test_each_object_validates_against_kubernetes_schemas(
    name: str, document: dict[str, Any]
) -> None:
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_service_monitor_validates_and_scrapes_the_service_s_metrics() -> None:
    monitor = one("ServiceMonitor", "billing-bot")
    jsonschema.validate(monitor, SERVICE_MONITOR)
    service = one("Service", "billing-bot")
    labels = service["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"


def test_the_validator_refuses_what_kubernetes_would() -> None:
    # the check can fail: a misspelt field, and a CRD it has no schema for
    deployment = one("Deployment", "billing-bot")
    deployment["spec"]["template"]["spec"]["terminationGracePeriod"] = 45
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(
            one("ServiceMonitor", "billing-bot"), KUBERNETES_VERSION, strict=True
        )
    broken = {**one("ServiceMonitor", "billing-bot"), "spec": {"endpoint": []}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SERVICE_MONITOR)


def test_kustomization_applies_every_manifest_but_the_example_secret() -> None:
    [kustomization] = documents("kustomization.yaml")
    files = {p.name for p in MANIFESTS.glob("*.yaml")}
    assert set(kustomization["resources"]) == files - NOT_APPLIED


def test_two_replicas_with_liveness_on_livez_and_readiness_on_readyz() -> None:
    deployment = one("Deployment", "billing-bot")
    container = bot_container()
    assert deployment["spec"]["replicas"] == 2
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    ports = {p["name"] for p in container["ports"]}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in ports
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]["memory"]


def test_shutdown_fits_in_the_grace_period() -> None:
    """SIGKILL comes after terminationGracePeriodSeconds: it must be longer than the time
    /readyz fails before the bot stops listening plus the drain of answers in progress; and
    that first time must let the readiness probe fail before the bot stops listening."""
    pod = one("Deployment", "billing-bot")["spec"]["template"]["spec"]
    grace = float(config()["READY_GRACE_SECONDS"])
    readiness = bot_container()["readinessProbe"]
    assert pod["terminationGracePeriodSeconds"] > grace + DRAIN_SECONDS
    assert readiness["periodSeconds"] * readiness["failureThreshold"] <= grace


def test_pods_run_as_the_image_s_user_on_a_read_only_filesystem() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    [user] = re.findall(r"^USER (\d+):\d+$", dockerfile, flags=re.MULTILINE)
    for name in ("billing-bot", "billing-bot-redis"):
        pod = one("Deployment", name)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
    bot_pod = one("Deployment", "billing-bot")["spec"]["template"]["spec"]
    assert str(bot_pod["securityContext"]["runAsUser"]) == user
    mounts = {m["mountPath"] for m in bot_container()["volumeMounts"]}
    assert "/tmp" in mounts  # exports, and matplotlib's cache  # noqa: S108
    assert config()["MPLCONFIGDIR"].startswith("/tmp/")  # noqa: S108


def test_secrets_are_files_in_secrets_dir_named_after_settings() -> None:
    mounts = {m["name"]: m for m in bot_container()["volumeMounts"]}
    volumes = {
        v["name"]: v
        for v in one("Deployment", "billing-bot")["spec"]["template"]["spec"]["volumes"]
    }
    secret_volume = next(v for v in volumes.values() if "secret" in v)
    secret_name = secret_volume["secret"]["secretName"]
    assert mounts[secret_volume["name"]]["mountPath"] == config()["SECRETS_DIR"]
    example = one("Secret", secret_name)
    assert set(example["stringData"]) <= set(Settings.model_fields)
    assert not any("env" in c for c in [bot_container()]), "no secret as a variable"


def test_the_config_map_holds_only_settings_of_the_bot_and_valid_ones() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    assert set(config()) <= fields | OTHER_VARIABLES
    # SECRETS_DIR exists only in the pod
    values: dict[str, Any] = {
        k.lower(): v for k, v in config().items() if k in fields and k != "SECRETS_DIR"
    }
    Settings(_env_file=None, **values)


def test_every_selector_finds_the_pods_it_means() -> None:
    bot = one("Deployment", "billing-bot")["spec"]["template"]["metadata"]["labels"]
    redis = one("Deployment", "billing-bot-redis")["spec"]["template"]["metadata"]["labels"]

    def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
        return selector.items() <= labels.items()

    for kind in ("Service", "PodDisruptionBudget", "NetworkPolicy"):
        spec = one(kind, "billing-bot")["spec"]
        selector = spec.get("selector", spec.get("podSelector"))
        selector = selector.get("matchLabels", selector)
        assert selects(selector, bot), kind
        assert not selects(selector, redis), kind
    assert selects(one("Service", "billing-bot-redis")["spec"]["selector"], redis)
    assert not selects(one("Service", "billing-bot-redis")["spec"]["selector"], bot)
    host = config()["REDIS_URL"].split("//")[1].split(":")[0]
    assert one("Service", host)
