"""/about: version, uptime, latency and counts."""

from __future__ import annotations

import math

import discord
from discord import app_commands
from discord.ext import commands

from familybot.bot import FamilyBot
from familybot.i18n import _, pgettext


def _duration(seconds: float) -> str:
    minutes, _seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return _("{days}d {hours}h {minutes}m").format(days=days, hours=hours, minutes=minutes)
    if hours:
        return _("{hours}h {minutes}m").format(hours=hours, minutes=minutes)
    return _("{minutes}m").format(minutes=minutes)


class About(commands.Cog):
    def __init__(self, bot: FamilyBot) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="About FamilyBot: version, uptime and status")
    async def about(self, interaction: discord.Interaction[FamilyBot]) -> None:
        latency = self.bot.latency
        latency_text = (
            _("measuring…")
            if math.isnan(latency) or math.isinf(latency)
            else f"{latency * 1000:.0f} ms"
        )
        groups = await self.bot.services.groups.count_active(interaction.guild_id)
        embed = discord.Embed(
            title="FamilyBot",
            description=_(
                "A self-hosted helper for family support groups: groups, session reminders, "
                "vetted resources and calm moderation. It never gives medical advice; "
                "`/crisis` shows crisis lines any time."
            ),
            colour=0x5B8DB8,
        )
        embed.add_field(name=pgettext("embed-field-name", "Version"), value=self.bot.version)
        embed.add_field(
            name=pgettext("embed-field-name", "Uptime"), value=_duration(self.bot.uptime_seconds())
        )
        embed.add_field(name=pgettext("embed-field-name", "Gateway latency"), value=latency_text)
        embed.add_field(
            name=pgettext("embed-field-name", "Groups here")
            if interaction.guild_id
            else pgettext("embed-field-name", "Groups"),
            value=str(groups),
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: FamilyBot) -> None:
    await bot.add_cog(About(bot))
