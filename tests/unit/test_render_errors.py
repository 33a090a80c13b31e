from __future__ import annotations

import pytest

from bot.errors import (
    BillingBotError,
    CommandError,
    NotAllowed,
    NotConfigured,
    NotFound,
    Unauthorized,
    Unavailable,
)
from bot.slack.render.errors import render_error, render_unexpected
from bot.slack.render.progress import render_working
from tests.unit.test_render_common import dump, texts, visible


def test_command_error_with_a_suggestion() -> None:
    message = render_error(
        CommandError("`hour` covers at most 31 days.", "/billing report 2026-03 by day")
    )
    assert texts(message) == [
        ":thinking_face: `hour` covers at most 31 days.\nTry: `/billing report 2026-03 by day`"
    ]
    assert message.text == "`hour` covers at most 31 days. Try: /billing report 2026-03 by day"


def test_command_error_words_are_not_escaped_twice_and_cannot_mention() -> None:
    # The parser quotes user words already escaped ("`&lt;x&gt;`"); shown once-escaped.
    pre_escaped = CommandError(
        "`2026-02-30 &lt;x&gt;` is not a real date.", "/billing report a&amp;b`c"
    )
    assert texts(render_error(pre_escaped)) == [
        ":thinking_face: `2026-02-30 &lt;x&gt;` is not a real date."
        "\nTry: `/billing report a&amp;bc`"
    ]
    raw = render_error(CommandError("Unknown word <!channel>.", "/billing usage <@U1>"))
    out = dump(raw)
    assert "<!channel>" not in out
    assert "<@U1>" not in out
    assert "&lt;!channel&gt;" in raw.text


def test_command_error_without_a_suggestion() -> None:
    shown = visible(render_error(CommandError("Start must be before end.")))
    assert "Start must be before end." in shown
    assert "Try:" not in shown


def test_not_configured_and_not_allowed() -> None:
    shown = visible(render_error(NotConfigured("Contro", "CONTRO_API_KEY")))
    assert "Contro is not configured: set `CONTRO_API_KEY` to use this command." in shown
    denied = visible(render_error(NotAllowed("Only billing admins can change payment methods.")))
    assert "Only billing admins can change payment methods." in denied


def test_a_not_found_shows_the_apis_words_once_and_no_reference() -> None:
    exc = NotFound(
        "MK.IO",
        "MK.IO has no project `acme` (404): Project <acme> does not exist",
        status=404,
        detail="Project <acme> does not exist",
        ref="abc-123",
    )
    shown = texts(render_error(exc))
    said = "MK.IO has no project `acme` (404): Project &lt;acme&gt; does not exist"
    assert shown == [f":warning: {said}"]


@pytest.mark.parametrize("cls", [Unauthorized, Unavailable])
def test_upstream_errors_show_detail_and_reference(cls: type[Unavailable]) -> None:
    exc = cls(
        "MK.IO",
        "MK.IO could not find project `acme`.",
        status=404,
        code="NotFound",
        detail="Project <acme> does not exist",
        ref="abc-123",
    )
    message = render_error(exc)
    shown = texts(message)
    assert shown[0] == ":warning: MK.IO could not find project `acme`."
    assert shown[1:] == [
        "MK.IO said: Project &lt;acme&gt; does not exist",
        "Reference: `abc-123`, quote it to support",
    ]
    assert "abc-123" in message.text


def test_upstream_error_without_detail_or_ref_has_no_context() -> None:
    payload = render_error(
        Unavailable("Contro", "Contro is not answering; try again soon.")
    ).to_slack()
    assert [b["type"] for b in payload["blocks"]] == ["section"]


def test_a_credential_echoed_by_an_api_is_never_shown() -> None:
    exc = Unauthorized(
        "Contro", "Contro refused the key.", detail="Invalid key sk_live_abcDEF123456"
    )
    out = dump(render_error(exc))
    assert "sk_live_abcDEF123456" not in out
    assert "Invalid key [redacted]" in out


def test_no_repr_or_class_names_leak() -> None:
    class Odd(BillingBotError):
        pass

    out = dump(render_error(Odd("Something odd happened.")))
    assert "Odd(" not in out
    assert "Traceback" not in out
    assert "Something odd happened." in out


def test_unexpected() -> None:
    message = render_unexpected("inc-7f3a")
    assert texts(message) == [":warning: Something went wrong on our side. Reference `inc-7f3a`."]
    assert message.text == "Something went wrong on our side. Reference inc-7f3a."


def test_working() -> None:
    message = render_working("fetching this month's usage of `acme-prod`")
    assert message.text == "Working on it… fetching this month's usage of `acme-prod`"
    assert texts(message) == [f":hourglass_flowing_sand: {message.text}"]


def test_working_neither_double_escapes_nor_lets_a_mention_through() -> None:
    already_escaped = render_working("fetching usage of `a &amp; b &lt;x&gt;`")
    assert already_escaped.text == "Working on it… fetching usage of `a &amp; b &lt;x&gt;`"
    raw = render_working("fetching usage of `<!channel>`")
    assert "<!channel>" not in dump(raw)
    assert raw.text == "Working on it… fetching usage of `&lt;!channel&gt;`"


def test_a_suggestion_the_message_already_names_is_not_repeated() -> None:
    exc = CommandError(
        "I didn't understand that. Did you mean `/billing usage x`?", suggestion="/billing usage x"
    )
    shown = visible(render_error(exc))
    assert shown.count("/billing usage x") == 1
