"""A person's rows in the session tables: RSVPs, attendance, personal settings, DM records.

Kept apart from sessions.py and reminders.py: only privacy (export, forget) reads these
across features, and the sweeps of retention live in repositories/privacy.py.
"""

from __future__ import annotations

from typing import Any

from familybot.db.connection import Database
from familybot.models import from_unix


def _iso(value: int | None) -> str | None:
    return from_unix(value).isoformat() if value is not None else None


# Rows of one server only (a series belongs to one server); NULL guild means every server.
# Checked per row (by the series' primary key) after the person's own rows were found by
# index: a list of every series in the database would cost the size of the database.
_IN_GUILD = (
    "(? IS NULL OR EXISTS (SELECT 1 FROM session_series s "
    "WHERE s.id = series_id AND s.guild_id = ?))"
)


class SessionPrivacyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def export(self, user_id: int) -> dict[str, Any]:
        dm_target = f"dm:{user_id}"
        rsvps = await self._db.fetchall(
            "SELECT s.guild_id, s.title, r.occurrence_key, r.response, r.updated_at "
            "FROM rsvps r JOIN session_series s ON s.id = r.series_id "
            "WHERE r.user_id = ? ORDER BY r.updated_at",
            (user_id,),
        )
        attended = await self._db.fetchall(
            "SELECT s.guild_id, s.title, a.occurrence_key, a.marked_at "
            "FROM attendance a JOIN session_series s ON s.id = a.series_id "
            "WHERE a.user_id = ? ORDER BY a.marked_at",
            (user_id,),
        )
        prefs = await self._db.fetchone("SELECT * FROM member_prefs WHERE user_id = ?", (user_id,))
        failures = await self._db.fetchall(
            "SELECT kind, created_at, notified_at FROM dm_failures WHERE user_id = ? ORDER BY id",
            (user_id,),
        )
        dms = await self._db.fetchall(
            "SELECT s.guild_id, s.title, l.occurrence_key, l.offset_minutes, l.state, l.sent_at "
            "FROM reminder_ledger l JOIN session_series s ON s.id = l.series_id "
            "WHERE l.target = ? ORDER BY l.due_at",
            (dm_target,),
        )
        created = await self._db.fetchall(
            "SELECT guild_id, title, created_at FROM session_series WHERE created_by = ? "
            "ORDER BY id",
            (user_id,),
        )
        changes = await self._db.fetchall(
            "SELECT s.guild_id, s.title, o.occurrence_key, o.status, o.created_at "
            "FROM occurrence_overrides o JOIN session_series s ON s.id = o.series_id "
            "WHERE o.created_by = ? ORDER BY o.created_at",
            (user_id,),
        )
        return {
            "rsvps": [
                {
                    "guild_id": str(r["guild_id"]),
                    "session": r["title"],
                    "date": r["occurrence_key"],
                    "response": r["response"],
                    "updated_at": _iso(r["updated_at"]),
                }
                for r in rsvps
            ],
            "attendance": [
                {
                    "guild_id": str(r["guild_id"]),
                    "session": r["title"],
                    "date": r["occurrence_key"],
                    "marked_at": _iso(r["marked_at"]),
                }
                for r in attended
            ],
            "settings": None
            if prefs is None
            else {
                "timezone": prefs["timezone"],
                "dm_reminders": bool(prefs["dm_reminders"]),
                "dm_offsets_minutes": prefs["dm_offsets"],
                "updated_at": _iso(prefs["updated_at"]),
            },
            "undelivered_dms": [
                {
                    "kind": r["kind"],
                    "at": _iso(r["created_at"]),
                    "told_you_at": _iso(r["notified_at"]),
                }
                for r in failures
            ],
            "dm_reminders": [
                {
                    "guild_id": str(r["guild_id"]),
                    "session": r["title"],
                    "date": r["occurrence_key"],
                    "minutes_before": r["offset_minutes"],
                    "state": r["state"],
                    "sent_at": _iso(r["sent_at"]),
                }
                for r in dms
            ],
            "sessions_scheduled": [
                {
                    "guild_id": str(r["guild_id"]),
                    "session": r["title"],
                    "created_at": _iso(r["created_at"]),
                }
                for r in created
            ],
            "session_dates_changed": [
                {
                    "guild_id": str(r["guild_id"]),
                    "session": r["title"],
                    "date": r["occurrence_key"],
                    "change": r["status"],
                    "at": _iso(r["created_at"]),
                }
                for r in changes
            ],
        }

    async def forget(self, user_id: int, guild_id: int | None = None) -> int:
        """Delete their RSVPs, attendance and DM reminders (in one server, or all); what they
        did as a facilitator (sessions scheduled, attendance marked) stays, unattributed (0).
        Personal settings and DM failure notes are not per server: they go with guild None."""
        scope = (guild_id, guild_id)
        removed = 0
        async with self._db.transaction():
            for sql, params in (
                (f"DELETE FROM rsvps WHERE user_id = ? AND {_IN_GUILD}", (user_id, *scope)),
                (f"DELETE FROM attendance WHERE user_id = ? AND {_IN_GUILD}", (user_id, *scope)),
                (
                    f"DELETE FROM reminder_ledger WHERE target = ? AND {_IN_GUILD}",
                    (f"dm:{user_id}", *scope),
                ),
                (
                    f"UPDATE attendance SET marked_by = 0 WHERE marked_by = ? AND {_IN_GUILD}",
                    (user_id, *scope),
                ),
                (
                    f"UPDATE occurrence_overrides SET created_by = 0 WHERE created_by = ? "
                    f"AND {_IN_GUILD}",
                    (user_id, *scope),
                ),
                (
                    "UPDATE session_series SET created_by = 0 WHERE created_by = ? "
                    "AND (? IS NULL OR guild_id = ?)",
                    (user_id, *scope),
                ),
            ):
                removed += (await self._db.execute(sql, params)).rowcount
            if guild_id is None:
                for table in ("member_prefs", "dm_failures"):
                    cursor = await self._db.execute(
                        f"DELETE FROM {table} WHERE user_id = ?", (user_id,)
                    )
                    removed += cursor.rowcount
        return removed
