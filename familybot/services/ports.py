"""What services need from Discord, as a small interface the bot implements (discord_io.py).

Services stay free of discord.py; tests give them a recording fake instead.
Every method raises DiscordActionFailed (with a kind message) when Discord refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from familybot.models import Resource


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
    """A group's private channel. Access is per person (a member permission overwrite on the
    channel), never a role: roles show on profiles, overwrites show to nobody outside."""

    channel_id: int


class DiscordPort(Protocol):
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
        until the upgrade (services/group_access.py) has removed their role."""
        ...

    async def delete_role(self, guild_id: int, role_id: int) -> bool:
        """Delete a role; True when it is gone (also when it already was), False when Discord
        refused (the caller tries again later)."""
        ...

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

    # --- moderation (/mod); implemented in discord_moderation.py --------------------------------
    async def timeout_member(
        self, guild_id: int, user_id: int, until: datetime | None, reason: str
    ) -> None:
        """Set (or clear, with None) the member's communication_disabled_until."""
        ...

    async def kick_member(self, guild_id: int, user_id: int, reason: str) -> None: ...

    async def ban_user(
        self, guild_id: int, user_id: int, delete_message_seconds: int, reason: str
    ) -> None: ...

    async def unban_user(self, guild_id: int, user_id: int, reason: str) -> bool:
        """Lift a ban; False when the person was not banned (nothing to lift)."""
        ...

    async def purge_messages(
        self, channel_id: int, limit: int, author_id: int | None, newer_than: datetime, reason: str
    ) -> PurgeResult:
        """Bulk-delete up to `limit` recent messages (optionally one author's) newer than
        `newer_than`; older ones are left alone and counted."""
        ...

    async def set_slowmode(self, channel_id: int, seconds: int, reason: str) -> None: ...

    async def set_channel_locked(
        self, guild_id: int, channel_id: int, locked: bool, reason: str
    ) -> None: ...

    async def post_mod_log(self, channel_id: int, entry: ModLogEntry) -> int | None:
        """Post a case to the mod-log channel; the message id, or None when it failed."""
        ...

    # --- resource library (/resource share) ------------------------------------------------------
    async def post_resource(self, channel_id: int, resource: Resource) -> bool:
        """Post a vetted resource's card to a channel (mentions off); False when refused."""
        ...

    # --- reports and private contact; implemented in discord_threads.py ---------------------------
    async def open_private_contact(self, contact: PrivateContact) -> PrivateSpace:
        """Open a private thread under `contact.channel_id` (or, where Discord can't, a private
        channel) holding only the member, the facilitator role and the bot, and post the
        opening messages in it. Raises DiscordActionFailed with nothing left behind."""
        ...

    async def post_contact_alert(self, channel_id: int, alert: ContactAlert) -> bool:
        """A short note with a link in the (private) alerts channel; False when refused."""
        ...


@dataclass(frozen=True)
class PurgeResult:
    removed: int
    too_old: int


@dataclass(frozen=True)
class ModLogEntry:
    """A case as the mod log shows it: ids (rendered as mentions), never names."""

    number: int
    action: str
    actor_id: int  # 0: FamilyBot itself
    target_id: int | None
    channel_id: int | None
    reason: str
    status: str
    created_at: datetime
    detail: str | None = None
    dm: str | None = None
    duration_seconds: int | None = None
    expires_at: datetime | None = None
    heading: str | None = None  # e.g. "Reason updated"


@dataclass(frozen=True)
class EventRecurrence:
    """How a mirrored event repeats on Discord's side (the shapes Discord accepts).

    ``weekday`` is 0 (Monday) .. 6 of the first start *in UTC* (Discord repeats at a fixed
    UTC time); ``n`` is 1..4 for a monthly "nth weekday", None for weekly.
    """

    monthly: bool
    interval: int  # weekly: 1 or 2 (every other week); monthly: 1
    weekday: int
    n: int | None = None


@dataclass(frozen=True)
class EventSpec:
    """One session as a guild scheduled event: a voice channel, or else a location text.
    With ``recurrence``, the event stands for the whole series from ``start`` on."""

    name: str
    description: str
    start: datetime
    end: datetime
    channel_id: int | None = None
    location: str | None = None
    recurrence: EventRecurrence | None = None


@dataclass(frozen=True)
class PrivateContact:
    """What opens a private space between one member and the facilitators: ids only."""

    guild_id: int
    channel_id: int  # where it was asked for: the thread's parent when a thread is possible
    name: str  # e.g. "private-report-12": says nothing about anyone
    number: int
    kind: str  # 'report' | 'ask'
    member_id: int
    facilitator_role_id: int
    category: str | None = None  # reports: at_risk | unkind | spam | other
    reported_author_id: int | None = None
    reported_message_id: int | None = None  # in channel_id
    question: str | None = None  # /ask: the member's own words, posted with mentions off


@dataclass(frozen=True)
class PrivateSpace:
    channel_id: int
    is_thread: bool  # False: a private text channel stood in for the thread


@dataclass(frozen=True)
class ContactAlert:
    guild_id: int
    number: int
    kind: str
    category: str | None
    space_id: int
