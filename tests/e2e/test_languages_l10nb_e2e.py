"""Sessions, reminders, RSVPs, facilitator views, resources and the FAQ in Spanish, end to
end: no English sentence reaches a Spanish-speaking member, and the Spanish we expect is
there. The check is tests/support/english.py: the template's English phrases (read with
Babel, not through familybot.i18n) and English sentences that skipped the catalog."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.harness import World, custom_ids, eventually, text_of
from tests.e2e.test_sessions_e2e import (
    at,
    reminders_in,
    session_day,
    setup_group,
    start_of,
    wake,
)
from tests.support.english import assert_no_english, catalog_phrases, crisis_line_names

pytestmark = pytest.mark.asyncio


async def slash(world: World, user: int, locale: str, *names: str, **options: Any) -> Any:
    options = {k.replace("_", "-"): v for k, v in options.items()}
    h = await world.fake.slash(world.guild_id, user, *names, options=options or None, locale=locale)
    await h.wait_response()
    if h.response_type == 5:
        await h.wait_for("followup")
    return h


async def test_the_leak_check_can_fail() -> None:
    """The English reply of /session list's empty case would be caught."""
    assert "no upcoming sessions in the next four weeks" in catalog_phrases()
    with pytest.raises(AssertionError):
        assert_no_english({"content": "No upcoming sessions in the next four weeks."})


async def test_sessions_reminders_and_replies_in_spanish(world: World) -> None:
    channel = await setup_group(world)
    h = await slash(world, world.admin, "es-ES", "setup", "language", language="es")
    assert "español" in h.content
    day = session_day()
    start = start_of(day)
    h = await slash(
        world,
        world.facilitator,
        "es-ES",
        "session",
        "schedule",
        group="Parents Circle",
        title="Encuentro semanal",
        date=day.isoformat(),
        time="18:00",
        repeat="weekly",
        duration=90,
    )
    text = assert_no_english(*h.all_bodies())
    assert "Listo. Programé **Encuentro semanal** para **Parents Circle**" in text
    assert "Los miembros recibirán un recordatorio antes de cada una." in text

    with at(start - timedelta(hours=24)):
        await wake(world)
        await eventually(
            lambda: any("Recordatorio:" in text_of(m) for m in world.fake.messages_in(channel))
        )
        card = next(m for m in world.fake.messages_in(channel) if "Recordatorio:" in text_of(m))
        text = assert_no_english(card)
        assert "Recordatorio: Encuentro semanal" in text
        assert "Dura 90 minutos" in text and "Van: 0 · Quizás: 0 · No pueden: 0" in text
        assert [c["label"] for row in card["components"] for c in row["components"]] == [
            "Voy",
            "Quizás",
            "No puedo ir",
        ]
        assert reminders_in(world, channel) == []  # no English "Reminder:" card

        # Alice (es-419) replies: the card's numbers and her private thanks are Spanish.
        going = next(i for i in custom_ids(card) if i.split(":")[4] == "going")
        click = await world.fake.click(
            world.guild_id,
            world.alice,
            going,
            message_id=int(card["id"]),
            channel_id=channel,
            locale="es-419",
        )
        edited = await click.wait_response()
        thanks = (await click.wait_for("followup"))[0]
        text = assert_no_english(edited, thanks)
        assert "Van: 1 · Quizás: 0 · No pueden: 0" in text
        assert "quedó anotado/a como **voy**" in text

        # An English reader pressing Maybe on the Spanish card: the card stays Spanish.
        maybe = next(i for i in custom_ids(card) if i.split(":")[4] == "maybe")
        click = await world.fake.click(
            world.guild_id, world.bob, maybe, message_id=int(card["id"]), channel_id=channel
        )
        edited = await click.wait_response()
        assert "Van: 1 · Quizás: 1 · No pueden: 0" in text_of(edited)
        thanks = (await click.wait_for("followup"))[0]
        assert "you're down as **maybe**" in thanks["content"]

        h = await slash(world, world.alice, "es-419", "session", "list")
        text = assert_no_english(*h.all_bodies())
        assert "Próximas sesiones" in text and "usted: voy" in text

        h = await slash(world, world.facilitator, "es-ES", "session", "rsvps", session="1")
        text = assert_no_english(*h.all_bodies())
        assert "Respuestas: Encuentro semanal" in text
        assert "Van (1)" in text and "Quizás (1)" in text and "Solo usted puede ver esto." in text

        h = await slash(
            world,
            world.facilitator,
            "es-ES",
            "session",
            "cancel",
            session="1",
            date=day.isoformat(),
        )
        text = assert_no_english(*h.all_bodies())
        assert "Listo. Cancelé la sesión del" in text
        assert (
            "Se avisó por mensaje directo a 2 miembros que pensaban venir."
        )  # going + maybe in text


async def test_resources_and_faq_in_spanish(world: World) -> None:
    await world.configure()
    await slash(world, world.admin, "es-ES", "setup", "language", language="es")
    h = await slash(
        world,
        world.facilitator,
        "es-419",
        "resource",
        "add",
        title="Guía para familias",
        url="https://example.org/guia",
        category="Lectura",
        description="Una guía breve y amable.",
        region="México",
    )
    text = assert_no_english(*h.all_bodies())
    assert "Listo. Agregué **Guía para familias** a la biblioteca." in text

    h = await slash(world, world.alice, "es-419", "resource", "list")
    text = assert_no_english(*h.all_bodies())
    assert "Biblioteca de recursos" in text and "Guía para familias" in text
    assert "Compártalo con /resource share." in text

    h = await slash(world, world.alice, "es-ES", "resource", "search", query="nada parecido")
    text = assert_no_english(*h.all_bodies())
    assert "Recursos para «nada parecido»" in text

    # Shared by an English reader: the card goes to the channel in the server's Spanish.
    h = await slash(world, world.alice, "en-US", "resource", "share", resource="Guía para familias")
    assert "Shared **Guía para familias**" in h.all_bodies()[-1]["content"]
    general = world.fake.guild(world.guild_id).general_channel_id
    card = next(m for m in reversed(world.fake.messages_in(general)) if m.get("embeds"))
    text = assert_no_english(card)
    assert "Enlace" in text and "Categoría" in text and "Región" in text
    assert "Revisado por los facilitadores de este servidor el" in text

    h = await slash(
        world,
        world.facilitator,
        "es-ES",
        "faq",
        "add",
        question="¿Cuándo son las reuniones?",
        answer="Todos los jueves.",
    )
    text = assert_no_english(*h.all_bodies())
    assert "Listo. Ahora cualquiera puede leer la respuesta con `/faq ask`" in text
    h = await slash(
        world, world.facilitator, "es-419", "faq", "remove", topic="¿Cuándo son las reuniones?"
    )
    text = assert_no_english(*h.all_bodies())
    assert "Listo. Quité «¿Cuándo son las reuniones?» de las preguntas frecuentes." in text


async def test_crisis_line_notes_in_spanish_names_and_numbers_unchanged(world: World) -> None:
    english = text_of((await slash(world, world.alice, "en-US", "crisis")).callback)
    spanish = text_of((await slash(world, world.alice, "es-419", "crisis")).callback)
    assert "Free support by text from a trained volunteer crisis counselor." in english
    assert "Free support by text" not in spanish
    assert "Apoyo gratuito por mensaje de texto" in spanish
    assert "(24 horas, todos los días)" in spanish and "(24/7)" not in spanish
    # Names are data: the same characters in both languages. Contacts read in Spanish, with
    # every number, keyword and link exactly as published.
    for data in ("988 Suicide & Crisis Lifeline", "Crisis Text Line"):
        assert data in english and data in spanish
    assert "Text HOME to 741741" in english
    assert "Envíe HOME por mensaje de texto al 741741" in spanish
    assert "Llame al número de emergencias de su zona si alguien está en peligro" in spanish
    assert_no_english({"content": spanish}, allowed=crisis_line_names())
