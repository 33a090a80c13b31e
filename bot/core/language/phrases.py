"""Plain phrasings to typed commands: what people type after an @-mention or in a DM.

`understand(text, today)` is a small deterministic matcher: no LLM, no network, no state.
Every entry point reads words through it, so the same words give the same command wherever
they are typed: mentions and DMs call it, the slash command and Share call `read`, which
differs only in the error for text nothing maps to (the command language's own, naming the
wrong word and its fix, rather than "I didn't understand that").

1. The command language comes first. A leading `<@U…>` mention and `/billing` are dropped and
   the text goes to `commands.parse` as it is; whatever parses is the answer.
2. Otherwise the text is tidied (greetings, "please", "can you show me", a trailing "?") and
   matched against `_RULES`: whole-text patterns with named groups, each with a small builder
   that writes the canonical command ("usage my-project", "report 2026-03 by week csv").
   `commands.parse` then reads that text, so every rule of the language (ranges, caps, names)
   applies unchanged. The free parts of a phrase ("for March", "as csv", "by week", "for
   my-project") are read by `_details` with a second table, `_PIECES`; a word it does not know
   makes the rule step aside rather than be guessed at.
3. What no rule maps raises NotUnderstood (a CommandError): "I didn't understand that. Did you
   mean …?", naming the closest commands (difflib between the user's words and the words of
   `COMMANDS`); a greeting gets a hello. Dates in phrases become the grammar's words
   (`yesterday`, `last-week`, `march 2026`), which `bot.core.language.when` reads.

A phrase never makes a billing change: "enable metrics for x" answers with the exact command to
type, which then asks for confirmation as usual. Nothing but CommandError is raised, and user
words reach a message only through `commands.quote`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from bot.core.language import commands
from bot.core.language.commands import (
    COMMANDS,
    EXAMPLE_PAYMENT_METHOD,
    HELP_TOPICS,
    MAX_TEXT,
    PREFIX,
    Command,
    CommandSpec,
    quote,
)
from bot.core.language.when import MONTH_NAMES
from bot.errors import CommandError

__all__ = ["NotUnderstood", "phrase_examples", "read", "understand"]

_EXAMPLES = (
    "how much has my-project used this month?",
    "what did we spend last month?",
    "report for March as csv",
    "which payment method does my-project use?",
    "is metrics export on for my-project?",
    "contro summary for February",
)


def phrase_examples() -> tuple[str, ...]:
    """A few plain phrasings `understand` takes, for the help text."""
    return _EXAMPLES


class NotUnderstood(CommandError):
    """Nothing in the text maps to a command (a greeting, a sentence about something else).
    `strict` is what the command language alone says about the same words."""

    def __init__(self, message: str, suggestion: str, strict: CommandError) -> None:
        super().__init__(message, suggestion)
        self.strict = strict


def read(text: str, today: date) -> Command:
    """The slash command's reading: the same as `understand` (the same words give the same
    command wherever they are typed), but where nothing maps, the command language's own
    error, which names the word that is wrong and its fix."""
    if _MENTIONS.match(text):  # only a mention's own text starts with one, never a command
        return commands.parse(text, today)
    try:
        return understand(text, today)
    except NotUnderstood as error:
        raise error.strict from None


def understand(text: str, today: date) -> Command:
    """The command `text` asks for, in the command language or in plain words.

    `today` (UTC) anchors "this month", "last month" and month names ("March" is this year's
    March, or last year's while this year's is still to come). Raises CommandError, and only
    that, for what cannot be mapped: its `suggestion` is the closest command, and it parses.
    """
    said = _without_mention(text)
    try:
        return commands.parse(said, today)
    except CommandError as error:
        as_command = error
    if len(said) > MAX_TEXT:
        raise as_command
    tidy = _tidy(said)
    if not tidy:  # "hi", "thanks", "?"
        raise NotUnderstood(
            f"Hello! I answer billing questions, like `{PREFIX} usage {_EXAMPLE_PROJECT}` or "
            f"`{PREFIX} report last-month`.",
            f"{PREFIX} help",
            as_command,
        )
    if tidy != " ".join(said.split()):  # "usage my-project?", "please report last month"
        try:
            return commands.parse(tidy, today)
        except CommandError as error:
            as_command = error
    if tidy.lower() in _COMMAND_WORDS:  # "report", "show usage": the parser says what is missing
        raise as_command
    first_error: CommandError | None = None
    for rule in _RULES:
        match = rule.pattern.fullmatch(tidy)
        canonical = rule.build(match, today) if match else None
        if canonical is None:
            continue
        try:
            return commands.parse(canonical, today)
        except CommandError as error:  # understood, but wrong: "report for 2026-13"
            first_error = first_error or error
    if first_error is not None:
        raise first_error
    if _looks_like_a_command(tidy):
        raise as_command
    raise _not_understood(tidy, today, as_command)


# --- Tidying --------------------------------------------------------------------------------

_MENTIONS = re.compile(r"(?:\s*<@[^<>]*>[\s,:]*)+")
_SLASH = re.compile(r"\s*/billing(?![\w-])[\s:,]*", re.IGNORECASE)
_PLAIN = str.maketrans(
    dict.fromkeys("\u2018\u2019\u02bc\u00b4", "'")
    | dict.fromkeys("\u201c\u201d", '"')
    | dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212\uff0d", "-")
    | dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff`", None)
)
_LEADING = re.compile(
    r"""(?:
        (?:h(?:i|ello|ey|iya|owdy)|yo|greetings)(?:\s+(?:there|all|folks|team|bot|billing))?
      | good\s+(?:morning|afternoon|evening|day)
      | ok(?:ay)? | so(?!\s+far) | and | also | um+ | uh+ | please | pls | plz | kindly | @billing
      | (?:can|could|would|will)\s+(?:you|u)(?:\s+please)?
            (?:\s+(?:tell|show|give|get|send|fetch|find|list)(?:\s+(?:me|us))?)?
      | (?:i|we)(?:'d|\s+would)\s+like(?:\s+to\s+(?:see|know|get|have))?
      | (?:i|we)\s+(?:want|need)(?:\s+to\s+(?:see|know|get|have))?
      | (?:tell|show|give|get|send|fetch|find|list)(?:\s+(?:me|us))?
      | what(?:'s|\s+is|\s+are|\s+was|\s+were)
      | the
    )(?![\w-])[\s,!:;.]*""",
    re.IGNORECASE | re.VERBOSE,
)
_TRAILING_WORDS = frozenset({"please", "pls", "plz", "thanks", "thx", "ty", "cheers", "thank you"})
_TRAILING_MARKS = " ?!.,;:"


def _without_mention(text: str) -> str:
    """The text after a leading mention of the bot and a leading `/billing`."""
    text = text[: MAX_TEXT + 1]  # longer is refused anyway; this bounds the regex work
    mention = _MENTIONS.match(text)
    if mention:
        text = text[mention.end() :]
    prefix = _SLASH.match(text)
    return text[prefix.end() :] if prefix else text


def _tidy(text: str) -> str:
    """One line of plain words: no greeting, politeness, backticks or final punctuation."""
    text = " ".join(_without_mention(text.translate(_PLAIN)).split())
    while True:
        before = text
        lead = _LEADING.match(text)
        if lead and lead.end():
            text = text[lead.end() :]
        text = text.rstrip(_TRAILING_MARKS)
        words = text.split(" ")
        for n in (2, 1):
            if len(words) >= n and " ".join(words[-n:]).lower() in _TRAILING_WORDS:
                text = " ".join(words[:-n])
                break
        if text == before:
            return text


# --- Names ----------------------------------------------------------------------------------


def _wordset(*lines: str) -> frozenset[str]:
    return frozenset(word for line in lines for word in line.split())


_NAME = r"[^\W_][\w.\-]*"  # a project name as people write it; a trailing "'s" is not part of it
_NAME_LIST = rf"{_NAME}(?:\s*,\s*{_NAME}|\s+and\s+{_NAME}|\s*&\s*{_NAME})*"
_NAME_SPLIT = re.compile(r"\s*,\s*|\s+and\s+|\s*&\s*", re.IGNORECASE)
_NOT_NAMES = _wordset(
    "a an the this that these those it its all any every each some",
    "we i me us you our my your their they them everyone everybody everything",
    "org organization organisation company team account total overall",
    "current recent latest full complete detailed estimated actual average hourly daily weekly",
    "monthly yearly annual annually csv export q1 q2 q3 q4",
    "today yesterday now month months year years week weeks day last next so far date",
    "this-week last-week this-year last-year",
    "this-month last-month project projects usage cost costs spend spending",
    "report reports billing bill payment method methods payment-method",
    "payment-methods metrics ratecard rate card prices price contro csv help",
    "please what which how much is are and or for of on in by from to with",
    *MONTH_NAMES,
)


def _name(word: str | None) -> str | None:
    """`word` as a project (or usage type) name, unless it is an ordinary English word."""
    if not word:
        return None
    word = word.rstrip(".")
    return word if word and word.lower() not in _NOT_NAMES else None


def _names(words: str) -> tuple[str, ...] | None:
    names = [_name(word) for word in _NAME_SPLIT.split(words)]
    return tuple(dict.fromkeys(n for n in names if n)) if all(names) else None


# --- The pieces of a phrase: when, how, for whom --------------------------------------------


@dataclass
class _Details:
    """What the free parts of a phrase said, as words of the command language."""

    when: str | None = None  # a range: "this-month", "2026-03", "2026", "2026-03-01..2026-04-01"
    granularity: str | None = None
    csv: bool = False
    reported: bool = False
    projects: tuple[str, ...] = ()
    payment_methods: tuple[str, ...] = ()
    type: str | None = None
    contro: bool = False

    @property
    def report_only(self) -> bool:
        """Options that only a report takes."""
        return bool(self.granularity or self.reported or self.payment_methods)


_Piece = Callable[[re.Match[str], _Details, date], bool]  # False: the words do not fit here


def _word(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.IGNORECASE)


def _mark(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _set_when(details: _Details, when: str) -> bool:
    if details.when is not None:
        return False
    details.when = when
    return True


def _fixed(when: str) -> _Piece:
    def piece(match: re.Match[str], details: _Details, today: date) -> bool:
        return _set_when(details, when)

    return piece


def _named(match: re.Match[str], details: _Details, today: date) -> bool:
    """A month or quarter by name, with its year if one was given: the grammar reads it
    (`bot.core.language.when`), as it does from the slash command."""
    year = match["year"]
    return _set_when(details, f"{match['name'].lower()} {year}" if year else match["name"].lower())


def _as_typed(match: re.Match[str], details: _Details, today: date) -> bool:
    """Dates and periods go to the parser as typed: it checks them and says what is wrong."""
    return _set_when(details, re.sub(r"\s*(?:\.{2,3}|…)\s*", "..", match["when"]))


def _dates_to(match: re.Match[str], details: _Details, today: date) -> bool:
    """For "from A to B" the parser explains that the end is exclusive, and suggests `A..B`."""
    return _set_when(details, f"{match['start']} to {match['end']}")


_ADVERBS = {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month"}
_ADVERBS |= {"yearly": "year", "annually": "year"}


def _granularity(match: re.Match[str], details: _Details, today: date) -> bool:
    unit, adverb = match.groupdict().get("unit"), match.groupdict().get("adverb")
    word = unit or _ADVERBS[(adverb or "").lower()]
    if details.granularity is not None:
        return False
    details.granularity = word.lower()
    return True


def _csv(match: re.Match[str], details: _Details, today: date) -> bool:
    details.csv = True
    return True


def _reported(match: re.Match[str], details: _Details, today: date) -> bool:
    details.reported = True
    return True


def _contro(match: re.Match[str], details: _Details, today: date) -> bool:
    details.contro = True
    return True


def _type(match: re.Match[str], details: _Details, today: date) -> bool:
    kind = _name(match["type"])
    if kind is None or details.type is not None:
        return False
    details.type = kind
    return True


def _projects(match: re.Match[str], details: _Details, today: date) -> bool:
    names = _names(match["names"])
    if not names or details.projects or details.payment_methods:
        return False
    details.projects = names
    return True


def _payment_methods(match: re.Match[str], details: _Details, today: date) -> bool:
    names = _names(match["names"])
    if not names or details.projects or details.payment_methods:
        return False
    details.payment_methods = names
    return True


def _filler(match: re.Match[str], details: _Details, today: date) -> bool:
    return True


_PREP = r"(?:(?:in|for|during|over|of|from|since|on|at|about|within)\s+)?(?:the\s+)?"
_DATE = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
_MONTH_NAMES = "|".join(sorted(MONTH_NAMES, key=len, reverse=True))

_TIME_PIECES: tuple[tuple[re.Pattern[str], _Piece], ...] = (
    (
        _word(rf"{_PREP}(?:this|current)[\s-]+month|month[\s-]+to[\s-]+date|mtd"),
        _fixed("this-month"),
    ),
    (_word(rf"{_PREP}(?:last|previous|past|prior)[\s-]+month"), _fixed("last-month")),
    (
        _word(rf"{_PREP}(?:this|current)[\s-]+week|week[\s-]+to[\s-]+date|wtd"),
        _fixed("this-week"),
    ),
    (_word(rf"{_PREP}(?:last|previous|past|prior)[\s-]+week"), _fixed("last-week")),
    (_word(rf"{_PREP}(?:this|current)[\s-]+year|year[\s-]+to[\s-]+date|ytd"), _fixed("this-year")),
    (_word(rf"{_PREP}(?:last|previous|past|prior)[\s-]+year"), _fixed("last-year")),
    (_word(r"(?:for\s+)?today"), _fixed("today")),
    (_word(r"(?:for\s+)?yesterday"), _fixed("yesterday")),
    (
        _word(rf"{_PREP}(?P<name>{_MONTH_NAMES}|q[1-4])(?:,?\s+(?:of\s+)?(?P<year>[0-9]{{4}}))?"),
        _named,
    ),
    (
        _word(
            rf"{_PREP}(?P<when>[0-9]{{4}}/[0-9]{{1,2}}|[0-9]{{1,2}}/[0-9]{{4}}|[0-9]{{4}}-?q[1-4])"
        ),
        _as_typed,
    ),
    (_word(rf"{_PREP}(?P<when>{_DATE}\s*(?:\.{{2,3}}|…)\s*{_DATE})"), _as_typed),
    (
        _word(
            rf"(?:from\s+|between\s+)?(?P<start>{_DATE})\s+(?:to|until|till|and|-)\s+"
            rf"(?P<end>{_DATE})"
        ),
        _dates_to,
    ),
    (
        _word(rf"{_PREP}(?P<when>{_DATE}(?:\s+{_DATE})?|[0-9]{{4}}-[0-9]{{1,2}}|[0-9]{{4}})"),
        _as_typed,
    ),
)

_PIECES: tuple[tuple[re.Pattern[str], _Piece], ...] = (
    *_TIME_PIECES,
    (
        _word(
            r"(?:by|on|using|per|with)\s+(?:the\s+)?(?:reported|charged?|billing|billed)\s+dates?"
        ),
        _reported,
    ),
    (_word(r"reported(?:\s+dates?)?"), _reported),
    (
        _word(
            r"(?:(?:broken\s+down|split(?:\s+up)?|grouped|bucketed)\s+)?(?:by|per|each|every)\s+"
            r"(?:the\s+)?(?P<unit>hour|day|week|month|year)s?"
        ),
        _granularity,
    ),
    (_word(r"(?P<adverb>hourly|daily|weekly|monthly|yearly|annually)"), _granularity),
    (
        _word(
            r"(?:(?:as|in|into|to|via|with)\s+)?(?:an?\s+)?(?:csv|spreadsheet|excel)"
            r"(?:\s+(?:file|export|download|format|attachment))?|(?:as|in)\s+(?:a\s+)?file"
            r"|export(?:ed)?|download(?:ed)?"
        ),
        _csv,
    ),
    (_word(r"(?:on|for|in|from|with|of|via|at)\s+contro(?:'s)?"), _contro),
    (
        _word(rf"(?:(?:of|with|for)\s+)?(?:the\s+)?(?:usage\s+)?(?:type|kind)\s+(?P<type>{_NAME})"),
        _type,
    ),
    (
        _word(
            rf"(?:(?:on|for|with|using|by|under|of)\s+)?(?:the\s+)?payment[\s-]*methods?\s+"
            rf"(?P<names>{_NAME_LIST})"
        ),
        _payment_methods,
    ),
    (_word(r"(?:by|per)\s+projects?"), _filler),
    (
        _word(
            r"(?:(?:for|of|on|in|by|from|across)\s+)?(?:the\s+)?projects?\s+"
            rf"(?P<names>{_NAME_LIST})"
        ),
        _projects,
    ),
    (
        _word(
            r"(?:for|across|of|on|in)\s+(?:all\s+(?:of\s+)?(?:the\s+|our\s+)?projects|everything"
            r"|everyone|everybody|us|me|(?:the|our)\s+(?:whole\s+)?(?:org|organi[sz]ation"
            r"|company|account))|(?:in|on|from|for|at)\s+mk\.?io"
        ),
        _filler,
    ),
    (
        _word(
            r"and|please|pls|thanks|us|so\s+far|(?:up\s+)?(?:un)?till?\s+now|to\s+date|in\s+total"
            r"|in\s+all|total|overall|altogether|(?:right\s+)?now|currently|all|the|an?|our|my"
            r"|summary|breakdown|overview|details|numbers|figures|amount"
        ),
        _filler,
    ),
    (_mark(r"'s(?![\w-])|[,;:&+]"), _filler),
    (
        _word(rf"(?:for|of|on|in|by|from)\s+(?:the\s+)?(?P<names>{_NAME_LIST})(?:\s+projects?)?"),
        _projects,
    ),
    (
        _word(rf"(?:for|of|on|in|by|from)\s+(?:the\s+)?(?P<names>{_NAME})(?:'s)?(?:\s+project)?"),
        _projects,
    ),
)


def _details(today: date, *parts: str) -> _Details | None:
    """Read the free parts of a phrase, each word by a piece of `_PIECES`; None when a word
    fits no piece (the phrase then is not what the rule thought)."""
    details = _Details()
    for text in parts:
        at = 0
        while True:
            while at < len(text) and text[at].isspace():
                at += 1
            if at == len(text):
                break
            for pattern, piece in _PIECES:
                match = pattern.match(text, at)
                if match and match.end() > at and piece(match, details, today):
                    at = match.end()
                    break
            else:
                return None
    return details


# --- The phrases ----------------------------------------------------------------------------

_Build = Callable[[re.Match[str], date], str | None]  # the canonical command, or None


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    build: _Build


def _rule(pattern: str, build: _Build) -> _Rule:
    return _Rule(re.compile(pattern, re.IGNORECASE), build)


_ORG = (
    r"we|i|us|you|everyone|everybody|(?:the|our|my)\s+(?:whole\s+)?(?:org|organi[sz]ation"
    r"|company|team|account)|(?:all\s+(?:of\s+)?)?(?:our|the)\s+projects|all\s+projects"
)
_PROJECT = rf"(?:the\s+)?(?:project\s+)?(?P<project>{_NAME})(?:\s+project)?"
_SUBJECT = rf"(?:(?P<org>{_ORG})|{_PROJECT})"
_PM = r"payment[\s-]*method"
_RATES = r"(?:rate[\s-]*cards?|prices?|pricing|rates|price\s+(?:list|card)|tariffs?)"
_MX = r"metrics(?:\s+export(?:ing)?|\s+endpoint)?"
_MX_STATE = r"(?:\s+(?:status|state|settings?|config(?:uration)?|details))?"
_ON = (
    r"(?:on|enabled|turned\s+on|switched\s+on|active|activated|available|set\s+up|configured"
    r"|running|live)"
)
_SPEND_VERB = (
    r"(?:been\s+)?(?:used|use|using|spent|spend|spending|cost|costs|costing|consumed|consume"
    r"|consuming|paid|pay|paying|owe|owes|charged|billed|run\s+up|racked\s+up)"
)
_SPEND_NOUN = (
    r"usage|consumption|spend(?:ing)?|spent|costs?|bills?|billing|charges|expenses?|invoice"
)


def _group(match: re.Match[str], name: str) -> str:
    return match.groupdict().get(name) or ""


def _help(match: re.Match[str], today: date) -> str:
    return "help"


_TOPIC_ALIASES = {
    "reports": "report",
    "rate card": "ratecard",
    "rate cards": "ratecard",
    "ratecards": "ratecard",
    "prices": "ratecard",
    "pricing": "ratecard",
    "payment methods": "payment-methods",
    "payment method": "payment-method",
    "metric": "metrics",
    "contro summaries": "contro summary",
    "contro record": "contro records",
}


def _help_topic(match: re.Match[str], today: date) -> str | None:
    topic = " ".join(match["topic"].lower().split())
    topic = _TOPIC_ALIASES.get(topic, topic)
    return f"help {topic}" if topic in HELP_TOPICS else None


def _shown(command: str) -> str:
    """A command to show in a message: each word made safe by `quote` (none is cut short)."""
    return " ".join(quote(word) for word in command.split())


def _refuse(canonical: str, what: str, today: date) -> str:
    """Billing changes only from the exact command: say which, and change nothing."""
    commands.parse(canonical, today)  # a bad name or ID: the parser's own words say so
    suggestion = f"{PREFIX} {canonical}"
    raise CommandError(
        "I make billing changes only from the exact command, so that nothing changes by "
        f"accident. To {what}, type `{_shown(suggestion)}` (I will ask you to confirm).",
        suggestion,
    )


def _refuse_metrics(match: re.Match[str], today: date) -> str | None:
    project = _name(match["project"])
    if project is None:
        return None
    return _refuse(
        f"metrics {project} enable", f"turn on metrics export for `{quote(project)}`", today
    )


def _refuse_payment_method(match: re.Match[str], today: date) -> str | None:
    project, method = _name(match["project"]), match["method"].strip()
    if project is None or _name(method) is None:
        return None
    return _refuse(
        f"payment-method {project} set {method}",
        f"assign a payment method to `{quote(project)}`",
        today,
    )


def _metrics_off(match: re.Match[str], today: date) -> str | None:
    project = _name(match["project"])
    return f"metrics {project} disable" if project else None  # the parser explains


def _metrics_of(match: re.Match[str], today: date) -> str | None:
    project = _name(match["project"])
    return f"metrics {project}" if project else None


def _payment_methods_list(match: re.Match[str], today: date) -> str:
    return "payment-methods"


def _payment_method_of(match: re.Match[str], today: date) -> str | None:
    if _group(match, "org"):
        return "payment-methods"
    project = _name(_group(match, "project"))
    return f"payment-method {project}" if project else None


def _rate_card(match: re.Match[str], today: date) -> str | None:
    method = match["method"].strip()
    return f"ratecard {method}" if _name(method) else None


def _contro_summary(match: re.Match[str], today: date) -> str | None:
    """Phrases like "contro summary for February", "contro usage last month"."""
    details = _details(today, _group(match, "head"), _group(match, "tail"))
    if details is None or details.report_only or details.csv or details.projects or details.type:
        return None
    return _contro_summary_text(details)


def _contro_records(match: re.Match[str], today: date) -> str | None:
    """Phrases like "contro records for 2026-03 type kyc", "kyc records for last month"."""
    kind = _group(match, "kind")
    head = _group(match, "head") if _name(kind) else f"{_group(match, 'head')} {kind}"
    details = _details(today, head, _group(match, "tail"))
    if details is None or details.report_only or details.projects:
        return None
    if _name(kind):
        if details.type not in (None, kind.lower()):
            return None
        details.type = kind.lower()
    words = ["contro", "records"]
    if details.when:
        words.append(details.when)
    if details.type:
        words += ["type", details.type]
    if details.csv:
        words.append("csv")
    return " ".join(words)


def _contro_summary_text(details: _Details) -> str:
    return " ".join(["contro", "summary", *([details.when] if details.when else [])])


def _report_text(details: _Details) -> str:
    words = ["report", details.when or "this-month"]
    if details.granularity:
        words += ["by", details.granularity]
    if details.projects:
        words += ["project", ",".join(details.projects)]
    if details.payment_methods:
        words += ["payment-method", ",".join(details.payment_methods)]
    if details.reported:
        words.append("reported")
    if details.csv:
        words.append("csv")
    return " ".join(words)


def _spending(details: _Details | None, project: str | None, *, report: bool = False) -> str | None:
    """How much was used or spent: month-to-date for one project is `usage`, anything else a
    report (or, on Contro, its summary)."""
    if details is None:
        return None
    if project is not None:
        if details.projects and details.projects != (project,):
            return None
        details.projects = (project,)
    if details.contro:
        if details.projects or details.report_only or details.csv:
            return None
        return _contro_summary_text(details)
    month_to_date = details.when in (None, "this-month")
    simple = not (details.report_only or details.csv)
    if not report and len(details.projects) == 1 and month_to_date and simple:
        return f"usage {details.projects[0]}"
    return _report_text(details)


def _how_much(match: re.Match[str], today: date) -> str | None:
    """Phrases like "how much has my-project used", "what did we spend last month"."""
    project = None if _group(match, "org") else _name(_group(match, "project"))
    if project is None and not _group(match, "org"):
        return None
    return _spending(_details(today, match["tail"]), project)


def _project_spend(match: re.Match[str], today: date) -> str | None:
    """Phrases like "my-project usage", "my-project's costs last month"."""
    project = _name(match["project"])
    return _spending(_details(today, match["tail"]), project) if project else None


def _spend(match: re.Match[str], today: date) -> str | None:
    """Phrases like "spend this month", "usage of my-project", "costs last month for x"."""
    head, tail = match["head"], match["tail"]
    if match["noun"].lower() == "usage" and not head.strip() and not tail.strip():
        return None  # a bare `usage` is the command, missing its project
    return _spending(_details(today, head, tail), None)


def _report(match: re.Match[str], today: date) -> str | None:
    """Phrases like "report for March as csv", "a weekly report of last month for x"."""
    return _spending(_details(today, match["head"], match["tail"]), None, report=True)


_RULES: tuple[_Rule, ...] = (
    # help
    _rule(
        r"help(?:\s+(?:me|us|please|pls|out))?|menu|commands|(?:list|show)\s+(?:the\s+|your\s+)?"
        r"commands|(?:the\s+|your\s+)commands|what\s+(?:can|do)\s+(?:you|i)\s+(?:do|ask(?:\s+you)?"
        r"|say|type)(?:\s+here)?|what\s+do\s+you\s+know|how\s+does\s+(?:this|it)\s+work"
        r"|how\s+do\s+i\s+use\s+(?:this|you|it)|who\s+are\s+you|what\s+are\s+you",
        _help,
    ),
    _rule(
        r"(?:help|how\s+do\s+(?:i|we)\s+(?:use|get|read|run|see))(?:\s+(?:with|on|about|for))?"
        r"\s+(?:the\s+|an?\s+)?(?P<topic>[a-z][a-z -]*?)(?:\s+commands?)?",
        _help_topic,
    ),
    # billing changes: never from a phrase
    _rule(
        rf"(?:enable|activate|turn\s+on|switch\s+on|start|set\s+up|configure)\s+(?:the\s+)?{_MX}"
        rf"(?:\s+on)?\s+(?:for|on|in|of)\s+{_PROJECT}",
        _refuse_metrics,
    ),
    _rule(
        rf"(?:turn|switch)\s+(?:the\s+)?{_MX}\s+on\s+(?:for|on|in|of)\s+{_PROJECT}", _refuse_metrics
    ),
    _rule(
        rf"(?:enable|activate|turn\s+on|switch\s+on|start|set\s+up)\s+{_PROJECT}(?:'s)?\s+{_MX}",
        _refuse_metrics,
    ),
    _rule(
        rf"(?:disable|deactivate|turn\s+off|switch\s+off|stop)\s+(?:the\s+)?{_MX}"
        rf"\s+(?:for|on|in|of)\s+{_PROJECT}",
        _metrics_off,
    ),
    _rule(
        rf"(?:set|change|switch|assign|update|use)\s+(?:the\s+)?{_PM}\s+(?:of|for|on)\s+{_PROJECT}"
        r"\s+(?:to|as)\s+(?P<method>.+)",
        _refuse_payment_method,
    ),
    _rule(
        rf"(?:set|change|switch|update)\s+{_PROJECT}(?:'s)?\s+{_PM}\s+to\s+(?P<method>.+)",
        _refuse_payment_method,
    ),
    _rule(
        rf"assign\s+(?:the\s+)?(?:{_PM}\s+)?(?P<method>.+?)\s+to\s+{_PROJECT}",
        _refuse_payment_method,
    ),
    # metrics <project>
    _rule(rf"(?:is|are)\s+(?:the\s+)?{_MX}\s+{_ON}\s+(?:for|on|in|with)\s+{_PROJECT}", _metrics_of),
    _rule(rf"(?:is|are)\s+{_PROJECT}(?:'s)?\s+{_MX}\s+{_ON}", _metrics_of),
    _rule(
        rf"(?:does|do|is|can)\s+{_PROJECT}\s+(?:have|has|export|exporting|expose|exposing)"
        rf"\s+(?:its\s+)?{_MX}(?:\s+{_ON})?",
        _metrics_of,
    ),
    _rule(
        rf"(?:(?:state|status)\s+of\s+(?:the\s+)?)?{_MX}{_MX_STATE}"
        rf"\s+(?:of|for|on|in)\s+{_PROJECT}",
        _metrics_of,
    ),
    _rule(rf"{_PROJECT}(?:'s)?\s+{_MX}{_MX_STATE}", _metrics_of),
    # payment methods
    _rule(
        rf"(?:(?:which|what)\s+)?(?:(?:all|our|the|my|available|existing)\s+)*{_PM}s?"
        r"(?:\s+(?:do\s+|can\s+)?(?:we|i)\s+(?:have|use|got|pay\s+with)"
        r"|\s+(?:are\s+|is\s+)?(?:there|available|on\s+file)|\s+there\s+are)?",
        _payment_methods_list,
    ),
    _rule(r"how\s+(?:do|can|should)\s+(?:we|i)\s+pay", _payment_methods_list),
    _rule(
        rf"(?:which|what)\s+{_PM}s?\s+(?:do|does|can|did|is|are)\s+{_SUBJECT}\s+(?:have|has|got"
        r"|use|uses|using|pay\s+with|set|assigned|on)(?:\s+(?:set|assigned|got|available))?",
        _payment_method_of,
    ),
    _rule(
        rf"(?:(?:which|what)\s+)?{_PM}\s+(?:is\s+)?(?:used\s+by|assigned\s+to|set\s+(?:on|for)"
        rf"|for|on|of)\s+{_PROJECT}",
        _payment_method_of,
    ),
    _rule(rf"{_PROJECT}(?:'s)?\s+{_PM}", _payment_method_of),
    _rule(
        rf"(?:how|with\s+what|what)\s+(?:does|do|is)\s+{_PROJECT}\s+(?:pay|paid|billed|charged)"
        r"(?:\s+(?:with|for|by))?",
        _payment_method_of,
    ),
    _rule(rf"who\s+pays\s+for\s+{_PROJECT}", _payment_method_of),
    _rule(
        rf"does\s+{_PROJECT}\s+have\s+(?:a\s+)?{_PM}(?:\s+(?:set|assigned))?", _payment_method_of
    ),
    # ratecard <method>
    _rule(
        rf"{_RATES}\s+(?:of|for|on|in|under|with)\s+(?:the\s+)?(?:{_PM}\s+)?(?P<method>.+)",
        _rate_card,
    ),
    _rule(rf"{_RATES}\s+(?:the\s+)?(?:{_PM}\s+)?(?P<method>{_NAME})", _rate_card),
    # contro
    _rule(
        r"(?P<head>.*?)(?<![\w-])(?:contro(?:'s)?\s+)?(?:(?:usage|billing)\s+)?"
        rf"(?:(?P<kind>{_NAME})\s+)?records?(?![\w-])"
        r"(?P<tail>.*)",
        _contro_records,
    ),
    _rule(
        r"(?P<head>.*?)(?<![\w-])contro(?:'s)?(?:\s+(?:usage|billing|costs?|spend(?:ing)?|spent"
        r"|charges|totals?|bill|invoice|numbers|summary|overview))*(?![\w-])(?P<tail>.*)",
        _contro_summary,
    ),
    # usage and reports
    _rule(
        rf"(?:how\s+much|what)\s+(?:money\s+)?(?:has|have|had|did|does|do|is|are|was|were|will)"
        rf"\s+{_SUBJECT}\s+{_SPEND_VERB}(?![\w-])(?P<tail>.*)",
        _how_much,
    ),
    _rule(rf"{_PROJECT}(?:'s)?\s+(?:{_SPEND_NOUN})(?![\w-])(?P<tail>.*)", _project_spend),
    _rule(
        r"(?P<head>.*?)(?<![\w-])(?:(?:usage|cost|costs|billing|spend(?:ing)?|mk\.?io)\s+)?"
        r"reports?(?![\w-])(?P<tail>.*)",
        _report,
    ),
    _rule(rf"(?P<head>.*?)(?<![\w-])(?P<noun>{_SPEND_NOUN})(?![\w-])(?P<tail>.*)", _spend),
)


# --- Not understood: the closest commands ---------------------------------------------------

_COMMAND_WORDS = frozenset(spec.word for spec in COMMANDS)
_PHRASE_WORDS = _wordset(
    "for of on in at what how which who is are does do did has have my our we the please much",
    "with as me you can show about from",
)
_SYNONYMS: dict[str, frozenset[str]] = {
    "help": _wordset("commands hello hint"),
    "usage": _wordset("used use using consumption consumed"),
    "report": _wordset("spend spent spending cost costs bill billing total month week year"),
    "payment-methods": _wordset("pay cards methods"),
    "ratecard": _wordset("rate card rates price prices pricing tariff"),
    "payment-method": _wordset("pays assigned"),
    "metrics": _wordset("metric export endpoint prometheus monitoring"),
    "contro": _wordset("kyc verification verifications"),
}
_CHANGES: dict[str, tuple[str, ...]] = {  # a billing change is suggested only when asked for
    "set": ("set", "assign", "change", "switch", "update"),
    "enable": ("enable", "activate", "turn", "start"),
}
_EXAMPLE_PROJECT = "my-project"
_NOT_TOPIC_WORDS = frozenset({"my-project", "project", "type", "this", "last"})
_WORD = re.compile(r"[a-z][a-z-]*")
_USER_WORD = re.compile(r"[^\s,;:!?()\"*]+")


@dataclass(frozen=True)
class _Topic:
    """One form of COMMANDS, with the words that point to it."""

    spec: CommandSpec
    words: frozenset[str]
    needs: frozenset[str]  # for billing changes: one of these must have been said


def _topic(spec: CommandSpec) -> _Topic:
    """The words of a form's syntax and examples, their parts, and their synonyms."""
    said = [re.sub(r"<[^>]*>", " ", spec.syntax), *(e.removeprefix(PREFIX) for e in spec.examples)]
    found = [word for text in said for word in _WORD.findall(text.lower())]
    literal = {word for word in found if len(word) > 2 and not word.endswith("-")}
    literal |= {part for word in literal for part in word.split("-") if len(part) > 2}
    needs = {change for word in literal for change in _CHANGES.get(word, ())}
    words = literal | _SYNONYMS.get(spec.word, frozenset()) | needs
    return _Topic(spec, frozenset(words - _NOT_TOPIC_WORDS), frozenset(needs))


_TOPICS = tuple(_topic(spec) for spec in COMMANDS)
_VOCABULARY = frozenset(word for topic in _TOPICS for word in topic.words)


def _looks_like_a_command(text: str) -> bool:
    """Command words, not a sentence: the parser's own error says best what is wrong."""
    words = [word.lower() for word in text.split()]
    return bool(words) and words[0] in _COMMAND_WORDS and not _PHRASE_WORDS & set(words)


_TIME_PREPOSITIONS = frozenset({"in", "during", "since", "until", "till", "at"})
_FOR = frozenset({"for", "of", "on"})


def _said(text: str) -> list[str]:
    """The user's words without punctuation around them (the first 40)."""
    found: list[str] = _USER_WORD.findall(text)[:40]
    words = [word.strip(".'-").removesuffix("'s") for word in found]
    return [word for word in words if word]


def _project_word(text: str) -> str | None:
    """A word the user typed that looks like a project name: `my-project`, `web2`, `for acme`."""
    found: list[str] = _USER_WORD.findall(text)[:40]
    words = [word.strip(".'").removesuffix("'s") for word in found]
    for before, word in zip(["", *words], words, strict=False):
        if not re.fullmatch(_NAME, word) or _name(word) is None:
            continue
        low = word.lower()
        if low in _VOCABULARY or low in _COMMAND_WORDS or not any(ch.isalpha() for ch in word):
            continue
        if difflib.get_close_matches(low, _VOCABULARY | _COMMAND_WORDS, n=1, cutoff=0.8):
            continue  # a misspelt command word, not a name
        marked = any(ch in "-_" or ch.isdigit() for ch in word)
        if (marked and before.lower() not in _TIME_PREPOSITIONS) or before.lower() in _FOR:
            return word
    return None


def _time_hint(text: str, today: date) -> str | None:
    """The first time the user named ("in March", "last month"), as a range word."""
    for pattern, piece in _TIME_PIECES:
        match = pattern.search(text)
        details = _Details()
        if match and piece(match, details, today):
            return details.when
    return None


def _ranked(words: Iterable[str]) -> list[_Topic]:
    """The topics the user's words point to, best first: a word counts for each topic it is
    close to (difflib), shared between them; a billing change only when a change was asked."""
    scores = dict.fromkeys(_TOPICS, 0.0)
    changes: set[_Topic] = set()
    for word in dict.fromkeys(words):
        if word in _PHRASE_WORDS:
            continue
        near = set(difflib.get_close_matches(word, _VOCABULARY, n=3, cutoff=0.85))
        topics = [topic for topic in _TOPICS if near & topic.words]
        for topic in topics:
            scores[topic] += 1 / len(topics)
            if near & topic.needs:
                changes.add(topic)
    wanted = [t for t in _TOPICS if scores[t] and (not t.needs or t in changes)]
    return sorted(wanted, key=lambda topic: -scores[topic])  # ties: in the order of COMMANDS


def _suggestion(topic: _Topic, project: str | None, when: str | None, today: date) -> str:
    """The topic's first example, with the user's project and time where they fit."""
    spec = topic.spec
    example = spec.examples[0]
    if EXAMPLE_PAYMENT_METHOD in example:  # not a method of this organization: list them
        return f"{PREFIX} payment-methods"
    if project and "<project>" in spec.syntax:
        example = example.replace(_EXAMPLE_PROJECT, project)
    if spec.word == "report" and (when or project):
        example = " ".join(
            [PREFIX, "report", when or "this-month", *(["project", project] if project else [])]
        )
    if spec.word == "contro" and when:
        example = f"{PREFIX} {spec.name} {when}"
    try:
        commands.parse(example, today)
    except CommandError:
        return spec.examples[0]
    return example


def _closest(text: str, today: date) -> list[str]:
    """Up to two commands closest to `text`, the user's project and time kept in them."""
    ranked = _ranked(word.lower() for word in _said(text))
    project, when = _project_word(text), _time_hint(text, today)
    if not ranked and project:
        ranked = [topic for topic in _TOPICS if topic.spec.syntax == "usage <project>"]
    return list(dict.fromkeys(_suggestion(t, project, when, today) for t in ranked))[:2]


def _not_understood(text: str, today: date, strict: CommandError) -> NotUnderstood:
    closest = _closest(text, today)
    if not closest:
        help_command = f"{PREFIX} help"
        return NotUnderstood(
            f"I didn't understand that. `{help_command}` shows what I can answer, "
            f"like `{PREFIX} usage {_EXAMPLE_PROJECT}`.",
            help_command,
            strict,
        )
    options = " or ".join(f"`{_shown(option)}`" for option in closest)
    return NotUnderstood(f"I didn't understand that. Did you mean {options}?", closest[0], strict)
