"""The audit trail's log line for a billing change: JSON, Slack-free, written by the core
before MK.IO is called (the intent) and by the handlers once the outcome is known."""

from __future__ import annotations

import json
from datetime import datetime

from bot.clock import as_utc
from bot.core.changes.model import ChangeKind, ChangeStatus, MethodRef, PendingChange

__all__ = ["audit_line", "channel_audit_line"]


def _iso(at: datetime) -> str:
    """ "2026-11-21T20:41:00Z"."""
    return f"{as_utc(at):%Y-%m-%dT%H:%M:%S}Z"


def _audit_method(m: MethodRef | None) -> str:
    return "none" if m is None else f"{m.name} ({m.id or 'no ID given'})"


def audit_line(change: PendingChange, *, intent: bool = False) -> str:
    """One log line: `billing-change {JSON}` with id, user, kind, project, before, after,
    result, requested, at, [ref], [error], [recovered]; or, written before MK.IO is called,
    `billing-change-intent {JSON}` without the result. JSON, so that no name can forge a field
    or a line (ASCII only: no line separator survives either)."""
    if change.kind is ChangeKind.METRICS:
        before = "on" if change.metrics_enabled_before else "off"
        after = "on"
    else:
        before = _audit_method(change.before_method)
        after = _audit_method(change.after_method)
    at = change.decided_at or change.requested_at
    record: dict[str, str] = {
        "id": change.id,
        "user": change.decided_by or change.requested_by,
        "kind": change.kind.value,
        "project": change.project,
        "before": before,
        "after": after,
    }
    if not intent:
        record["result"] = change.status.value
    record |= {"requested": _iso(change.requested_at), "at": _iso(at)}
    if change.ref:
        record["ref"] = change.ref
    if change.error and change.status in (ChangeStatus.FAILED, ChangeStatus.STALE):
        record["error"] = change.error
    if change.recovered_at is not None:
        record["recovered"] = _iso(change.recovered_at)
    event = "billing-change-intent" if intent else "billing-change"
    return f"{event} {json.dumps(record, ensure_ascii=True)}"


def channel_audit_line(
    *, channel: str, user: str, allowed: bool, before: bool, at: datetime
) -> str:
    """`external-channel {JSON}`: a billing admin allowed (or refused again) billing data in a
    channel shared with another organization (`/billing allow-external-channel [off]`)."""
    record = {
        "user": user,
        "channel": channel,
        "before": "allowed" if before else "refused",
        "after": "allowed" if allowed else "refused",
        "at": _iso(at),
    }
    return f"external-channel {json.dumps(record, ensure_ascii=True)}"
