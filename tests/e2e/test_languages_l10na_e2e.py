"""Spanish end to end for groups, /my, /help, /about and the start-here panel's answers:
a member whose Discord speaks es-ES or es-419 meets no English sentence.

The check is tests/support/english.py (independent of familybot.i18n): no phrase of the
English catalog, and no sentence that reads as English, in what the member was shown."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.harness import World, custom_ids, rows, text_of
from tests.support.english import english_in

pytestmark = pytest.mark.asyncio


class Reader:
    """Everything one Spanish-speaking person was shown, kept to check at the end."""

    def __init__(self, world: World, user: int, locale: str) -> None:
        self.world, self.user, self.locale = world, user, locale
        self.seen: list[str] = []

    def keep(self, body: Any) -> str:
        """text_of, plus what it leaves out: a modal's title, labels and placeholders."""
        data = body.get("data", body) if isinstance(body, dict) else {}
        parts = [text_of(body), str((data or {}).get("title") or "")]
        for row in (data or {}).get("components") or []:
            for c in row.get("components") or []:
                parts += [str(c.get("label") or ""), str(c.get("placeholder") or "")]
        text = "\n".join(p for p in parts if p)
        self.seen.append(text)
        return text

    async def run(self, *names: str, **options: Any) -> str:
        options = {k.replace("_", "-"): v for k, v in options.items()}
        h = await self.world.fake.slash(
            self.world.guild_id, self.user, *names, options=options or None, locale=self.locale
        )
        await h.wait_response()
        assert h.ephemeral, names
        if h.response_type == 5:
            (followup,) = await h.wait_for("followup")
            return self.keep(followup)
        return self.keep(h.callback)

    async def click(self, custom_id: str) -> Any:
        h = await self.world.fake.click(
            self.world.guild_id, self.user, custom_id, message_id=None, locale=self.locale
        )
        await h.wait_response()
        self.keep(h.callback)
        return h

    def assert_all_spanish(self) -> None:
        leaks = {t[:60]: english_in(t) for t in self.seen if english_in(t)}
        assert not leaks, leaks


async def group(world: World) -> dict[str, Any]:
    await world.configure()
    await world.run_to_end(
        world.facilitator,
        "group",
        "create",
        name="Círculo de familias",
        description="Un círculo semanal",
        focus="madres y padres de adolescentes",
        join_mode="open",
        capacity=8,
    )
    return (await rows(world, "SELECT * FROM groups"))[0]


async def test_the_check_finds_english() -> None:
    """The detector itself: an English reply is caught, a Spanish one is not."""
    assert english_in("Thank you. You're now a member of **Círculo**. Welcome! 💙")
    assert not english_in("Gracias. Ya es miembro de **Círculo**. ¡Bienvenido/a! 💙")


async def test_a_spanish_member_finds_joins_and_manages_a_group(world: World) -> None:
    g = await group(world)
    alice = Reader(world, world.alice, "es-ES")
    # A Spanish-speaking server writes its own guidelines (the default text is English).
    fac = Reader(world, world.facilitator, "es-ES")
    await fac.run(
        "group",
        "edit",
        name="Círculo de familias",
        guidelines="Lo que se dice aquí, se queda aquí. Escuchamos sin juzgar.",
    )

    listing = await alice.run("group", "list")
    assert "Grupos de apoyo" in listing and "quedan 8 lugares" in listing
    assert "Nunca se muestra públicamente quién está en un grupo" in listing
    info = await alice.run("group", "info", name="Círculo de familias")
    assert "Para quién es" in info and "Próxima sesión" in info

    h = await world.fake.slash(
        world.guild_id,
        world.alice,
        "group",
        "join",
        options={"name": "Círculo de familias"},
        locale="es-ES",
    )
    await h.wait_response()
    prompt = alice.keep(h.callback)
    assert "Antes de unirse a Círculo de familias" in prompt and "Acepto" in prompt
    (consent,) = custom_ids(h.callback)
    agreed = await alice.click(consent)
    assert "Gracias. Ya es miembro de **Círculo de familias**." in text_of(agreed.callback)
    assert await rows(world, "SELECT user_id, status FROM memberships") == [
        {"user_id": world.alice, "status": "member"}
    ]

    saved = await alice.run("my", "timezone", tz="America/Chicago")
    assert saved.startswith("Guardado: su zona horaria es **America/Chicago**.")
    off = await alice.run("my", "reminders", dm="off")
    assert off.startswith("Listo: no recibirá recordatorios por mensaje directo.")
    calendar = await alice.run("my", "calendar")
    assert calendar.startswith("Sus grupos todavía no tienen sesiones programadas")
    data = await alice.run("my", "data")
    assert data.startswith("Aquí está todo lo que FamilyBot guarda sobre usted")

    forget = await alice.run("my", "forget")
    assert forget.startswith("**Olvidarme: ¿está seguro/a?**")
    assert "Sí, olvídenme" in forget and "Cancelar" in forget

    helped = await alice.run("help")
    assert "Lo que puede hacer aquí" in helped and "Grupos y sesiones" in helped
    about = await alice.run("about")
    assert "Tiempo en marcha" in about and "Grupos aquí" in about

    left = await alice.run("group", "leave", name="Círculo de familias")
    assert left.startswith("Ha salido de **Círculo de familias**.")
    assert await rows(world, "SELECT * FROM memberships WHERE status = 'member'") == []
    alice.assert_all_spanish()
    fac.assert_all_spanish()
    assert g["name"] == "Círculo de familias"


async def test_the_panels_answers_and_facilitator_replies_in_latin_american_spanish(
    world: World,
) -> None:
    await group(world)
    bob = Reader(world, world.bob, "es-419")
    how = await bob.click("fb:panel:how")
    assert "Cómo funciona" in text_of(how.callback) and "Quién ve qué" in text_of(how.callback)
    find = await bob.click("fb:panel:find")
    assert "Elija un grupo abajo para leer sus normas y unirse" in text_of(find.callback)
    search = await bob.click("fb:panel:resources")
    assert search.response_type == 9
    assert search.callback["data"]["title"] == "Buscar en los recursos"

    fac = Reader(world, world.facilitator, "es-419")
    roster = await fac.run("group", "members", name="Círculo de familias")
    assert "Lista de miembros: Círculo de familias" in roster and "Nadie todavía." in roster
    edited = await fac.run("group", "edit", name="Círculo de familias", capacity=10)
    assert edited == "Listo: se guardaron los cambios de **Círculo de familias**."
    assert await rows(world, "SELECT capacity FROM groups") == [{"capacity": 10}]
    bob.assert_all_spanish()
    fac.assert_all_spanish()


async def test_an_english_member_still_reads_english(world: World) -> None:
    """The default stays English: the same reply for an en-US client."""
    await group(world)
    carol = Reader(world, world.carol, "en-US")
    listing = await carol.run("group", "list")
    assert "Support groups" in listing and "8 seats left" in listing
    assert english_in(listing)  # and the detector sees it as English
