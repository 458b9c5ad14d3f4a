"""faq: the server's questions and facilitator-written answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from familybot.db.connection import Database, Row
from familybot.models import from_unix, to_unix


@dataclass(frozen=True)
class FaqEntry:
    id: int
    guild_id: int
    question: str
    answer: str
    created_by: int
    created_at: datetime


def _row(row: Row) -> FaqEntry:
    return FaqEntry(
        id=row["id"],
        guild_id=row["guild_id"],
        question=row["question"],
        answer=row["answer"],
        created_by=row["created_by"],
        created_at=from_unix(row["created_at"]),
    )


class FaqRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, guild_id: int, question: str, key: str, answer: str, by: int, now: datetime
    ) -> FaqEntry | None:
        """None when the server already has that question."""
        cursor = await self._db.execute(
            "INSERT INTO faq (guild_id, question, question_key, answer, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, question_key) DO NOTHING",
            (guild_id, question, key, answer, by, to_unix(now)),
        )
        if cursor.rowcount != 1:
            return None
        return await self.get(guild_id, key)

    async def get(self, guild_id: int, key: str) -> FaqEntry | None:
        row = await self._db.fetchone(
            "SELECT * FROM faq WHERE guild_id = ? AND question_key = ?", (guild_id, key)
        )
        return _row(row) if row else None

    async def questions(self, guild_id: int) -> list[tuple[str, str]]:
        """(question, key) for every entry, in the order they were added."""
        rows = await self._db.fetchall(
            "SELECT question, question_key FROM faq WHERE guild_id = ? ORDER BY id", (guild_id,)
        )
        return [(r["question"], r["question_key"]) for r in rows]

    async def count(self, guild_id: int) -> int:
        return int(
            await self._db.fetchval("SELECT COUNT(*) FROM faq WHERE guild_id = ?", (guild_id,))
        )

    async def remove(self, guild_id: int, key: str) -> bool:
        cursor = await self._db.execute(
            "DELETE FROM faq WHERE guild_id = ? AND question_key = ?", (guild_id, key)
        )
        return cursor.rowcount > 0

    async def by_user(self, user_id: int) -> list[FaqEntry]:
        rows = await self._db.fetchall(
            "SELECT * FROM faq WHERE created_by = ? ORDER BY id", (user_id,)
        )
        return [_row(r) for r in rows]

    async def forget_user(self, user_id: int, guild_id: int | None = None) -> int:
        """The answers stay (they are the server's); who wrote them is forgotten (in one
        server only, when given)."""
        cursor = await self._db.execute(
            "UPDATE faq SET created_by = 0 WHERE created_by = ? AND (? IS NULL OR guild_id = ?)",
            (user_id, guild_id, guild_id),
        )
        return cursor.rowcount
