"""The words of `/billing` commands: user words echoed safely, Slack text split into words,
and single values (dates, periods, granularities, names, amounts) read or refused with a fix.

Pure and Slack-free; the grammar (`bot.core.language.grammar`) builds commands from these.
"""

from __future__ import annotations

import calendar
import difflib
import re
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from bot.apis.mkio.models import Granularity
from bot.core.language.vocabulary import PREFIX, Period
from bot.mrkdwn import escape

__all__ = [
    "AMOUNT_EXAMPLE",
    "DIGIT_START",
    "GRANULARITIES",
    "MAX_QUOTED",
    "BadWord",
    "check_year",
    "close_matches",
    "code",
    "dedupe",
    "name_problem",
    "nearest",
    "quote",
    "read_amount",
    "read_date",
    "read_period",
    "render_command",
    "slug",
    "split_words",
]

MIN_YEAR, MAX_YEAR = 2000, 2099  # anything else is a typo (and keeps date arithmetic in range)
MAX_QUOTED = 60  # user words are cut to this length when echoed
MAX_BUDGET_DIGITS = 12  # before the decimal point: up to 999,999,999,999.99


# --- Echoing user words safely --------------------------------------------------------------


def quote(word: str) -> str:
    """`word` made safe to show inside backticks in a Slack message.

    Escapes `&`, `<` and `>` (so nothing becomes a mention or a link), drops backticks and
    control characters, folds whitespace, and cuts it to MAX_QUOTED characters with an ellipsis.
    The caller adds the backticks: f"`{quote(word)}`".
    """
    text = _printable(word)
    if len(text) > MAX_QUOTED:
        text = text[: MAX_QUOTED - 1] + "…"
    return escape(text)


def _printable(word: str) -> str:
    text = "".join(ch for ch in word if ch.isprintable() or ch.isspace()).replace("`", "")
    return " ".join(text.split())


def code(word: str) -> str:
    return f"`{quote(word)}`"


def render_command(words: Iterable[str]) -> str:
    """A complete command to suggest; words made safe like `quote` does, but never cut short
    (a cut name would be another name)."""
    return " ".join([PREFIX, *(escape(_printable(word)) for word in words)])


# --- Words ----------------------------------------------------------------------------------

_CLEAN = str.maketrans(
    dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-")
    | dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff", None)
)
_DOTS = re.compile(r"\s*(?:\.{2,3}|…)\s*")  # "a .. b", "a...b" and "a…b" all mean "a..b"


def split_words(text: str) -> tuple[str, ...]:
    """Slack text to words: smart dashes and odd spaces undone, a leading `/billing` dropped."""
    text = _DOTS.sub("..", text.translate(_CLEAN))
    words = tuple(text.split())  # every Unicode space, non-breaking ones included
    return words[1:] if words[:1] and words[0].lower() == PREFIX else words


def close_matches(word: str, choices: Iterable[str], cutoff: float = 0.6) -> list[str]:
    return difflib.get_close_matches(word.lower(), list(choices), n=3, cutoff=cutoff)


def dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))


def slug(name: str) -> str:
    """ "Azure Marketplace (Contoso)" -> "azure-marketplace-contoso"."""
    return "-".join(re.findall(r"[a-z0-9]+", name.lower()))


def nearest(word: str, names: Iterable[str], limit: int = 3) -> list[str]:
    """The known names `word` may have meant: the same name in another case (or spelt as its
    slug), else the one name it begins, else the names it is a word of (`azure` for "Azure
    Marketplace (Contoso)"), else the closest spellings."""
    known = list(dict.fromkeys(names))
    low, wanted = word.lower(), slug(word)
    same = [n for n in known if n.lower() == low or (wanted and slug(n) == wanted)]
    if same:
        return same[:limit]
    begun = [n for n in known if n.lower().startswith(low)]
    if len(begun) == 1:
        return begun
    parts = set(wanted.split("-")) - {""}
    worded = [n for n in known if parts and parts <= set(slug(n).split("-"))]
    if worded:
        return worded[:limit]
    lowered = {n.lower(): n for n in known}
    return [lowered[m] for m in difflib.get_close_matches(low, list(lowered), n=limit, cutoff=0.6)]


# --- Values: dates, periods, granularities, names -------------------------------------------


class BadWord(Exception):
    """A word that is not a valid value; `fix` is the corrected word, when there is one."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_PERIOD = re.compile(r"([0-9]{4})-([0-9]{1,2})")
DIGIT_START = re.compile(r"[0-9]")
_MONTHS = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def check_year(word: str, year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise BadWord(f"{code(word)} is out of range: years run from {MIN_YEAR} to {MAX_YEAR}.")


def read_date(word: str) -> date:
    match = _DATE.fullmatch(word)
    if match is None:
        raise BadWord(f"{code(word)} is not a date: write dates as YYYY-MM-DD, like `2026-03-01`.")
    year, month, day = (int(group) for group in match.groups())
    check_year(word, year)
    if not 1 <= month <= 12:
        raise BadWord(f"{code(word)} is not a real date: months run from 01 to 12.")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        fix = date(year, month, min(max(day, 1), last)).isoformat()
        raise BadWord(
            f"{code(word)} is not a real date: {_MONTHS[month]} {year} has {last} days.", fix
        )
    real = date(year, month, day)
    if real.isoformat() != word:
        raise BadWord(
            f"Write {code(word)} as YYYY-MM-DD, with two-digit months and days.", str(real)
        )
    return real


def read_period(word: str) -> Period:
    match = _PERIOD.fullmatch(word)
    if match is None:
        as_date = _DATE.fullmatch(word)
        if as_date is not None and 1 <= int(as_date[2]) <= 12:
            fix = f"{as_date[1]}-{int(as_date[2]):02d}"
            raise BadWord(f"{code(word)} is a date; a billing period is a month, YYYY-MM.", fix)
        raise BadWord(f"{code(word)} is not a billing period: write it as YYYY-MM, like `2026-03`.")
    year, month = int(match[1]), int(match[2])
    check_year(word, year)
    if not 1 <= month <= 12:
        raise BadWord(f"{code(word)} is not a billing period: the month must be 01 to 12.")
    if len(match[2]) != 2:
        fix = f"{year:04d}-{month:02d}"
        raise BadWord(f"Write the period {code(word)} as YYYY-MM, with a two-digit month.", fix)
    return Period(year, month)


GRANULARITIES: dict[str, Granularity] = {
    alias: g for g in Granularity for alias in (g.value, f"{g.value}s", f"{g.value}ly")
} | {"daily": Granularity.DAY}


_QUOTES = "\"'“”‘’"
_NOT_IN_NAMES = frozenset("/\\?#%;<>&{}[]|`" + _QUOTES)
_PLACEHOLDER = re.compile(r"(?:<|&lt;).*(?:>|&gt;)")


def name_problem(word: str) -> tuple[str, str | None] | None:
    """Why `word` cannot be a project name, ID or type, and a cleaned word if there is one."""
    if _PLACEHOLDER.fullmatch(word):
        return "replace the placeholder with a real one", None
    stripped = word.strip(_QUOTES)
    if stripped != word and stripped and name_problem(stripped) is None:
        return "type it without quotes", stripped
    unticked = word.strip("`")
    if unticked != word and unticked and name_problem(unticked) is None:
        # Slack shows `name` as code, so the name looks right: say what was sent with it.
        return "the backticks around it are sent as part of it; type it without them", unticked
    if "," in word:
        first = next((part for part in word.split(",") if part), None)
        return "give just one", first if first and name_problem(first) is None else None
    bad = next((ch for ch in word if ch in _NOT_IN_NAMES or not ch.isprintable()), None)
    if bad is None:
        return None
    if not bad.isprintable():
        return "names cannot contain control characters", None
    shown = "backticks" if bad == "`" else "quotes" if bad in _QUOTES else code(bad)
    return f"names cannot contain {shown}", None


# --- Amounts ---------------------------------------------------------------------------------

_AMOUNT = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
_DECIMAL_COMMA = re.compile(r"([0-9]+(?:\.[0-9]{3})*),([0-9]{1,2})")  # "1.234,50", "12,5"
_CENT = Decimal("0.01")
AMOUNT_EXAMPLE = "like `5000` or `12,500.50`"


def read_amount(word: str) -> Decimal:
    """A budget amount: more than 0, at most two decimals, thousands separated by commas; a
    `$` before it or `USD` right after it is allowed."""
    text = word.removeprefix("$").removeprefix("+")
    for suffix in ("usd", "$"):  # "500usd", "500$"
        if text.lower().endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    if text.startswith("-"):
        raise BadWord(f"{code(word)} is negative: a budget is an amount more than 0.", text[1:])
    if text.startswith("."):
        text = "0" + text
    if text.endswith(".") and _AMOUNT.fullmatch(text[:-1]):
        raise BadWord(f"{code(word)} ends with a dot: write it {AMOUNT_EXAMPLE}.", text[:-1])
    if _AMOUNT.fullmatch(text) is None:
        comma = _DECIMAL_COMMA.fullmatch(text)
        fix = f"{comma[1].replace('.', ',')}.{comma[2]}" if comma else None
        if fix is not None and _AMOUNT.fullmatch(fix):
            raise BadWord(
                f"Write {code(word)} with a dot before the cents and commas between the "
                f"thousands: {fix}.",
                fix,
            )
        raise BadWord(f"{code(word)} is not an amount: write it {AMOUNT_EXAMPLE}.")
    whole, _, cents = text.partition(".")
    if len(whole.replace(",", "").lstrip("0")) > MAX_BUDGET_DIGITS:
        raise BadWord(f"{code(word)} is too large for a monthly budget.")
    amount = Decimal(text.replace(",", ""))
    if len(cents) > 2:
        rounded = max(amount.quantize(_CENT, rounding=ROUND_HALF_UP), _CENT)
        raise BadWord(
            f"{code(word)} has more than two decimals: write it {AMOUNT_EXAMPLE}.", str(rounded)
        )
    if amount <= 0:
        raise BadWord(f"{code(word)} is not more than 0.")
    return amount.quantize(_CENT)
