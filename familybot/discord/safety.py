"""What the safety watch and automod ask of Discord, over discord.py.

Safety alerts are refused, not posted, if the alerts channel has become visible to everyone:
the watch must never name anyone where the whole server can read it.
"""

from __future__ import annotations

import logging

import discord

from familybot.discord.common import CANNOT_DM
from familybot.discord.moderation import post_mod_log
from familybot.discord.notices import DiscordNotices
from familybot.models.moderation import ModLogEntry
from familybot.models.notices import Notice
from familybot.models.safety import CrisisDM, SafetyAlert
from familybot.ui.safety import crisis_dm_embed, crisis_dm_text, safety_alert_embed

log = logging.getLogger(__name__)


def _is_private(channel: discord.abc.GuildChannel) -> bool:
    return not channel.permissions_for(channel.guild.default_role).view_channel


class DiscordSafetyWatch:
    """Implements SafetyPort (services/safety/watch.py)."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def send_crisis_dm(self, user_id: int, dm: CrisisDM) -> bool:
        try:
            channel = await self._client.create_dm(discord.Object(user_id))
            await channel.send(
                crisis_dm_text(dm),
                embed=crisis_dm_embed(dm),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.Forbidden as error:
            reason = "closed" if error.code == CANNOT_DM else f"code-{error.code}"
            log.info("safety dm not delivered reason=%s", reason)
            return False
        except discord.HTTPException as error:
            log.warning("safety dm failed status=%s", error.status)
            return False
        return True

    async def post_safety_alert(self, channel_id: int, alert: SafetyAlert) -> bool:
        channel = self._client.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            log.warning("safety alert channel missing channel=%d", channel_id)
            return False
        if not _is_private(channel):
            log.warning("safety alert refused: alerts channel is public channel=%d", channel_id)
            return False
        try:
            await channel.send(
                embed=safety_alert_embed(alert), allowed_mentions=discord.AllowedMentions.none()
            )
        except discord.HTTPException as error:
            log.warning("safety alert failed channel=%d status=%s", channel_id, error.status)
            return False
        return True


class DiscordAutomod:
    """Implements AutomodPort (services/moderation/automod.py)."""

    def __init__(self, client: discord.Client, notices: DiscordNotices) -> None:
        self._client = client
        self._notices = notices

    def can_manage_messages(self, channel_id: int) -> bool:
        channel = self._client.get_channel(channel_id)
        if not isinstance(channel, discord.abc.GuildChannel):
            return False
        return channel.permissions_for(channel.guild.me).manage_messages

    async def delete_message(self, channel_id: int, message_id: int, reason: str) -> bool:
        try:
            await self._client.http.delete_message(channel_id, message_id, reason=reason)
        except discord.NotFound:
            log.info("automod message already gone channel=%d", channel_id)
            return False
        except discord.HTTPException as error:
            log.warning("automod delete refused channel=%d status=%s", channel_id, error.status)
            return False
        return True

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        return await self._notices.send_dm(user_id, notice)

    async def post_mod_log(self, channel_id: int, entry: ModLogEntry) -> int | None:
        return await post_mod_log(self._client, channel_id, entry)
