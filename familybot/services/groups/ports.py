"""What the groups service asks of the outside: Discord (GroupsPort) and the sessions
feature (SessionSchedulePort)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from familybot.models.groups import GroupSpace
from familybot.models.notices import Notice


class SessionSchedulePort(Protocol):
    """What groups read about their sessions (services/sessions/session_schedule.py implements it)."""

    async def next_session_start(self, group_id: int) -> datetime | None: ...

    async def next_session_starts(self, group_ids: Sequence[int]) -> dict[int, datetime | None]: ...

    async def attendance_summary(self, group_id: int) -> tuple[dict[int, int], int]: ...


class GroupsPort(Protocol):
    """What groups ask of Discord: their private channels, who may see them, and notes to
    people (familybot/discord/groups.py)."""

    async def create_group_space(
        self, guild_id: int, name: str, topic: str, facilitator_ids: Sequence[int]
    ) -> GroupSpace:
        """Create the group's private text channel, open to its facilitators and the bot."""
        ...

    async def delete_group_space(self, guild_id: int, space: GroupSpace) -> None:
        """Undo create_group_space (used when storing the group fails)."""
        ...

    async def update_group_space(
        self, guild_id: int, space: GroupSpace, name: str, topic: str
    ) -> None: ...

    async def archive_group_space(
        self, guild_id: int, space: GroupSpace, reader_ids: Sequence[int]
    ) -> None:
        """Keep the channel readable to `reader_ids` (members and facilitators) but closed to
        new messages."""
        ...

    async def grant_channel_access(
        self, guild_id: int, channel_id: int, user_id: int, *, read_only: bool = False
    ) -> None:
        """Let one person see (and, unless read_only, post in) a group's channel."""
        ...

    async def revoke_channel_access(self, guild_id: int, channel_id: int, user_id: int) -> None:
        """Take one person's access to a group's channel away (already gone counts as done)."""
        ...

    async def remove_member_role(self, guild_id: int, user_id: int, role_id: int) -> None:
        """Take a group role from a member: only for groups made before per-person access,
        until the upgrade (services/groups/group_access.py) has removed their role."""
        ...

    async def delete_role(self, guild_id: int, role_id: int) -> bool:
        """Delete a role; True when it is gone (also when it already was), False when Discord
        refused (the caller tries again later)."""
        ...

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        """Send a private message; False when the person cannot receive DMs."""
        ...

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
        """Post an Approve / Deny request for facilitators in the (private) alerts channel;
        `removed_at` says when a facilitator last removed them from this group."""
        ...
