"""calendar_feeds: a member's calendar title choice and the hash of their feed token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from familybot.db.connection import Database
from familybot.models import from_unix, to_unix


@dataclass(frozen=True)
class CalendarFeedRow:
    guild_id: int
    user_id: int
    titles: str  # "neutral" or "full"
    has_link: bool
    link_created_at: datetime | None


def _row(r: Any) -> CalendarFeedRow:
    created = r["link_created_at"]
    return CalendarFeedRow(
        guild_id=int(r["guild_id"]),
        user_id=int(r["user_id"]),
        titles=str(r["titles"]),
        has_link=r["token_hash"] is not None,
        link_created_at=from_unix(created) if created is not None else None,
    )


class CalendarFeedRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, guild_id: int, user_id: int) -> CalendarFeedRow | None:
        row = await self._db.fetchone(
            "SELECT * FROM calendar_feeds WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )
        return _row(row) if row is not None else None

    async def set_titles(self, guild_id: int, user_id: int, titles: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO calendar_feeds (guild_id, user_id, titles, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (guild_id, user_id) DO UPDATE SET titles = excluded.titles,"
            " updated_at = excluded.updated_at",
            (guild_id, user_id, titles, to_unix(now)),
        )

    async def set_token_hash(
        self, guild_id: int, user_id: int, token_hash: str, now: datetime
    ) -> None:
        """Replace the member's link: the previous hash (if any) stops matching at once."""
        await self._db.execute(
            "INSERT INTO calendar_feeds (guild_id, user_id, token_hash, link_created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id) DO UPDATE SET"
            " token_hash = excluded.token_hash, link_created_at = excluded.link_created_at,"
            " updated_at = excluded.updated_at",
            (guild_id, user_id, token_hash, to_unix(now), to_unix(now)),
        )

    async def find_by_token_hash(self, token_hash: str) -> tuple[CalendarFeedRow, str] | None:
        """The link's owner and the stored hash, unless the member left that server or the
        bot was removed from it (departures noted, data not yet purged): then no feed."""
        row = await self._db.fetchone(
            "SELECT f.* FROM calendar_feeds f WHERE f.token_hash = ?"
            " AND NOT EXISTS (SELECT 1 FROM member_departures d"
            "   WHERE d.guild_id = f.guild_id AND d.user_id = f.user_id)"
            " AND NOT EXISTS (SELECT 1 FROM guild_departures g WHERE g.guild_id = f.guild_id)",
            (token_hash,),
        )
        if row is None:
            return None
        return _row(row), str(row["token_hash"])

    # --- privacy --------------------------------------------------------------------------
    async def export(self, user_id: int) -> list[dict[str, Any]]:
        """Their rows without the token hash: whether a link exists, never what it is."""
        rows = await self._db.fetchall(
            "SELECT * FROM calendar_feeds WHERE user_id = ? ORDER BY guild_id", (user_id,)
        )
        out = []
        for r in rows:
            row = _row(r)
            out.append(
                {
                    "guild_id": str(row.guild_id),
                    "event_titles": row.titles,
                    "live_link": row.has_link,
                    "live_link_made_at": row.link_created_at.isoformat()
                    if row.link_created_at
                    else None,
                    "updated_at": from_unix(int(r["updated_at"])).isoformat(),
                }
            )
        return out

    async def forget(self, user_id: int, guild_id: int | None = None) -> int:
        cursor = await self._db.execute(
            "DELETE FROM calendar_feeds WHERE user_id = ? AND (? IS NULL OR guild_id = ?)",
            (user_id, guild_id, guild_id),
        )
        return max(cursor.rowcount, 0)
