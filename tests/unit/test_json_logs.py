"""`LOG_FORMAT=json`: one JSON object per line, with secrets masked as in the text format."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.logs import MASK, LogFormat, configure_logging, redact, written_forms

TOKEN = "xoxb-json-logs-token-4242"
PASSWORD = 'pa"ss\\word-for-metrics'  # JSON escapes both: masking must happen before encoding


@pytest.fixture(autouse=True)
def root_logging() -> Iterator[None]:
    """`configure_logging` replaces the root handlers: put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def json_lines(err: str) -> list[dict[str, object]]:
    lines = err.splitlines()
    assert lines, "something was logged"
    parsed = []
    for line in lines:
        value = json.loads(line)  # every line on its own is valid JSON
        assert isinstance(value, dict), line
        parsed.append(value)
    return parsed


def test_each_line_is_a_json_object_with_level_name_and_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(logging.DEBUG, fmt="json")
    logging.getLogger("billing.one").debug("fetched %d rows from %s", 3, "MK.IO")
    logging.getLogger("billing.two").warning("a line\nthat spans two")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("billing.three").exception("failed")
    logging.getLogger("billing.four").info("with extra", extra={"ref": "sandbox-7-1"})

    records = json_lines(capsys.readouterr().err)
    assert [(r["level"], r["name"], r["message"]) for r in records] == [
        ("DEBUG", "billing.one", "fetched 3 rows from MK.IO"),
        ("WARNING", "billing.two", "a line\nthat spans two"),
        ("ERROR", "billing.three", "failed"),
        ("INFO", "billing.four", "with extra"),
    ]
    assert all(r["time"] for r in records)
    assert "RuntimeError: boom" in str(records[2]["exc_info"])
    assert records[3]["ref"] == "sandbox-7-1"


def test_the_level_is_honoured(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(logging.WARNING, fmt="json")
    logging.getLogger("x").info("not shown")
    logging.getLogger("x").warning("shown")
    assert [r["message"] for r in json_lines(capsys.readouterr().err)] == ["shown"]


def test_secrets_are_masked_in_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    redact(TOKEN, PASSWORD)
    configure_logging(logging.DEBUG, fmt="json")
    log = logging.getLogger("slack_sdk.web.async_base_client")
    log.debug("Sending a request - headers: %s", {"Authorization": f"Bearer {TOKEN}"})
    log.info("endpoint %r", {"password": PASSWORD})
    log.info("extra fields too", extra={"token": TOKEN, "nested": {"p": [PASSWORD]}})
    log.info("and stack info", stack_info=True)
    try:
        raise ValueError(f"{PASSWORD} leaked into an exception")
    except ValueError:
        log.exception("failed with %s", TOKEN)

    err = capsys.readouterr().err
    records = json_lines(err)
    assert len(records) == 5
    for secret in (TOKEN, PASSWORD, json.dumps(PASSWORD)[1:-1]):
        assert secret not in err
    assert MASK in str(records[0]["message"])
    assert records[2]["token"] == MASK
    assert records[2]["nested"] == {"p": [MASK]}
    assert "leaked into an exception" in str(records[4]["exc_info"]), "the rest is kept"


def test_secrets_are_masked_in_text_lines_as_before(capsys: pytest.CaptureFixture[str]) -> None:
    redact(TOKEN)
    configure_logging(logging.DEBUG)
    logging.getLogger("x").info("token %s", TOKEN)
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert f"INFO x: token {MASK}" in err
    with pytest.raises(json.JSONDecodeError):
        json.loads(err.splitlines()[0])


def test_log_format_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    settings = Settings(_env_file=None)
    configure_logging(fmt=settings.log_format)
    logging.getLogger("x").info("hello")
    assert json_lines(capsys.readouterr().err)[0]["message"] == "hello"


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="'text' or 'json'"):
        configure_logging(fmt="yaml")  # type: ignore[arg-type]


# F11: slack-sdk's DEBUG dump writes a message body with json.dumps, so a metrics password
# reaches the line escaped (`\"`, `\\`, `\u00fc`), and a JSON line escapes it once more.
ESCAPABLE = 'Pw"ü\\näive/€-Secret-7f3a'
UNIQUE_PART = "Secret-7f3a"  # the same in every escaped form


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_escaped_forms_of_a_secret_are_masked(
    fmt: LogFormat, ensure_ascii: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    redact(ESCAPABLE)
    configure_logging(logging.DEBUG, fmt=fmt)
    body = json.dumps({"text": ESCAPABLE + "video-platform"}, ensure_ascii=ensure_ascii)
    log = logging.getLogger("slack_sdk.webhook.async_client")
    log.debug("Sending a request - url: https://hooks.test/1, body: %s", body)
    log.debug("repr of the body: %r", {"text": ESCAPABLE})
    log.info("as an extra field", extra={"body": body})
    err = capsys.readouterr().err
    assert UNIQUE_PART not in err, err
    assert "video-platform" in err, "the rest of the line is kept"


def test_every_written_form_of_a_secret_is_known() -> None:
    forms = set(written_forms(ESCAPABLE))
    once = json.dumps(ESCAPABLE)[1:-1]
    assert {ESCAPABLE, once, json.dumps(ESCAPABLE, ensure_ascii=False)[1:-1]} <= forms
    assert json.dumps(once)[1:-1] in forms  # a JSON dump inside a JSON log line
    assert repr(ESCAPABLE)[1:-1] in forms
