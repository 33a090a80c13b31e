"""Every action_id, block_id and callback_id the bot renders or listens for: one place."""

from enum import StrEnum


class ActionId(StrEnum):
    CONTRO_RECORDS_PAGE = "contro_records_page"
    CHANGE_CONFIRM = "billing_change_confirm"
    CHANGE_CANCEL = "billing_change_cancel"


class BlockId(StrEnum):
    CONTRO_RECORDS_NAV = "contro_records_nav"
    CHANGE_DECISION = "billing_change_decision"
