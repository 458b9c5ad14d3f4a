"""scheduled_event_mirror: which Discord scheduled event shows each group's next session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from familybot.db.connection import Database, Row
from familybot.models import from_unix, to_unix
from familybot.sharding import ALL, ShardFilter


@dataclass(frozen=True)
class EventMirror:
    group_id: int
    guild_id: int
    event_id: int
    series_id: int | None
    occurrence_key: str | None
    start: datetime
    fingerprint: str
    updated_at: datetime
    recurring: bool = False  # one Discord event repeating for the whole series


def _mirror(row: Row) -> EventMirror:
    return EventMirror(
        group_id=row["group_id"],
        guild_id=row["guild_id"],
        event_id=row["event_id"],
        series_id=row["series_id"],
        occurrence_key=row["occurrence_key"],
        start=from_unix(row["start"]),
        fingerprint=row["fingerprint"],
        updated_at=from_unix(row["updated_at"]),
        recurring=bool(row["recurring"]),
    )


class EventMirrorRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, group_id: int) -> EventMirror | None:
        row = await self._db.fetchone(
            "SELECT * FROM scheduled_event_mirror WHERE group_id = ?", (group_id,)
        )
        return _mirror(row) if row else None

    async def for_guild(self, guild_id: int) -> list[EventMirror]:
        rows = await self._db.fetchall(
            "SELECT * FROM scheduled_event_mirror WHERE guild_id = ? ORDER BY group_id",
            (guild_id,),
        )
        return [_mirror(r) for r in rows]

    async def count_for_guild(self, guild_id: int) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM scheduled_event_mirror WHERE guild_id = ?", (guild_id,)
            )
        )

    async def stale_group_ids(self, now: datetime, shards: ShardFilter = ALL) -> list[int]:
        """Groups whose mirrored session has started, or whose server turned mirroring off
        (in servers on this process's shards)."""
        ours, shard_params = shards.sql("m.guild_id")
        rows = await self._db.fetchall(
            "SELECT m.group_id FROM scheduled_event_mirror m "
            "LEFT JOIN guild_settings s ON s.guild_id = m.guild_id "
            f"WHERE (m.start <= ? OR COALESCE(s.scheduled_events, 0) = 0) AND {ours} "
            "ORDER BY m.group_id",
            (to_unix(now), *shard_params),
        )
        return [r["group_id"] for r in rows]

    async def enabled_guild_ids(self, shards: ShardFilter = ALL) -> list[int]:
        ours, shard_params = shards.sql("guild_id")
        rows = await self._db.fetchall(
            f"SELECT guild_id FROM guild_settings WHERE scheduled_events = 1 AND {ours} "
            "ORDER BY guild_id",
            shard_params,
        )
        return [r["guild_id"] for r in rows]

    async def save(
        self,
        *,
        group_id: int,
        guild_id: int,
        event_id: int,
        series_id: int | None,
        occurrence_key: str | None,
        start: datetime,
        fingerprint: str,
        now: datetime,
        recurring: bool = False,
    ) -> None:
        await self._db.execute(
            "INSERT INTO scheduled_event_mirror (group_id, guild_id, event_id, series_id, "
            "occurrence_key, start, fingerprint, updated_at, recurring) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (group_id) DO UPDATE SET guild_id = excluded.guild_id, "
            "event_id = excluded.event_id, series_id = excluded.series_id, "
            "occurrence_key = excluded.occurrence_key, start = excluded.start, "
            "fingerprint = excluded.fingerprint, updated_at = excluded.updated_at, "
            "recurring = excluded.recurring",
            (
                group_id,
                guild_id,
                event_id,
                series_id,
                occurrence_key,
                to_unix(start),
                fingerprint,
                to_unix(now),
                int(recurring),
            ),
        )

    async def delete(self, group_id: int) -> None:
        await self._db.execute("DELETE FROM scheduled_event_mirror WHERE group_id = ?", (group_id,))
