"""interaction_claims: which interactions a process has taken on (familybot/interaction_gate.py)."""

from __future__ import annotations

from datetime import datetime

from familybot.db.connection import Database
from familybot.models import to_unix


class InteractionClaimRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, interaction_id: int, now: datetime) -> bool:
        """True for the one caller, of every process on the database, whose claim went in."""
        return await self._db.insert_once(
            "INSERT OR IGNORE INTO interaction_claims (interaction_id, claimed_at) VALUES (?, ?)",
            (interaction_id, to_unix(now)),
        )

    async def prune(self, before: datetime) -> int:
        """Forget the claims made before `before`; how many went."""
        result = await self._db.execute(
            "DELETE FROM interaction_claims WHERE claimed_at < ?", (to_unix(before),)
        )
        return max(result.rowcount, 0)
