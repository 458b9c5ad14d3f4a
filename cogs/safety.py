"""Messages in group channels: the optional safety watch and light automod.

Only loaded to any effect when MESSAGE_CONTENT_INTENT is on; without it Discord sends no
message text and this listener returns at once. Never replies in a channel.
"""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from familybot import i18n
from familybot.bot import FamilyBot
from familybot.models.safety import SeenMessage
from familybot.models.setup import Actor

log = logging.getLogger(__name__)


def seen(message: discord.Message) -> SeenMessage:
    assert message.guild is not None
    mentioned = {u.id for u in message.mentions} | {r.id for r in message.role_mentions}
    return SeenMessage(
        guild_id=message.guild.id,
        guild_name=message.guild.name,
        channel_id=message.channel.id,
        message_id=message.id,
        author_id=message.author.id,
        content=message.content,
        mention_ids=frozenset(mentioned),
        mention_everyone=message.mention_everyone,
    )


def author_of(message: discord.Message) -> Actor:
    author = message.author
    if isinstance(author, discord.Member):
        perms = author.guild_permissions
        return Actor(
            user_id=author.id,
            role_ids=frozenset(r.id for r in author.roles),
            manage_guild=perms.manage_guild,
            administrator=perms.administrator,
        )
    return Actor(user_id=author.id, role_ids=frozenset(), manage_guild=False)


class Safety(commands.Cog):
    def __init__(self, bot: FamilyBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if not self.bot.settings.message_content_intent:
            return
        if message.guild is None or message.author.bot or message.webhook_id is not None:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        # Two processes on this shard: one of them reads this member's messages (routing.py).
        if not self.bot.leadership.routing.reads(message.guild.id, message.author.id):
            return
        # What goes to the author privately (the crisis lines under the safety watch's
        # English words, automod's note) follows the DM rule: their /my language, else the
        # server's. Channel posts (alerts, mod log) set the server's language themselves.
        language = i18n.for_dm(message.author.id, message.guild.id)
        try:
            with i18n.using(language):
                await self.bot.safety.on_message(seen(message), author_of(message))
        except Exception:
            # Ids only: never the text, never who wrote it.
            log.exception(
                "safety/automod failed guild=%d channel=%d", message.guild.id, message.channel.id
            )


async def setup(bot: FamilyBot) -> None:
    await bot.add_cog(Safety(bot))
