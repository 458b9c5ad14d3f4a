"""session_series and occurrence_overrides; rsvps and attendance come from rsvps.py."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from familybot.db.connection import Row
from familybot.db.repositories.rsvps import RsvpRepository, marks
from familybot.models import (
    OccurrenceOverride,
    SeriesStatus,
    SessionSeries,
    from_unix,
    to_unix,
)
from familybot.sharding import ALL, ShardFilter


def _series(row: Row) -> SessionSeries:
    return SessionSeries(
        id=row["id"],
        group_id=row["group_id"],
        guild_id=row["guild_id"],
        title=row["title"],
        tz=row["tz"],
        first_local=datetime.fromisoformat(row["first_local"]),
        repeat=row["repeat"],
        duration_minutes=row["duration_minutes"],
        voice_channel_id=row["voice_channel_id"],
        status=SeriesStatus(row["status"]),
        created_by=row["created_by"],
        planned_until=from_unix(row["planned_until"]),
        next_due=from_unix(row["next_due"]) if row["next_due"] is not None else None,
        until_local=datetime.fromisoformat(row["until_local"]) if row["until_local"] else None,
        monthly_week=row["monthly_week"],
        previous_series_id=row["previous_series_id"],
    )


def _override(row: Row) -> OccurrenceOverride:
    return OccurrenceOverride(
        series_id=row["series_id"],
        occurrence_key=row["occurrence_key"],
        status=row["status"],
        new_start=from_unix(row["new_start"]) if row["new_start"] is not None else None,
        reason=row["reason"],
    )


class SessionRepository(RsvpRepository):
    async def install_id(self) -> str:
        """This install's random id (made once by a migration): part of calendar UIDs."""
        return str(await self._db.fetchval("SELECT install_id FROM install_identity WHERE id = 1"))

    # --- series ---------------------------------------------------------------------------
    async def create(
        self,
        *,
        group_id: int,
        guild_id: int,
        title: str,
        tz: str,
        first_local: datetime,
        repeat: str,
        duration_minutes: int,
        voice_channel_id: int | None,
        created_by: int,
        now: datetime,
        until_local: datetime | None = None,
        monthly_week: int | None = None,
        previous_series_id: int | None = None,
    ) -> SessionSeries:
        cursor = await self._db.execute(
            "INSERT INTO session_series (group_id, guild_id, title, tz, first_local, repeat, "
            "duration_minutes, voice_channel_id, created_by, created_at, planned_until, next_due, "
            "until_local, monthly_week, previous_series_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
            (
                group_id,
                guild_id,
                title,
                tz,
                first_local.isoformat(),
                repeat,
                duration_minutes,
                voice_channel_id,
                created_by,
                to_unix(now),
                to_unix(now),
                until_local.isoformat() if until_local else None,
                monthly_week,
                previous_series_id,
            ),
        )
        series = await self.get(int(cursor.lastrowid or 0))
        assert series is not None
        return series

    async def get(self, series_id: int) -> SessionSeries | None:
        row = await self._db.fetchone("SELECT * FROM session_series WHERE id = ?", (series_id,))
        return _series(row) if row else None

    async def get_many(self, series_ids: Sequence[int]) -> dict[int, SessionSeries]:
        if not series_ids:
            return {}
        rows = await self._db.fetchall(
            f"SELECT * FROM session_series WHERE id IN ({marks(len(series_ids))})",
            tuple(series_ids),
        )
        return {r["id"]: _series(r) for r in rows}

    async def active_for_groups(self, group_ids: Sequence[int]) -> list[SessionSeries]:
        if not group_ids:
            return []
        rows = await self._db.fetchall(
            f"SELECT * FROM session_series WHERE status = 'active' "
            f"AND group_id IN ({marks(len(group_ids))}) ORDER BY id",
            tuple(group_ids),
        )
        return [_series(r) for r in rows]

    async def for_calendar(self, group_ids: Sequence[int]) -> list[SessionSeries]:
        """Active series, and series an edit ended (a calendar keeps their past sessions
        and learns where they stop)."""
        if not group_ids:
            return []
        rows = await self._db.fetchall(
            f"SELECT * FROM session_series s WHERE group_id IN ({marks(len(group_ids))}) "
            "AND (status = 'active' OR (status = 'ended' AND EXISTS (SELECT 1 FROM "
            "session_series n WHERE n.previous_series_id = s.id))) ORDER BY id",
            tuple(group_ids),
        )
        return [_series(r) for r in rows]

    async def delete_override(self, series_id: int, key: str) -> None:
        await self._db.execute(
            "DELETE FROM occurrence_overrides WHERE series_id = ? AND occurrence_key = ?",
            (series_id, key),
        )

    async def search(
        self, guild_id: int, text: str, limit: int = 25
    ) -> list[tuple[SessionSeries, str]]:
        """Active series in a server whose title or group name contains `text`."""
        pattern = (
            "%"
            + text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        rows = await self._db.fetchall(
            "SELECT s.*, g.name AS group_name FROM session_series s JOIN groups g ON g.id = s.group_id "
            "WHERE s.guild_id = ? AND s.status = 'active' AND g.status = 'active' "
            "AND (lower(s.title) LIKE ? ESCAPE '\\' OR g.name_key LIKE ? ESCAPE '\\') "
            "ORDER BY g.name_key, s.id LIMIT ?",
            (guild_id, pattern, pattern, limit),
        )
        return [(_series(r), r["group_name"]) for r in rows]

    async def due_for_planning(
        self, until: datetime, limit: int, shards: ShardFilter = ALL
    ) -> list[SessionSeries]:
        """Series owing reminders before `until`, in servers on this process's shards."""
        ours, shard_params = shards.sql("guild_id")
        rows = await self._db.fetchall(
            "SELECT * FROM session_series WHERE status = 'active' AND next_due IS NOT NULL "
            f"AND next_due <= ? AND {ours} ORDER BY next_due LIMIT ?",
            (to_unix(until), *shard_params, limit),
        )
        return [_series(r) for r in rows]

    async def set_plans(self, plans: Iterable[tuple[int, datetime, datetime | None]]) -> None:
        await self._db.executemany(
            "UPDATE session_series SET planned_until = ?, next_due = ? WHERE id = ?",
            [
                (to_unix(until), to_unix(nxt) if nxt is not None else None, sid)
                for sid, until, nxt in plans
            ],
        )

    async def end_series(self, series_ids: Sequence[int]) -> None:
        """A series with no occurrences left (a past one-off) is done."""
        await self._db.executemany(
            "UPDATE session_series SET status = 'ended', next_due = NULL WHERE id = ? AND status = 'active'",
            [(sid,) for sid in series_ids],
        )

    async def cancel(self, series_id: int, reason: str | None, now: datetime) -> None:
        await self._db.execute(
            "UPDATE session_series SET status = 'cancelled', cancelled_at = ?, cancel_reason = ?, "
            "next_due = NULL WHERE id = ?",
            (to_unix(now), reason, series_id),
        )

    async def cancel_for_group(self, group_id: int, now: datetime) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT id FROM session_series WHERE group_id = ? AND status = 'active'", (group_id,)
        )
        ids = [r["id"] for r in rows]
        for sid in ids:
            await self.cancel(sid, "group archived", now)
        return ids

    # --- edits (a series split at the edit; see services/sessions/series_edit.py) --------------------
    async def end_at(self, series_id: int, until_local: datetime) -> None:
        """The old half of an edited series keeps occurrences up to `until_local`, and ends."""
        await self._db.execute(
            "UPDATE session_series SET until_local = ?, status = 'ended', next_due = NULL "
            "WHERE id = ?",
            (until_local.isoformat(), series_id),
        )

    async def move_occurrence_data(
        self, old_id: int, old_key: str, new_id: int, new_key: str
    ) -> None:
        """Replies to an occurrence follow it to its partner in the edited series; the link
        lets buttons on reminders sent before the edit find the partner."""
        await self._db.execute(
            "UPDATE rsvps SET series_id = ?, occurrence_key = ? "
            "WHERE series_id = ? AND occurrence_key = ?",
            (new_id, new_key, old_id, old_key),
        )
        await self._db.execute(
            "INSERT INTO occurrence_links (old_series_id, old_key, new_series_id, new_key) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (old_series_id, old_key) DO UPDATE SET "
            "new_series_id = excluded.new_series_id, new_key = excluded.new_key",
            (old_id, old_key, new_id, new_key),
        )

    async def link_of(self, series_id: int, key: str) -> tuple[int, str] | None:
        row = await self._db.fetchone(
            "SELECT new_series_id, new_key FROM occurrence_links "
            "WHERE old_series_id = ? AND old_key = ?",
            (series_id, key),
        )
        return (int(row["new_series_id"]), str(row["new_key"])) if row else None

    async def copy_override(
        self, override: OccurrenceOverride, new_id: int, new_key: str, by: int, now: datetime
    ) -> None:
        await self.set_override(
            new_id, new_key, override.status, override.new_start, override.reason, by, now
        )

    # --- overrides ------------------------------------------------------------------------
    async def set_override(
        self,
        series_id: int,
        key: str,
        status: str,
        new_start: datetime | None,
        reason: str | None,
        by: int,
        now: datetime,
    ) -> None:
        await self._db.execute(
            "INSERT INTO occurrence_overrides (series_id, occurrence_key, status, new_start, reason, "
            "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (series_id, occurrence_key) DO UPDATE SET status = excluded.status, "
            "new_start = excluded.new_start, reason = excluded.reason, "
            "created_by = excluded.created_by, created_at = excluded.created_at",
            (
                series_id,
                key,
                status,
                to_unix(new_start) if new_start else None,
                reason,
                by,
                to_unix(now),
            ),
        )

    async def overrides(
        self, series_ids: Sequence[int]
    ) -> dict[int, dict[str, OccurrenceOverride]]:
        out: dict[int, dict[str, OccurrenceOverride]] = {sid: {} for sid in series_ids}
        if not series_ids:
            return out
        rows = await self._db.fetchall(
            f"SELECT * FROM occurrence_overrides WHERE series_id IN ({marks(len(series_ids))})",
            tuple(series_ids),
        )
        for r in rows:
            out[r["series_id"]][r["occurrence_key"]] = _override(r)
        return out
