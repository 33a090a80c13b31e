"""Logging: every secret the bot knows is masked out of every log record, whichever handler
(or library, such as slack-sdk's DEBUG request dumps) ends up writing it."""

from __future__ import annotations

import logging
import threading
from typing import Any

MASK = "***"
_MIN_SECRET_LENGTH = 4


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
        """Mask these values from now on (configured tokens, a metrics password seen)."""
        wanted = {s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}
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


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr with a plain format; secrets are masked by `redactor`."""
    redactor.install()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
