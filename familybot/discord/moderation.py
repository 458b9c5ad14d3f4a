"""Moderation (/mod): Discord calls for cases, and the mod log (automod posts there too)."""

from __future__ import annotations

import logging
from datetime import datetime

import discord
from discord.http import Route

from familybot.discord.common import ROLE_OVERWRITE, UNKNOWN_BAN, refused
from familybot.discord.notices import DiscordNotices
from familybot.errors import DiscordActionFailed
from familybot.i18n import LazyString, _, for_guild, lazy_gettext, using
from familybot.models.moderation import ModLogEntry, PurgeResult
from familybot.models.notices import Notice
from familybot.ui.moderation import modlog_embed

log = logging.getLogger(__name__)


MISSING = lazy_gettext("a permission, or my role may be too low")
CASE_FAILED = lazy_gettext("The case is recorded as failed")
CHECK_ROLE = lazy_gettext("an admin can check my role")
LIFT_BAN = lazy_gettext("lift their ban")


def _refused(what: LazyString, error: discord.HTTPException) -> DiscordActionFailed:
    return refused(what, error, missing=MISSING, outcome=CASE_FAILED, check=CHECK_ROLE)


async def post_mod_log(client: discord.Client, channel_id: int, entry: ModLogEntry) -> int | None:
    """Post a case to the mod-log channel; the message id, or None when it failed. The
    entry reads in the SERVER's language, not the language of whoever set it off."""
    with using(for_guild(entry.guild_id)):
        embed = modlog_embed(entry)
    try:
        message = await client.get_partial_messageable(channel_id).send(embed=embed)
    except discord.HTTPException as error:
        log.warning("mod-log not posted channel=%d status=%s", channel_id, error.status)
        return None
    return message.id


class DiscordModeration:
    """Implements ModerationPort (services/moderation/ports.py)."""

    def __init__(self, client: discord.Client, notices: DiscordNotices) -> None:
        self._client = client
        self._notices = notices

    async def timeout_member(
        self, guild_id: int, user_id: int, until: datetime | None, reason: str
    ) -> None:
        try:
            await self._client.http.edit_member(
                guild_id,
                user_id,
                reason=reason,
                communication_disabled_until=until.isoformat() if until else None,
            )
        except discord.HTTPException as error:
            raise _refused(lazy_gettext("change their timeout"), error) from error

    async def kick_member(self, guild_id: int, user_id: int, reason: str) -> None:
        try:
            await self._client.http.kick(user_id, guild_id, reason=reason)
        except discord.HTTPException as error:
            raise _refused(lazy_gettext("remove them from the server"), error) from error

    async def ban_user(
        self, guild_id: int, user_id: int, delete_message_seconds: int, reason: str
    ) -> None:
        # The deletion window goes in the JSON body, always explicit (discord.py would default
        # to a day in the query string).
        route = Route(
            "PUT", "/guilds/{guild_id}/bans/{user_id}", guild_id=guild_id, user_id=user_id
        )
        try:
            await self._client.http.request(
                route, json={"delete_message_seconds": delete_message_seconds}, reason=reason
            )
        except discord.HTTPException as error:
            raise _refused(lazy_gettext("ban them"), error) from error

    async def unban_user(self, guild_id: int, user_id: int, reason: str) -> bool:
        # Discord's schema marks the (empty) JSON body as required here.
        route = Route(
            "DELETE", "/guilds/{guild_id}/bans/{user_id}", guild_id=guild_id, user_id=user_id
        )
        try:
            await self._client.http.request(route, json={}, reason=reason)
        except discord.NotFound as error:
            if error.code == UNKNOWN_BAN:
                return False
            raise _refused(LIFT_BAN, error) from error
        except discord.HTTPException as error:
            raise _refused(LIFT_BAN, error) from error
        return True

    async def purge_messages(
        self, channel_id: int, limit: int, author_id: int | None, newer_than: datetime, reason: str
    ) -> PurgeResult:
        http = self._client.http
        try:
            recent = await http.logs_from(channel_id, limit)
            ids: list[str | int] = []
            too_old = 0
            for message in recent:
                if author_id is not None and int(message["author"]["id"]) != author_id:
                    continue
                message_id = int(message["id"])
                if discord.utils.snowflake_time(message_id) <= newer_than:
                    too_old += 1  # Discord's bulk delete refuses messages over 14 days old
                    continue
                ids.append(message_id)
            if len(ids) == 1:
                await http.delete_message(channel_id, ids[0], reason=reason)
            elif ids:
                await http.delete_messages(channel_id, ids, reason=reason)
        except discord.HTTPException as error:
            raise _refused(lazy_gettext("remove those messages"), error) from error
        return PurgeResult(removed=len(ids), too_old=too_old)

    async def set_slowmode(self, channel_id: int, seconds: int, reason: str) -> None:
        try:
            await self._client.http.edit_channel(
                channel_id, reason=reason, rate_limit_per_user=seconds
            )
        except discord.HTTPException as error:
            raise _refused(lazy_gettext("change the channel's slowmode"), error) from error

    async def set_channel_locked(
        self, guild_id: int, channel_id: int, locked: bool, reason: str
    ) -> None:
        guild = self._client.get_guild(guild_id)
        channel = guild.get_channel(channel_id) if guild else None
        if guild is None or channel is None:
            raise DiscordActionFailed(_("I can't see that channel right now. Nothing was changed."))
        # Only the @everyone overwrite's Send Messages changes; its other bits are kept.
        overwrite = channel.overwrites_for(guild.default_role)
        overwrite.update(send_messages=False if locked else None)
        allow, deny = overwrite.pair()
        try:
            await self._client.http.edit_channel_permissions(
                channel_id,
                guild_id,
                allow=str(allow.value),
                deny=str(deny.value),
                type=ROLE_OVERWRITE,
                reason=reason,
            )
        except discord.HTTPException as error:
            what = (
                lazy_gettext("lock the channel") if locked else lazy_gettext("unlock the channel")
            )
            raise _refused(what, error) from error

    async def post_mod_log(self, channel_id: int, entry: ModLogEntry) -> int | None:
        return await post_mod_log(self._client, channel_id, entry)

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        return await self._notices.send_dm(user_id, notice)
