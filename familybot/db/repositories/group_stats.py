"""Read-only queries behind the facilitator's views (/session rsvps, /group stats).

Nothing here writes: these views store nothing new about anyone. The rsvps and attendance
primary keys start with series_id, so every query below is an index range scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from familybot.db.connection import Database
from familybot.db.repositories.sessions import _series as series_from_row
from familybot.models import Rsvp, SessionSeries, from_unix


@dataclass(frozen=True)
class SeriesHistory:
    """A series of any status, with when it was cancelled (its later dates never happened)."""

    series: SessionSeries
    cancelled_at: datetime | None


def _marks(n: int) -> str:
    return ",".join("?" * n)


class GroupStatsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def series_of_group(self, group_id: int) -> list[SeriesHistory]:
        rows = await self._db.fetchall(
            "SELECT * FROM session_series WHERE group_id = ? ORDER BY id", (group_id,)
        )
        return [
            SeriesHistory(
                series_from_row(r),
                from_unix(r["cancelled_at"]) if r["cancelled_at"] is not None else None,
            )
            for r in rows
        ]

    async def rsvps(self, series_ids: Sequence[int]) -> list[tuple[int, str, int, Rsvp]]:
        """(series id, occurrence key, user id, reply) for every reply to these series."""
        if not series_ids:
            return []
        rows = await self._db.fetchall(
            "SELECT series_id, occurrence_key, user_id, response FROM rsvps "
            f"WHERE series_id IN ({_marks(len(series_ids))}) "
            "ORDER BY series_id, occurrence_key, user_id",
            tuple(series_ids),
        )
        return [
            (r["series_id"], r["occurrence_key"], r["user_id"], Rsvp(r["response"])) for r in rows
        ]

    async def occurrence_rsvps(self, series_id: int, key: str) -> list[tuple[int, Rsvp]]:
        rows = await self._db.fetchall(
            "SELECT user_id, response FROM rsvps WHERE series_id = ? AND occurrence_key = ? "
            "ORDER BY updated_at, user_id",
            (series_id, key),
        )
        return [(r["user_id"], Rsvp(r["response"])) for r in rows]

    async def attendance(self, series_ids: Sequence[int]) -> list[tuple[int, str, int]]:
        """(series id, occurrence key, user id) of everyone marked present, all time."""
        if not series_ids:
            return []
        rows = await self._db.fetchall(
            "SELECT series_id, occurrence_key, user_id FROM attendance "
            f"WHERE series_id IN ({_marks(len(series_ids))}) "
            "ORDER BY series_id, occurrence_key, user_id",
            tuple(series_ids),
        )
        return [(r["series_id"], r["occurrence_key"], r["user_id"]) for r in rows]

    async def is_group_facilitator(self, group_id: int, user_id: int) -> bool:
        value = await self._db.fetchval(
            "SELECT 1 FROM group_facilitators WHERE group_id = ? AND user_id = ?",
            (group_id, user_id),
        )
        return value is not None
