"""One English detector for the language end-to-end tests (issue #12).

A Spanish-speaking member must not meet an English sentence. This module finds one in
whatever the bot sent, independently of familybot.i18n (it never asks the code under test
what is English):

(a) **catalog phrases**: the English msgids of the shipped template
    (familybot/locales/familybot.pot, read with Babel), cut at placeholders, markup and
    sentence ends; every piece of three words or more is a phrase that must not appear;
(b) **uncatalogued English**: text that never went through the catalog at all (a literal
    in a service or an adapter) has no msgid to match, so every sentence is also checked
    for common English function words (the, you, to, is, please...). Two or more different
    ones in one sentence is English. The list holds no word that is also Spanish ("a",
    "no", "me", "he", "has", "son", "sin"...), and tests/unit/test_english_detector.py runs
    it over every Spanish msgstr we ship.

Names a person typed (a group called "Parents Circle", a crisis line's name, an English
default text a test left in place) are not the bot's words: pass them as ``allowed`` and
they are removed before checking. URLs, `code` and <mentions/timestamps> are
removed too (a /command's words are no function words).

Use::

    from tests.support.english import assert_no_english, english_in

    text = assert_no_english(*handle.all_bodies(), allowed=["Parents Circle"])
    assert english_in("Thank you. You're now a member.")  # -> the leaks, sorted
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parents[2] / "familybot" / "locales"
TEMPLATE = LOCALES / "familybot.pot"
SPANISH = LOCALES / "es" / "LC_MESSAGES" / "familybot.po"

# Keys of a request body that no person reads (ids, urls, flags...). "value" is read (an
# embed field's text, a form's prefilled text) except in a select's options.
NOT_TEXT = frozenset(
    {
        "custom_id",
        "url",
        "proxy_url",
        "icon_url",
        "id",
        "type",
        "flags",
        "style",
        "color",
        "timestamp",
        "allowed_mentions",
        "parse",
        "channel_id",
        "guild_id",
        "message_id",
        "application_id",
        "token",
        "nonce",
        "message_reference",
        "emoji",
        "filename",
        "content_type",
    }
)

# English function words that are not Spanish words (nor common in Spanish text).
FUNCTION_WORDS = frozenset(
    {
        "the",
        "you",
        "your",
        "you're",
        "you've",
        "you'll",
        "to",
        "is",
        "are",
        "was",
        "were",
        "please",
        "this",
        "that",
        "these",
        "those",
        "and",
        "with",
        "for",
        "from",
        "can't",
        "cannot",
        "couldn't",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "aren't",
        "won't",
        "wasn't",
        "not",
        "have",
        "been",
        "will",
        "would",
        "could",
        "should",
        "it",
        "it's",
        "its",
        "of",
        "be",
        "we",
        "we'll",
        "we're",
        "our",
        "an",
        "on",
        "in",
        "by",
        "at",
        "or",
        "if",
        "what",
        "when",
        "which",
        "who",
        "there",
        "here",
        "only",
        "any",
        "all",
        "they",
        "their",
        "i'm",
        "i'll",
        "i've",
        "yet",
        "now",
        "about",
        "into",
        "after",
        "before",
        "than",
        "then",
    }
)

_MARKUP = re.compile(r"`[^`]*`|\*\*|__|<[^<>]*>|\n|(?<=[.!?…;:])\s+|[•·|]")
_STRIP = " .,:;()#*_·•…“”\"'«»¡!¿?-–—[]"
_WORD = re.compile(r"[A-Za-zÀ-ÿ']+")
_REMOVED = re.compile(
    r"https?://\S+"  # links
    r"|`[^`]*`"  # code and command names
    r"|<[^<>]*>"  # mentions, channels, Discord timestamps
)
_SENTENCE = re.compile(r"[.!?…;:\n•·|()\[\]]+")


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(v for v in (value if isinstance(value, list | tuple) else (value,)) if v)


def _phrases(text: str) -> Iterator[str]:
    for literal, _field, _spec, _conv in string.Formatter().parse(text):
        for piece in _MARKUP.split(literal):
            piece = " ".join(piece.replace("’", "'").split()).strip(_STRIP)
            if sum(1 for word in piece.split() if _WORD.search(word)) >= 3:
                yield piece.lower()


@cache
def catalog_phrases() -> frozenset[str]:
    """(a): the fixed text of every English msgid of the template, cut at placeholders,
    markup, line and sentence ends; pieces of three words or more, lower-cased. A phrase
    the Spanish translation keeps on purpose (Discord's own English name of a setting,
    "Message Content Intent") is left out; a msgstr that merely copies its msgid is not
    such a purpose, so its phrases stay in."""
    with TEMPLATE.open("rb") as fh:
        template = read_po(fh)
    with SPANISH.open("rb") as fh:
        spanish = read_po(fh, locale="es")
    kept = " ".join(
        " ".join(m.string if isinstance(m.string, list | tuple) else (m.string,)).lower()
        for m in spanish
        if m.id and _texts(m.string) and set(_texts(m.string)) != set(_texts(m.id))
    )
    found: set[str] = set()
    for message in template:
        for msgid in _texts(message.id):
            found.update(p for p in _phrases(msgid) if p not in kept)
    return frozenset(found)


@cache
def crisis_line_names() -> tuple[str, ...]:
    """The crisis lines' names (data: "988 Suicide & Crisis Lifeline" is what people search
    for), to pass as ``allowed`` wherever /crisis is shown."""
    import csv

    with (LOCALES.parent / "data" / "crisis_lines.csv").open(newline="", encoding="utf-8") as fh:
        return tuple(sorted({row["name"] for row in csv.DictReader(fh)}))


def readable(*bodies: Any) -> str:
    """Every string a person could read in these bodies (strings, dicts, lists: content,
    embeds, components, modal titles, labels, placeholders, select options), one a line."""
    return "\n".join(_strings(bodies))


def _strings(body: Any, hidden: frozenset[str] = NOT_TEXT) -> Iterator[str]:
    if isinstance(body, str):
        yield body
    elif isinstance(body, dict):
        for key, value in body.items():
            if key not in hidden:
                # A select option's or an autocomplete choice's value is never shown.
                inner = NOT_TEXT | {"value"} if key in {"options", "choices"} else NOT_TEXT
                yield from _strings(value, inner)
    elif isinstance(body, list | tuple):
        for item in body:
            yield from _strings(item, hidden)


def _cleaned(text: str, allowed: Iterable[str]) -> str:
    text = text.replace("’", "'")
    for name in sorted({a for a in allowed if a}, key=len, reverse=True):
        text = text.replace(name.replace("’", "'"), "\n")
    return _REMOVED.sub("\n", text)


def uncatalogued_english(sentence: str) -> bool:
    """(b): two or more different English function words in one sentence."""
    words = {w.lower().strip("'") for w in _WORD.findall(sentence)}
    words |= {w.lower() for w in _WORD.findall(sentence)}
    return len(words & FUNCTION_WORDS) >= 2


def english_in(*bodies: Any, allowed: Iterable[str] = ()) -> list[str]:
    """The English in what was shown, sorted: catalog phrases found, and sentences that
    read as English. Empty when everything is free of English."""
    text = _cleaned(readable(*bodies), allowed)
    flat = " ".join(text.split()).lower()
    leaks = {p for p in catalog_phrases() if _contains(flat, p)}
    for sentence in _SENTENCE.split(text):
        sentence = " ".join(sentence.split()).strip(_STRIP)
        if sentence and uncatalogued_english(sentence):
            leaks.add(sentence)
    return sorted(leaks)


def _contains(flat: str, phrase: str) -> bool:
    start = flat.find(phrase)
    while start != -1:
        end = start + len(phrase)
        before = flat[start - 1] if start else " "
        after = flat[end] if end < len(flat) else " "
        if not (before.isalnum() or after.isalnum()):
            return True
        start = flat.find(phrase, start + 1)
    return False


def assert_no_english(*bodies: Any, allowed: Iterable[str] = ()) -> str:
    """Fails listing the English found; returns the readable text for further asserts."""
    leaks = english_in(*bodies, allowed=allowed)
    text = readable(*bodies)
    assert not leaks, (leaks, text)
    return text
