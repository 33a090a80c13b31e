"""deploy/grafana/billing-bot.json is built on the names /metrics exports: every query names
only series the bot has, and every metric the bot has is on some panel."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.config import Settings
from bot.slack.app import build_app
from bot.slack.server import create_web_app

DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "billing-bot.json"
NAME = re.compile(r"\bbilling_bot_[a-z0-9_]+")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


async def exported(tmp_path: Path) -> dict[str, set[str]]:
    """Metric family -> the series names it exports, from an app and its web server."""
    settings = Settings(
        _env_file=None,
        slack_bot_token=SecretStr("xoxb-test"),
        slack_signing_secret=SecretStr("a-real-signing-secret-0123456789"),
        sqlite_path=str(tmp_path / "state.sqlite3"),
        mkio_token=SecretStr("mkio"),
        contro_api_key=SecretStr("sk_test_contro"),
    )
    bot = build_app(settings)
    try:
        create_web_app(bot)  # registers the server's gauges
        return {
            family.name: {family.name + suffix for suffix in SUFFIXES[family.type]}
            for family in bot.metrics.registry.collect()
        }
    finally:
        await bot.aclose()


async def test_every_query_names_only_series_the_bot_exports(tmp_path: Path) -> None:
    series = set().union(*(await exported(tmp_path)).values())
    for panel in panels(dashboard()["panels"]):
        for target in panel.get("targets", []):
            named = set(NAME.findall(target["expr"]))
            assert named, (panel["title"], target["expr"])
            assert named <= series, (panel["title"], named - series)


async def test_every_metric_is_on_some_panel(tmp_path: Path) -> None:
    families = await exported(tmp_path)
    queried = {
        name
        for panel in panels(dashboard()["panels"])
        for target in panel.get("targets", [])
        for name in NAME.findall(target["expr"])
    }
    missing = {family for family, names in families.items() if not names & queried}
    assert not missing, f"no panel shows {sorted(missing)}"


def test_the_panels_are_laid_out_on_one_grid_with_unique_ids() -> None:
    board = dashboard()
    ids = [panel["id"] for panel in panels(board["panels"])]
    assert len(ids) == len(set(ids))
    for panel in panels(board["panels"]):
        place = panel["gridPos"]
        assert place["x"] + place["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource"]
