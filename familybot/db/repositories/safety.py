"""The one read the safety watch and automod make per message: are they on for this channel?"""

from __future__ import annotations

from dataclasses import dataclass

from familybot.db.connection import Database


@dataclass(frozen=True)
class ChannelWatch:
    """What applies to a channel: only group channels are ever watched."""

    safety_watch: bool
    automod: bool
    alerts_channel_id: int | None
    modlog_channel_id: int | None

    @property
    def any(self) -> bool:
        return self.safety_watch or self.automod


OFF = ChannelWatch(False, False, None, None)


class SafetyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def channel_watch(self, guild_id: int, channel_id: int) -> ChannelWatch:
        # One round trip: the server's switches, and whether the channel is an active group's
        # (partial index groups_channel). A server that never turned either on has no work.
        row = await self._db.fetchone(
            "SELECT s.safety_watch, s.automod, s.alerts_channel_id, s.modlog_channel_id, "
            "EXISTS (SELECT 1 FROM groups g WHERE g.channel_id = ? AND g.guild_id = s.guild_id "
            "AND g.status = 'active') AS in_group "
            "FROM guild_settings s WHERE s.guild_id = ?",
            (channel_id, guild_id),
        )
        if row is None or not row["in_group"]:
            return OFF
        return ChannelWatch(
            safety_watch=bool(row["safety_watch"]),
            automod=bool(row["automod"]),
            alerts_channel_id=row["alerts_channel_id"],
            modlog_channel_id=row["modlog_channel_id"],
        )
