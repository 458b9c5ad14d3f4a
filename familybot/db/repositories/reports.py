"""reports and report_numbers: all SQL for reports and private contact (/ask)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from familybot.db.connection import Database, Row
from familybot.models import from_unix, to_unix


@dataclass(frozen=True)
class ReportRow:
    id: int
    guild_id: int
    number: int
    kind: str  # 'report' | 'ask'
    category: str | None
    reporter_id: int
    reported_author_id: int | None
    reported_message_id: int | None
    channel_id: int
    thread_id: int | None
    private_channel: bool
    created_at: datetime


def _row(row: Row) -> ReportRow:
    return ReportRow(
        id=row["id"],
        guild_id=row["guild_id"],
        number=row["number"],
        kind=row["kind"],
        category=row["category"],
        reporter_id=row["reporter_id"],
        reported_author_id=row["reported_author_id"],
        reported_message_id=row["reported_message_id"],
        channel_id=row["channel_id"],
        thread_id=row["thread_id"],
        private_channel=bool(row["private_channel"]),
        created_at=from_unix(row["created_at"]),
    )


class ReportRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def reserve(
        self,
        *,
        guild_id: int,
        kind: str,
        category: str | None,
        reporter_id: int,
        reported_author_id: int | None,
        reported_message_id: int | None,
        channel_id: int,
        now: datetime,
        since: datetime,
        limit: int,
    ) -> ReportRow | None:
        """Store a row (no thread yet) with the server's next number, unless the person has
        already opened `limit` since `since`: then None. One transaction, so two quick
        requests cannot both slip under the limit or share a number."""
        async with self._db.transaction():
            recent = int(
                await self._db.fetchval(
                    "SELECT COUNT(*) FROM reports "
                    "WHERE reporter_id = ? AND guild_id = ? AND created_at >= ?",
                    (reporter_id, guild_id, to_unix(since)),
                )
            )
            if recent >= limit:
                return None
            await self._db.execute(
                "INSERT INTO report_numbers (guild_id, last_number) VALUES (?, 1) "
                "ON CONFLICT (guild_id) DO UPDATE SET last_number = report_numbers.last_number + 1",
                (guild_id,),
            )
            number = int(
                await self._db.fetchval(
                    "SELECT last_number FROM report_numbers WHERE guild_id = ?", (guild_id,)
                )
            )
            cursor = await self._db.execute(
                "INSERT INTO reports (guild_id, number, kind, category, reporter_id, "
                "reported_author_id, reported_message_id, channel_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    guild_id,
                    number,
                    kind,
                    category,
                    reporter_id,
                    reported_author_id,
                    reported_message_id,
                    channel_id,
                    to_unix(now),
                ),
            )
            row_id = cursor.lastrowid
        found = await self.get(int(row_id or 0))
        assert found is not None
        return found

    async def count_since(self, guild_id: int, reporter_id: int, since: datetime) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM reports "
                "WHERE reporter_id = ? AND guild_id = ? AND created_at >= ?",
                (reporter_id, guild_id, to_unix(since)),
            )
        )

    async def get(self, row_id: int) -> ReportRow | None:
        row = await self._db.fetchone("SELECT * FROM reports WHERE id = ?", (row_id,))
        return _row(row) if row else None

    async def set_space(self, row_id: int, space_id: int, private_channel: bool) -> None:
        await self._db.execute(
            "UPDATE reports SET thread_id = ?, private_channel = ? WHERE id = ?",
            (space_id, int(private_channel), row_id),
        )

    async def discard(self, row_id: int) -> None:
        """Undo reserve() when Discord refused: nothing is kept of a thread that never opened."""
        await self._db.execute("DELETE FROM reports WHERE id = ?", (row_id,))

    async def by_reporter(self, reporter_id: int) -> list[ReportRow]:
        rows = await self._db.fetchall(
            "SELECT * FROM reports WHERE reporter_id = ? ORDER BY guild_id, number",
            (reporter_id,),
        )
        return [_row(r) for r in rows]

    async def forget_user(self, user_id: int, guild_id: int | None = None) -> int:
        """Delete what they opened; unlink them (and their message) from reports about them.
        With a guild_id, only in that server."""
        here = "(? IS NULL OR guild_id = ?)"
        async with self._db.transaction():
            deleted = await self._db.execute(
                f"DELETE FROM reports WHERE reporter_id = ? AND {here}",
                (user_id, guild_id, guild_id),
            )
            unlinked = await self._db.execute(
                "UPDATE reports SET reported_author_id = NULL, reported_message_id = NULL "
                f"WHERE reported_author_id = ? AND {here}",
                (user_id, guild_id, guild_id),
            )
        return int(deleted.rowcount) + int(unlinked.rowcount)
