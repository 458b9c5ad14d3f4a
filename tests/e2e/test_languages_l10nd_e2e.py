"""Groups and sessions in Spanish, end to end, including the refusals and the edges: what
the groups and sessions services compose (their kind errors, the DMs they send, the notices
they post) reaches a Spanish-speaking member in Spanish, also when an English-speaking
facilitator is the one acting.

Who reads which language (issue #12): a reply follows the person's Discord language
(es-ES / es-419 here); a DM follows the recipient's `/my language`, else the server's; a
channel notice follows the server's `/setup language`.

The English check is tests/e2e/test_languages_l10nb_e2e.py's: the English msgids are read
from the catalog template with Babel (not through familybot.i18n), split at placeholders, and
every phrase of three words or more must be absent. Each step also asserts the Spanish text
we wrote, so a reply that is neither (or empty) fails too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.e2e.harness import World, custom_ids, eventually, rows, text_of
from tests.e2e.test_languages_l10nb_e2e import slash
from tests.e2e.test_sessions_e2e import NY, at, session_day, setup_group, start_of
from tests.support.english import assert_no_english, catalog_phrases

pytestmark = pytest.mark.asyncio

GROUP = "Parents Circle"


async def create(world: World, **extra: object) -> None:
    """An English-speaking facilitator creates the group (no guidelines of the server's)."""
    await world.configure()
    h = await world.run_to_end(
        world.facilitator,
        "group",
        "create",
        name=GROUP,
        description="Weekly circle",
        focus="parents",
        **extra,
    )
    assert "Created" in text_of(h.responses[-1]["body"]), h.responses


async def click(world: World, user: int, custom_id: str, locale: str = "en-US", **kw: Any) -> Any:
    h = await world.fake.click(
        world.guild_id, user, custom_id, message_id=world.fake.next_id(), locale=locale, **kw
    )
    await h.wait_response()
    return h


async def join(world: World, user: int, locale: str) -> tuple[Any, Any]:
    """`/group join`, then “I agree”, in the member's language: (the prompt, the answer)."""
    prompt = await slash(world, user, locale, "group", "join", name=GROUP)
    answer = await click(world, user, custom_ids(prompt.callback)[0], locale)
    return prompt, answer


def dm_text(world: World, user: int, index: int = -1) -> str:
    return text_of(world.fake.dms_to(user)[index])


def last_notice(world: World, channel: int) -> dict[str, Any]:
    return world.fake.messages_in(channel)[-1]


async def test_the_detector_knows_the_service_sentences() -> None:
    """The sentences this file checks for are in the template the detector reads: without
    them in the catalog (as before), an English error would pass unseen."""
    fragments = catalog_phrases()
    for phrase in (
        "has been archived, so it can't be joined",
        "Please pick one from the list",
        "You can now see the group's private channel",
        "What is shared here stays here",
        "Try year-month-day, like 2025-03-14",
        "This session was cancelled, so there's nothing to reply to",
    ):
        assert any(phrase.lower() in f for f in fragments), phrase
    with pytest.raises(AssertionError):
        assert_no_english({"content": "I couldn't find a group called “Nope”."})


async def test_a_spanish_member_finds_joins_waits_and_leaves(world: World) -> None:
    await create(world, join_mode="open", capacity=1)
    # Bob chose Spanish for himself: his DMs are Spanish on this English server.
    await slash(world, world.bob, "es-ES", "my", "language", choice="es")

    h = await slash(world, world.alice, "es-419", "group", "join", name="Nadie")
    text = assert_no_english(*h.all_bodies())
    assert "No encontré un grupo llamado «Nadie». `/group list` muestra los grupos abiertos." in (
        text
    )
    assert h.ephemeral

    # The default guidelines, stored once, are shown in the reader's language.
    prompt, answer = await join(world, world.alice, "es-419")
    text = assert_no_english(prompt.callback, answer.callback)
    assert "**Lo que se comparte aquí, se queda aquí.**" in text
    assert "**Puede salir cuando quiera** con `/group leave`." in text
    assert "Ya es miembro de **Parents Circle**" in text
    stored = (await rows(world, "SELECT guidelines FROM groups"))[0]["guidelines"]
    assert stored.startswith("**What is shared here stays here.**")  # one text for all readers

    h = await slash(world, world.alice, "es-419", "group", "join", name=GROUP)
    text = assert_no_english(*h.all_bodies())
    assert "Ya es miembro de «Parents Circle». 💙" in text

    # Full: Bob waits; asking again tells him his place, in Spanish.
    prompt, answer = await join(world, world.bob, "es-ES")
    text = assert_no_english(prompt.callback, answer.callback)
    assert "está en la lista de espera" in text
    h = await slash(world, world.bob, "es-ES", "group", "join", name=GROUP)
    text = assert_no_english(*h.all_bodies())
    assert (
        "Ya está en la lista de espera de «Parents Circle» (tiene el número 1). "
        "Le escribiré cuando se libere un lugar."
    ) in text

    # Alice leaves: Bob gets the seat, and his DM is Spanish.
    h = await slash(world, world.alice, "es-419", "group", "leave", name=GROUP)
    assert_no_english(*h.all_bodies())
    await eventually(lambda: world.fake.dms_to(world.bob))
    text = assert_no_english(world.fake.dms_to(world.bob)[-1])
    assert "Se liberó un lugar en Parents Circle" in text
    assert "Buenas noticias: se liberó un lugar en **Parents Circle** y es para usted." in text

    h = await slash(world, world.alice, "es-419", "group", "leave", name=GROUP)
    text = assert_no_english(*h.all_bodies())
    assert "No está en «Parents Circle», así que no hay nada de qué salir." in text

    # An English reader still meets English (the language is per person).
    h = await world.run(world.carol, "group", "join", name="Nadie")
    assert "I couldn't find a group called “Nadie”." in h.content


async def test_requests_decided_by_an_english_facilitator_reach_spanish_dms(
    world: World,
) -> None:
    await create(world, join_mode="approval")
    for user in (world.alice, world.carol):
        await slash(world, user, "es-419", "my", "language", choice="es")

    async def request(user: int) -> tuple[str, str]:
        _prompt, answer = await join(world, user, "es-419")
        assert_no_english(answer.callback)
        alert = await eventually(
            lambda: [
                m for m in world.fake.messages_in(world.alerts_channel) if f"<@{user}>" in str(m)
            ]
        )
        approve, deny = custom_ids(alert[-1])
        return approve, deny

    approve, _deny = await request(world.alice)
    h = await slash(world, world.alice, "es-419", "group", "join", name=GROUP)
    text = assert_no_english(*h.all_bodies())
    assert "Su solicitud para unirse a «Parents Circle» ya está con los facilitadores." in text

    ok = await click(world, world.facilitator, approve, channel_id=world.alerts_channel)
    assert "approved by" in ok.callback["data"]["content"]  # the facilitator reads English
    await eventually(lambda: world.fake.dms_to(world.alice))
    text = assert_no_english(world.fake.dms_to(world.alice)[-1])
    assert "Sobre Parents Circle" in text
    assert (
        "Su solicitud para unirse a **Parents Circle** fue aprobada. "
        "Ya puede ver el canal privado del grupo. ¡Bienvenido/a! 💙"
    ) in text

    _approve, deny = await request(world.carol)
    await click(world, world.facilitator, deny, channel_id=world.alerts_channel)
    await eventually(lambda: world.fake.dms_to(world.carol))
    text = assert_no_english(world.fake.dms_to(world.carol)[-1])
    assert "Esta vez los facilitadores no pudieron ofrecerle un lugar." in text
    assert "Si quiere volver a pedirlo, podrá hacerlo a partir del <t:" in text

    # Asking again too soon: a kind Spanish refusal with the date.
    h = await slash(world, world.carol, "es-419", "group", "join", name=GROUP)
    text = assert_no_english(*h.all_bodies())
    assert "Gracias por querer unirse a «Parents Circle»." in text
    assert "así que podrá volver a pedirlo a partir del <t:" in text

    # Removed by the English facilitator: the DM is Spanish too.
    h = await world.run(world.facilitator, "group", "remove", name=GROUP, member=world.alice)
    assert "Removed" in h.content
    await eventually(lambda: len(world.fake.dms_to(world.alice)) == 2)
    text = assert_no_english(world.fake.dms_to(world.alice)[-1])
    assert "Un/a facilitador/a le quitó su lugar en **Parents Circle**." in text


async def test_session_input_errors_in_spanish(world: World) -> None:
    await setup_group(world)
    fac = world.facilitator
    base = {"group": GROUP, "title": "Encuentro", "repeat": "weekly", "duration": 90}
    day = session_day().isoformat()
    cases = [
        ({"date": "pronto", "time": "18:00"}, "No pude leer «pronto» como fecha."),
        ({"date": "2027-02-30", "time": "18:00"}, "«2027-02-30» no es una fecha del calendario."),
        ({"date": day, "time": "25:00"}, "No pude leer «25:00» como hora. Pruebe con 18:30"),
        (
            {"date": day, "time": "18:00", "group": "Nadie"},
            "No encontré un grupo llamado «Nadie».",
        ),
        (
            {"date": day, "time": "18:00", "until": "2020-01-01"},
            "La fecha de fin 2020-01-01 es anterior a la primera sesión",
        ),
        (
            {"date": day, "time": "18:00", "week": "last"},
            "La opción `semana` es para sesiones mensuales",
        ),
        (
            {"date": "2020-01-07", "time": "18:00"},
            "Esa fecha y hora ya pasaron (en America/New_York).",
        ),
    ]
    for options, spanish in cases:
        h = await slash(world, fac, "es-ES", "session", "schedule", **{**base, **options})
        text = assert_no_english(*h.all_bodies())
        assert spanish in text, (options, text)
    assert await rows(world, "SELECT * FROM session_series") == []

    # Reminder times: too many, then fine (in words, in Spanish).
    h = await slash(
        world, world.alice, "es-419", "my", "reminders", dm="on", offsets="1h 2h 3h 4h 5h"
    )
    text = assert_no_english(*h.all_bodies())
    assert "Por favor, elija como máximo 4 horarios de recordatorio." in text
    h = await slash(world, world.alice, "es-419", "my", "reminders", dm="on", offsets="1d 2h 30m")
    text = assert_no_english(*h.all_bodies())
    assert "1 día, 2 horas y 30 minutos" in text

    # An unknown session, in /session rsvps and /session list of a group one isn't in.
    h = await slash(world, fac, "es-419", "session", "rsvps", session="Ninguna")
    text = assert_no_english(*h.all_bodies())
    assert "No encontré una próxima sesión llamada «Ninguna»." in text
    h = await slash(world, world.carol, "es-ES", "session", "list", group=GROUP)
    text = assert_no_english(*h.all_bodies())
    assert "Las sesiones de «Parents Circle» se muestran a sus miembros." in text


async def test_session_moved_cancelled_edited_and_closed_in_spanish(world: World) -> None:
    channel = await setup_group(world)
    await slash(world, world.admin, "es-ES", "setup", "language", language="es")
    day = session_day()
    start = start_of(day)
    week_later = day + timedelta(days=7)
    h = await world.run_to_end(
        world.facilitator,
        "session",
        "schedule",
        group=GROUP,
        title="Weekly check-in",
        date=day.isoformat(),
        time="18:00",
        repeat="weekly",
        duration=90,
    )
    assert "Scheduled" in text_of(h.responses[-1]["body"])  # the facilitator reads English
    series = int((await rows(world, "SELECT id FROM session_series"))[0]["id"])

    # Autocomplete labels in Spanish (the admin chose Spanish): the repeat word too.
    await slash(world, world.admin, "es-ES", "my", "language", choice="es")
    for command, option in (("cancel", "session"), ("edit", "session")):
        ac = await world.fake.autocomplete(
            world.guild_id, world.admin, "session", command, focused=option
        )
        choices = (await ac.wait_response())["data"]["choices"]
        assert [c["name"] for c in choices] == ["Parents Circle · Weekly check-in (semanal)"]
    ac = await world.fake.autocomplete(
        world.guild_id,
        world.admin,
        "session",
        "cancel",
        focused="date",
        options={"session": str(series)},
    )
    dates = (await ac.wait_response())["data"]["choices"]
    weekdays = {"lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"}
    assert dates[0] == {"name": f"{day.isoformat()} ({dates[0]['name'][12:-1]})", "value": str(day)}
    assert all(c["name"][12:-1] in weekdays for c in dates), dates

    # Alice (no choice of her own: DMs follow the server, Spanish) and Bob reply.
    h = await click(world, world.alice, f"fb:rsvp:{series}:{day}:going", "es-419")
    assert_no_english(*h.all_bodies())
    h = await click(world, world.bob, f"fb:rsvp:{series}:{day}:maybe", "es-ES")
    assert_no_english(*h.all_bodies())

    # The English facilitator moves it a day later.
    new_day = day + timedelta(days=1)
    h = await world.run_to_end(
        world.facilitator,
        "session",
        "reschedule",
        session=str(series),
        date=day.isoformat(),
        new_date=new_day.isoformat(),
        new_time="19:00",
    )
    for user in (world.alice, world.bob):
        await eventually(lambda user=user: world.fake.dms_to(user))
        text = assert_no_english(world.fake.dms_to(user)[-1])
        assert "Parents Circle: sesión con nueva fecha" in text
        assert "**Weekly check-in**, prevista para el <t:" in text and "ahora será el <t:" in text
        assert "Su respuesta sigue en pie; puede cambiarla desde el próximo recordatorio." in text
    text = assert_no_english(last_notice(world, channel))
    assert "Nueva fecha: Weekly check-in" in text
    assert "La sesión prevista para el <t:" in text

    # …then cancels it, with a note.
    await world.run_to_end(
        world.facilitator,
        "session",
        "cancel",
        session=str(series),
        date=new_day.isoformat(),
        reason="Feriado",
    )
    await eventually(lambda: len(world.fake.dms_to(world.alice)) == 2)
    text = assert_no_english(world.fake.dms_to(world.alice)[-1])
    assert "Parents Circle: sesión cancelada" in text
    assert "Se canceló la sesión del <t:" in text and "de **Weekly check-in**." in text
    assert "Nota de los facilitadores: Feriado" in text
    assert "Gracias por avisarnos que pensaba venir. 💙" in text
    text = assert_no_english(last_notice(world, channel))
    assert "Cancelada: Weekly check-in" in text and "no se realizará." in text

    # Replying to the cancelled session: a kind Spanish refusal.
    h = await click(world, world.alice, f"fb:rsvp:{series}:{day}:going", "es-419")
    text = assert_no_english(*h.all_bodies())
    assert "Esta sesión se canceló, así que no hay nada que responder." in text

    # The next week: Alice is coming; the English facilitator changes the time of the series.
    h = await click(world, world.alice, f"fb:rsvp:{series}:{week_later}:going", "es-419")
    assert_no_english(*h.all_bodies())
    await world.run_to_end(world.facilitator, "session", "edit", session=str(series), time="19:30")
    await eventually(lambda: len(world.fake.dms_to(world.alice)) == 3)
    text = assert_no_english(world.fake.dms_to(world.alice)[-1])
    assert "Parents Circle: sesión modificada" in text
    assert "**Weekly check-in** cambió. A partir de ahora se reúne cada" in text
    assert "La sesión a la que dijo que vendría:" in text
    text = assert_no_english(last_notice(world, channel))
    assert "Cambios: Weekly check-in" in text and "se reúne cada" in text

    # After that session: replies are closed, said in Spanish.
    later = datetime.combine(week_later, datetime.min.time().replace(hour=23), NY)
    with at(later):
        h = await click(world, world.alice, f"fb:rsvp:{series}:{week_later}:maybe", "es-419")
        text = assert_no_english(*h.all_bodies())
        assert "Esta sesión ya terminó, así que las respuestas están cerradas. ¡Gracias!" in text
    assert start < later.astimezone(start.tzinfo)
