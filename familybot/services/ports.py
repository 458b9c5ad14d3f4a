"""What services need from Discord, as a small interface the bot implements (discord_io.py).

Services stay free of discord.py; tests give them a recording fake instead.
Every method raises DiscordActionFailed (with a kind message) when Discord refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from familybot.models import Resource
from familybot.models.events import EventSpec
from familybot.models.groups import GroupSpace
from familybot.models.moderation import ModLogEntry, PurgeResult
from familybot.models.notices import Notice
from familybot.models.reminders import Delivery, ReminderCard, ReminderTarget
from familybot.models.reports import ContactAlert, PrivateContact, PrivateSpace


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
