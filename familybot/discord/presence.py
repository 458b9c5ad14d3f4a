"""The retention sweep's questions to Discord: is this person still here, which servers remain."""

from __future__ import annotations

import logging

import discord

from familybot.discord.common import UNKNOWN_MEMBER, UNKNOWN_USER

log = logging.getLogger(__name__)


class DiscordPresence:
    """Implements MemberPresence (services/privacy/retention.py)."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def is_member(self, guild_id: int, user_id: int) -> bool | None:
        try:
            await self._client.http.get_member(guild_id, user_id)
        except discord.NotFound as error:
            if error.code in (UNKNOWN_MEMBER, UNKNOWN_USER):
                return False
            return None  # e.g. Unknown Guild: the server purge handles that case
        except discord.HTTPException as error:
            log.warning(
                "membership check failed guild=%d user=%d status=%s",
                guild_id,
                user_id,
                error.status,
            )
            return None
        return True

    def current_guild_ids(self) -> set[int] | None:
        if not self._client.is_ready():
            return None
        return {guild.id for guild in self._client.guilds}
