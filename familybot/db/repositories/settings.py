"""guild_settings: one row per server."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from familybot.db.connection import Database, Row
from familybot.models import GuildSettings, to_unix

_COLUMNS = frozenset(
    {
        "facilitator_role_id",
        "modlog_channel_id",
        "alerts_channel_id",
        "timezone",
        "crisis_region",
        "scheduled_events",
        "safety_watch",
        "automod",
    }
)


def _row(row: Row) -> GuildSettings:
    return GuildSettings(
        guild_id=row["guild_id"],
        facilitator_role_id=row["facilitator_role_id"],
        modlog_channel_id=row["modlog_channel_id"],
        alerts_channel_id=row["alerts_channel_id"],
        timezone=row["timezone"],
        crisis_region=row["crisis_region"],
        scheduled_events=bool(row["scheduled_events"]),
        safety_watch=bool(row["safety_watch"]),
        automod=bool(row["automod"]),
        language=row["language"],
    )


class SettingsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, guild_id: int) -> GuildSettings:
        row = await self._db.fetchone(
            "SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        return _row(row) if row else GuildSettings(guild_id=guild_id)

    async def set(self, guild_id: int, column: str, value: Any, now: datetime) -> GuildSettings:
        if column not in _COLUMNS:
            raise ValueError(f"unknown setting {column}")
        await self._db.execute(
            f"INSERT INTO guild_settings (guild_id, {column}, updated_at) VALUES (?, ?, ?) "
            f"ON CONFLICT (guild_id) DO UPDATE SET {column} = excluded.{column}, "
            "updated_at = excluded.updated_at",
            (guild_id, value, to_unix(now)),
        )
        return await self.get(guild_id)
