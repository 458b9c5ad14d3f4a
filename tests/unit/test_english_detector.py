"""The shared English detector of the language e2e tests (tests/support/english.py, #12):
it catches English from the catalog and English that never went through the catalog, and
lets real Spanish replies and names people typed through."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from tests.support.english import (
    SPANISH,
    assert_no_english,
    catalog_phrases,
    english_in,
    readable,
)

# Replies the bot really sends (from the Spanish e2e journeys), placeholders filled in.
SPANISH_REPLIES = [
    "Gracias. Ya es miembro de **Círculo de familias**. ¡Bienvenido/a! 💙",
    "Guardado: su zona horaria es **America/Chicago**.",
    "Listo: no recibirá recordatorios por mensaje directo.",
    "Aquí está todo lo que FamilyBot guarda sobre usted",
    "**Olvidarme: ¿está seguro/a?** Sí, olvídenme · Cancelar",
    "Solo los facilitadores pueden hacer eso. Si cree que es un error, hable con un administrador.",
    "La vigilancia de seguridad lee los mensajes de los canales de grupo, así que necesita "
    "el Message Content Intent de Discord. No se cambió nada.",
    "Recordatorio: Encuentro semanal <t:1800000000:F> · Dura 90 minutos · Van: 0 · Quizás: 0",
]


def test_an_uncatalogued_english_sentence_is_caught() -> None:
    sentence = "Sorry, the bot could not reach that channel right now."
    assert not [p for p in catalog_phrases() if p in sentence.lower()]  # not in the catalog
    assert english_in(f"Listo. {sentence}") == [sentence.rstrip(".")]
    # Short ones too, wherever they sit in a body.
    assert english_in({"embeds": [{"footer": {"text": "You're all set."}}]})
    assert english_in(
        {"data": {"components": [{"components": [{"label": "Please try again in a minute"}]}]}}
    )


def test_an_english_catalog_phrase_is_caught() -> None:
    assert "only facilitators can do that" in catalog_phrases()
    assert "only facilitators can do that" in english_in("Only facilitators can do that.")
    # Even alone in a sentence without two function words.
    assert english_in({"content": "No upcoming sessions in the next four weeks."})


def test_real_spanish_replies_pass() -> None:
    for reply in SPANISH_REPLIES:
        assert english_in(reply) == [], reply
    assert_no_english({"type": 4, "data": {"content": SPANISH_REPLIES[0], "flags": 64}})


def test_every_spanish_message_we_ship_passes() -> None:
    """No msgstr of the Spanish catalog reads as English (placeholders filled)."""
    with SPANISH.open("rb") as fh:
        catalog = read_po(fh, locale="es")
    flagged = {}
    for message in catalog:
        if not message.id:
            continue
        for text in message.string if isinstance(message.string, tuple) else (message.string,):
            leaks = english_in(re.sub(r"\{[^{}]*\}", "Ana", text))
            if leaks:
                flagged[message.id] = leaks
    assert flagged == {}


def test_names_people_typed_and_ids_are_not_the_bots_words() -> None:
    group = "Friends of the Valley and the Hills"
    reply = f"Ha salido de **{group}**. Puede volver cuando quiera."
    assert english_in(reply)  # read plainly, the name looks English
    assert english_in(reply, allowed=[group]) == []
    body = {
        "content": "Listo.",
        "components": [{"components": [{"custom_id": "this is not for the eyes", "label": "Sí"}]}],
        "embeds": [{"url": "https://example.org/the-guide-for-you", "title": "Guía"}],
    }
    assert english_in(body) == []
    assert "Guía" in readable(body) and "custom" not in readable(body)


def test_field_values_are_read_option_values_are_not() -> None:
    body = {
        "embeds": [{"fields": [{"name": "Respuestas", "value": "Van: 0 · Quizás: 0"}]}],
        "components": [
            {"components": [{"options": [{"label": "Uno", "value": "the one for you"}]}]}
        ],
    }
    assert "Van: 0 · Quizás: 0" in readable(body)
    assert english_in(body) == []
