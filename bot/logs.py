"""Logging: every secret the bot knows is masked out of every log record, whichever handler
(or library, such as slack-sdk's DEBUG request dumps) ends up writing it."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

MASK = "***"
# Shorter values are not masked: an upstream "secret" such as `done` would blank that word out
# of every later line (audit lines included). Configured tokens and keys are far longer.
_MIN_SECRET_LENGTH = 8


def written_forms(secret: str) -> Iterator[str]:
    """`secret` as a log line may carry it: as is, inside a JSON string (non-ASCII kept, or
    `\\uXXXX`-escaped as `json.dumps` does by default), inside a JSON string inside another
    (a JSON log line of a JSON request dump), and inside a Python repr (`%r` of a body)."""
    once = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    for form in once:
        yield form
        yield json.dumps(form)[1:-1]
        yield json.dumps(form, ensure_ascii=False)[1:-1]
    yield repr(secret)[1:-1]


class SecretRedactor:
    """A log-record factory that formats each record's message eagerly and masks secrets in
    it (and in its traceback). Installed once per process: logging itself is process-wide."""

    def __init__(self) -> None:
        self._secrets: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self._installed = False

    def install(self) -> None:
        with self._lock:
            if self._installed:
                return
            make_record = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                return self._clean(make_record(*args, **kwargs))

            logging.setLogRecordFactory(factory)
            self._installed = True

    def add(self, *secrets: str) -> None:
        """Mask these values, in every form they may be written in, from now on (configured
        tokens, a metrics password shown)."""
        wanted = {
            form
            for secret in secrets
            if len(secret) >= _MIN_SECRET_LENGTH
            for form in written_forms(secret)
        }
        with self._lock:
            # longest first, so a secret containing another is masked whole
            self._secrets = tuple(sorted(set(self._secrets) | wanted, key=len, reverse=True))

    def clean(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def _clean(self, record: logging.LogRecord) -> logging.LogRecord:
        if not self._secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's to report, not ours
            return record
        record.msg, record.args = self.clean(message), None
        if record.exc_info:
            record.exc_text = self.clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return record


redactor = SecretRedactor()


def redact(*secrets: str) -> None:
    """Register secrets to be masked in every log line from now on."""
    redactor.install()
    redactor.add(*secrets)


LogFormat = Literal["text", "json"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: The fields of a JSON line, renamed: {"time", "level", "name", "message"} (+ "exc_info").
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
JSON_RENAMES = {"asctime": "time", "levelname": "level"}


class RedactingTextFormatter(logging.Formatter):
    """The plain format, with a last pass of `redactor` over the whole line (stack info, and
    records made before a secret was registered, included)."""

    def format(self, record: logging.LogRecord) -> str:
        return redactor.clean(super().format(record))


class RedactingJsonFormatter(JsonFormatter):
    """One JSON object per line. Every string in it, `extra` fields included (which the
    record factory never sees), goes through `redactor` before it is serialised."""

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        cleaned = _clean_value(super().process_log_record(log_data))
        assert isinstance(cleaned, dict)
        return cleaned


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return redactor.clean(value)
    if isinstance(value, dict):
        return {_clean_value(k): _clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redactor.clean(str(value))  # whatever the encoder would have made of it


def make_formatter(fmt: LogFormat = "text") -> logging.Formatter:
    """The formatter for `LOG_FORMAT`: "text" (one readable line) or "json" (one object)."""
    if fmt == "text":
        return RedactingTextFormatter(TEXT_FORMAT)
    if fmt == "json":
        return RedactingJsonFormatter(JSON_FIELDS, rename_fields=JSON_RENAMES)
    raise ValueError(f"log format must be 'text' or 'json', not {fmt!r}")


def configure_logging(level: int = logging.INFO, fmt: LogFormat = "text") -> None:
    """Log to stderr as text or JSON lines; secrets are masked by `redactor` in both."""
    redactor.install()
    handler = logging.StreamHandler()
    handler.setFormatter(make_formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
