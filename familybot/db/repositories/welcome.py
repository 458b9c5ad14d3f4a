"""welcome_panels: where each server's start-here panel is."""

from __future__ import annotations

from datetime import datetime

from familybot.db.connection import Database
from familybot.models import WelcomePanel, to_unix


class WelcomePanelRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, guild_id: int) -> WelcomePanel | None:
        row = await self._db.fetchone(
            "SELECT guild_id, channel_id, message_id FROM welcome_panels WHERE guild_id = ?",
            (guild_id,),
        )
        if row is None:
            return None
        return WelcomePanel(row["guild_id"], row["channel_id"], row["message_id"])

    async def save(self, panel: WelcomePanel, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO welcome_panels (guild_id, channel_id, message_id, posted_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET "
            "channel_id = excluded.channel_id, message_id = excluded.message_id, "
            "posted_at = excluded.posted_at",
            (panel.guild_id, panel.channel_id, panel.message_id, to_unix(now)),
        )
