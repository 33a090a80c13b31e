"""`/billing contro records [YYYY-MM] [type <t>] csv`: progress, result and upload comment."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.apis.contro.models import CURRENCY
from bot.core.exports import ControExport, ExportProgress
from bot.money import format_money
from bot.slack.render.common import (
    Message,
    code,
    context,
    escape,
    facts,
    finish,
    header,
    section,
    table,
)
from bot.slack.render.contro import SUMMARY_COLUMNS


def _title(period: str, type: str | None) -> str:
    return f"Contro usage records — {period}" + (f", type {type}" if type else "")


def render_export_progress(
    period: str, type: str | None, progress: ExportProgress | None = None
) -> Message:
    done = (
        f"{progress.pages:,} page{'s' if progress.pages != 1 else ''} fetched, "
        f"{progress.rows:,} records written"
        if progress
        else "asking Contro"
    )
    text = f"Preparing the CSV export of {escape(_title(period, type))}… {done}"
    return finish(text, [section(f":hourglass_flowing_sand: *{text}*")])


def render_export_done(export: ControExport, mismatch: str | None, fetched_at: datetime) -> Message:
    total = format_money(export.total, CURRENCY)
    plural = "s" if export.rows != 1 else ""
    blocks: list[Block] = [
        header(_title(export.period, export.type)),
        section(
            f"*{export.rows:,} record{plural}, total {total}* · "
            f"{export.requests:,} request{'s' if export.requests != 1 else ''} to Contro · "
            "the CSV file is in the thread"
        ),
    ]
    if export.totals_by_type:
        rows = [
            [kind, f"{export.counts_by_type.get(kind, 0):,}", format_money(amount, CURRENCY)]
            for kind, amount in sorted(
                export.totals_by_type.items(), key=lambda item: (-item[1], item[0])
            )
        ]
        blocks += table(SUMMARY_COLUMNS, rows, noun="types")
    blocks += [_reconciliation(export, mismatch), facts(fetched_at, export.period)]
    return finish(f"{_title(export.period, export.type)}: {export.rows:,} records, {total}", blocks)


def render_export_empty(
    export: ControExport, mismatch: str | None, fetched_at: datetime
) -> Message:
    """An export that found no records: said so, with no file to upload."""
    text = f"No records for {export.period}" + (f", type {export.type}" if export.type else "")
    blocks = [
        header(_title(export.period, export.type)),
        section(f"{escape(text)}: no CSV file to upload."),
        _reconciliation(export, mismatch),
        facts(fetched_at, export.period),
    ]
    return finish(text, blocks)


def _reconciliation(export: ControExport, mismatch: str | None) -> Block:
    scope = f"type {escape(export.type)}" if export.type else "all types"
    return context(
        f":warning: Does not match Contro's summary for {escape(export.period)} ({scope}): "
        f"{escape(mismatch)}"
        if mismatch
        else f":white_check_mark: Matches Contro's summary for {escape(export.period)} ({scope})."
    )


def render_export_failed(period: str, type: str | None, reason: Message) -> Message:
    text = f"Could not export {_title(period, type)}"
    return finish(text, [section(f":x: *{escape(text)}*"), *reason.blocks])


def render_export_comment(export: ControExport, filename: str) -> str:
    return (
        f":page_facing_up: {code(filename)}: {export.rows:,} Contro usage records for "
        f"{escape(export.period)}, total {format_money(export.total, CURRENCY)}"
    )
