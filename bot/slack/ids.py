"""Every action_id, block_id and callback_id the bot renders or listens for: one place."""

from enum import StrEnum


class ActionId(StrEnum):
    CONTRO_RECORDS_PAGE = "contro_records_page"  # Next
    CONTRO_RECORDS_PREVIOUS = "contro_records_previous"
    CHANGE_CONFIRM = "billing_change_confirm"
    CHANGE_CANCEL = "billing_change_cancel"
    SHARE = "share_in_channel"
    HOME_REFRESH = "home_refresh"
    HOME_LAST_MONTH_REPORT = "home_last_month_report"
    HOME_RATE_CARDS = "home_rate_cards"


class BlockId(StrEnum):
    CONTRO_RECORDS_NAV = "contro_records_nav"
    CHANGE_DECISION = "billing_change_decision"
    SHARE = "share"
    HOME_ACTIONS = "home_actions"


class CallbackId(StrEnum):
    REPORT_FORM = "billing_report_form"  # the report modal's view
    REPORT_SHORTCUT = "billing_report_shortcut"  # the global shortcut "Billing report"


class ReportFormId(StrEnum):
    """The report modal's block_ids (`*_BLOCK`, the keys of `errors`) and action_ids, and the
    values of its checkbox options. All distinct: equal values would make enum aliases."""

    START_BLOCK = "report_form_start"
    START = "report_form_start_date"
    END_BLOCK = "report_form_end"
    END = "report_form_end_date"
    GRANULARITY_BLOCK = "report_form_granularity"
    GRANULARITY = "report_form_granularity_select"
    PROJECTS_BLOCK = "report_form_projects"
    PROJECTS = "report_form_projects_select"
    PAYMENT_METHODS_BLOCK = "report_form_payment_methods"
    PAYMENT_METHODS = "report_form_payment_methods_select"
    OPTIONS_BLOCK = "report_form_options"
    OPTIONS = "report_form_options_checkboxes"
    OPTION_REPORTED = "report_form_option_reported"
    OPTION_CSV = "report_form_option_csv"
    CHANNEL_BLOCK = "report_form_channel"
    CHANNEL = "report_form_channel_select"
    FILTERS_NOTE_BLOCK = "report_form_filters_note"  # "loading…" or why a list is missing
