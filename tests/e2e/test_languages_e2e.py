"""Languages end to end: Spanish command names in the sync body Discord receives, replies in
the person's Discord language, /my language and /setup language, /crisis in Spanish."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from familybot import i18n
from tests.e2e.harness import World, rows, text_of

pytestmark = pytest.mark.asyncio


async def run_in(world: World, user: int, locale: str, *names: str, **options: Any) -> Any:
    handle = await world.fake.slash(
        world.guild_id, user, *names, options=options or None, locale=locale
    )
    await handle.wait_response()
    return handle


async def test_sync_body_carries_spanish_names_within_the_schema(world: World) -> None:
    puts = world.fake.requests_to("PUT", r"/applications/\d+/guilds/\d+/commands")
    assert puts, "the bot synced no commands"
    body = {c["name"]: c for c in puts[-1].json_body}
    my = body["my"]
    assert my["name_localizations"] == {"es-ES": "mi", "es-419": "mi"}
    assert my["description_localizations"]["es-ES"] == "Su propia agenda y sus ajustes"
    sub = {o["name"]: o for o in my["options"]}
    assert sub["schedule"]["name_localizations"]["es-419"] == "agenda"
    choice = next(o for o in sub["language"]["options"] if o["name"] == "choice")
    assert choice["name_localizations"]["es-ES"] == "opcion"
    names = {c["value"]: c["name_localizations"]["es-ES"] for c in choice["choices"]}
    assert names == {
        "auto": "automático (el idioma de su Discord)",
        "en": "English",
        "es": "Español",
    }
    # /session schedule and /my schedule: one English word, two Spanish ones.
    session = {o["name"]: o for o in body["session"]["options"]}
    assert session["schedule"]["name_localizations"]["es-ES"] == "programar"
    # What Discord stored and would show, and every body checked against the pinned spec.
    stored = world.fake.find_command("group", world.guild_id)
    assert stored is not None and stored["name_localizations"]["es-419"] == "grupo"
    world.fake.assert_no_schema_errors()


async def test_my_language_follows_discord_then_the_stored_choice(world: World) -> None:
    h = await run_in(world, world.alice, "es-ES", "my", "language", choice="auto")
    assert h.ephemeral and h.data["allowed_mentions"]["parse"] == []
    assert h.content.startswith("Listo. Usaré el idioma de su aplicación de Discord (español).")
    assert await rows(world, "SELECT * FROM member_language") == []

    h = await run_in(world, world.alice, "es-ES", "my", "language", choice="en")
    assert h.ephemeral and h.content.startswith("Done. From now on I'll answer you in English")
    saved = await rows(world, "SELECT user_id, language FROM member_language")
    assert saved == [{"user_id": world.alice, "language": "en"}]

    # Kept across a restart (the in-memory choices are rebuilt from the database).
    await world.restart()
    assert i18n.preferences.users == {world.alice: "en"}

    h = await run_in(world, world.alice, "es-419", "my", "language", choice="es")
    assert h.content.startswith("Listo. De ahora en adelante le responderé en español")
    # An English client with a Spanish choice still reads Spanish.
    h = await run_in(world, world.alice, "en-US", "my", "language", choice="es")
    assert h.content.startswith("Listo.")

    # /my forget takes the choice with it (the privacy tests cover /my data).
    await world.bot.services.privacy.forget_user(world.alice)  # type: ignore[union-attr]
    assert await rows(world, "SELECT * FROM member_language") == []
    assert world.alice not in i18n.preferences.users


async def test_setup_language_is_for_admins_and_answers_in_their_language(world: World) -> None:
    h = await run_in(world, world.bob, "es-ES", "setup", "language", language="es")
    assert h.ephemeral and await rows(world, "SELECT language FROM guild_settings") == []

    h = await run_in(world, world.admin, "es-419", "setup", "language", language="es")
    assert h.ephemeral
    assert (
        "Los recordatorios y avisos en los canales de este servidor estarán ahora en español"
        in (h.content)
    )
    assert await rows(world, "SELECT language FROM guild_settings") == [{"language": "es"}]
    assert i18n.for_guild(world.guild_id) == "es"

    h = await run_in(world, world.admin, "en-US", "setup", "language", language="en")
    assert "will now be in English" in h.content
    assert i18n.for_guild(world.guild_id) == "en"


async def test_crisis_in_spanish_lists_spanish_speaking_lines_first(world: World) -> None:
    english = text_of((await run_in(world, world.alice, "en-US", "crisis")).callback)
    spanish = text_of((await run_in(world, world.alice, "es-ES", "crisis")).callback)
    # The data file records SAMHSA (and 988) as answering in Spanish; Crisis Text Line not.
    assert english.index("Crisis Text Line") < english.index("SAMHSA")
    assert spanish.index("SAMHSA") < spanish.index("Crisis Text Line")
    assert spanish.index("988") < spanish.index("Crisis Text Line")
    # Nothing dropped: the same lines, in another order.
    for name in ("988", "Crisis Text Line", "SAMHSA", "NAMI", "findahelpline.com"):
        assert name in spanish


class LanguageProbe(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"i18n-probe"):
    """A button that answers with the language its callback runs in."""

    def __init__(self) -> None:
        super().__init__(discord.ui.Button(label="probe", custom_id="i18n-probe"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: Any, match: Any, /
    ) -> LanguageProbe:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message(i18n.current_language(), ephemeral=True)


async def test_buttons_run_in_the_pressers_language(world: World) -> None:
    """Not only commands: a component's callback starts in the person's language too."""
    assert world.bot is not None
    world.bot.add_dynamic_items(LanguageProbe)
    answers = []
    for locale in ("es-419", "en-GB", "es-ES"):
        h = await world.fake.click(world.guild_id, world.alice, "i18n-probe", locale=locale)
        await h.wait_response()
        answers.append(h.content)
    assert answers == ["es", "en", "es"]
    await world.bot.services.language.set_user_language(world.alice, "en")
    h = await world.fake.click(world.guild_id, world.alice, "i18n-probe", locale="es-ES")
    await h.wait_response()
    assert h.content == "en"  # the stored /my language choice wins
