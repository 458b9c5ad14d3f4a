"""rsvps and attendance: who said they would come to an occurrence, and who came.

SessionRepository (sessions.py) has these calls too: it is built on RsvpRepository."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from familybot.db.connection import Database
from familybot.models import Rsvp, RsvpCounts, to_unix


def marks(n: int) -> str:
    """n comma-separated placeholders, for IN (...)."""
    return ",".join("?" * n)


class RsvpRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- rsvps ----------------------------------------------------------------------------
    async def set_rsvp(
        self, series_id: int, key: str, user_id: int, response: Rsvp, now: datetime
    ) -> None:
        await self._db.execute(
            "INSERT INTO rsvps (series_id, occurrence_key, user_id, response, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (series_id, occurrence_key, user_id) "
            "DO UPDATE SET response = excluded.response, updated_at = excluded.updated_at",
            (series_id, key, user_id, response.value, to_unix(now)),
        )

    async def rsvp_of(self, series_id: int, key: str, user_id: int) -> Rsvp | None:
        value = await self._db.fetchval(
            "SELECT response FROM rsvps WHERE series_id = ? AND occurrence_key = ? AND user_id = ?",
            (series_id, key, user_id),
        )
        return Rsvp(value) if value else None

    async def rsvp_counts(
        self, pairs: Sequence[tuple[int, str]]
    ) -> dict[tuple[int, str], RsvpCounts]:
        out: dict[tuple[int, str], RsvpCounts] = {}
        if not pairs:
            return out
        series_ids = sorted({sid for sid, _ in pairs})
        keys = sorted({key for _, key in pairs})
        # Only the occurrences asked about, not a series' whole history of replies.
        rows = await self._db.fetchall(
            "SELECT series_id, occurrence_key, response, count(*) AS n FROM rsvps "
            f"WHERE series_id IN ({marks(len(series_ids))}) "
            f"AND occurrence_key IN ({marks(len(keys))}) "
            "GROUP BY series_id, occurrence_key, response",
            (*series_ids, *keys),
        )
        tallies: dict[tuple[int, str], dict[str, int]] = {}
        for r in rows:
            tallies.setdefault((r["series_id"], r["occurrence_key"]), {})[r["response"]] = r["n"]
        for pair in pairs:
            t = tallies.get(pair, {})
            out[pair] = RsvpCounts(t.get("going", 0), t.get("maybe", 0), t.get("no", 0))
        return out

    async def responders(
        self, series_id: int, key: str | None, responses: Sequence[Rsvp]
    ) -> list[tuple[str, int]]:
        """(occurrence key, user id) of people who answered one of `responses` and are still
        seated in the series' group: someone removed or gone is never told about its sessions."""
        params: list[object] = [series_id, *[r.value for r in responses]]
        key_filter = ""
        if key is not None:
            key_filter = "AND r.occurrence_key = ?"
            params.append(key)
        rows = await self._db.fetchall(
            "SELECT r.occurrence_key, r.user_id FROM rsvps r "
            "JOIN session_series s ON s.id = r.series_id "
            "JOIN memberships m ON m.group_id = s.group_id AND m.user_id = r.user_id "
            f"WHERE r.series_id = ? AND m.status = 'member' "
            f"AND r.response IN ({marks(len(responses))}) {key_filter} "
            "ORDER BY r.occurrence_key, r.user_id",
            tuple(params),
        )
        return [(r["occurrence_key"], r["user_id"]) for r in rows]

    async def rsvps_of_user(
        self, user_id: int, series_ids: Sequence[int]
    ) -> dict[tuple[int, str], Rsvp]:
        if not series_ids:
            return {}
        rows = await self._db.fetchall(
            f"SELECT series_id, occurrence_key, response FROM rsvps WHERE user_id = ? "
            f"AND series_id IN ({marks(len(series_ids))})",
            (user_id, *series_ids),
        )
        return {(r["series_id"], r["occurrence_key"]): Rsvp(r["response"]) for r in rows}

    # --- attendance -----------------------------------------------------------------------
    async def set_attendance(
        self, series_id: int, key: str, user_ids: Sequence[int], by: int, now: datetime
    ) -> None:
        async with self._db.transaction():
            await self._db.execute(
                "DELETE FROM attendance WHERE series_id = ? AND occurrence_key = ?",
                (series_id, key),
            )
            await self._db.executemany(
                "INSERT INTO attendance (series_id, occurrence_key, user_id, marked_by, marked_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(series_id, key, uid, by, to_unix(now)) for uid in user_ids],
            )

    async def attendees(self, series_id: int, key: str) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT user_id FROM attendance WHERE series_id = ? AND occurrence_key = ? ORDER BY user_id",
            (series_id, key),
        )
        return [r["user_id"] for r in rows]

    async def attendance_summary(self, group_id: int) -> tuple[dict[int, int], int]:
        """(user id -> sessions attended, number of sessions with attendance taken)."""
        total = int(
            await self._db.fetchval(
                "SELECT count(*) FROM (SELECT DISTINCT a.series_id, a.occurrence_key FROM attendance a "
                "JOIN session_series s ON s.id = a.series_id WHERE s.group_id = ?) AS taken",
                (group_id,),
            )
        )
        rows = await self._db.fetchall(
            "SELECT a.user_id, count(*) AS n FROM attendance a JOIN session_series s ON s.id = a.series_id "
            "WHERE s.group_id = ? GROUP BY a.user_id",
            (group_id,),
        )
        return {r["user_id"]: r["n"] for r in rows}, total
