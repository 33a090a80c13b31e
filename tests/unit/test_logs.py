import logging

import pytest

from bot.logs import MASK, redact


def test_registered_secrets_are_masked_in_every_record(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    redact("xoxb-secret-token-123", "pa55word-for-metrics")
    log = logging.getLogger("some.library")
    log.debug("sending %s with body %r", "xoxb-secret-token-123", {"p": "pa55word-for-metrics"})
    try:
        raise ValueError("pa55word-for-metrics leaked into an exception")
    except ValueError:
        log.exception("failed")
    assert "xoxb-secret-token-123" not in caplog.text
    assert "pa55word-for-metrics" not in caplog.text
    assert MASK in caplog.records[0].getMessage()
    assert "leaked into an exception" in caplog.text, "the rest of the traceback is kept"


def test_short_values_are_not_treated_as_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    redact("abc")
    logging.getLogger("x").info("abc stays")
    assert "abc stays" in caplog.text


def test_values_shorter_than_eight_characters_are_never_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """F13: an upstream "secret" such as `done` must not blank out audit fields."""
    caplog.set_level(logging.INFO)
    redact("done", "metrics")
    logging.getLogger("audit").info("billing-change kind=metrics result=done")
    assert "kind=metrics result=done" in caplog.text
