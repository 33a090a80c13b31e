"""Settings: the only place that reads the environment (and `.env`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """The bot's environment variables, as the README's "Configuration" lists them."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    mkio_api_url: str = "https://app.mk.io/api/v1"
    mkio_token: SecretStr | None = None
    contro_api_url: str = "https://api.contro.me/v1"
    contro_api_key: SecretStr | None = None

    billing_admins: Annotated[frozenset[str], NoDecode] = frozenset()
    audit_channel: str | None = None
    cache_ttl_seconds: float = Field(60.0, ge=0)
    redis_url: SecretStr | None = None
    log_format: Literal["text", "json"] = "text"
    # Schedules and budgets live here unless REDIS_URL is set.
    sqlite_path: str = "billing-bot.sqlite3"
    # Bounds on what the billing APIs send (bot.apis.http.Limits): body size after decompression,
    # and a deadline per call, retries included. A usage report (its CSV, or its JSON parsed as it
    # streams in) has its own, larger, ones.
    upstream_max_json_bytes: int = Field(64 * 1024 * 1024, ge=1)
    upstream_max_file_bytes: int = Field(512 * 1024 * 1024, ge=1)
    upstream_deadline_seconds: float = Field(30.0, gt=0)
    upstream_file_deadline_seconds: float = Field(300.0, gt=0)
    # How many requests each API gets at once (more wait their turn in the bot, not counted
    # against their deadline), and Contro's pace per minute (0: unpaced; Contro allows 1,000).
    mkio_max_concurrency: int = Field(64, ge=1)
    contro_max_concurrency: int = Field(32, ge=1)
    contro_max_requests_per_minute: int = Field(900, ge=0)
    # A usage report with more rows is refused, with a word on asking for less.
    report_max_rows: int = Field(2_000_000, ge=1)

    @field_validator("billing_admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack-sdk joins method names onto base_url as plain strings.
        return value if value.endswith("/") else value + "/"

    @field_validator("audit_channel", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def secrets(self) -> list[str]:
        """Every configured secret value, for log redaction and leak tests."""
        values = (
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.mkio_token,
            self.contro_api_key,
            self.redis_url,
        )
        return [v.get_secret_value() for v in values if v and v.get_secret_value()]
