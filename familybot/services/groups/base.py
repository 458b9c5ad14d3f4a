"""The groups service's shared core: collaborators, per-group locks, lookups, and channel
access (one member overwrite per person, never a role)."""

from __future__ import annotations

import asyncio
import logging

from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.settings import SettingsRepository
from familybot.errors import ChannelGone, Conflict, NotFound
from familybot.events import EventBus
from familybot.i18n import _
from familybot.models import (
    Group,
    MembershipStatus,
)
from familybot.services.groups.ports import GroupsPort, SessionSchedulePort
from familybot.services.groups.rules import (
    CHANNEL_OVERWRITES_MAX,
    GROUP_NOT_HERE,
    NAME_MAX,
    RESERVED_OVERWRITES,
)

log = logging.getLogger(__name__)


class GroupsBase:
    """What every part of the groups service shares: its collaborators, one lock per group,
    lookups and per-person channel access."""

    def __init__(
        self,
        db: Database,
        groups: GroupRepository,
        settings: SettingsRepository,
        discord: GroupsPort,
        clock: Clock,
        bus: EventBus,
        schedule: SessionSchedulePort,
    ) -> None:
        self._db = db
        self._groups = groups
        self._settings = settings
        self._discord = discord
        self._clock = clock
        self._locks: dict[int, asyncio.Lock] = {}
        # GroupChanged goes out when who is seated, a group's reminder times, its name or its
        # status changed (wiring.py: reminders re-planned, the Events panel re-synced).
        self._bus = bus
        # Next sessions (one group, or many in a fixed number of queries) and attendance.
        self._schedule = schedule

    def _lock(self, group_id: int) -> asyncio.Lock:
        # One lock per group: a button, a command and a job may touch the same seats.
        return self._locks.setdefault(group_id, asyncio.Lock())

    # --- lookups ----------------------------------------------------------------------------
    async def get_active(self, guild_id: int, name: str) -> Group:
        group = await self._groups.find_active(guild_id, name)
        if group is not None:
            return group
        archived = await self._groups.find_latest_archived(guild_id, name)
        shown = " ".join(name.split())[:NAME_MAX]
        if archived is not None:
            raise Conflict(
                _(
                    "The group “{group}” has been archived, so it can't be changed or joined."
                ).format(group=archived.name)
            )
        raise NotFound(
            _(
                "I couldn't find a group called “{group}”. `/group list` shows the open groups."
            ).format(group=shown)
        )

    async def _get_by_id(self, group_id: int) -> Group:
        group = await self._groups.get(group_id)
        if group is None:
            raise NotFound(_("That group no longer exists."))
        return group

    async def _get_in_guild(self, group_id: int, guild_id: int | None) -> Group:
        """A group named by a button's id, only if it belongs to the server it was pressed in."""
        group = await self._groups.get(group_id)
        if group is None or guild_id is None or group.guild_id != guild_id:
            raise NotFound(str(GROUP_NOT_HERE))
        return group

    # --- channel access: one member overwrite per person, never a role ------------------------
    async def _reader_ids(self, group: Group) -> list[int]:
        """Everyone who should see the group's channel: its members and its facilitators."""
        members = await self._groups.list_by_status(group.id, MembershipStatus.MEMBER)
        facilitators = await self._groups.facilitators(group.id)
        return list(dict.fromkeys([m.user_id for m in members] + [f.user_id for f in facilitators]))

    async def _grant(self, group: Group, user_id: int) -> None:
        if group.channel_id:
            await self._discord.grant_channel_access(
                group.guild_id, group.channel_id, user_id, read_only=not group.is_active
            )

    async def _revoke(self, group: Group, user_id: int, *, keep_facilitator: bool = True) -> None:
        """Close the channel to someone leaving; a facilitator of the group keeps their access
        (same overwrite) unless they are being forgotten."""
        facilitator = keep_facilitator and any(
            f.user_id == user_id for f in await self._groups.facilitators(group.id)
        )
        if group.channel_id and not facilitator:
            await self._discord.revoke_channel_access(group.guild_id, group.channel_id, user_id)
        if group.role_id is not None:  # a group from before the upgrade, not yet upgraded
            await self._discord.remove_member_role(group.guild_id, user_id, group.role_id)

    async def upgrade_old_role(self, group: Group) -> bool:
        """Replace a group's old named role by per-person access (the upgrade, see
        services/groups/group_access.py). Every step repeats safely: True once role_id is cleared."""
        async with self._lock(group.id):
            current = await self._groups.get(group.id)
            if current is None or current.role_id is None:
                return True
            readers = await self._reader_ids(current)
            if len(readers) > CHANNEL_OVERWRITES_MAX - RESERVED_OVERWRITES:
                log.warning("group too large for per-person access group=%d", group.id)
                return False
            try:
                for user_id in readers:  # members keep access before the role goes
                    await self._grant(current, user_id)
            except ChannelGone:  # no channel, no access to keep: only the label is left
                log.warning("upgrade: group channel gone group=%d", group.id)
            return await self._drop_old_role(current)

    async def _drop_old_role(self, group: Group) -> bool:
        assert group.role_id is not None
        if group.channel_id:
            # The role's own overwrite on the channel (Discord drops it with the role too).
            await self._discord.revoke_channel_access(
                group.guild_id, group.channel_id, group.role_id
            )
        if not await self._discord.delete_role(group.guild_id, group.role_id):
            return False
        await self._groups.update(group.id, role_id=None)
        log.info("group role replaced by channel access group=%d", group.id)
        return True
