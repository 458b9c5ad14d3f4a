"""RecordingPort plus the methods of ModerationPort (see familybot/discord/moderation.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from familybot.models.moderation import ModLogEntry, PurgeResult
from tests.support.fakes import RecordingPort


@dataclass
class ModerationPort(RecordingPort):
    banned: set[tuple[int, int]] = field(default_factory=set)  # (guild, user)
    modlog: list[tuple[int, ModLogEntry]] = field(default_factory=list)
    purge_result: PurgeResult = field(default_factory=lambda: PurgeResult(removed=3, too_old=1))

    async def timeout_member(
        self, guild_id: int, user_id: int, until: datetime | None, reason: str
    ) -> None:
        self._call("timeout_member", guild_id, user_id, until, reason)

    async def kick_member(self, guild_id: int, user_id: int, reason: str) -> None:
        self._call("kick_member", guild_id, user_id, reason)

    async def ban_user(
        self, guild_id: int, user_id: int, delete_message_seconds: int, reason: str
    ) -> None:
        self._call("ban_user", guild_id, user_id, delete_message_seconds, reason)
        self.banned.add((guild_id, user_id))

    async def unban_user(self, guild_id: int, user_id: int, reason: str) -> bool:
        self._call("unban_user", guild_id, user_id, reason)
        if (guild_id, user_id) not in self.banned:
            return False
        self.banned.discard((guild_id, user_id))
        return True

    async def purge_messages(
        self, channel_id: int, limit: int, author_id: int | None, newer_than: datetime, reason: str
    ) -> PurgeResult:
        self._call("purge_messages", channel_id, limit, author_id, newer_than, reason)
        return self.purge_result

    async def set_slowmode(self, channel_id: int, seconds: int, reason: str) -> None:
        self._call("set_slowmode", channel_id, seconds, reason)

    async def set_channel_locked(
        self, guild_id: int, channel_id: int, locked: bool, reason: str
    ) -> None:
        self._call("set_channel_locked", guild_id, channel_id, locked, reason)

    async def post_mod_log(self, channel_id: int, entry: ModLogEntry) -> int | None:
        self.calls.append(("post_mod_log", (channel_id, entry)))
        if "post_mod_log" in self.fail:
            return None
        self.modlog.append((channel_id, entry))
        return next(self._ids)
