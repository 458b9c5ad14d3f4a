"""/setup's safety half: the safety watch, automod and the crisis lines /crisis shows.

A mixin of the Setup cog (cogs/setup.py): discord.py's GroupCog collects the commands of
its bases, so these stay subcommands of /setup.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from familybot.bot import FamilyBot
from familybot.checks import is_admin
from familybot.errors import UserFacingError
from familybot.i18n import _
from familybot.services.moderation.automod import MASS_MENTION_THRESHOLD
from familybot.ui.safety import automod_reply, needs_intent, safety_watch_reply
from familybot.ui.text import clip, defuse

ON_OFF = [app_commands.Choice(name="on", value="on"), app_commands.Choice(name="off", value="off")]

CRISIS_REGIONS = [
    app_commands.Choice(name="United States", value="US"),
    app_commands.Choice(name="United Kingdom", value="UK"),
    app_commands.Choice(name="Ireland", value="IE"),
    app_commands.Choice(name="Canada", value="CA"),
    app_commands.Choice(name="Other (international lines only)", value="OTHER"),
]


class SetupSafety(commands.Cog):
    """/setup safety-watch, automod, crisis-region, crisis-line, crisis-line-remove."""

    bot: FamilyBot

    @app_commands.command(
        name="safety-watch",
        description="Privately send crisis lines when a group message sounds like a crisis",
    )
    @app_commands.describe(state="on: watch group channels for crisis language; off: stop")
    @app_commands.choices(state=ON_OFF)
    @is_admin()
    async def safety_watch(
        self, interaction: discord.Interaction[FamilyBot], state: app_commands.Choice[str]
    ) -> None:
        assert interaction.guild_id is not None
        on = state.value == "on"
        if on and not self.bot.settings.message_content_intent:
            raise UserFacingError(needs_intent("safety-watch"))  # audit: refused
        saved = await self.bot.services.setup.set_safety_watch(interaction.guild_id, on)
        await interaction.response.send_message(
            safety_watch_reply(on, saved.alerts_channel_id is not None), ephemeral=True
        )

    @app_commands.command(
        name="automod", description="Remove invite links and mass mentions in group channels"
    )
    @app_commands.describe(state="on: remove them, with a private note and a case; off: stop")
    @app_commands.choices(state=ON_OFF)
    @is_admin()
    async def automod(
        self, interaction: discord.Interaction[FamilyBot], state: app_commands.Choice[str]
    ) -> None:
        assert interaction.guild is not None
        on = state.value == "on"
        if on and not self.bot.settings.message_content_intent:
            raise UserFacingError(needs_intent("automod"))  # audit: refused
        saved = await self.bot.services.setup.set_automod(interaction.guild.id, on)
        text = automod_reply(
            on,
            MASS_MENTION_THRESHOLD,
            interaction.guild.me.guild_permissions.manage_messages,
            saved.modlog_channel_id is not None,
        )
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(
        name="crisis-region", description="Choose which country's crisis lines /crisis shows"
    )
    @app_commands.describe(region="Where most of your members live")
    @app_commands.choices(region=CRISIS_REGIONS)
    @is_admin()
    async def crisis_region(
        self, interaction: discord.Interaction[FamilyBot], region: app_commands.Choice[str]
    ) -> None:
        assert interaction.guild_id is not None
        await self.bot.services.crisis.set_region(interaction.guild_id, region.value)
        await interaction.response.send_message(
            _(
                "Done. `/crisis` now shows the lines for **{region}**, plus the international "
                "ones and any local lines you add with `/setup crisis-line`."
            ).format(region=region.name),
            ephemeral=True,
        )

    @app_commands.command(
        name="crisis-line", description="Add a local crisis line that /crisis shows on this server"
    )
    @app_commands.describe(
        name="The line's name, e.g. County Mobile Crisis Team",
        contact="How to reach it: a phone number, or an https:// link",
        hours="When it answers, e.g. 24/7",
    )
    @is_admin()
    async def crisis_line(
        self,
        interaction: discord.Interaction[FamilyBot],
        name: app_commands.Range[str, 1, 80],
        contact: app_commands.Range[str, 1, 200],
        hours: app_commands.Range[str, 1, 80] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        await self.bot.services.crisis.add_line(
            interaction.guild_id, interaction.user.id, name, contact, hours
        )
        await interaction.response.send_message(
            _(
                "Done. `/crisis` now includes **{name}**. Please check the number works, and "
                "remove the line with `/setup crisis-line-remove` if it ever changes."
            ).format(name=clip(defuse(name), 80)),
            ephemeral=True,
        )

    @app_commands.command(
        name="crisis-line-remove", description="Remove a local crisis line you added"
    )
    @app_commands.describe(name="The local line's name")
    @is_admin()
    async def crisis_line_remove(
        self, interaction: discord.Interaction[FamilyBot], name: str
    ) -> None:
        assert interaction.guild_id is not None
        await self.bot.services.crisis.remove_line(interaction.guild_id, name)
        await interaction.response.send_message(
            _("Done. `/crisis` no longer shows **{name}**.").format(name=clip(defuse(name), 80)),
            ephemeral=True,
        )

    @crisis_line_remove.autocomplete("name")
    async def crisis_line_autocomplete(
        self, interaction: discord.Interaction[FamilyBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        typed = current.casefold()
        names = self.bot.services.crisis.local_names(interaction.guild_id)
        matches = [n for n in names if typed in n.casefold()]
        return [app_commands.Choice(name=n[:100], value=n[:100]) for n in matches[:25]]
