"""What services need from Discord, as a small interface the bot implements (discord_io.py).

Services stay free of discord.py; tests give them a recording fake instead.
Every method raises DiscordActionFailed (with a kind message) when Discord refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Notice:
    """A short private message to one person: rendered as an embed in a DM."""

    title: str
    body: str


@dataclass(frozen=True)
class GroupSpace:
    role_id: int
    channel_id: int


class DiscordPort(Protocol):
    async def create_group_space(
        self, guild_id: int, name: str, topic: str, facilitator_ids: Sequence[int]
    ) -> GroupSpace:
        """Create the group's role and private text channel."""
        ...

    async def delete_group_space(self, guild_id: int, space: GroupSpace) -> None:
        """Undo create_group_space (used when storing the group fails)."""
        ...

    async def update_group_space(
        self, guild_id: int, space: GroupSpace, name: str, topic: str
    ) -> None: ...

    async def archive_group_space(self, guild_id: int, space: GroupSpace) -> None:
        """Keep the channel readable to its members but closed to new messages."""
        ...

    async def grant_channel_access(self, guild_id: int, channel_id: int, user_id: int) -> None: ...

    async def add_member_role(self, guild_id: int, user_id: int, role_id: int) -> None: ...

    async def remove_member_role(self, guild_id: int, user_id: int, role_id: int) -> None: ...

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        """Send a private message; False when the person cannot receive DMs."""
        ...

    async def post_join_request(
        self, guild_id: int, channel_id: int, group_id: int, group_name: str, user_id: int
    ) -> None:
        """Post an Approve / Deny request for facilitators in the (private) alerts channel."""
        ...
