"""/crisis: crisis lines for anyone, anywhere, even when the database is down."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs.crisis_lines import crisis_reply
from familybot.bot import NO_RECORD, FamilyBot


class Crisis(commands.Cog):
    def __init__(self, bot: FamilyBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="crisis",
        description="Crisis lines you can reach right now (only you see this)",
        extras={NO_RECORD: True},
    )
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def crisis(self, interaction: discord.Interaction[FamilyBot]) -> None:
        """Answered from memory only: no database, no logging of who asked."""
        await interaction.response.send_message(
            embed=crisis_reply(self.bot, interaction.guild_id),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


async def setup(bot: FamilyBot) -> None:
    await bot.add_cog(Crisis(bot))
