"""/help, for anyone and also in DMs; and the start-here panel's search box."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from cogs.welcome_components import WELCOME_ITEMS, handle_search_submit
from familybot.bot import FamilyBot
from familybot.checks import actor_of
from familybot.ui.help import help_embed

log = logging.getLogger(__name__)


class Help(commands.Cog):
    def __init__(self, bot: FamilyBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        # Its persistent buttons and menus: answered by custom_id, also after a restart.
        self.bot.add_dynamic_items(*WELCOME_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*WELCOME_ITEMS)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[FamilyBot]) -> None:
        await handle_search_submit(interaction)

    @app_commands.command(name="help", description="What you can do with FamilyBot here")
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    @app_commands.allowed_installs(guilds=True, users=False)
    async def help(self, interaction: discord.Interaction[FamilyBot]) -> None:
        """Member tools for everyone; facilitator and admin tools for those who have them."""
        in_server = interaction.guild_id is not None
        facilitator = admin = False
        if interaction.guild_id is not None:
            actor = actor_of(interaction)
            admin = actor.is_admin
            try:
                facilitator = await self.bot.services.setup.is_facilitator(
                    interaction.guild_id, actor
                )
            except Exception:  # e.g. the database is down: help still answers, as a member's
                log.warning(
                    "help could not check the facilitator role guild=%d", interaction.guild_id
                )
        await interaction.response.send_message(
            embed=help_embed(in_server=in_server, facilitator=facilitator, admin=admin),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


async def setup(bot: FamilyBot) -> None:
    await bot.add_cog(Help(bot))
