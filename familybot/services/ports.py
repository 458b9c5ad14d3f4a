"""What services need from Discord, as a small interface the bot implements (discord_io.py).

Services stay free of discord.py; tests give them a recording fake instead.
Every method raises DiscordActionFailed (with a kind message) when Discord refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Notice:
    """A short private message to one person: rendered as an embed in a DM."""

    title: str
    body: str


@dataclass(frozen=True)
class ReminderCard:
    """What a reminder shows: no names, only counts."""

    ledger_id: int
    series_id: int
    occurrence_key: str
    group_name: str
    title: str
    start: datetime
    end: datetime
    voice_channel_id: int | None
    going: int
    maybe: int
    no: int
    late: bool


@dataclass(frozen=True)
class ReminderTarget:
    """Exactly one of the two: a group's channel, or a person's DMs."""

    channel_id: int | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class Delivery:
    ok: bool
    message_id: int | None = None
    # True when trying again cannot help (DMs closed, channel gone): do not retry.
    permanent: bool = False


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

    async def post_notice(self, channel_id: int, notice: Notice) -> bool:
        """Post a short notice (no names) in a group's private channel."""
        ...

    async def send_reminder(
        self, target: ReminderTarget, card: ReminderCard, nonce: str
    ) -> Delivery:
        """Send one reminder. `nonce` is stable per reminder, so a retried send is not doubled."""
        ...

    async def find_reminder(
        self, target: ReminderTarget, ledger_id: int, after: datetime
    ) -> int | None:
        """The id of a reminder message already sent for `ledger_id` after `after`, if any.

        Raises when Discord cannot be asked: not knowing must not count as "not sent".
        """
        ...

    # --- Discord's Events panel (optional, /setup events) ------------------------------------
    async def create_scheduled_event(self, guild_id: int, spec: EventSpec) -> int:
        """Create a guild scheduled event; returns its id."""
        ...

    async def edit_scheduled_event(self, guild_id: int, event_id: int, spec: EventSpec) -> bool:
        """Make the event match `spec`; False when the event no longer exists on Discord."""
        ...

    async def delete_scheduled_event(self, guild_id: int, event_id: int) -> None:
        """Delete the event; an event that is already gone counts as deleted."""
        ...


@dataclass(frozen=True)
class EventSpec:
    """One session as a guild scheduled event: a voice channel, or else a location text."""

    name: str
    description: str
    start: datetime
    end: datetime
    channel_id: int | None = None
    location: str | None = None
