"""crisis_local_lines: the crisis lines a server's admins add for their own area."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from familybot.db.connection import Database, Row
from familybot.models import to_unix


@dataclass(frozen=True)
class LocalCrisisLine:
    id: int
    guild_id: int
    name: str
    contact: str
    hours: str
    added_by: int


def _row(row: Row) -> LocalCrisisLine:
    return LocalCrisisLine(
        id=row["id"],
        guild_id=row["guild_id"],
        name=row["name"],
        contact=row["contact"],
        hours=row["hours"],
        added_by=row["added_by"],
    )


class CrisisLineRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> list[LocalCrisisLine]:
        rows = await self._db.fetchall("SELECT * FROM crisis_local_lines ORDER BY guild_id, id")
        return [_row(r) for r in rows]

    async def for_guild(self, guild_id: int) -> list[LocalCrisisLine]:
        rows = await self._db.fetchall(
            "SELECT * FROM crisis_local_lines WHERE guild_id = ? ORDER BY id", (guild_id,)
        )
        return [_row(r) for r in rows]

    async def regions(self) -> dict[int, str]:
        rows = await self._db.fetchall(
            "SELECT guild_id, crisis_region FROM guild_settings WHERE crisis_region IS NOT NULL"
        )
        return {r["guild_id"]: r["crisis_region"] for r in rows}

    async def add(
        self,
        guild_id: int,
        name: str,
        name_key: str,
        contact: str,
        hours: str,
        by: int,
        now: datetime,
    ) -> bool:
        """False when the server already has a line with that name."""
        cursor = await self._db.execute(
            "INSERT INTO crisis_local_lines (guild_id, name, name_key, contact, hours, added_by, "
            "added_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, name_key) DO NOTHING",
            (guild_id, name, name_key, contact, hours, by, to_unix(now)),
        )
        return cursor.rowcount == 1

    async def count(self, guild_id: int) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM crisis_local_lines WHERE guild_id = ?", (guild_id,)
            )
        )

    async def remove(self, guild_id: int, name_key: str) -> bool:
        cursor = await self._db.execute(
            "DELETE FROM crisis_local_lines WHERE guild_id = ? AND name_key = ?",
            (guild_id, name_key),
        )
        return cursor.rowcount > 0

    async def by_user(self, user_id: int) -> list[LocalCrisisLine]:
        rows = await self._db.fetchall(
            "SELECT * FROM crisis_local_lines WHERE added_by = ? ORDER BY id", (user_id,)
        )
        return [_row(r) for r in rows]

    async def forget_user(self, user_id: int, guild_id: int | None = None) -> int:
        """The lines stay (they are the server's); who added them is forgotten (in one
        server only, when given)."""
        cursor = await self._db.execute(
            "UPDATE crisis_local_lines SET added_by = 0 "
            "WHERE added_by = ? AND (? IS NULL OR guild_id = ?)",
            (user_id, guild_id, guild_id),
        )
        return cursor.rowcount
