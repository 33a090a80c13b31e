from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.apis.mkio.models import MetricsEndpoint
from bot.core.answers import MetricsAnswer
from bot.errors import SecretNotPostable
from bot.slack.render.metrics import render_metrics
from tests.unit.test_render_common import dump, visible

AT = datetime(2026, 11, 21, 20, 15, 3, tzinfo=UTC)
PASSWORD = "s3cr3t-*_P@ss`word"
USERNAME = "metrics-user-7f3a"
URL = "https://metrics.example.net/acme-prod/federate"


def _endpoint(enabled: bool) -> MetricsEndpoint:
    data: dict[str, Any] = {"kind": "MetricsEndpoint", "spec": {"enabled": enabled}}
    if enabled:
        data["status"] = {"url": URL, "username": USERNAME, "password": PASSWORD}
    return MetricsEndpoint.model_validate(data)


def test_admin_sees_connection_details_exactly() -> None:
    message = render_metrics(MetricsAnswer("acme-prod", _endpoint(True), True, AT))
    payload = message.to_slack(ephemeral=True)
    fields = next(b for b in payload["blocks"] if "fields" in b)["fields"]
    assert [f["text"] for f in fields] == [
        "*URL*",
        URL,
        "*Username*",
        USERNAME,
        "*Password*",
        PASSWORD,
    ]
    assert fields[5]["type"] == "plain_text"  # shown as is: no mrkdwn, no emoji
    shown = visible(message)
    assert "Only you can see this." in shown
    assert "Metrics export is *on* for `acme-prod`." in shown.replace(" Connection details:", "")
    assert PASSWORD not in message.text  # never in the notification text


def test_connection_details_make_the_message_secret() -> None:
    message = render_metrics(MetricsAnswer("acme-prod", _endpoint(True), True, AT))
    assert message.secret
    with pytest.raises(SecretNotPostable):
        message.to_slack()  # anything but an ephemeral reply to the asker


@pytest.mark.parametrize("enabled", [True, False])
def test_no_connection_details_no_secret(enabled: bool) -> None:
    message = render_metrics(MetricsAnswer("acme-prod", _endpoint(enabled), False, AT))
    assert not message.secret
    assert message.to_slack()


@pytest.mark.parametrize("enabled", [True, False])
def test_secrets_are_absent_unless_shown_to_an_admin(enabled: bool) -> None:
    out = dump(render_metrics(MetricsAnswer("acme-prod", _endpoint(enabled), False, AT)))
    assert PASSWORD not in out
    assert USERNAME not in out
    assert URL not in out


def test_enabled_for_a_non_admin_says_who_can_see_details() -> None:
    shown = visible(render_metrics(MetricsAnswer("acme-prod", _endpoint(True), False, AT)))
    assert "Metrics export is *on* for `acme-prod`." in shown
    assert "Connection details are shown to billing admins only." in shown
    assert "Only you can see this" not in shown


def test_disabled_says_so_and_how_to_enable() -> None:
    message = render_metrics(MetricsAnswer("acme-prod", _endpoint(False), True, AT))
    shown = visible(message)
    assert "Metrics export is *off* for `acme-prod`." in shown
    assert "`/billing metrics acme-prod enable`" in shown
    assert "admins only" not in shown
    assert "As of now" not in shown
    assert "Fetched 2026-11-21 20:15:03 UTC" in shown
    assert message.text == "Metrics export for acme-prod is off."


def test_enabled_without_status_yet() -> None:
    endpoint = MetricsEndpoint.model_validate({"spec": {"enabled": True}})
    shown = visible(render_metrics(MetricsAnswer("acme-prod", endpoint, True, AT)))
    assert "No connection details yet" in shown
