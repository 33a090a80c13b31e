"""Settings: the only place that reads the environment (and `.env`).

Each secret can also come from a file, as Docker and Kubernetes mount them: `<NAME>_FILE` names
the file (its content, less a trailing newline, is the value; set with `<NAME>` as well it is
refused, since which one was meant cannot be known), and `SECRETS_DIR` names a directory whose
files, named after settings, are read last, under the environment and `.env`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

SECRET_NAMES = (
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
    "mkio_token",
    "contro_api_key",
    "contro_api_key_next",
    "redis_url",
)


def read_secret_file(variable: str, path: str) -> SecretStr:
    """The content of the file `variable` names, less one trailing newline. Neither the content
    nor the error it raises quotes anything but the path."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise PydanticCustomError(
            "secret_file",
            "{path} cannot be read ({reason}): mount the secret there, readable by the bot's "
            "user, or set {name} instead",
            {"path": path, "reason": reason, "name": variable.removesuffix("_FILE")},
        ) from None
    return SecretStr(text.removesuffix("\n").removesuffix("\r"))


class Settings(BaseSettings):
    """The bot's environment variables, as the README's "Configuration" lists them."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,  # an error about a secret must not quote it
    )

    # Declared before the secrets: each secret's validator reads what its file held.
    secrets_dir: str | None = None
    slack_bot_token_file: SecretStr | None = None
    slack_signing_secret_file: SecretStr | None = None
    slack_app_token_file: SecretStr | None = None
    mkio_token_file: SecretStr | None = None
    contro_api_key_file: SecretStr | None = None
    contro_api_key_next_file: SecretStr | None = None
    redis_url_file: SecretStr | None = None

    slack_bot_token: SecretStr | None = Field(None, validate_default=True)
    slack_signing_secret: SecretStr | None = Field(None, validate_default=True)
    slack_app_token: SecretStr | None = Field(None, validate_default=True)
    slack_api_url: str = "https://slack.com/api/"

    mkio_api_url: str = "https://app.mk.io/api/v1"
    mkio_token: SecretStr | None = Field(None, validate_default=True)
    contro_api_url: str = "https://api.contro.me/v1"
    contro_api_key: SecretStr | None = Field(None, validate_default=True)
    # A second key while Contro rotates them: tried when CONTRO_API_KEY is refused (401).
    contro_api_key_next: SecretStr | None = Field(None, validate_default=True)

    billing_admins: Annotated[frozenset[str], NoDecode] = frozenset()
    audit_channel: str | None = None
    cache_ttl_seconds: float = Field(60.0, ge=0)
    redis_url: SecretStr | None = Field(None, validate_default=True)
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
    # On SIGTERM, /readyz answers 503 for this long while the bot still serves, so that the load
    # balancer stops routing to it before it stops listening (docs/deployment.md, "Shutdown").
    ready_grace_seconds: float = Field(0.0, ge=0)
    # Socket Mode only (`serve` has these on its own port): /livez, /readyz, /healthz and
    # /metrics on this port (unset: no listener) and address (all interfaces in a container).
    health_port: int | None = Field(None, ge=0, le=65535)
    health_host: str = "127.0.0.1"
    # A usage report with more rows is refused, with a word on asking for less.
    report_max_rows: int = Field(2_000_000, ge=1)
    # The workspace shows Slack's `table` block: a message's first table is sent as one
    # (columns aligned, numbers right-aligned); without it, tables are monospace text.
    slack_table_blocks: bool = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        directory = os.environ.get("SECRETS_DIR")
        if directory is None and isinstance(dotenv_settings, DotEnvSettingsSource):
            directory = dotenv_settings.env_vars.get("secrets_dir")
        sources = [init_settings, env_settings, dotenv_settings]
        if directory and Path(directory).is_dir():  # otherwise `secrets_dir` says what is wrong
            sources.append(SecretsSettingsSource(settings_cls, secrets_dir=directory))
        return tuple(sources)

    @field_validator("secrets_dir")
    @classmethod
    def _a_directory(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_dir():
            raise PydanticCustomError(
                "secrets_dir",
                "{path} is not a directory: mount the secrets there, or unset SECRETS_DIR",
                {"path": value},
            )
        return value

    @field_validator(*(f"{name}_file" for name in SECRET_NAMES), mode="before")
    @classmethod
    def _read_file(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str) and info.field_name:
            return read_secret_file(info.field_name.upper(), value)
        return value

    @field_validator(*SECRET_NAMES)
    @classmethod
    def _from_file(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        name = info.field_name or ""
        from_file = info.data.get(f"{name}_file")
        if from_file is None:
            return value
        if value is not None and value.get_secret_value().strip():  # blank: as if unset
            raise PydanticCustomError(
                "secret_twice",
                "{name} and {name}_FILE are both set: keep one",
                {"name": name.upper()},
            )
        return from_file  # type: ignore[no-any-return]

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
            self.contro_api_key_next,
            self.redis_url,
        )
        return [v.get_secret_value() for v in values if v and v.get_secret_value()]
