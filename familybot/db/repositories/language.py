"""member_language (a person's /my language) and guild_settings.language (/setup language)."""

from __future__ import annotations

from datetime import datetime

from familybot.db.connection import Database
from familybot.models import from_unix, to_unix


class LanguageRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def all_users(self) -> dict[int, str]:
        rows = await self._db.fetchall("SELECT user_id, language FROM member_language")
        return {int(r["user_id"]): str(r["language"]) for r in rows}

    async def all_guilds(self) -> dict[int, str]:
        """Servers whose language is not the default (English)."""
        rows = await self._db.fetchall(
            "SELECT guild_id, language FROM guild_settings WHERE language != 'en'"
        )
        return {int(r["guild_id"]): str(r["language"]) for r in rows}

    async def user_language(self, user_id: int) -> str | None:
        value = await self._db.fetchval(
            "SELECT language FROM member_language WHERE user_id = ?", (user_id,)
        )
        return None if value is None else str(value)

    async def set_user(self, user_id: int, language: str | None, now: datetime) -> None:
        """None is "auto": the row goes."""
        if language is None:
            await self._db.execute("DELETE FROM member_language WHERE user_id = ?", (user_id,))
            return
        await self._db.execute(
            "INSERT INTO member_language (user_id, language, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET language = excluded.language, "
            "updated_at = excluded.updated_at",
            (user_id, language, to_unix(now)),
        )

    async def export_user(self, user_id: int) -> dict[str, str] | None:
        row = await self._db.fetchone(
            "SELECT language, updated_at FROM member_language WHERE user_id = ?", (user_id,)
        )
        if row is None:
            return None
        return {
            "language": str(row["language"]),
            "updated_at": from_unix(int(row["updated_at"])).isoformat(),
        }

    async def forget_user(self, user_id: int) -> int:
        cursor = await self._db.execute("DELETE FROM member_language WHERE user_id = ?", (user_id,))
        return max(cursor.rowcount, 0)

    async def set_guild(self, guild_id: int, language: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO guild_settings (guild_id, language, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET language = excluded.language, "
            "updated_at = excluded.updated_at",
            (guild_id, language, to_unix(now)),
        )
