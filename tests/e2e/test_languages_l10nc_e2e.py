"""Spanish end to end for reports, /ask, refusals, /setup's safety replies and the safety
watch's alert: with locale es-ES / es-419, no English sentence of the catalog reaches the
member, and the Spanish text we wrote is there.

The check is tests/support/english.py (independent of familybot.i18n): no phrase of the
English template and no sentence that reads as English in anything the bot sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import World, custom_ids
from tests.support.english import catalog_phrases, english_in, readable
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_discord.permissions import CREATE_PRIVATE_THREADS, DEFAULT_BOT_PERMISSIONS
from tests.support.fake_discord.threads import install
from tests.support.fakes import FakeClock

pytestmark = pytest.mark.asyncio

MENU = "Report to facilitators"


@pytest.fixture
async def rw(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    install(fake_discord)
    w = World(fake=fake_discord, tmp=tmp_path, clock=FakeClock(datetime.now(UTC)))
    w.populate()
    g = w.fake.guild(w.guild_id)
    g.roles[g.bot_role_id]["permissions"] = str(DEFAULT_BOT_PERMISSIONS | CREATE_PRIVATE_THREADS)
    await w.start_bot()
    await w.configure()
    yield w
    await w.stop_bot()


async def run_in(world: World, user: int, locale: str, *names: str, **options: Any) -> Any:
    options = {k.replace("_", "-"): v for k, v in options.items()}
    handle = await world.fake.slash(
        world.guild_id, user, *names, options=options or None, locale=locale
    )
    await handle.wait_response()
    if handle.response_type == 5:
        await handle.wait_for("followup")
    return handle


def bodies_of(handle: Any) -> list[Any]:
    return [r["body"] for r in handle.responses]


async def test_the_check_knows_the_english_phrases() -> None:
    # The check can fail: the English replies it exists to catch are among its phrases.
    assert "only facilitators can do that" in catalog_phrases()
    caught = english_in(
        [{"content": "Thank you. I'm opening a private thread with the facilitators…"}]
    )
    assert "i'm opening a private thread with the facilitators" in caught


async def test_a_report_in_spanish_from_menu_to_thread(rw: World) -> None:
    fake = rw.fake
    # The server speaks Spanish (channel posts), the reporter chose Spanish for herself.
    h = await run_in(rw, rw.admin, "es-ES", "setup", "language", language="es")
    assert h.ephemeral
    h = await run_in(rw, rw.bob, "es-419", "my", "language", choice="es")
    assert h.content.startswith("Listo.")
    general = fake.guild(rw.guild_id).general_channel_id
    message = fake.store_message(
        fake.message_payload(general, {"content": "no puedo más"}, author_id=rw.alice)
    )
    menu = await fake.context_menu(rw.guild_id, rw.bob, MENU, message_id=int(message["id"]))
    await menu.wait_response()
    prompt = menu.responses[-1]["body"]
    seen = [prompt]
    shown = readable(prompt)
    assert "¿Qué pasa con este mensaje?" in shown
    assert "Elija qué pasa" in shown and "Alguien puede estar en peligro" in shown
    assert "Puede estar en peligro, o hacerse daño o hacérselo a otra persona" in shown

    (custom_id,) = custom_ids(menu.callback)
    assert menu.original_message is not None
    choice = await fake.select(
        rw.guild_id,
        rw.bob,
        custom_id,
        ["at_risk"],
        message_id=int(menu.original_message["id"]),
    )
    await choice.wait_response()
    await choice.wait_for("followup")
    seen += bodies_of(choice)
    reply = readable(choice.responses[-1]["body"])
    assert "Gracias por avisarnos." in reply
    assert "no son un servicio de emergencias" in reply
    edited = readable(choice.responses[0]["body"])
    assert "Gracias. Estoy abriendo un hilo privado con los facilitadores…" in edited

    # In the private thread and the alerts channel: the server's language.
    posts = [r.json_body for r in fake.requests_to("POST", r"/channels/\d+/messages")]
    opening = next(p for p in posts if "Aviso privado #1" in str(p.get("content")))
    assert "**Alguien puede estar en peligro**" in opening["content"]
    assert "Ya se le mostraron las líneas de crisis." in opening["content"]
    assert f"Avisó: <@{rw.bob}>." in opening["content"]
    (alert,) = fake.requests_to("POST", rf"/channels/{rw.alerts_channel}/messages")
    assert "Nuevo aviso privado #1" in alert.json_body["content"]
    seen += posts
    assert english_in(seen) == []


async def test_ask_and_refusals_follow_the_discord_language(rw: World) -> None:
    h = await run_in(rw, rw.carol, "es-419", "ask", message="¿Podemos hablar?")
    assert h.ephemeral
    reply = readable(h.responses[-1]["body"])
    assert "con los facilitadores y puse allí su mensaje" in reply
    seen = bodies_of(h)
    # Reporting your own message, and a facilitator command refused: kind Spanish.
    h = await run_in(rw, rw.carol, "es-ES", "setup", "safety-watch", state="on")
    assert "Solo los administradores del servidor" in h.content
    seen += bodies_of(h)
    h = await run_in(rw, rw.carol, "es-ES", "mod", "warn", member=rw.alice, reason="x")
    assert h.content.startswith("Solo los facilitadores pueden hacer eso.")
    seen += bodies_of(h)
    # The same refusal in English for an English client: the catalog, not a fixed text.
    h = await run_in(rw, rw.carol, "en-US", "mod", "warn", member=rw.alice, reason="x")
    assert h.content.startswith("Only facilitators can do that.")
    assert english_in(bodies_of(h)) != []
    assert english_in(seen) == []


async def test_setup_safety_replies_in_spanish(rw: World) -> None:
    h = await run_in(rw, rw.admin, "es-ES", "setup", "safety-watch", state="on")
    # This bot runs without the message content intent: the kind explanation, in Spanish.
    assert "La vigilancia de seguridad lee los mensajes" in h.content
    assert "No se cambió nada." in h.content
    seen = bodies_of(h)
    h = await run_in(rw, rw.admin, "es-419", "setup", "automod", state="off")
    assert h.content == "Listo. La moderación automática está desactivada."
    seen += bodies_of(h)
    h = await run_in(
        rw, rw.admin, "es-ES", "setup", "crisis-line", name="Línea local", contact="555-0100"
    )
    assert h.content.startswith("Listo. `/crisis` ahora incluye **Línea local**.")
    seen += bodies_of(h)
    h = await run_in(rw, rw.admin, "es-419", "setup", "timezone", tz="America/Mexico_City")
    assert h.content.startswith("Listo. Las sesiones nuevas usarán **America/Mexico_City**")
    seen += bodies_of(h)
    general = rw.fake.guild(rw.guild_id).general_channel_id
    h = await run_in(rw, rw.admin, "es-ES", "setup", "modlog", channel=general)
    assert h.content.startswith("Ese canal lo ve todo el mundo. El registro de moderación")
    seen += bodies_of(h)
    h = await run_in(rw, rw.admin, "es-ES", "setup", "crisis-line-remove", name="Línea local")
    assert h.content == "Listo. `/crisis` ya no muestra **Línea local**."
    seen += bodies_of(h)
    h = await run_in(rw, rw.admin, "es-ES", "setup", "show")
    shown = readable(h.responses[-1]["body"])
    assert "Ajustes de FamilyBot" in shown and "**Zona horaria:** America/Mexico_City" in shown
    assert (
        f"**Avisos:** <#{rw.alerts_channel}>" in shown
        and "**Registro de moderación:** sin configurar" in shown
    )
    seen += bodies_of(h)
    h = await run_in(rw, rw.admin, "es-419", "setup", "audit")
    shown = readable(h.responses[-1]["body"])
    assert "Acciones recientes de facilitadores y administradores" in shown
    assert "**rechazado**" in shown  # the modlog refusal above
    assert "Solo identificadores:" in shown
    seen += bodies_of(h)
    assert english_in(seen) == []


async def test_moderation_replies_in_the_facilitators_language(rw: World) -> None:
    h = await run_in(
        rw, rw.facilitator, "es-419", "mod", "warn", member=rw.alice, reason="Mensajes hirientes"
    )
    assert h.ephemeral
    reply = readable(h.responses[-1]["body"])
    assert reply.startswith("Listo: caso #1 (advertencia).")
    seen = bodies_of(h)
    h = await run_in(rw, rw.facilitator, "es-ES", "mod", "history", member=rw.alice)
    shown = readable(h.responses[-1]["body"])
    assert "Historial de moderación" in shown and "**#1** Advertencia" in shown
    assert "Use /mod case con un número para ver el registro completo." in shown
    seen += bodies_of(h)
    h = await run_in(rw, rw.facilitator, "es-ES", "mod", "case", number=1)
    shown = readable(h.responses[-1]["body"])
    assert "Caso #1 · Advertencia" in shown and "Motivo" in shown and "Resultado" in shown
    seen += bodies_of(h)
    assert english_in(seen) == []
