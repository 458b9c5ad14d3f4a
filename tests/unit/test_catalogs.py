"""The message catalogs: complete, faithful to their placeholders, plural-correct, current,
and within Discord's limits in every language.

Where a string is shown is its msgctxt (familybot/i18n.py LIMITS); a string without one is
message content (2000). Each placeholder is rendered with a long but valid value from
PLACEHOLDERS below: a new placeholder name needs its line there (the test names it).
"""

from __future__ import annotations

import io
import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from familybot import i18n

LOCALES = Path(i18n.__file__).parent / "locales"
SHIPPED = ("es",)  # languages that must be complete (English is the source)

# Longest realistic value per placeholder name (what Discord or our own limits allow).
PLACEHOLDERS: dict[str, str] = {
    "language": "Español",
    "week": "último",
    "weekday": "miércoles",
    "time": "23:59",
    "tz": "America/Argentina/ComodRivadavia",  # the longest IANA name
    "day": "miércoles 30 de septiembre de 2027",
    # Mentions, links and counts (Discord snowflakes have up to 20 digits).
    "author": "<@12345678901234567890>",
    "role": "<@&12345678901234567890>",
    "link": "https://discord.com/channels/12345678901234567890/12345678901234567890/12345678901234567890",
    "number": "123456",
    "seconds": "86400",
    "threshold": "100",
    "region": "Other (international lines only)",
    "dm": (  # the safety alert's longest sentence about the DM, in Spanish
        "**No pude enviarle las líneas de crisis**: tiene cerrados los mensajes directos. "
        "No se publicó nada en el canal."
    ),
    "privacy": (  # the report thread's privacy sentence, in Spanish
        "Solo esta persona, los facilitadores y FamilyBot pueden ver este canal. "
        "Por favor, respondan aquí."
    ),
    "value": "America/Argentina/ComodRivadavia (la predeterminada del bot)",  # /setup show
    "refusal": (  # /setup alerts' refusal, in Spanish
        "Los avisos nombran a las personas involucradas, así que necesitan un canal privado "
        "que solo vean los facilitadores; por favor, elija uno."
    ),
    "reason": "R" * 300,  # a moderation reason as the reply clips it
    "error": "E" * 300,  # a service's kind explanation of why Discord refused
    "action": "quitado por la moderación automática",  # a case's action name, Spanish
    "id": "12345678901234567890",
    "length": "52 semanas 6 días",
    "until": "<t:99999999999:F>",
    "rule": (  # describe_rule's longest output, in Spanish
        "cada mes, el último miércoles a las 23:59 (America/Argentina/ComodRivadavia), "
        "hasta el 30 de septiembre de 2027"
    ),
    # Groups, /my, the start-here panel, /help, /about (l10na).
    "name": "Círculo de madres y padres de adolescentes en tratamiento ambulatorio intensivo, martes…",
    "channel": "<#123456789012345678901>",
    "old": "<#123456789012345678901>",
    "member": "<@123456789012345678901>",
    "facilitator": "<@123456789012345678901>",
    "permissions": "**Ver canal**, **Enviar mensajes**, **Insertar enlaces**, **Leer el historial**",
    "position": "1000",
    "n": "1000000",
    "count": "1000/1000",
    "page": "1000",
    "pages": "1000",
    "version": "1000000",
    "rows": "1000000",
    "sessions": "1000",
    "days": "100000",
    "hours": "23",
    "when": "<t:1893456000:F> (<t:1893456000:R>)",
    "offsets": "1 semana, 6 días, 23 horas y 59 minutos, 2 días, 1 hora y 30 minutos",
    "menu": "Avisar a los facilitadores",
    "detail": (
        " (1000000 lugares y roles en grupos, 1000000 respuestas, asistencias y ajustes de "
        "recordatorios, 1000000 notas privadas, 1000000 sugerencias, 1000000 registros de "
        "salida, 1000000 registros más)"
    ),
    # Sessions, resources, FAQ, facilitator views (l10nb).
    "end": "<t:1790000000:t>",
    "since": "<t:1790000000:D>",
    "date": "2027-09-30",
    "first": "2027-09-30",
    "last": "2027-09-30",
    "group": "G" * 100,
    "title": "T" * 150,  # a resource title (150); session titles are 100
    "question": "Q" * 100,
    "query": "Q" * 100,
    "category": "C" * 50,
    "reply": "no puedo ir",
    "who": "<@12345678901234567890>",
    "members": "<@12345678901234567890>, <@12345678901234567891>",
    "percent": "100 %",
    # Groups and sessions services: errors, DMs, channel notices (l10n1).
    "session": "S" * 100,  # a session title
    "typed": "T" * 40,  # what someone typed, as the reply clips it
    "text": "T" * 40,
    "zone": "Z" * 60,
    "before": "<t:1790000000:F>",
    "new": "<t:1790000000:F>",
    "better": "2027-09-30",
    "better_day": "miércoles 30 de septiembre de 2027",
    "actual": "último",
    "note": "N" * 300,  # a facilitator's reason (REASON_MAX)
    "years": "2026–2027",
    "relative": "<t:1893456000:R>",
    # Services' and adapters' own texts (l10n2): refusals, limits, the mod log, diagnostics.
    "what": "sumar el rol de facilitador a un hilo privado mencionándolo",
    "missing": (
        "un permiso (Gestionar canales, o Gestionar roles, que me deja decidir quién ve un canal)"
    ),
    "outcome": "El caso queda registrado como fallido",
    "check": "un/a administrador/a puede revisarlo con `/setup show`",
    "limit": "100000",
    "min": "100000",
    "max": "100000",
    "field": "descripción",
    "scheme": "javascript",
    "need": "https:// (o http://)",
    "port": "65535",
    "permission": "Mencionar @everyone, @here y todos los roles",
    "examples": "90m, 1h30m, 2 horas, 1d o 1w",
    "why": (
        "Mencionaba a muchas personas a la vez. Para que los canales de grupo sigan siendo "
        "tranquilos, allí no se publican mensajes que avisan a mucha gente (o a todos)."
    ),
    "where": "el canal del grupo **" + "G" * 60 + "**",
    "command": "/setup crisis-line-remove",
    "offset": "UTC−09:30",
    "average": "1000.5",
    **{
        n: "100000"
        for n in [
            "going",
            "maybe",
            "no",
            "unanswered",
            "minutes",
            "marked",
            "ignored",
            "retained",
            "joined",
            "attended",
            "replies_min",
            "replies_max",
            "came_min",
            "came_max",
        ]
    },
}
_PERCENT = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifr]")


def load(language: str) -> Catalog:
    path = LOCALES / language / "LC_MESSAGES" / "familybot.po"
    with path.open("rb") as fh:
        return read_po(fh, locale=language)


def template() -> Catalog:
    with (LOCALES / "familybot.pot").open("rb") as fh:
        return read_po(fh)


def entries(catalog: Catalog) -> Iterator[Message]:
    return (m for m in catalog if m.id)


def ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, list | tuple) else (message.id,)


def strings(message: Message) -> tuple[str, ...]:
    value = message.string
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def placeholders(text: str) -> set[str]:
    names = {f"%({n})" for n in _PERCENT.findall(text)}
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as exc:  # an unbalanced brace
        return {f"<broken: {exc}>"}
    return names | {f"{{{f.split('.')[0].split('[')[0]}}}" for f in fields}


def render(text: str) -> str:
    values: dict[str, Any] = {}
    for name in placeholders(text):
        bare = name.strip("{}%()")
        assert bare in PLACEHOLDERS, (
            f"placeholder {name} in {text!r} has no long sample in PLACEHOLDERS: add one"
        )
        values[bare] = PLACEHOLDERS[bare]
    if "%(" in text:
        text = text % values
    return text.format(**values) if "{" in text else text


def key(message: Message) -> tuple[str | None, str]:
    return (message.context or None, ids(message)[0])


@pytest.mark.parametrize("language", SHIPPED)
def test_every_msgid_is_translated(language: str) -> None:
    catalog = load(language)
    missing = [
        key(m) for m in entries(catalog) if m.fuzzy or not all(s.strip() for s in strings(m))
    ]
    assert not missing, f"{len(missing)} untranslated in {language}: {missing[:20]}"


@pytest.mark.parametrize("language", [*SHIPPED, "en"])
def test_catalog_holds_every_template_message(language: str) -> None:
    """`python -m familybot.i18n_catalogs` was run after the last extraction."""
    have = {key(m) for m in entries(load(language))}
    want = {key(m) for m in entries(template())}
    assert want <= have, sorted(want - have, key=str)[:20]


@pytest.mark.parametrize("language", SHIPPED)
def test_placeholders_match(language: str) -> None:
    wrong = []
    for message in entries(load(language)):
        expected = placeholders(ids(message)[0])
        for form in strings(message):
            if placeholders(form) != expected:
                wrong.append((ids(message)[0], form))
    assert not wrong, wrong


@pytest.mark.parametrize("language", SHIPPED)
def test_plural_forms_follow_cldr(language: str) -> None:
    catalog = load(language)
    rule = get_plural(language)
    assert catalog.num_plurals == rule.num_plurals == (3 if language == "es" else 2)
    assert catalog.plural_expr == rule.plural_expr
    for message in entries(catalog):
        if isinstance(message.id, list | tuple):
            assert len(strings(message)) == rule.num_plurals, ids(message)


@pytest.mark.parametrize("language", [*SHIPPED, "en"])
def test_compiled_catalog_is_current(language: str) -> None:
    """The committed .mo (what runs) says exactly what its .po says."""
    out = io.BytesIO()
    write_mo(out, load(language))
    out.seek(0)
    import gettext

    fresh = i18n.catalog_from_gnu(language, gettext.GNUTranslations(out))
    shipped = i18n.read_catalog(language)
    assert shipped.messages == fresh.messages, (
        "familybot.mo is older than familybot.po: run `python -m familybot.i18n_catalogs compile`"
    )
    if language == "es":
        assert [shipped.plural(n) for n in (0, 1, 2, 1_000_000)] == [2, 0, 2, 1]


@pytest.mark.parametrize("language", ["en", *SHIPPED])
def test_every_string_fits_where_it_is_shown(language: str) -> None:
    too_long = []
    for message in entries(load(language)):
        limit = i18n.limit_for(message.context)  # KeyError: a msgctxt kind not in LIMITS
        texts = strings(message) if language != "en" else ids(message)
        for text in texts:
            shown = render(text or ids(message)[0])
            if len(shown) > limit:
                too_long.append((message.context, ids(message)[0], len(shown), limit))
    assert not too_long, too_long


def test_lookups_use_context_plural_and_fall_back() -> None:
    with i18n.using("es"):
        assert i18n.pgettext("week-of-month", "last") == "último"
        assert i18n.pgettext("choice-name", "last") == "la última"  # same msgid, other use
        assert i18n._("Not in any catalog") == "Not in any catalog"
        assert i18n.ngettext("one apple", "{n} apples", 5) == "{n} apples"
    assert i18n.pgettext("week-of-month", "last") == "last"
    lazy = i18n.lazy_pgettext("week-of-month", "last")
    with i18n.using("es"):
        assert str(lazy) == "último"
    assert str(lazy) == "last"


def test_plural_selection_uses_the_language_rule() -> None:
    catalog = i18n.load_catalogs()["es"]
    saved = dict(catalog.messages)
    try:
        catalog.messages[(None, "{n} seat left")] = (
            "queda {n} lugar",
            "de {n} lugares",
            "quedan {n} lugares",
        )
        with i18n.using("es"):
            got = [i18n.ngettext("{n} seat left", "{n} seats left", n) for n in (1, 2, 1_000_000)]
        assert got == ["queda {n} lugar", "quedan {n} lugares", "de {n} lugares"]
        assert i18n.ngettext("{n} seat left", "{n} seats left", 2) == "{n} seats left"
    finally:
        catalog.messages.clear()
        catalog.messages.update(saved)


class _Interaction:
    def __init__(self, locale: str, user_id: int = 5, guild_id: int | None = 9) -> None:
        self.locale = locale
        self.guild_id = guild_id
        self.user = type("U", (), {"id": user_id})()


def test_language_choice_order() -> None:
    prefs = i18n.preferences
    saved = (dict(prefs.users), dict(prefs.guilds))
    try:
        prefs.users.clear()
        prefs.guilds.clear()
        assert i18n.for_interaction(_Interaction("es-ES")) == "es"
        assert i18n.for_interaction(_Interaction("es-419")) == "es"
        assert i18n.for_interaction(_Interaction("en-GB")) == "en"
        assert i18n.for_interaction(_Interaction("pt-BR")) == "en"
        prefs.users[5] = "en"  # /my language en beats a Spanish client
        assert i18n.for_interaction(_Interaction("es-ES")) == "en"
        assert i18n.for_guild(9) == "en" and i18n.for_guild(None) == "en"
        prefs.guilds[9] = "es"
        assert i18n.for_guild(9) == "es"
        assert i18n.for_dm(6, 9) == "es"  # no choice of their own: the server's
        assert i18n.for_dm(5, 9) == "en"  # their own choice wins
    finally:
        prefs.users, prefs.guilds = saved


def test_dates_follow_the_current_language() -> None:
    from datetime import date

    from familybot.services.sessions.series_rules import format_day

    assert format_day(date(2027, 3, 2)) == "Tuesday 2 March 2027"
    with i18n.using("es"):
        assert format_day(date(2027, 3, 2)) == "martes 2 de marzo de 2027"
        assert i18n.format_decimal(12345.5) == "12.345,5"
    assert i18n.format_decimal(12345.5) == "12,345.5"
