"""Secrets from files, as Docker and Kubernetes mount them: `<NAME>_FILE` and `SECRETS_DIR`."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import SECRET_NAMES, Settings

SECRET = "file-secret-" + "7a3e9c1b" * 3


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRET_NAMES:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(f"{name.upper()}_FILE", raising=False)
    monkeypatch.delenv("SECRETS_DIR", raising=False)


def settings() -> Settings:
    return Settings(_env_file=None)


def refused(message: str) -> str:
    with pytest.raises(ValidationError) as caught:
        settings()
    text = str(caught.value)
    assert SECRET not in text
    assert message in text, text
    return text


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_every_secret_can_come_from_a_file(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / name
    path.write_text(SECRET + "\n", encoding="utf-8")
    monkeypatch.setenv(f"{name.upper()}_FILE", str(path))
    loaded = settings()
    value = getattr(loaded, name)
    assert value is not None
    assert value.get_secret_value() == SECRET
    assert SECRET in loaded.secrets()  # masked in logs like any other secret
    assert SECRET not in repr(loaded)


def test_only_the_trailing_newline_is_stripped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret"
    path.write_text(f" {SECRET} \r\n", encoding="utf-8")
    monkeypatch.setenv("SLACK_SIGNING_SECRET_FILE", str(path))
    secret = settings().slack_signing_secret
    assert secret is not None
    # the spaces stay, for the start checks to refuse ("has spaces around it")
    assert secret.get_secret_value() == f" {SECRET} "


def test_a_variable_and_its_file_both_set_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret"
    path.write_text(SECRET, encoding="utf-8")
    monkeypatch.setenv("MKIO_TOKEN_FILE", str(path))
    monkeypatch.setenv("MKIO_TOKEN", SECRET)
    refused("MKIO_TOKEN and MKIO_TOKEN_FILE are both set: keep one")


@pytest.mark.parametrize("problem", ["missing", "a directory", "unreadable"])
def test_an_unreadable_file_is_named_with_what_to_do(
    problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret"
    if problem == "a directory":
        path.mkdir()
    elif problem == "unreadable":
        path.write_bytes(b"\xff\xfe not text")
    monkeypatch.setenv("CONTRO_API_KEY_FILE", str(path))
    text = refused(f"{path} cannot be read")
    assert "contro_api_key_file" in text
    assert "or set CONTRO_API_KEY instead" in text


def test_a_file_named_in_dotenv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n", encoding="utf-8")
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"SLACK_BOT_TOKEN_FILE={path}\n", encoding="utf-8")
    token = Settings(_env_file=dotenv).slack_bot_token
    assert token is not None
    assert token.get_secret_value() == SECRET


def test_secrets_dir_supplies_what_the_environment_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "slack_app_token").write_text(SECRET + "\n", encoding="utf-8")
    (tmp_path / "REDIS_URL").write_text("redis://from-the-directory:6379/0", encoding="utf-8")
    monkeypatch.setenv("SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("REDIS_URL", "redis://from-the-environment:6379/0")
    loaded = settings()
    assert loaded.slack_app_token is not None
    assert loaded.slack_app_token.get_secret_value() == SECRET
    assert loaded.redis_url is not None  # the environment wins over the directory
    assert loaded.redis_url.get_secret_value() == "redis://from-the-environment:6379/0"


def test_secrets_dir_is_not_read_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings().secrets_dir is None
    assert settings().slack_app_token is None


def test_secrets_dir_that_is_not_a_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRETS_DIR", str(tmp_path / "nowhere"))
    refused("is not a directory: mount the secrets there, or unset SECRETS_DIR")


def test_a_blank_variable_beside_its_file_counts_as_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret"
    path.write_text(SECRET, encoding="utf-8")
    monkeypatch.setenv("MKIO_TOKEN_FILE", str(path))
    monkeypatch.setenv("MKIO_TOKEN", " ")
    token = settings().mkio_token
    assert token is not None
    assert token.get_secret_value() == SECRET
