"""Private messages and short channel notices: the sessions feature's port, and the one
place DM channels are opened (the other adapters that send DMs hand them over to this)."""

from __future__ import annotations

import logging

import discord

from familybot.discord.common import CANNOT_DM
from familybot.models.notices import Notice
from familybot.ratelimit import SlidingWindowLimiter
from familybot.ui.embeds import notice_embed

log = logging.getLogger(__name__)

# Discord's global limit is 50 requests/s; reminders (and the DM channels they open) stay
# below it: at most this many in any 1 s window, each counted until 1 s after its answer
# (familybot/ratelimit.py).
REMINDER_RATE = 45


class DiscordNotices:
    """Implements SessionsPort (services/sessions/ports.py)."""

    def __init__(self, client: discord.Client, *, rate: int = REMINDER_RATE) -> None:
        self._client = client
        self.limiter = SlidingWindowLimiter(rate)
        self._dm_channels: dict[int, discord.DMChannel] = {}

    async def dm_channel(self, user_id: int) -> discord.DMChannel:
        channel = self._dm_channels.get(user_id)
        if channel is None:
            async with self.limiter.slot():  # opening a DM channel is a request too
                channel = await self._client.create_dm(discord.Object(user_id))
            self._dm_channels[user_id] = channel
        return channel

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        try:
            channel = await self.dm_channel(user_id)
            # Paced with reminders: a notice sent during a burst counts against the same limit.
            async with self.limiter.slot():
                await channel.send(embed=notice_embed(notice))
        except discord.Forbidden as error:
            if error.code == CANNOT_DM:
                log.info("dm not delivered user=%d reason=closed", user_id)
            else:
                log.warning("dm refused user=%d code=%s", user_id, error.code)
            return False
        except discord.HTTPException as error:
            log.warning("dm failed user=%d status=%s", user_id, error.status)
            return False
        return True

    async def post_notice(self, channel_id: int, notice: Notice) -> bool:
        try:
            async with self.limiter.slot():
                await self._client.get_partial_messageable(channel_id).send(
                    embed=notice_embed(notice)
                )
        except discord.HTTPException as error:
            log.warning("notice not posted channel=%d status=%s", channel_id, error.status)
            return False
        return True
