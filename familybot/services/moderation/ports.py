"""What moderation asks of Discord (familybot/discord/moderation.py implements it)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from familybot.models.moderation import (
    ModLogEntry,
    PurgeResult,
)
from familybot.models.notices import Notice


class ModerationPort(Protocol):
    """The /mod actions, the mod log and the note to the person
    (familybot/discord/moderation.py)."""

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

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        """Send a private message; False when the person cannot receive DMs."""
        ...
