"""/about: version, uptime, latency and counts."""

from __future__ import annotations

import math

import discord
from discord import app_commands
from discord.ext import commands

from familybot.bot import FamilyBot


def _duration(seconds: float) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}d"] if days else []
    if days or hours:
        parts.append(f"{hours}h")
    parts.append(f"{minutes}m")
    return " ".join(parts)


class About(commands.Cog):
    def __init__(self, bot: FamilyBot) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="About FamilyBot: version, uptime and status")
    async def about(self, interaction: discord.Interaction[FamilyBot]) -> None:
        latency = self.bot.latency
        latency_text = (
            "measuring…"
            if math.isnan(latency) or math.isinf(latency)
            else f"{latency * 1000:.0f} ms"
        )
        groups = await self.bot.services.groups.count_active(interaction.guild_id)
        embed = discord.Embed(
            title="FamilyBot",
            description=(
                "A self-hosted helper for family support groups: groups, session reminders, "
                "vetted resources and calm moderation. It never gives medical advice; "
                "`/crisis` shows crisis lines any time."
            ),
            colour=0x5B8DB8,
        )
        embed.add_field(name="Version", value=self.bot.version)
        embed.add_field(name="Uptime", value=_duration(self.bot.uptime_seconds()))
        embed.add_field(name="Gateway latency", value=latency_text)
        embed.add_field(name="Groups here" if interaction.guild_id else "Groups", value=str(groups))
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: FamilyBot) -> None:
    await bot.add_cog(About(bot))
