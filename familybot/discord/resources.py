"""The resource library's posts (/resource share) and its notes to people and channels."""

from __future__ import annotations

import logging
import re
from datetime import datetime

import discord

from familybot.discord.notices import DiscordNotices
from familybot.models import Resource
from familybot.models.notices import Notice
from familybot.ui.embeds import notice_embed
from familybot.ui.resources import resource_embed

log = logging.getLogger(__name__)
_DIGITS = re.compile(r"\d+")


class DiscordResources:
    """Implements ResourcesPort (services/resources/ports.py)."""

    def __init__(self, client: discord.Client, notices: DiscordNotices) -> None:
        self._client = client
        self._notices = notices

    async def post_resource(self, channel_id: int, resource: Resource) -> bool:
        try:
            await self._client.get_partial_messageable(channel_id).send(
                embed=resource_embed(resource), allowed_mentions=discord.AllowedMentions.none()
            )
        except discord.HTTPException as error:
            log.warning("resource not posted channel=%d status=%s", channel_id, error.status)
            return False
        return True

    async def post_notice(self, channel_id: int, notice: Notice) -> bool:
        return await self._notices.post_notice(channel_id, notice)

    async def post_once(self, channel_id: int, notice: Notice, nonce: str) -> int | None:
        """discord.py sends `enforce_nonce` with every nonce (http.py)."""
        try:
            async with self._notices.limiter.slot():
                message = await self._client.get_partial_messageable(channel_id).send(
                    embed=notice_embed(notice),
                    nonce=nonce,
                    allowed_mentions=discord.AllowedMentions.none(),
                )
        except discord.HTTPException as error:
            log.warning("notice not posted channel=%d status=%s", channel_id, error.status)
            return None
        return message.id

    async def find_posted(
        self, channel_id: int, titles: frozenset[str], nonce: str, after: datetime
    ) -> int | None:
        """Discord keeps no nonce (history shows none): the notice is known by its embed's
        title, its counts aside (the list may have changed since the interrupted post: a
        resource reviewed or fallen due meanwhile, one resource become several); only this
        bot's posts after the intent are read, and only the digest has such a title."""
        me = self._client.user
        patterns = {
            _DIGITS.sub("", notice_embed(Notice(title=title, body="-")).title or "")
            for title in titles
        }
        channel = self._client.get_partial_messageable(channel_id)
        async with self._notices.limiter.slot():  # one page: one request
            async for message in channel.history(after=after, limit=100, oldest_first=True):
                if me is None or message.author.id != me.id:
                    continue
                shown = message.embeds[0] if message.embeds else None
                if message.nonce == nonce or (
                    shown is not None and _DIGITS.sub("", shown.title or "") in patterns
                ):
                    return message.id
        return None

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        return await self._notices.send_dm(user_id, notice)
