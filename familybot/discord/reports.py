"""Reports and /ask: private threads (or private channels) between one member
and the facilitators, for the message menu "Report to facilitators" and /ask.

Discord shows a private thread only to the people added to it and to those with Manage
Threads in its parent, and only if they can see the parent. So a thread opens under the
channel the member used, and only when the facilitator role can see that channel too and
the bot may create it; otherwise a private text channel (overwrites: @everyone denied;
the member, the facilitator role and the bot allowed) stands in for it.
"""

from __future__ import annotations

import logging
from typing import Literal

import discord

from familybot.discord.common import (
    BOT_ACCESS,
    MEMBER_ACCESS,
    NO_ACCESS,
    SERVER_UNSEEN,
    Overwrites,
    audit_reason,
    delete_channel,
)
from familybot.errors import DiscordActionFailed
from familybot.i18n import lazy_gettext
from familybot.models.reports import ContactAlert, PrivateContact, PrivateSpace
from familybot.ui.reports import alert_text, opening_text, question_text

log = logging.getLogger(__name__)

REASON = lazy_gettext("FamilyBot: private contact with the facilitators")
WEEK_MINUTES: Literal[10080] = (
    10080  # a quiet thread stays in the list for a week before it auto-archives
)

NO_ROLE = lazy_gettext(
    "The facilitator role set up for this server no longer exists, so I couldn't bring the "
    "facilitators in. Nothing was opened; please ask an admin to run `/setup facilitator-role`."
)
CANNOT_OPEN = lazy_gettext(
    "I couldn't open a private conversation here: I may be missing a permission (Create "
    "Private Threads, or Manage Channels). Nothing was sent; please ask an admin to check "
    "with `/setup show`, or let a facilitator know directly."
)


def thread_possible(
    parent: discord.abc.GuildChannel, role: discord.Role, me: discord.Member
) -> bool:
    """Checked before asking Discord: a plain text channel the facilitator role can see, where
    the bot may create private threads, post in them, and bring the role in by mentioning it."""
    if not isinstance(parent, discord.TextChannel) or parent.is_news():
        return False  # threads can't hold threads; announcement channels have no private ones
    mine = parent.permissions_for(me)
    if not (mine.view_channel and mine.create_private_threads and mine.send_messages_in_threads):
        return False
    # A role mention adds the role's members only if it can notify them, and only those who
    # can see the parent channel.
    can_ping = role.mentionable or mine.mention_everyone
    return can_ping and parent.permissions_for(role).view_channel


class DiscordReports:
    """Implements ReportsPort (services/reports/service.py)."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def open_private_contact(self, contact: PrivateContact) -> PrivateSpace:
        guild = self._client.get_guild(contact.guild_id)
        if guild is None:
            raise DiscordActionFailed(str(SERVER_UNSEEN))
        role = guild.get_role(contact.facilitator_role_id)
        if role is None:
            raise DiscordActionFailed(str(NO_ROLE))
        parent = guild.get_channel(contact.channel_id)
        # A report about a facilitator must not reach them: a role mention would bring them
        # into a thread, so they get a private channel with a deny of their own instead.
        shut_out = await self._reported_facilitator(guild, role, contact)
        if shut_out is None and parent is not None and thread_possible(parent, role, guild.me):
            assert isinstance(parent, discord.TextChannel)
            try:
                return await self._open_thread(parent, role, contact)
            except discord.HTTPException as error:
                log.warning(
                    "private thread not opened guild=%d parent=%d status=%s code=%s; "
                    "trying a private channel",
                    guild.id,
                    parent.id,
                    error.status,
                    error.code,
                )
        return await self._open_channel(guild, role, contact, shut_out=shut_out)

    async def _reported_facilitator(
        self, guild: discord.Guild, role: discord.Role, contact: PrivateContact
    ) -> int | None:
        """The reported author's id when they are a facilitator (or might be: unknown)."""
        author_id = contact.reported_author_id
        if author_id is None:
            return None
        try:
            member = guild.get_member(author_id) or await guild.fetch_member(author_id)
        except discord.NotFound:
            return None  # no longer on the server: nothing to keep them out of
        except discord.HTTPException:
            return author_id  # can't tell: keep them out to be safe
        if role in member.roles or member.guild_permissions.manage_threads:
            return author_id
        return None

    async def _open_thread(
        self, parent: discord.TextChannel, role: discord.Role, contact: PrivateContact
    ) -> PrivateSpace:
        thread = await parent.create_thread(
            name=contact.name,
            type=discord.ChannelType.private_thread,
            invitable=False,  # only facilitators (Manage Threads) may add anyone else
            auto_archive_duration=WEEK_MINUTES,
            reason=audit_reason(parent.guild.id, REASON),
        )
        try:
            await thread.add_user(discord.Object(contact.member_id))
            await self._post_opening(thread, role, contact, is_thread=True)
        except discord.HTTPException:
            await delete_channel(self._client, thread.id, "thread", parent.guild.id)
            raise
        return PrivateSpace(channel_id=thread.id, is_thread=True)

    async def _open_channel(
        self,
        guild: discord.Guild,
        role: discord.Role,
        contact: PrivateContact,
        *,
        shut_out: int | None = None,
    ) -> PrivateSpace:
        mine = guild.me.guild_permissions
        if not (mine.manage_channels and mine.manage_roles):
            log.warning("private channel not possible guild=%d (permissions)", guild.id)
            raise DiscordActionFailed(str(CANNOT_OPEN))
        overwrites: Overwrites = {
            guild.default_role: NO_ACCESS,
            role: MEMBER_ACCESS,
            discord.Object(contact.member_id, type=discord.Member): MEMBER_ACCESS,
            guild.me: BOT_ACCESS,
        }
        if shut_out is not None:
            # A member's own overwrite wins over their roles' (Administrators still see all).
            overwrites[discord.Object(shut_out, type=discord.Member)] = NO_ACCESS
        try:
            channel = await guild.create_text_channel(
                contact.name, overwrites=overwrites, reason=audit_reason(guild.id, REASON)
            )
        except discord.HTTPException as error:
            log.warning("private channel not created guild=%d status=%s", guild.id, error.status)
            raise DiscordActionFailed(str(CANNOT_OPEN)) from error
        try:
            await self._post_opening(channel, role, contact, is_thread=False)
        except discord.HTTPException as error:
            await delete_channel(self._client, channel.id, "channel", guild.id)
            raise DiscordActionFailed(str(CANNOT_OPEN)) from error
        return PrivateSpace(channel_id=channel.id, is_thread=False)

    async def _post_opening(
        self,
        space: discord.Thread | discord.TextChannel,
        role: discord.Role,
        contact: PrivateContact,
        *,
        is_thread: bool,
    ) -> None:
        # The facilitator role is the one mention allowed: in a private thread any allowed
        # mention adds that person, so the reported author's mention must stay inert.
        await space.send(
            opening_text(contact, is_thread),
            allowed_mentions=discord.AllowedMentions(
                everyone=False, users=False, roles=[role], replied_user=False
            ),
        )
        if contact.question:
            await space.send(
                question_text(contact), allowed_mentions=discord.AllowedMentions.none()
            )

    async def post_contact_alert(self, channel_id: int, alert: ContactAlert) -> bool:
        try:
            await self._client.get_partial_messageable(channel_id).send(
                alert_text(alert), allowed_mentions=discord.AllowedMentions.none()
            )
        except discord.HTTPException as error:
            log.warning("contact alert not posted channel=%d status=%s", channel_id, error.status)
            return False
        return True
