"""DiscordIO: the bot's implementation of the services' DiscordPort, over discord.py."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import discord
from discord.http import Route

from familybot.discord_moderation import ModerationIO
from familybot.discord_threads import ThreadsIO
from familybot.errors import ChannelGone, DiscordActionFailed
from familybot.models import Resource
from familybot.models.events import EventSpec
from familybot.models.groups import GroupSpace
from familybot.models.notices import Notice
from familybot.models.reminders import Delivery, ReminderCard, ReminderTarget
from familybot.ratelimit import SlidingWindowLimiter
from familybot.ui.embeds import notice_embed
from familybot.ui.resources import resource_embed
from familybot.ui.sessions import reminder_embed, rsvp_view
from familybot.ui.text import ts, user_mention
from familybot.ui.views import approval_view

log = logging.getLogger(__name__)

CANNOT_DM = 50007
UNKNOWN_CHANNEL = 10003
MISSING_ACCESS = 50001
# Discord's global limit is 50 requests/s; reminders stay below it: at most this many in
# any 1 s window, each counted until 1 s after its answer (familybot/ratelimit.py).
REMINDER_RATE = 45
# Guild scheduled events: privacy "guild only", entity types, and the "100 events" error.
EVENT_GUILD_ONLY = 2
EVENT_VOICE = 2
EVENT_EXTERNAL = 3
# Discord's recurrence rule frequencies (RecurrenceRuleFrequencies in the API spec).
EVENT_MONTHLY = 1
EVENT_WEEKLY = 2
TOO_MANY_EVENTS = 30038

MEMBER_ACCESS = discord.PermissionOverwrite(
    view_channel=True, send_messages=True, read_message_history=True
)
READ_ONLY_ACCESS = discord.PermissionOverwrite(
    view_channel=True, read_message_history=True, send_messages=False
)
MEMBER_OVERWRITE: Literal[1] = 1  # a permission overwrite for one member (0 is for a role)
BOT_ACCESS = discord.PermissionOverwrite(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    read_message_history=True,
    manage_channels=True,
)


def channel_slug(name: str) -> str:
    slug = re.sub(r"[^\w-]+", "-", name.casefold()).strip("-")
    slug = re.sub(r"-{2,}", "-", slug)
    return (slug or "group")[:90]


# Discord's server-wide limits, with the error codes it answers when one is reached.
TOO_MANY_ROLES = 30005
TOO_MANY_CHANNELS = 30013
LIMIT_MESSAGES = {
    TOO_MANY_CHANNELS: (
        "This server has reached Discord's limit of 500 channels, so I couldn't open a "
        "private channel for the new group. Nothing was changed. An admin can make room by "
        "deleting channels that are no longer needed (for example those of archived groups), "
        "then you can try again."
    ),
    TOO_MANY_ROLES: (
        "This server has reached Discord's limit of 250 roles, so Discord refused. Nothing was "
        "changed. An admin can make room by deleting roles that are no longer needed."
    ),
}


def _failed(what: str, error: discord.HTTPException) -> DiscordActionFailed:
    log.warning("discord refused %s status=%s code=%s", what, error.status, error.code)
    if error.code in LIMIT_MESSAGES:
        return DiscordActionFailed(LIMIT_MESSAGES[error.code])
    if isinstance(error, discord.Forbidden):
        return DiscordActionFailed(
            f"Discord didn't let me {what}. I may be missing a permission (Manage Channels, or "
            "Manage Roles, which lets me set who can see a channel). Nothing was changed; an "
            "admin can check with `/setup show`."
        )
    return DiscordActionFailed(
        f"Discord had a problem when I tried to {what}. Nothing was changed; please try again "
        "in a moment."
    )


class DiscordIO(ModerationIO, ThreadsIO):
    def __init__(self, client: discord.Client, *, reminder_rate: int = REMINDER_RATE) -> None:
        self._client = client
        self._limiter = SlidingWindowLimiter(reminder_rate)
        self._dm_channels: dict[int, discord.DMChannel] = {}

    def _guild(self, guild_id: int) -> discord.Guild:
        guild = self._client.get_guild(guild_id)
        if guild is None:
            raise DiscordActionFailed(
                "I can't see this server right now. Please try again in a moment."
            )
        return guild

    # --- a group's private channel: who may see it is set per person ----------------------
    async def create_group_space(
        self, guild_id: int, name: str, topic: str, facilitator_ids: Sequence[int]
    ) -> GroupSpace:
        guild = self._guild(guild_id)
        # No role: a role shows on its holder's profile to the whole server. Member
        # overwrites on the channel are seen only by those who can open the channel.
        overwrites: dict[
            discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite
        ] = {
            guild.default_role: discord.PermissionOverwrite(view_channel=False),
            guild.me: BOT_ACCESS,
        }
        for user_id in facilitator_ids:
            overwrites[discord.Object(user_id, type=discord.Member)] = MEMBER_ACCESS
        try:
            channel = await guild.create_text_channel(
                channel_slug(name),
                overwrites=overwrites,
                topic=topic[:1024],
                reason="FamilyBot: new support group",
            )
        except discord.HTTPException as error:
            raise _failed("create the group's private channel", error) from error
        return GroupSpace(channel_id=channel.id)

    async def delete_group_space(self, guild_id: int, space: GroupSpace) -> None:
        try:
            await self._client.http.delete_channel(space.channel_id, reason="FamilyBot: undo")
        except discord.HTTPException:
            log.warning("could not delete channel=%d during undo", space.channel_id)

    async def update_group_space(
        self, guild_id: int, space: GroupSpace, name: str, topic: str
    ) -> None:
        try:
            await self._client.http.edit_channel(
                space.channel_id,
                reason="FamilyBot: group edited",
                name=channel_slug(name),
                topic=topic[:1024],
            )
        except discord.HTTPException as error:
            raise _failed("rename the group's channel", error) from error

    async def archive_group_space(
        self, guild_id: int, space: GroupSpace, reader_ids: Sequence[int]
    ) -> None:
        # Members and facilitators keep read access to their history; nobody can post.
        for user_id in dict.fromkeys(reader_ids):
            await self.grant_channel_access(
                guild_id, space.channel_id, user_id, read_only=True, why="group archived"
            )

    async def grant_channel_access(
        self,
        guild_id: int,
        channel_id: int,
        user_id: int,
        *,
        read_only: bool = False,
        why: str = "group access",
    ) -> None:
        allow, deny = (READ_ONLY_ACCESS if read_only else MEMBER_ACCESS).pair()
        try:
            await self._client.http.edit_channel_permissions(
                channel_id,
                user_id,
                allow=str(allow.value),
                deny=str(deny.value),
                type=MEMBER_OVERWRITE,
                reason=f"FamilyBot: {why}",
            )
        except discord.NotFound as error:
            if error.code != UNKNOWN_CHANNEL:
                # Unknown Member/User: the person isn't on the server any more. There is no
                # access to give them, and the others must still get theirs.
                log.warning("channel access not given: person unknown code=%d", error.code)
                return
            log.warning("group channel gone channel=%d", channel_id)
            raise ChannelGone(
                "The group's private channel no longer exists. Nothing was changed; an admin "
                "can check with `/setup show`."
            ) from error
        except discord.HTTPException as error:
            raise _failed("open the group's channel to them", error) from error

    async def revoke_channel_access(self, guild_id: int, channel_id: int, user_id: int) -> None:
        try:
            await self._client.http.delete_channel_permissions(
                channel_id, user_id, reason="FamilyBot: left group"
            )
        except discord.NotFound:
            log.info("channel access already gone channel=%d", channel_id)
        except discord.HTTPException as error:
            raise _failed("close the group's channel to them", error) from error

    async def remove_member_role(self, guild_id: int, user_id: int, role_id: int) -> None:
        try:
            await self._client.http.remove_role(
                guild_id, user_id, role_id, reason="FamilyBot: left group"
            )
        except discord.NotFound:
            log.debug("role already gone role=%d user=%d", role_id, user_id)
        except discord.HTTPException as error:
            raise _failed("take back the group's old role", error) from error

    async def delete_role(self, guild_id: int, role_id: int) -> bool:
        try:
            await self._client.http.delete_role(
                guild_id, role_id, reason="FamilyBot: group roles replaced by channel access"
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
        try:
            channel = await self._dm_channel(user_id)
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
                "I couldn't reach the facilitators' alerts channel, so your request wasn't sent. "
                "Nothing was changed; please let a facilitator know."
            )
        try:
            await channel.send(
                f"{user_mention(user_id)} would like to join **{discord.utils.escape_markdown(group_name)}** "
                "and has agreed to its guidelines."
                + (
                    f" A facilitator removed them from this group on {ts(removed_at, 'D')}, "
                    "so their return comes to you first."
                    if removed_at is not None
                    else ""
                ),
                view=approval_view(group_id, user_id),
            )
        except discord.HTTPException as error:
            raise _failed("send your request to the facilitators", error) from error

    async def post_notice(self, channel_id: int, notice: Notice) -> bool:
        try:
            await self._client.get_partial_messageable(channel_id).send(embed=notice_embed(notice))
        except discord.HTTPException as error:
            log.warning("notice not posted channel=%d status=%s", channel_id, error.status)
            return False
        return True

    async def _messageable(self, target: ReminderTarget) -> discord.abc.Messageable:
        if target.channel_id is not None:
            return self._client.get_partial_messageable(target.channel_id)
        assert target.user_id is not None
        return await self._dm_channel(target.user_id)

    async def _dm_channel(self, user_id: int) -> discord.DMChannel:
        channel = self._dm_channels.get(user_id)
        if channel is None:
            async with self._limiter.slot():  # opening a DM channel is a request too
                channel = await self._client.create_dm(discord.Object(user_id))
            self._dm_channels[user_id] = channel
        return channel

    async def send_reminder(
        self, target: ReminderTarget, card: ReminderCard, nonce: str
    ) -> Delivery:
        try:
            destination = await self._messageable(target)
            async with self._limiter.slot():
                message = await destination.send(
                    embed=reminder_embed(card),
                    view=rsvp_view(card.series_id, card.occurrence_key, card.ledger_id),
                    nonce=nonce,
                )
        except discord.Forbidden as error:
            permanent = error.code in (CANNOT_DM, MISSING_ACCESS)
            log.warning(
                "reminder refused ledger=%d code=%s target=%s",
                card.ledger_id,
                error.code,
                "dm" if target.user_id else "channel",
            )
            return Delivery(ok=False, permanent=permanent)
        except discord.NotFound:
            log.warning("reminder target gone ledger=%d", card.ledger_id)
            return Delivery(ok=False, permanent=True)
        except discord.HTTPException as error:
            log.warning("reminder send failed ledger=%d status=%s", card.ledger_id, error.status)
            return Delivery(ok=False)
        return Delivery(ok=True, message_id=message.id)

    async def find_reminder(
        self, target: ReminderTarget, ledger_id: int, after: datetime
    ) -> int | None:
        marker = f":{ledger_id}"
        me = self._client.user
        try:
            destination = await self._messageable(target)
            async for message in destination.history(after=after, limit=100, oldest_first=True):
                if me is not None and message.author.id != me.id:
                    continue
                for row in message.components:
                    for child in getattr(row, "children", []):
                        if str(getattr(child, "custom_id", "") or "").endswith(marker):
                            return message.id
        except discord.HTTPException as error:
            log.warning("could not look for reminder ledger=%d status=%s", ledger_id, error.status)
            raise
        return None

    # --- Discord's Events panel (optional, /setup events) ------------------------------------
    @staticmethod
    def _event_fields(spec: EventSpec) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "name": spec.name[:100],
            "description": spec.description[:1000],
            "privacy_level": EVENT_GUILD_ONLY,
            "scheduled_start_time": spec.start.isoformat(),
            "scheduled_end_time": spec.end.isoformat(),
        }
        if spec.channel_id is not None:
            fields.update(
                entity_type=EVENT_VOICE, channel_id=str(spec.channel_id), entity_metadata=None
            )
        else:
            fields.update(
                entity_type=EVENT_EXTERNAL,
                channel_id=None,
                entity_metadata={"location": (spec.location or "Discord")[:100]},
            )
        rec = spec.recurrence
        if rec is not None:
            rule: dict[str, Any] = {
                "start": spec.start.isoformat(),
                "frequency": EVENT_MONTHLY if rec.monthly else EVENT_WEEKLY,
                "interval": rec.interval,
            }
            if rec.monthly:
                rule["by_n_weekday"] = [{"n": rec.n, "day": rec.weekday}]
            else:
                rule["by_weekday"] = [rec.weekday]
            fields["recurrence_rule"] = rule
        return fields

    @staticmethod
    def _event_failed(
        what: str, guild_id: int, error: discord.HTTPException
    ) -> DiscordActionFailed:
        if error.code == TOO_MANY_EVENTS:
            log.warning("scheduled events at Discord's limit guild=%d", guild_id)
        else:
            log.warning(
                "discord refused to %s scheduled event guild=%d status=%s code=%s",
                what,
                guild_id,
                error.status,
                error.code,
            )
        return DiscordActionFailed(
            f"Discord didn't let me {what} an event in the Events panel. I may be missing the "
            "Manage Events permission; an admin can check with `/setup show`."
        )

    async def create_scheduled_event(self, guild_id: int, spec: EventSpec) -> int:
        fields = self._event_fields(spec)
        if fields["channel_id"] is None:
            del fields["channel_id"]
        try:
            if "recurrence_rule" in fields:
                # discord.py's helper drops recurrence_rule: send the documented body as is.
                route = Route("POST", "/guilds/{guild_id}/scheduled-events", guild_id=guild_id)
                data = await self._client.http.request(
                    route, json=fields, reason="FamilyBot: group session series"
                )
            else:
                data = await self._client.http.create_guild_scheduled_event(
                    guild_id, reason="FamilyBot: next group session", **fields
                )
        except discord.HTTPException as error:
            raise self._event_failed("create", guild_id, error) from error
        return int(data["id"])

    async def edit_scheduled_event(self, guild_id: int, event_id: int, spec: EventSpec) -> bool:
        fields = self._event_fields(spec)
        try:
            if "recurrence_rule" in fields:
                route = Route(
                    "PATCH",
                    "/guilds/{guild_id}/scheduled-events/{event_id}",
                    guild_id=guild_id,
                    event_id=event_id,
                )
                await self._client.http.request(
                    route, json=fields, reason="FamilyBot: session series changed"
                )
            else:
                await self._client.http.edit_scheduled_event(
                    guild_id, event_id, reason="FamilyBot: session changed", **fields
                )
        except discord.NotFound:
            return False
        except discord.HTTPException as error:
            raise self._event_failed("update", guild_id, error) from error
        return True

    async def delete_scheduled_event(self, guild_id: int, event_id: int) -> None:
        try:
            await self._client.http.delete_scheduled_event(
                guild_id, event_id, reason="FamilyBot: session no longer upcoming"
            )
        except discord.NotFound:
            log.info("scheduled event already gone guild=%d event=%d", guild_id, event_id)
        except discord.HTTPException as error:
            raise self._event_failed("remove", guild_id, error) from error

    # --- resource library ---------------------------------------------------------------------
    async def post_resource(self, channel_id: int, resource: Resource) -> bool:
        try:
            await self._client.get_partial_messageable(channel_id).send(
                embed=resource_embed(resource), allowed_mentions=discord.AllowedMentions.none()
            )
        except discord.HTTPException as error:
            log.warning("resource not posted channel=%d status=%s", channel_id, error.status)
            return False
        return True
