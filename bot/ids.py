"""Every action_id, block_id and callback_id the bot renders or listens for: one place."""

from enum import StrEnum


class ActionId(StrEnum):
    CONTRO_RECORDS_PAGE = "contro_records_page"


class BlockId(StrEnum):
    CONTRO_RECORDS_NAV = "contro_records_nav"
