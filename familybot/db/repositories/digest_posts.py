"""digest_posts: the review digest's posts, each recorded before it is sent (issue 16).

See familybot/services/resources/digest.py: the intent (guild, period, nonce) goes in before
the send, the message id once Discord answered; an intent without one was interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from familybot.db.connection import Database
from familybot.models import to_unix


@dataclass(frozen=True)
class DigestPost:
    nonce: str
    started_at: datetime
    message_id: int | None
    new: bool  # recorded by this call (not an earlier, interrupted or finished, attempt)


class DigestPostRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def intent(self, guild_id: int, period: int, nonce: str, now: datetime) -> DigestPost:
        """Record the intent to post (guild, period) with `nonce`, or return the one already
        recorded (its nonce, and its message id if it was posted)."""
        new = await self._db.insert_once(
            "INSERT OR IGNORE INTO digest_posts (guild_id, period, nonce, started_at) "
            "VALUES (?, ?, ?, ?)",
            (guild_id, period, nonce, to_unix(now)),
        )
        row = await self._db.fetchone(
            "SELECT nonce, started_at, message_id FROM digest_posts "
            "WHERE guild_id = ? AND period = ?",
            (guild_id, period),
        )
        assert row is not None
        message_id = row["message_id"]
        return DigestPost(
            str(row["nonce"]),
            datetime.fromtimestamp(int(row["started_at"]), UTC),
            int(message_id) if message_id is not None else None,
            new,
        )

    async def posted(self, guild_id: int, period: int, message_id: int) -> None:
        await self._db.execute(
            "UPDATE digest_posts SET message_id = ? WHERE guild_id = ? AND period = ?",
            (message_id, guild_id, period),
        )

    async def prune(self, before: datetime) -> int:
        result = await self._db.execute(
            "DELETE FROM digest_posts WHERE period < ?", (to_unix(before),)
        )
        return max(result.rowcount, 0)
