"""Departures and returns: the start (and cancelling) of the 30-day purge clocks.

Member events arrive only with MEMBERS_INTENT on; without it the daily retention sweep
notices departures and returns by asking Discord. Server events always arrive.
"""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from familybot.bot import FamilyBot

log = logging.getLogger(__name__)


class PrivacyEvents(commands.Cog):
    def __init__(self, bot: FamilyBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        if payload.user.id == (self.bot.user.id if self.bot.user else 0):
            return
        await self.bot.services.privacy.member_left(payload.guild_id, payload.user.id)

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        await self.bot.services.privacy.member_returned(member.guild.id, member.id)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.bot.services.privacy.guild_removed(guild.id)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.bot.services.privacy.guild_returned(guild.id)

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        # Back after an outage or a restart: a server that is here was not removed.
        await self.bot.services.privacy.guild_returned(guild.id)


async def setup(bot: FamilyBot) -> None:
    await bot.add_cog(PrivacyEvents(bot))
