"""`report …`: a summary for the channel, and with `csv` the file in its thread."""

from __future__ import annotations

import asyncio

from bot.apis.mkio.models import ReportQuery
from bot.core.language import commands as c
from bot.core.reports.charts import chart_filename, render_chart
from bot.core.reports.compare import baseline_for
from bot.core.reports.summary import ReportSummary, report_filename
from bot.slack.delivery import Delivery, FilesNeedMembership, Posting, spooled
from bot.slack.handlers.asker import Asker
from bot.slack.handlers.deps import Deps
from bot.slack.handlers.reply import in_channel, words_for
from bot.slack.render.report import (
    chart_title,
    render_report,
    render_report_failed,
    render_report_progress,
    render_upload_comment,
)


async def post_report(command: c.Report, asker: Asker, deps: Deps, posting: Posting) -> None:
    try:
        query, names = await deps.billing.report_query(command)
    except Exception as exc:  # an unknown payment method: nothing is posted in the channel
        await posting.note.post(words_for(exc))
        return

    async def work(post: Delivery) -> None:
        baseline = baseline_for(command.range, command.versus)
        summary = await deps.billing.report(query, names, compare_to=baseline)
        await post.update(render_report(summary, scheduled=posting.scheduled))
        if (summary.chart is not None or command.csv) and not post.takes_files:
            await post.reply(words_for(FilesNeedMembership(post.channel)))
            return  # nothing fetched or drawn for a file that cannot be attached
        if summary.chart is not None:
            await upload_chart(post, summary)
        if command.csv:
            await upload_csv(post, summary, deps)

    await in_channel(
        posting,
        posting.message(asker.channel_id, thread_ts=asker.thread_ts),
        preparing=render_report_progress("asking MK.IO", query=query, filter_names=names),
        work=work,
        failed=lambda reason: render_report_failed(query, reason, names),
    )


async def upload_chart(post: Delivery, summary: ReportSummary) -> None:
    """The cost per period as a PNG bar chart in the summary's thread (drawn off the loop)."""
    assert summary.chart is not None
    title = chart_title(summary)
    try:
        png = await asyncio.to_thread(render_chart, summary.chart, title=title)
        await post.upload_bytes(
            png, filename=chart_filename(title), title=title, comment=f":bar_chart: {title}"
        )
    except Exception as exc:  # the summary stands without its chart
        await post.reply(words_for(exc))


async def upload_csv(post: Delivery, summary: ReportSummary, deps: Deps) -> None:
    """Stream MK.IO's CSV to a temporary file, then upload it in the summary's thread."""
    query: ReportQuery = summary.query
    filename = report_filename(query, summary.filter_names)
    try:
        with spooled(filename) as path:
            with path.open("wb") as dest:
                await deps.billing.report_csv(query, dest)
            await post.upload(path, comment=render_upload_comment(summary, filename))
    except Exception as exc:
        await post.reply(words_for(exc))
