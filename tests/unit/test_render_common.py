"""The shared rendering pieces; `texts`/`visible`/`dump` are reused by the other render tests."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import mrkdwn
from bot.devtools.fakeslack.reading import local_dates, wide_code_lines
from bot.slack.render import common
from bot.slack.render.common import (
    FENCE,
    MAX_BLOCKS,
    MAX_TABLE_WIDTH,
    TABLE_BLOCKS,
    Align,
    Column,
    Message,
    TableSection,
    code,
    escape,
    facts,
    fetched_text,
    finish,
    fit,
    header,
    lines,
    local_time,
    month_bounds,
    period_text,
    section,
    table,
    use_table_blocks,
)

# -- helpers for every render test ------------------------------------------------------------


def _strings(node: Any) -> list[str]:
    """Times as a reader in UTC sees them: a `<!date^…>` as its fallback text."""
    if isinstance(node, dict):
        out = [local_dates(node["text"])] if isinstance(node.get("text"), str) else []
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                out += _strings(value)
        return out
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def texts(message: Message) -> list[str]:
    """Every text a person sees in the posted blocks, in order (shown to its asker)."""
    return _strings(message.to_slack(ephemeral=True)["blocks"])


def visible(message: Message) -> str:
    return "\n".join(texts(message))


def dump(message: Message) -> str:
    """Everything that is sent to Slack (to its asker), as JSON text."""
    return json.dumps(message.to_slack(ephemeral=True), ensure_ascii=False)


def code_lines(message: Message) -> list[str]:
    """The lines inside every code block of the message (table rows, headings included)."""
    out: list[str] = []
    for text in texts(message):
        parts = text.split(FENCE)
        for inside in parts[1::2]:
            out += [line for line in inside.split("\n") if line]
    return out


def joined_rows(message: Message) -> list[str]:
    """`code_lines`, with a table split into several (each repeating the first column, as a
    wide table is) joined again: the heading line, the rule, then one line per row."""
    lines = code_lines(message)
    starts = [i for i in range(len(lines) - 1) if set(lines[i + 1]) <= {"-", " "}]
    tables = [lines[a : b - 0] for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]
    joined = list(tables[0])
    for part in tables[1:]:
        for k, line in enumerate(part):
            if k == 1:
                continue
            key = line.split("  ")[0]
            joined[k] = joined[k] + "  " + line[len(key) :].strip()
    return joined


# -- Message --------------------------------------------------------------------------------


def test_to_slack_gives_text_and_block_dicts() -> None:
    message = Message(text="Fallback", blocks=[header("Title"), section("*hello*")])
    payload = message.to_slack()
    assert payload["text"] == "Fallback"
    assert [b["type"] for b in payload["blocks"]] == ["header", "section"]
    assert payload["blocks"][1]["text"] == {"type": "mrkdwn", "text": "*hello*", "verbatim": True}


@pytest.mark.parametrize("text", ["", "   \n"])
def test_a_message_needs_a_fallback_text(text: str) -> None:
    with pytest.raises(ValueError, match="fallback"):
        Message(text=text, blocks=[section("x")])


# -- escaping -------------------------------------------------------------------------------


def test_escape_makes_mentions_and_links_inert() -> None:
    out = escape("<!channel> & <https://evil.example|click> <@U123>")
    assert "<" not in out
    assert ">" not in out
    assert out == ("&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; &lt;@U123&gt;")


def test_escape_does_not_double_escape_its_own_output_source() -> None:
    assert escape("a &amp; b") == "a &amp;amp; b"  # the API's text is shown as it was sent


def test_code_span_cannot_be_broken_out_of() -> None:
    out = code("x` <!here> `y\nz")
    assert out.count("`") == 2
    assert out.startswith("`")
    assert out.endswith("`")
    assert "<!here>" not in out
    assert "\n" not in out


def test_header_text_cannot_mention() -> None:
    block = header("Usage — <!channel>").to_dict()
    assert "<!channel>" not in block["text"]["text"]
    assert "!channel" in block["text"]["text"]


# -- facts ----------------------------------------------------------------------------------


def test_period_text_says_utc_and_exclusive_end() -> None:
    assert (
        period_text(date(2026, 11, 1), date(2026, 11, 22))
        == "Period: 2026-11-01 → 2026-11-22 (UTC, end exclusive)"
    )


def test_fetched_text_is_in_each_readers_zone_with_utc_as_the_fallback() -> None:
    local = "<!date^1795292103^{date_short_pretty} {time_secs}|2026-11-21 20:15:03 UTC>"
    assert fetched_text(datetime(2026, 11, 21, 20, 15, 3, tzinfo=UTC)) == f"Fetched {local}"
    paris = timezone(timedelta(hours=1))
    assert fetched_text(datetime(2026, 11, 21, 21, 15, 3, tzinfo=paris)) == f"Fetched {local}"
    assert fetched_text(datetime(2026, 11, 21, 20, 15, 3)) == f"Fetched {local}"
    assert local_time(datetime(2026, 11, 21, 20, 15, 3, tzinfo=UTC)) == (
        "<!date^1795292103^{date_short_pretty} {time}|2026-11-21 20:15 UTC>"
    )


def test_facts_context_variants() -> None:
    at = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    now = [local_dates(e["text"]) for e in facts(at).to_dict()["elements"]]
    assert now == ["Fetched 2026-12-31 23:59:59 UTC"]  # no "As of now": it adds nothing
    month = [e["text"] for e in facts(at, "2026-12").to_dict()["elements"]]
    assert month[0] == "Period: 2026-12-01 → 2027-01-01 (UTC, end exclusive)"
    odd = [e["text"] for e in facts(at, "<!here>").to_dict()["elements"]]
    assert odd[0] == "Period: &lt;!here&gt;"


def test_month_bounds() -> None:
    assert month_bounds("2026-02") == (date(2026, 2, 1), date(2026, 3, 1))
    assert month_bounds("2026-13") is None
    assert month_bounds("soon") is None


# -- tables ---------------------------------------------------------------------------------

COLUMNS = [Column("Name"), Column("Amount", Align.RIGHT)]


def test_a_wide_table_wraps_its_text_columns_within_sixty_characters() -> None:
    columns = [Column("Meter"), Column("Note", max_width=80), Column("Cost", Align.RIGHT)]
    note = "charged at the list price of the card, per region, rounded to cents"
    rows = [["video_encoding_ondemand", note, "1,234,567.89 USD"], ["drm", "short", "1.00 USD"]]
    got = code_lines(finish("t", table(columns, rows)))
    assert max(len(line) for line in got) <= MAX_TABLE_WIDTH
    assert got[2].startswith("video_encoding_ondemand"), "the first column is kept whole"
    assert got[2].endswith("1,234,567.89 USD"), "numbers are never wrapped"
    words = " ".join(line[25:].split("  ")[0].strip() for line in got[2:-1])
    assert words.replace("  ", " ").startswith("charged at the list"), got
    assert got[-1].split() == ["drm", "short", "1.00", "USD"]


def test_a_table_of_too_many_numbers_is_split_repeating_its_first_column() -> None:
    columns = [Column("Project"), *(Column(f"Figure {n}", Align.RIGHT) for n in range(1, 8))]
    rows = [["video-platform", *(f"{n},000,000.00" for n in range(1, 8))]]
    blocks = table(columns, rows, title="*Costs*")
    got = code_lines(finish("t", blocks))
    assert max(len(line) for line in got) <= MAX_TABLE_WIDTH
    headings = [line for line in got if line.startswith("Project")]
    assert len(headings) == 3, "three tables, each headed by the first column"
    rows_shown = [line for line in got if line.startswith("video-platform")]
    assert [len(line.split()) - 1 for line in rows_shown] == [3, 2, 2], "split evenly"
    assert sum(len(line.split()) - 1 for line in rows_shown) == 7, "every figure once"
    assert visible(finish("t", blocks)).startswith("*Costs*"), "the title once, first"


def test_a_split_table_repeats_the_columns_that_tell_its_rows_apart() -> None:
    """A project has several meters: each part of a split table names the meter too, or
    its rows could not be told apart."""
    columns = [
        Column("Project"),
        Column("Meter"),
        *(Column(f"Figure {n}", Align.RIGHT) for n in range(1, 6)),
    ]
    rows = [
        [project, meter, *(f"{n},000,000.00" for n in range(1, 6))]
        for project in ("archive", "live-events")
        for meter in ("egress", "storage")
    ]
    got = code_lines(finish("t", table(columns, rows)))
    assert max(len(line) for line in got) <= MAX_TABLE_WIDTH
    headings = [line.split()[:2] for line in got if line.startswith("Project")]
    assert len(headings) > 1, "split"
    assert all(heading == ["Project", "Meter"] for heading in headings)
    body = [line.split()[:2] for line in got if line.startswith(("archive", "live-events"))]
    assert body == [[p, m] for p, m, *_ in rows] * len(headings)


def test_wide_code_lines_finds_what_a_phone_would_wrap() -> None:
    narrow = {"blocks": [{"text": {"type": "mrkdwn", "text": "```\n" + "x" * 60 + "\n```"}}]}
    wide = {"text": "a\n```\n" + "&amp;" * 61 + "\n```\n" + "y" * 99}
    assert wide_code_lines(narrow) == []
    assert wide_code_lines(wide) == ["&" * 61], "escapes count as the character shown"


def test_table_aligns_columns() -> None:
    rows = [["alpha", "1.00"], ["b", "1,234.56"], ["gamma-delta", "12.30"]]
    message = finish("t", table(COLUMNS, rows))
    got = code_lines(message)
    assert got[0].startswith("Name")
    assert got[0].endswith("Amount")
    body = got[2:]
    assert [line.split()[0] for line in body] == ["alpha", "b", "gamma-delta"]
    assert len({len(line) for line in body}) == 1  # right-aligned: all rows end together
    assert len(got[0]) == len(body[0])  # the heading is right-aligned over its column too
    assert body[0] == "alpha" + " " * 12 + "1.00"
    assert body[1] == "b" + " " * 12 + "1,234.56"


def test_table_splits_into_sections_under_3000_characters() -> None:
    rows = [[f"meter-{i:04d}-" + "x" * 25, f"{i},000.00 USD"] for i in range(300)]
    blocks = table(COLUMNS, rows, max_rows=1000)
    sections = [b for b in blocks if isinstance(b, SectionBlock)]
    assert len(sections) > 3
    assert all(isinstance(b, TableSection) for b in blocks)
    shown: list[str] = []
    for block in sections:
        assert isinstance(block.text, MarkdownTextObject)
        text = block.text.text
        assert len(text) <= 3000
        assert text.startswith(FENCE + "\n")
        assert text.endswith("\n" + FENCE)
        inside = text[len(FENCE) : -len(FENCE)].strip("\n").split("\n")
        assert inside[0].startswith("Name")  # the headings repeat in every section
        shown += inside[2:]
    assert [line.split()[0] for line in shown] == [r[0] for r in rows]  # every row, once, in order


def test_table_cuts_rows_past_the_limit_with_a_note() -> None:
    rows = [[f"m{i}", "1"] for i in range(130)]
    blocks = table(COLUMNS, rows, max_rows=100, noun="meters")
    assert isinstance(blocks[-1], ContextBlock)
    assert blocks[-1].to_dict()["elements"][0]["text"] == "…and 30 more meters"
    body = code_lines(finish("t", blocks[:-1]))[2:]
    assert len(body) == 100


def test_table_title_opens_the_first_section_only() -> None:
    rows = [["n" * 35, "1"]] * 200
    blocks = table(COLUMNS, rows, title="*Encoding / VOD*", max_rows=200)
    first, second = blocks[0].to_dict()["text"]["text"], blocks[1].to_dict()["text"]["text"]
    assert first.startswith("*Encoding / VOD*\n" + FENCE)
    assert second.startswith(FENCE)


def test_table_cells_cannot_break_out_of_the_code_block() -> None:
    rows = [["x```\n<!channel> & `y`", "1"], ["plain", "2"]]
    (block,) = table(COLUMNS, rows)
    text = block.to_dict()["text"]["text"]
    assert text.count("`") == 6  # only the opening and closing fences
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; &amp;" in text
    assert len(text.split("\n")) == 6  # fence, headings, rule, 2 rows, fence: no injected line


def test_table_alignment_counts_displayed_characters_not_escapes() -> None:
    rows = [["<<>>", "1"], ["abcd", "2"]]
    lines_ = code_lines(finish("t", table(COLUMNS, rows)))
    unescaped = [ln.replace("&lt;", "<").replace("&gt;", ">") for ln in lines_]
    assert len(unescaped[2]) == len(unescaped[3])


def test_long_cells_are_cut_to_the_column_width() -> None:
    rows = [["z" * 100, "1"]]
    body = code_lines(finish("t", table([Column("Name", max_width=10), COLUMNS[1]], rows)))[2]
    assert body.startswith("z" * 9 + "…")
    assert "z" * 10 not in body


def test_table_with_wrong_row_width_is_a_bug() -> None:
    with pytest.raises(ValueError, match="zip"):
        table(COLUMNS, [["only one cell"]])


def test_lines_pack_into_sections_with_a_note() -> None:
    items = [f"• item {i} " + "y" * 90 for i in range(120)]
    blocks = lines(items, max_items=100, noun="methods")
    sections = [b.to_dict()["text"]["text"] for b in blocks if isinstance(b, SectionBlock)]
    assert all(len(s) <= 3000 for s in sections)
    assert "\n".join(sections).split("\n") == items[:100]
    assert blocks[-1].to_dict()["elements"][0]["text"] == "…and 20 more methods"


# -- the limits guard -----------------------------------------------------------------------


def _facts() -> ContextBlock:
    return facts(datetime(2026, 11, 21, tzinfo=UTC))


def test_guard_folds_blocks_past_50_and_keeps_the_footer() -> None:
    blocks: list[Block] = [header("Many"), *(section(f"row {i}") for i in range(80)), _facts()]
    payload = Message(text="many", blocks=blocks).to_slack()
    out = payload["blocks"]
    assert len(out) == MAX_BLOCKS
    assert out[-1]["elements"][-1]["text"].startswith("Fetched")
    assert out[-2]["elements"][0]["text"] == "33 more rows not shown"
    assert out[-3]["text"]["text"] == "row 46"


def test_guard_counts_the_rows_inside_folded_table_sections() -> None:
    blocks: list[Block] = [TableSection(text=f"{FENCE}\nt\n{FENCE}", row_count=10)] * 60
    nav = ActionsBlock(elements=[ButtonElement(text="Next page", action_id="next", value="v")])
    out = Message(text="tables", blocks=[*blocks, nav, _facts()]).to_slack()["blocks"]
    assert len(out) == MAX_BLOCKS
    assert [b["type"] for b in out[-3:]] == ["context", "actions", "context"]
    assert out[-3]["elements"][0]["text"] == "130 more rows not shown"  # 13 sections of 10


def test_guard_leaves_a_message_within_limits_alone() -> None:
    message = Message(text="ok", blocks=[header("h"), section("s"), _facts()])
    assert fit(message).to_slack() == message.to_slack()
    assert len(message.to_slack()["blocks"]) == 3


def test_guard_cuts_header_section_and_fallback_text() -> None:
    long_header = header("H" * 149)
    long_header.text.text = "H" * 200  # type: ignore[union-attr]  # built past the limit
    long_section = SectionBlock(text=MarkdownTextObject(text="s" * 5000))
    payload = Message(text="t" * 5000, blocks=[long_header, long_section]).to_slack()
    head, body = payload["blocks"]
    assert len(head["text"]["text"]) == 150
    assert head["text"]["text"].endswith("…")
    assert len(body["text"]["text"]) <= 3000
    assert body["text"]["text"].endswith("…")
    assert len(payload["text"]) <= 3000
    assert long_header.text.text == "H" * 200  # type: ignore[union-attr]  # input not mutated


def test_guard_closes_a_code_block_it_cuts() -> None:
    text = FENCE + "\n" + "\n".join(f"line {i:05d}" for i in range(600)) + "\n" + FENCE
    block = SectionBlock(text=MarkdownTextObject(text=text))
    out = fit(Message(text="t", blocks=[block])).to_slack()["blocks"][0]["text"]["text"]
    assert len(out) <= 3000
    assert out.endswith("\n…\n" + FENCE)
    assert out.count(FENCE) == 2
    assert all(ln.startswith("line ") for ln in out.split("\n")[1:-2])  # whole lines only


def test_guard_merges_context_elements_past_10() -> None:
    ctx = ContextBlock(elements=[MarkdownTextObject(text=f"e{i}") for i in range(14)])
    out = fit(Message(text="t", blocks=[ctx])).to_slack()["blocks"][0]["elements"]
    assert len(out) == 10
    assert out[8]["text"] == "e8"
    assert out[9]["text"] == "e9 · e10 · e11 · e12 · e13"


def test_guard_drops_a_button_whose_value_is_too_long() -> None:
    ok = ButtonElement(text="Keep", action_id="keep", value="v" * 2000)
    too_long = ButtonElement(text="Drop", action_id="drop", value="v" * 2001)
    lone = ActionsBlock(elements=[ButtonElement(text="X", action_id="x", value="v" * 2500)])
    payload = Message(
        text="t", blocks=[ActionsBlock(elements=[ok, too_long]), lone, section("s")]
    ).to_slack()
    assert [b["type"] for b in payload["blocks"]] == ["actions", "section"]
    assert [e["action_id"] for e in payload["blocks"][0]["elements"]] == ["keep"]


def test_guard_cuts_button_text() -> None:
    button = ButtonElement(text="B" * 75, action_id="b", value="v")
    button.text.text = "B" * 90  # type: ignore[union-attr]
    out = fit(Message(text="t", blocks=[ActionsBlock(elements=[button])])).to_slack()
    assert len(out["blocks"][0]["elements"][0]["text"]["text"]) == 75


def test_without_the_guard_slack_sdk_would_refuse_these_blocks() -> None:
    # The premise of the guard: to_dict() raises on an over-long section.
    from slack_sdk.errors import SlackObjectFormationError

    with pytest.raises(SlackObjectFormationError):
        SectionBlock(text=MarkdownTextObject(text="s" * 3001)).to_dict()


def test_header_helper_never_exceeds_150() -> None:
    block = HeaderBlock.parse(header("x" * 500).to_dict())
    assert block is not None
    assert len(block.to_dict()["text"]["text"]) == 150


def test_the_renderers_escape_is_the_one_slack_free_escape() -> None:
    assert common.escape is mrkdwn.escape


def test_the_first_table_becomes_a_table_block_where_the_workspace_shows_them() -> None:
    columns = [Column("Meter"), Column("Quantity", Align.RIGHT), Column("Cost", Align.RIGHT)]
    long_name = "video_encoding_ondemand_with_a_name_too_long_for_a_phone"
    first = table(columns, [[long_name, "1,234.5", "9.99 USD"]], title="*Cost per meter*")
    second = table(COLUMNS, [["b", "1.00"]], title="*Other*")
    message = finish("t", [header("Usage"), *first, *second])
    assert not TABLE_BLOCKS.enabled
    monospace = message.to_slack()["blocks"]
    assert [b["type"] for b in monospace] == ["header", "section", "section"]
    use_table_blocks(True)
    try:
        blocks = message.to_slack()["blocks"]
    finally:
        use_table_blocks(False)
    assert [b["type"] for b in blocks] == ["header", "section", "table", "section"]
    assert blocks[1]["text"]["text"] == "*Cost per meter*"
    table_block = blocks[2]
    cells = [[c["text"] for c in row] for row in table_block["rows"]]
    assert cells == [["Meter", "Quantity", "Cost"], [long_name, "1,234.5", "9.99 USD"]]
    assert [s["align"] for s in table_block["column_settings"]] == ["left", "right", "right"]
    assert "```" in blocks[3]["text"]["text"], "Slack takes one table a message: the next stays"


def test_a_table_split_to_fit_a_phone_is_one_table_block() -> None:
    columns = [Column("Project"), *(Column(f"Figure {n}", Align.RIGHT) for n in range(1, 8))]
    rows = [["video-platform", *(f"{n},000,000.00" for n in range(1, 8))]]
    use_table_blocks(True)
    try:
        blocks = finish("t", table(columns, rows)).to_slack()["blocks"]
    finally:
        use_table_blocks(False)
    assert [b["type"] for b in blocks] == ["table"]
    assert len(blocks[0]["rows"][1]) == 8


def test_a_table_block_cell_cannot_mention() -> None:
    use_table_blocks(True)
    try:
        out = json.dumps(finish("t", table(COLUMNS, [["<!here>", "<@U1>"]])).to_slack())
    finally:
        use_table_blocks(False)
    assert '"table"' in out
    assert "<!here>" not in out
    assert "<@U1>" not in out
