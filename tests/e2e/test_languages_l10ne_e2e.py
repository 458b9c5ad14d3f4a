"""Spanish end to end on the error paths of resources, crisis lines, reports, /my and
moderation, and when Discord refuses: a member whose Discord speaks es-ES or es-419 meets
no English sentence (tests/support/english.py, independent of familybot.i18n), and the
Spanish we wrote is there. Moderation DMs follow the member's language, the mod log the
server's, whoever acted."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from tests.e2e.harness import World, custom_ids, eventually, rows, text_of
from tests.support.english import assert_no_english, crisis_line_names, english_in, readable
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_discord.messages import user_says
from tests.support.fake_discord.moderation import install as install_moderation
from tests.support.fake_discord.permissions import (
    BAN_MEMBERS,
    CREATE_PRIVATE_THREADS,
    DEFAULT_BOT_PERMISSIONS,
    KICK_MEMBERS,
    MODERATE_MEMBERS,
)
from tests.support.fake_discord.threads import install as install_threads
from tests.support.fakes import FakeClock

pytestmark = pytest.mark.asyncio

BOT_PERMISSIONS = (
    DEFAULT_BOT_PERMISSIONS | KICK_MEMBERS | BAN_MEMBERS | MODERATE_MEMBERS | CREATE_PRIVATE_THREADS
)
GROUP = "Círculo de familias"


@pytest.fixture
async def ew(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    """A world whose bot may moderate and open private threads; not yet configured."""
    install_moderation(fake_discord)
    install_threads(fake_discord)
    w = World(fake=fake_discord, tmp=tmp_path, clock=FakeClock(datetime.now(UTC)))
    w.populate()
    g = fake_discord.guild(w.guild_id)
    g.roles[g.bot_role_id]["permissions"] = str(BOT_PERMISSIONS)
    g.roles[g.bot_role_id]["position"] = 3
    await w.start_bot()
    yield w
    await w.stop_bot()


async def configured(w: World, *, spanish_server: bool = True) -> None:
    await w.configure()
    await run_in(w, w.admin, "en-US", "setup", "modlog", channel=w.modlog_channel)
    if spanish_server:
        await run_in(w, w.admin, "es-ES", "setup", "language", language="es")


async def run_in(world: World, user: int, locale: str, *names: str, **options: Any) -> Any:
    options = {k.replace("_", "-"): v for k, v in options.items()}
    handle = await world.fake.slash(
        world.guild_id, user, *names, options=options or None, locale=locale
    )
    await handle.wait_response()
    if handle.response_type == 5:
        await handle.wait_for("followup")
    return handle


def shown(handle: Any) -> str:
    """What the person read last (the reply, or the followup after a deferral)."""
    return readable(handle.responses[-1]["body"])


def modlog_posts(world: World) -> list[Any]:
    return [
        r.json_body
        for r in world.fake.requests_to("POST", rf"/channels/{world.modlog_channel}/messages")
    ]


async def test_resource_search_and_suggestion_errors_in_spanish(ew: World) -> None:
    await configured(ew)
    h = await run_in(
        ew,
        ew.facilitator,
        "es-419",
        "resource",
        "add",
        title="Guía para familias",
        url="https://example.org/guia",
        category="Lectura",
        description="Una guía breve y amable.",
    )
    seen = [*h.all_bodies()]
    # No match, a typo, and nothing to search for.
    h = await run_in(ew, ew.alice, "es-ES", "resource", "search", query="nada parecido")
    assert "«nada parecido»" in shown(h)
    seen += h.all_bodies()
    h = await run_in(ew, ew.bob, "es-419", "resource", "search", query="familas")
    assert "Guía para familias" in shown(h)
    seen += h.all_bodies()
    h = await run_in(ew, ew.alice, "es-ES", "resource", "search", query="¿?")
    assert shown(h) == "Por favor, escriba una o dos palabras para buscar."
    seen += h.all_bodies()

    # A bad link, twice, then a good suggestion: the alerts channel hears of it in Spanish.
    fields = {"title": "Otra guía", "category": "Lectura", "description": "Breve."}
    h = await run_in(
        ew, ew.alice, "es-419", "resource", "suggest", url="http://example.org/x", **fields
    )
    assert shown(h) == "Ese enlace no se puede usar: debe empezar por https://."
    seen += h.all_bodies()
    h = await run_in(
        ew, ew.alice, "es-ES", "resource", "suggest", url="https://intranet.local/x", **fields
    )
    assert shown(h).startswith("Ese enlace no se puede usar: apunta a un nombre de red privada")
    seen += h.all_bodies()
    assert await rows(ew, "SELECT title FROM resources ORDER BY id") == [
        {"title": "Guía para familias"}
    ]
    h = await run_in(
        ew, ew.alice, "es-ES", "resource", "suggest", url="https://example.org/otra", **fields
    )
    seen += h.all_bodies()
    (notice,) = ew.fake.requests_to("POST", rf"/channels/{ew.alerts_channel}/messages")
    assert "Un recurso espera revisión" in readable(notice.json_body)
    seen.append(notice.json_body)
    assert_no_english(seen)


def dm_interaction(world: World, user: int, locale: str, *names: str) -> Any:
    """A slash command used in a DM with the bot (no guild, no member: a user)."""
    fake = world.fake
    handle = fake._base_interaction(
        2, world.guild_id, user, None, fake._command_data(world.guild_id, None, names, None)
    )
    payload = handle.payload
    member = payload.pop("member")
    for key in ("guild_id", "guild", "guild_locale"):
        payload.pop(key, None)
    channel_id = fake.dm_channel_for(user)
    payload.update(
        user=member["user"],
        channel_id=str(channel_id),
        channel={"id": str(channel_id), "type": 1},
        context=1,
        locale=locale,
        authorizing_integration_owners={"1": str(user)},
    )
    handle.channel_id = channel_id
    return handle


async def test_crisis_lines_in_a_server_and_in_a_dm(ew: World) -> None:
    await configured(ew, spanish_server=False)  # an English server: the reader's language
    h = await run_in(ew, ew.alice, "es-419", "crisis")
    text = assert_no_english(h.all_bodies(), allowed=crisis_line_names())
    assert "Líneas de crisis: Estados Unidos" in text
    assert "Llame o envíe un mensaje de texto al 988; chat en https://988lifeline.org" in text
    assert "Envíe HOME por mensaje de texto al 741741" in text

    handle = dm_interaction(ew, ew.bob, "es-ES", "crisis")
    await ew.fake._inject(handle)
    await handle.wait_response()
    text = assert_no_english(handle.all_bodies(), allowed=crisis_line_names())
    assert "Líneas de crisis" in text and "No está solo/a." in text
    assert "Llame al número de emergencias de su zona si alguien está en peligro" in text


async def test_report_and_ask_refusals_in_spanish(ew: World) -> None:
    # No facilitator role yet: /ask can't reach anyone, and says so kindly, in Spanish.
    h = await run_in(ew, ew.carol, "es-419", "ask", message="¿Podemos hablar?")
    assert shown(h).startswith("Todavía no puedo comunicarme en privado con los facilitadores")
    assert "`/crisis` siempre funciona" in shown(h)
    seen = [*h.all_bodies()]
    await configured(ew)
    # Reporting your own message (a message menu carries no locale: Carol chose Spanish).
    await run_in(ew, ew.carol, "es-419", "my", "language", choice="es")
    general = ew.fake.guild(ew.guild_id).general_channel_id
    mine = ew.fake.store_message(
        ew.fake.message_payload(general, {"content": "hola"}, author_id=ew.carol)
    )
    menu = await ew.fake.context_menu(
        ew.guild_id, ew.carol, "Report to facilitators", message_id=int(mine["id"])
    )
    await menu.wait_response()
    seen += [r["body"] for r in menu.responses]
    if custom_ids(menu.callback):  # the category prompt first, then the refusal
        (custom_id,) = custom_ids(menu.callback)
        assert menu.original_message is not None
        choice = await ew.fake.select(
            ew.guild_id,
            ew.carol,
            custom_id,
            ["other"],
            message_id=int(menu.original_message["id"]),
            locale="es-ES",
        )
        await choice.wait_response()
        seen += [r["body"] for r in choice.responses]
    assert "Para hablar en privado con los facilitadores, use `/ask`." in readable(seen)
    # /ask too long: the limit, in Spanish.
    h = await run_in(ew, ew.carol, "es-ES", "ask", message="a" * 1501)
    seen += h.all_bodies()
    assert await rows(ew, "SELECT * FROM reports") == []
    assert_no_english(seen)


async def test_my_data_forget_and_language_in_spanish(ew: World) -> None:
    await configured(ew, spanish_server=False)
    h = await run_in(ew, ew.alice, "es-419", "my", "language", choice="es")
    assert shown(h).startswith("Listo.")
    seen = [*h.all_bodies()]
    h = await run_in(ew, ew.alice, "es-419", "my", "data")
    assert shown(h).startswith("Aquí está todo lo que FamilyBot guarda sobre usted")
    seen += h.all_bodies()
    (upload,) = [r for r in ew.fake.requests if r.files and "/webhooks/" in r.path]
    exported = json.loads(upload.files[0].data)
    assert exported["about"].startswith("Todo lo que FamilyBot guarda sobre su cuenta")
    notes = [exported["about"], exported["moderation"]["note"]]
    assert "Los casos de moderación se guardan como registro del servidor" in notes[1]
    seen += notes
    h = await run_in(ew, ew.alice, "es-ES", "my", "forget")
    seen += h.all_bodies()
    yes = custom_ids(h.callback)[0]  # "Sí, olvídenme", then "Cancelar"
    assert h.original_message is not None
    click = await ew.fake.click(
        ew.guild_id, ew.alice, yes, message_id=int(h.original_message["id"]), locale="es-ES"
    )
    await click.wait_response()
    (done,) = await click.wait_for("edit")
    seen.append(done)
    assert readable(done).startswith("Listo"), readable(done)
    assert await rows(ew, "SELECT * FROM member_language") == []
    assert_no_english(seen)


async def test_moderation_dms_follow_the_member_and_the_modlog_the_server(ew: World) -> None:
    await configured(ew, spanish_server=False)
    await run_in(ew, ew.alice, "es-ES", "my", "language", choice="es")
    reason = "Mensajes hirientes en el grupo"
    # An English facilitator warns a Spanish-speaking member: her DM is Spanish.
    h = await run_in(ew, ew.facilitator, "en-US", "mod", "warn", member=ew.alice, reason=reason)
    assert "case #1" in shown(h)
    (dm,) = ew.fake.dms_to(ew.alice)
    text = assert_no_english(dm)
    assert "Una nota de los facilitadores de Family Support" in text
    assert "Los facilitadores le piden, por favor, que tenga presentes las normas" in text
    assert f"**Motivo:** {reason}" in text
    # A Spanish facilitator times her out: the DM is hers, the mod log the server's English.
    h = await run_in(
        ew, ew.facilitator, "es-ES", "mod", "timeout", member=ew.alice, duration="2 horas"
    )
    assert "caso #2" in shown(h)
    timeout_dm = ew.fake.dms_to(ew.alice)[-1]
    text = assert_no_english(timeout_dm)
    assert "Una pausa en Family Support" in text and "Se le dio una pausa hasta el <t:" in text
    first, second = modlog_posts(ew)
    assert "Case #1 · Warning" in text_of(first)
    assert "Case #2 · Timeout" in text_of(second) and "2 hours" in text_of(second)
    assert not [w for w in ("Caso", "Advertencia", "Motivo") if w in text_of(second)]

    # The server turns Spanish: an English facilitator's case is logged in Spanish, and Bob
    # (no choice of his own) is told in the server's language.
    await run_in(ew, ew.admin, "en-US", "setup", "language", language="es")
    await run_in(ew, ew.facilitator, "en-US", "mod", "warn", member=ew.bob, reason=reason)
    third = modlog_posts(ew)[-1]
    text = assert_no_english(third)
    assert "Caso #3 · Advertencia" in text and "Resultado" in text
    assert "Una nota de los facilitadores" in text_of(ew.fake.dms_to(ew.bob)[-1])


async def test_discord_refusals_reach_a_spanish_member_kindly(ew: World) -> None:
    await configured(ew)
    h = await run_in(
        ew,
        ew.facilitator,
        "es-ES",
        "group",
        "create",
        name=GROUP,
        description="Un círculo semanal",
        focus="madres y padres",
        join_mode="open",
        capacity=8,
    )
    # Discord's audit log, which the server's admins read, gives the reason in its language.
    (created,) = ew.fake.requests_to("POST", rf"/guilds/{ew.guild_id}/channels")
    assert unquote(created.headers["X-Audit-Log-Reason"]) == "FamilyBot: nuevo grupo de apoyo"
    # A Spanish-speaking server writes its own guidelines (the default text is English).
    await run_in(
        ew,
        ew.facilitator,
        "es-ES",
        "group",
        "edit",
        name=GROUP,
        guidelines="Lo que se dice aquí, se queda aquí. Escuchamos sin juzgar.",
    )
    (group,) = await rows(ew, "SELECT channel_id FROM groups")
    # Discord refuses to open the group's channel to Alice: she is told why, in Spanish.
    ew.fake.fail_next(
        "PUT",
        rf"/channels/{group['channel_id']}/permissions/{ew.alice}",
        status=403,
        body={"code": 50013, "message": "Missing Permissions"},
    )
    h = await ew.fake.slash(
        ew.guild_id, ew.alice, "group", "join", options={"name": GROUP}, locale="es-419"
    )
    await h.wait_response()
    seen = [*h.all_bodies()]
    (consent,) = custom_ids(h.callback)
    agreed = await ew.fake.click(ew.guild_id, ew.alice, consent, message_id=None, locale="es-419")
    await agreed.wait_response()
    await agreed.wait_for("followup") if agreed.response_type == 6 else None
    seen += agreed.all_bodies()
    said = readable(agreed.all_bodies())
    assert "Discord no me dejó abrirle el canal del grupo." in said
    assert "Puede que me falte un permiso (Gestionar canales" in said
    assert "No se cambió nada" in said
    assert await rows(ew, "SELECT * FROM memberships WHERE status = 'member'") == []

    # Discord refuses a kick: the Spanish facilitator reads why.
    ew.fake.fail_next(
        "DELETE",
        rf"/guilds/{ew.guild_id}/members/{ew.bob}",
        status=403,
        body={"code": 50013, "message": "Missing Permissions"},
    )
    h = await run_in(ew, ew.facilitator, "es-419", "mod", "kick", member=ew.bob)
    said = shown(h)
    assert "Discord no me dejó sacar a esta persona del servidor." in said
    assert "El caso queda registrado como fallido" in said
    seen += h.all_bodies()
    assert_no_english(seen, allowed=[GROUP])
    assert english_in("Discord didn't let me remove them from the server.")  # the check bites


@pytest.fixture
async def sw(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    """A configured English server with one group, the bot reading message content."""
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    await w.start_bot(MESSAGE_CONTENT_INTENT="true")
    await configured(w, spanish_server=False)
    await w.run_to_end(
        w.facilitator,
        "group",
        "create",
        name=GROUP,
        description="Un círculo semanal",
        focus="madres y padres",
        join_mode="open",
    )
    yield w
    await w.stop_bot()


async def test_the_safety_watch_and_automod_write_to_a_spanish_member_in_spanish(
    sw: World,
) -> None:
    """The watch matches English phrases only, but what it shows her is in her language; the
    alert and the mod log stay in the (English) server's."""
    await run_in(sw, sw.alice, "es-419", "my", "language", choice="es")
    await run_in(sw, sw.admin, "en-US", "setup", "safety-watch", state="on")
    await run_in(sw, sw.admin, "en-US", "setup", "automod", state="on")
    (row,) = await rows(sw, "SELECT channel_id FROM groups")
    group = int(str(row["channel_id"]))
    await user_says(sw.fake, group, sw.alice, "I don't want to be here anymore")
    (dm,) = await eventually(lambda: sw.fake.dms_to(sw.alice))
    text = assert_no_english(dm, allowed=[*crisis_line_names(), "Family Support"])
    assert "Algo que escribió en **Family Support**" in text
    assert "llame al número de emergencias de su zona" in text
    assert "También avisé en privado a los facilitadores" in text
    alert = await eventually(lambda: sw.fake.messages_in(sw.alerts_channel))
    assert "sent them the crisis lines" in text_of(alert[-1])  # the server's English

    said = await user_says(sw.fake, group, sw.alice, "join my other server discord.gg/abc123")
    await sw.fake.wait_for_request("DELETE", rf"/channels/{group}/messages/{said['id']}")
    dms = await eventually(lambda: sw.fake.dms_to(sw.alice)[1:])
    note = dms[-1]
    text = assert_no_english(note, allowed=["Family Support"])
    assert "Sobre su mensaje en Family Support" in text and "No es un castigo" in text
    post = await eventually(lambda: sw.fake.messages_in(sw.modlog_channel))
    assert "Invite link" in text_of(post[-1])  # the record, in the server's English
