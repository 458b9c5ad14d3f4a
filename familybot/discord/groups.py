"""A group's private channel and who may see it (set per person, never a role), and the
join requests and notes groups send."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime

import discord

from familybot import i18n
from familybot.discord.common import (
    BOT_ACCESS,
    MEMBER_ACCESS,
    MEMBER_OVERWRITE,
    NO_ACCESS,
    READ_ONLY_ACCESS,
    SERVER_UNSEEN,
    TOO_MANY_CHANNELS,
    TOO_MANY_ROLES,
    UNKNOWN_CHANNEL,
    Overwrites,
    audit_reason,
    delete_channel,
    refused,
)
from familybot.discord.notices import DiscordNotices
from familybot.errors import ChannelGone, DiscordActionFailed
from familybot.models.groups import GroupSpace
from familybot.models.notices import Notice
from familybot.ui.text import ts, user_mention
from familybot.ui.views import approval_view

log = logging.getLogger(__name__)

# Discord's server-wide limits, with what to do when one is reached.
LIMIT_MESSAGES = {
    TOO_MANY_CHANNELS: i18n.lazy_gettext(
        "This server has reached Discord's limit of 500 channels, so I couldn't open a "
        "private channel for the new group. Nothing was changed. An admin can make room by "
        "deleting channels that are no longer needed (for example those of archived groups), "
        "then you can try again."
    ),
    TOO_MANY_ROLES: i18n.lazy_gettext(
        "This server has reached Discord's limit of 250 roles, so Discord refused. Nothing was "
        "changed. An admin can make room by deleting roles that are no longer needed."
    ),
}


def channel_slug(name: str) -> str:
    slug = re.sub(r"[^\w-]+", "-", name.casefold()).strip("-")
    slug = re.sub(r"-{2,}", "-", slug)
    return (slug or "group")[:90]


MISSING = i18n.lazy_gettext(
    "a permission (Manage Channels, or Manage Roles, which lets me set who can see a channel)"
)
NOTHING_CHANGED = i18n.lazy_gettext("Nothing was changed")
# Reasons in Discord's audit log (the server's language: common.audit_reason).
ACCESS = i18n.lazy_gettext("FamilyBot: group access")
ARCHIVED = i18n.lazy_gettext("FamilyBot: group archived")
LEFT = i18n.lazy_gettext("FamilyBot: left group")
ROLES_REPLACED = i18n.lazy_gettext("FamilyBot: group roles replaced by channel access")
ADMIN_CAN_CHECK = i18n.lazy_gettext("an admin can check with `/setup show`")


def _failed(what: i18n.LazyString, error: discord.HTTPException) -> DiscordActionFailed:
    if error.code in LIMIT_MESSAGES:
        log.warning("discord refused %s status=%s code=%s", what.message, error.status, error.code)
        return DiscordActionFailed(str(LIMIT_MESSAGES[error.code]))
    return refused(what, error, missing=MISSING, outcome=NOTHING_CHANGED, check=ADMIN_CAN_CHECK)


class DiscordGroups:
    """Implements GroupsPort (services/groups/ports.py)."""

    def __init__(self, client: discord.Client, notices: DiscordNotices) -> None:
        self._client = client
        self._notices = notices

    def _guild(self, guild_id: int) -> discord.Guild:
        guild = self._client.get_guild(guild_id)
        if guild is None:
            raise DiscordActionFailed(str(SERVER_UNSEEN))
        return guild

    async def create_group_space(
        self, guild_id: int, name: str, topic: str, facilitator_ids: Sequence[int]
    ) -> GroupSpace:
        guild = self._guild(guild_id)
        # No role: a role shows on its holder's profile to the whole server. Member
        # overwrites on the channel are seen only by those who can open the channel.
        overwrites: Overwrites = {guild.default_role: NO_ACCESS, guild.me: BOT_ACCESS}
        for user_id in facilitator_ids:
            overwrites[discord.Object(user_id, type=discord.Member)] = MEMBER_ACCESS
        try:
            channel = await guild.create_text_channel(
                channel_slug(name),
                overwrites=overwrites,
                topic=topic[:1024],
                reason=audit_reason(guild_id, i18n.lazy_gettext("FamilyBot: new support group")),
            )
        except discord.HTTPException as error:
            raise _failed(i18n.lazy_gettext("create the group's private channel"), error) from error
        return GroupSpace(channel_id=channel.id)

    async def delete_group_space(self, guild_id: int, space: GroupSpace) -> None:
        await delete_channel(self._client, space.channel_id, "channel", guild_id)

    async def update_group_space(
        self, guild_id: int, space: GroupSpace, name: str, topic: str
    ) -> None:
        try:
            await self._client.http.edit_channel(
                space.channel_id,
                reason=audit_reason(guild_id, i18n.lazy_gettext("FamilyBot: group edited")),
                name=channel_slug(name),
                topic=topic[:1024],
            )
        except discord.HTTPException as error:
            raise _failed(i18n.lazy_gettext("rename the group's channel"), error) from error

    async def archive_group_space(
        self, guild_id: int, space: GroupSpace, reader_ids: Sequence[int]
    ) -> None:
        # Members and facilitators keep read access to their history; nobody can post.
        for user_id in dict.fromkeys(reader_ids):
            await self.grant_channel_access(
                guild_id, space.channel_id, user_id, read_only=True, why=ARCHIVED
            )

    async def grant_channel_access(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        *,
        read_only: bool = False,
        why: i18n.LazyString = ACCESS,
    ) -> None:
        allow, deny = (READ_ONLY_ACCESS if read_only else MEMBER_ACCESS).pair()
        try:
            await self._client.http.edit_channel_permissions(
                channel_id,
                user_id,
                allow=str(allow.value),
                deny=str(deny.value),
                type=MEMBER_OVERWRITE,
                reason=audit_reason(guild_id, why),
            )
        except discord.NotFound as error:
            if error.code != UNKNOWN_CHANNEL:
                # Unknown Member/User: the person isn't on the server any more. There is no
                # access to give them, and the others must still get theirs.
                log.warning("channel access not given: person unknown code=%d", error.code)
                return
            log.warning("group channel gone channel=%d", channel_id)
            raise ChannelGone(
                i18n._(
                    "The group's private channel no longer exists. Nothing was changed; an "
                    "admin can check with `/setup show`."
                )
            ) from error
        except discord.HTTPException as error:
            raise _failed(i18n.lazy_gettext("open the group's channel to them"), error) from error

    async def revoke_channel_access(self, guild_id: int, channel_id: int, user_id: int) -> None:
        try:
            await self._client.http.delete_channel_permissions(
                channel_id, user_id, reason=audit_reason(guild_id, LEFT)
            )
        except discord.NotFound:
            log.info("channel access already gone channel=%d", channel_id)
        except discord.HTTPException as error:
            raise _failed(i18n.lazy_gettext("close the group's channel to them"), error) from error

    async def remove_member_role(self, guild_id: int, user_id: int, role_id: int) -> None:
        try:
            await self._client.http.remove_role(
                guild_id, user_id, role_id, reason=audit_reason(guild_id, LEFT)
            )
        except discord.NotFound:
            log.debug("role already gone role=%d user=%d", role_id, user_id)
        except discord.HTTPException as error:
            raise _failed(i18n.lazy_gettext("take back the group's old role"), error) from error

    async def delete_role(self, guild_id: int, role_id: int) -> bool:
        try:
            await self._client.http.delete_role(
                guild_id, role_id, reason=audit_reason(guild_id, ROLES_REPLACED)
            )
        except discord.NotFound:
            return True
        except discord.HTTPException as error:
            log.warning(
                "could not delete role=%d guild=%d status=%s code=%s",
                role_id,
                guild_id,
                error.status,
                error.code,
            )
            return False
        return True

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        return await self._notices.send_dm(user_id, notice)

    async def post_join_request(
        self,
        guild_id: int,
        channel_id: int,
        group_id: int,
        group_name: str,
        user_id: int,
        *,
        removed_at: datetime | None = None,
    ) -> None:
        channel = self._client.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            raise DiscordActionFailed(
                i18n._(
                    "I couldn't reach the facilitators' alerts channel, so your request wasn't "
                    "sent. Nothing was changed; please let a facilitator know."
                )
            )
        name = discord.utils.escape_markdown(group_name)
        # The alerts channel reads the server's language, not the requester's (whose press
        # this runs in).
        with i18n.using(i18n.for_guild(guild_id)):
            view = approval_view(group_id, user_id)
            text = i18n._(
                "{member} would like to join **{group}** and has agreed to its guidelines."
            ).format(member=user_mention(user_id), group=name)
            if removed_at is not None:
                text += " " + i18n._(
                    "A facilitator removed them from this group on {day}, so their return "
                    "comes to you first."
                ).format(day=ts(removed_at, "D"))
        try:
            await channel.send(text, view=view)
        except discord.HTTPException as error:
            raise _failed(
                i18n.lazy_gettext("send your request to the facilitators"), error
            ) from error
