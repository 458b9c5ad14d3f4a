"""Languages: message catalogs, the current language, and who gets which language.

Every user-facing string goes through ``_``, ``ngettext``, ``pgettext`` or ``npgettext``
(or ``lazy_gettext`` for module-level constants, translated when used). The language is
a ContextVar set once per interaction (familybot/interaction_gate.py sets it around
discord.py's parse of each INTERACTION_CREATE, so the command, button, select or form
callback and the listeners all start in it; ``FamilyTree.interaction_check`` sets it again
for commands) or per job
(:func:`using`; the reminder dispatcher does), so the code between never passes a language
around. A text built at import time must be lazy (:func:`lazy_gettext`).

Catalogs: translators edit familybot/locales/<lang>/LC_MESSAGES/familybot.po (Babel keeps
them); the compiled familybot.mo beside each is committed too and is what runs, read once
by the standard library's gettext into a plain dict (``load_catalogs`` at start): a lookup
is one dict ``get``. README "Languages" has the start-up cost and the reasons.

msgctxt says where a string is shown, and with it Discord's length limit (LIMITS below;
tests/unit/test_catalogs.py renders every string with long placeholder values against it):
``pgettext("button", "Join")``; a context may carry a suffix after a colon to tell two
uses apart (``"button:rsvp"``). No context means message content (2000).
"""

from __future__ import annotations

import gettext as stdlib_gettext
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from typing import Any, Final, Literal, Protocol

log = logging.getLogger(__name__)

Language = Literal["en", "es"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "es")
DEFAULT_LANGUAGE: Final[Language] = "en"
DOMAIN: Final = "familybot"

# Discord's limits by where the text is shown (msgctxt, before any ":suffix").
LIMITS: Final[dict[str, int]] = {
    "": 2000,  # message content (no context)
    "content": 2000,
    "embed-title": 256,
    "embed-description": 4096,
    "embed-field-name": 256,
    "embed-field": 1024,
    "embed-footer": 2048,
    "button": 80,
    "select-placeholder": 150,
    "select-option": 100,
    "select-option-description": 100,
    "modal-title": 45,
    "modal-label": 45,
    "modal-placeholder": 100,
    "autocomplete": 100,
    # Command tree (the Translator): names 1-32, descriptions 1-100, choice names 1-100.
    "command-name": 32,
    "menu-name": 32,
    "command-description": 100,
    "option-name": 32,
    "option-description": 100,
    "choice-name": 100,
    # Building blocks inside other strings (a date pattern, an ordinal): short by nature.
    "date-pattern": 60,
    "week-of-month": 32,
    "language-name": 32,
}


def language_name(language: str) -> str:
    """A language's name inside a sentence, in the current language ("Spanish" / "español")."""
    names = {
        "en": pgettext("language-name", "English"),
        "es": pgettext("language-name", "Spanish"),
    }
    return names[language]


def limit_for(context: str | None) -> int:
    """Discord's limit for a msgctxt (see LIMITS); unknown kinds fail loudly in tests."""
    return LIMITS[(context or "").split(":", 1)[0]]


_current: ContextVar[Language] = ContextVar("familybot_language", default=DEFAULT_LANGUAGE)


def current_language() -> Language:
    return _current.get()


def activate(language: Language) -> Token[Language]:
    return _current.set(language)


def reset(token: Token[Language]) -> None:
    _current.reset(token)


@contextmanager
def using(language: Language) -> Iterator[None]:
    """Run a block (a scheduler job, a notice to a channel) in one language."""
    token = _current.set(language)
    try:
        yield
    finally:
        _current.reset(token)


# --- catalogs ---------------------------------------------------------------------------------
Key = tuple[str | None, str]  # (msgctxt, msgid)


@dataclass
class Catalog:
    language: str
    messages: dict[Key, str | tuple[str, ...]]
    plural: Callable[[int], int]


_catalogs: dict[str, Catalog] = {}
load_seconds: float = 0.0


def catalog_path(language: str, suffix: str = ".po") -> Any:
    folder = resources.files("familybot") / "locales" / language / "LC_MESSAGES"
    return folder / f"{DOMAIN}{suffix}"


def catalog_from_gnu(language: str, translations: stdlib_gettext.GNUTranslations) -> Catalog:
    """Our dict from a compiled catalog: gettext keys "ctxt\x04msgid" and (msgid, n)."""
    raw: dict[Any, str] = translations._catalog  # type: ignore[attr-defined]
    messages: dict[Key, str | tuple[str, ...]] = {}
    plurals: dict[Key, dict[int, str]] = {}
    for raw_key, value in raw.items():
        text, index = raw_key if isinstance(raw_key, tuple) else (raw_key, None)
        if not text:
            continue  # the header
        context, _sep, msgid = text.rpartition("\x04")
        key = (context or None, msgid)
        if index is None:
            messages[key] = value
        else:
            plurals.setdefault(key, {})[index] = value
    for key, forms in plurals.items():
        messages[key] = tuple(forms[i] for i in sorted(forms))
    return Catalog(language, messages, translations.plural)  # type: ignore[attr-defined]


def read_catalog(language: str) -> Catalog:
    """The compiled .mo, read by the standard library (a few ms; Babel is not imported).
    The .mo sits in git beside its .po (as Django ships them): no build step can forget
    it, and tests/unit/test_catalogs.py fails when it is older than the .po."""
    with catalog_path(language, ".mo").open("rb") as fh:
        return catalog_from_gnu(language, stdlib_gettext.GNUTranslations(fh))


def load_catalogs() -> dict[str, Catalog]:
    """Parse every shipped catalog (once); returns them for tests and `familybot check`."""
    global load_seconds
    if not _catalogs:
        started = time.perf_counter()
        for language in LANGUAGES:
            _catalogs[language] = read_catalog(language)
        load_seconds = time.perf_counter() - started
        log.info("message catalogs loaded languages=%d seconds=%.3f", len(_catalogs), load_seconds)
    return _catalogs


def _catalog() -> Catalog:
    catalogs = _catalogs or load_catalogs()
    return catalogs[_current.get()]


# --- the four lookups -------------------------------------------------------------------------
def pgettext(context: str | None, message: str) -> str:
    found = _catalog().messages.get((context, message))
    return found if isinstance(found, str) else message


def _(message: str) -> str:
    return pgettext(None, message)


gettext = _


def npgettext(context: str | None, singular: str, plural: str, n: int) -> str:
    catalog = _catalog()
    forms = catalog.messages.get((context, singular))
    if isinstance(forms, tuple):
        index = catalog.plural(n)
        if 0 <= index < len(forms):
            return forms[index]
    return singular if n == 1 else plural


def ngettext(singular: str, plural: str, n: int) -> str:
    return npgettext(None, singular, plural, n)


class LazyString:
    """A module-level constant translated each time it is used (str() or format)."""

    __slots__ = ("context", "message")

    def __init__(self, message: str, context: str | None = None) -> None:
        self.message = message
        self.context = context

    def __str__(self) -> str:
        return pgettext(self.context, self.message)

    def format(self, *args: Any, **kwargs: Any) -> str:
        return str(self).format(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return str(self) == (str(other) if isinstance(other, LazyString) else other)

    def __hash__(self) -> int:
        return hash(self.message)

    def __repr__(self) -> str:
        return f"LazyString({self.message!r})"


def lazy_gettext(message: str) -> LazyString:
    return LazyString(message)


def lazy_pgettext(context: str, message: str) -> LazyString:
    return LazyString(message, context)


# --- who gets which language ------------------------------------------------------------------
def language_of_locale(locale: object) -> Language:
    """Discord's client language -> ours: es-ES and es-419 -> es; anything else -> en."""
    value = str(getattr(locale, "value", locale) or "")
    return "es" if value.lower().startswith("es") else DEFAULT_LANGUAGE


def parse_language(value: str | None) -> Language | None:
    return value if value in LANGUAGES else None


@dataclass
class LanguagePreferences:
    """Stored choices, in memory (loaded at start, updated on every write): the per-
    interaction lookup is a dict get. A user missing from `users` follows Discord ("auto")."""

    users: dict[int, Language] = field(default_factory=dict)
    guilds: dict[int, Language] = field(default_factory=dict)

    def for_guild(self, guild_id: int | None) -> Language:
        if guild_id is None:
            return DEFAULT_LANGUAGE
        return self.guilds.get(guild_id, DEFAULT_LANGUAGE)

    def for_dm(self, user_id: int, guild_id: int | None) -> Language:
        return self.users.get(user_id) or self.for_guild(guild_id)


preferences = LanguagePreferences()


class InteractionLike(Protocol):
    @property
    def locale(self) -> Any: ...

    @property
    def guild_id(self) -> int | None: ...

    @property
    def user(self) -> Any: ...


def for_interaction(interaction: InteractionLike) -> Language:
    """The person's /my language, else their Discord client's language, else English."""
    stored = preferences.users.get(int(interaction.user.id))
    if stored is not None:
        return stored
    return language_of_locale(interaction.locale)


def for_guild(guild_id: int | None) -> Language:
    """For messages to a channel (reminders, notices): the server's /setup language."""
    return preferences.for_guild(guild_id)


def for_dm(user_id: int, guild_id: int | None) -> Language:
    """For a DM: the recipient's stored choice, else the server's language."""
    return preferences.for_dm(user_id, guild_id)


def for_payload(data: Any) -> Language:
    """for_interaction, from a raw INTERACTION_CREATE payload (before discord.py parses it)."""
    user = (data.get("member") or {}).get("user") or data.get("user") or {}
    try:
        stored = preferences.users.get(int(user.get("id") or 0))
    except (TypeError, ValueError):
        stored = None
    return stored if stored is not None else language_of_locale(data.get("locale"))


def activate_for_interaction(interaction: InteractionLike) -> Language:
    language = for_interaction(interaction)
    _current.set(language)
    return language


# --- dates and numbers (Discord timestamps stay as they are) ----------------------------------
def format_date(day: date | datetime, format: str = "full") -> str:
    """A date in words in the current language, e.g. "Tuesday, 2 March 2027" /
    "martes, 2 de marzo de 2027" (Babel's CLDR data)."""
    from babel.dates import format_date as babel_format_date

    return babel_format_date(day, format=format, locale=_current.get())


def format_skeleton(day: date | datetime, skeleton: str) -> str:
    """A date by CLDR skeleton (e.g. "EEEE", "MMMMd", "yMMMMEEEEd") in the current language."""
    from babel.dates import format_skeleton as babel_format_skeleton

    return babel_format_skeleton(skeleton, day, locale=_current.get())


def warm_dates() -> None:
    """Import Babel's date formatting and read each language's CLDR data now (about
    0.2 s), in a worker thread at start, so the first date in words costs no interaction."""
    from babel import Locale

    for language in LANGUAGES:
        with using(language):
            format_date(date(2000, 1, 1), "EEEE d MMMM y")
            format_decimal(1.5)
        Locale.parse(language).plural_form  # noqa: B018 - loads the locale's data


def format_decimal(number: float | int) -> str:
    from babel.numbers import format_decimal as babel_format_decimal

    return babel_format_decimal(number, locale=_current.get())
