"""Every action_id, block_id and callback_id the bot renders or listens for: one place.

The report form's ids are defined with the form, in the core (`bot.core.report_form`), which
reads its state without Slack; they are re-exported here with the others."""

from enum import StrEnum

from bot.core.report_form import ReportFormId

__all__ = [
    "ActionId",
    "BlockId",
    "CallbackId",
    "ReportFormId",
    "anomaly_block_id",
    "anomaly_of_block",
]


class ActionId(StrEnum):
    CONTRO_RECORDS_PAGE = "contro_records_page"  # Next
    CONTRO_RECORDS_PREVIOUS = "contro_records_previous"
    CHANGE_CONFIRM = "billing_change_confirm"
    CHANGE_CANCEL = "billing_change_cancel"
    SHARE = "share_in_channel"
    HOME_REFRESH = "home_refresh"
    HOME_LAST_MONTH_REPORT = "home_last_month_report"
    HOME_RATE_CARDS = "home_rate_cards"
    ANOMALY_ACK = "anomaly_acknowledge"
    ANOMALY_EXPECTED = "anomaly_expected_until"  # a date picker: the anomaly is in its block_id
    ANOMALY_SNOOZE_DAY = "anomaly_snooze_day"
    ANOMALY_SNOOZE_WEEK = "anomaly_snooze_week"
    ANOMALY_DETAILS = "anomaly_details"
    HOME_RATE_CARD = "home_rate_card"  # one payment method's button in the rate-card picker


class BlockId(StrEnum):
    CONTRO_RECORDS_NAV = "contro_records_nav"
    CHANGE_DECISION = "billing_change_decision"
    SHARE = "share"
    HOME_ACTIONS = "home_actions"
    RATE_CARD_PICKER = "rate_card_picker"


class CallbackId(StrEnum):
    REPORT_FORM = "billing_report_form"  # the report modal's view
    REPORT_SHORTCUT = "billing_report_shortcut"  # the global shortcut "Billing report"


_ANOMALY_BLOCK = "anomaly:"


def anomaly_block_id(anomaly_id: str) -> str:
    """An anomaly alert's buttons block: the date picker has no value, so the id is here."""
    return _ANOMALY_BLOCK + anomaly_id


def anomaly_of_block(block_id: str) -> str | None:
    return block_id.removeprefix(_ANOMALY_BLOCK) if block_id.startswith(_ANOMALY_BLOCK) else None
