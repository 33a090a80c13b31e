"""manifest.yml validates against Slack's app manifest JSON schema, and matches the code."""

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource

from bot.access import BOT_SCOPES
from bot.slack.ids import CallbackId

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "schemas"
REMOTE = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/"


def load_manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return manifest


def slack_validator() -> jsonschema.Draft7Validator:
    """The all-versions schema, its remote $refs served from the vendored copies."""
    registry: Registry = Registry().with_resources(
        (
            REMOTE + f"manifest.schema.{version}.json",
            Resource.from_contents(
                json.loads((SCHEMAS / f"slack-manifest.schema.{version}.json").read_text())
            ),
        )
        for version in ("1.0.0", "2.0.0")
    )
    top = json.loads((SCHEMAS / "slack-manifest.schema.json").read_text())
    return jsonschema.Draft7Validator(top, registry=registry)


def test_manifest_validates_against_slack_schema() -> None:
    errors = sorted(slack_validator().iter_errors(load_manifest()), key=str)
    assert not errors, "\n".join(e.message for e in errors)


def test_schema_rejects_a_broken_manifest() -> None:
    # Guards the test above: the schema really is applied.
    broken = load_manifest()
    broken["features"]["slash_commands"][0]["command"] = 42
    assert list(slack_validator().iter_errors(broken))


def test_manifest_declares_what_the_bot_listens_to() -> None:
    manifest = load_manifest()
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/billing"]
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "app_mention",
        "message.im",
    }
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    [shortcut] = manifest["features"]["shortcuts"]
    assert shortcut["callback_id"] == CallbackId.REPORT_SHORTCUT
    # what `billing-bot check` asks Slack for
    assert manifest["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
