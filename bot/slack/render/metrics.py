"""`/billing metrics <project>`: whether metrics export is on; connection details only to an
admin (`show_secrets`), as `SecretText`: a message showing them can only be sent ephemerally."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, SectionBlock, TextObject

from bot.apis.mkio.models import MetricsStatus
from bot.core.answers import MetricsAnswer
from bot.slack.render.common import (
    Message,
    SecretText,
    code,
    context,
    escape,
    facts,
    finish,
    header,
    md,
    section,
)


def secret_fields(status: MetricsStatus) -> list[TextObject]:
    # Values as plain text: shown exactly as they are, no mrkdwn, no emoji, no links. Marked
    # secret, every one: a message holding them is refused anywhere but ephemerally.
    values = {
        "URL": status.url,
        "Username": status.username,
        "Password": status.password.get_secret_value(),
    }
    fields: list[TextObject] = []
    for label, value in values.items():
        fields += [md(f"*{label}*"), SecretText(text=value or " ")]
    return fields


def render_metrics(a: MetricsAnswer) -> Message:
    project = code(a.project)
    enabled = a.endpoint.spec.enabled
    status = a.endpoint.status
    blocks: list[Block] = [header(f"Metrics export — {a.project}")]
    if not enabled:
        blocks.append(section(f"Metrics export is *off* for {project}."))
        blocks.append(
            context(
                "A billing admin can turn it on (billable): "
                + code(f"/billing metrics {a.project} enable")
            )
        )
    elif not a.show_secrets:
        blocks.append(section(f"Metrics export is *on* for {project}."))
        blocks.append(context("Connection details are shown to billing admins only."))
    elif status is None:
        blocks.append(section(f"Metrics export is *on* for {project}."))
        blocks.append(context("No connection details yet: ask again in a minute."))
    else:
        blocks.append(section(f"Metrics export is *on* for {project}. Connection details:"))
        blocks.append(SectionBlock(fields=secret_fields(status)))
        blocks.append(context(":lock: Only you can see this. Do not share these details."))
    blocks.append(facts(a.fetched_at))
    # The fallback text never carries connection details: it reaches notifications and logs.
    text = f"Metrics export for {a.project} is {'on' if enabled else 'off'}."
    return finish(escape(text), blocks)
