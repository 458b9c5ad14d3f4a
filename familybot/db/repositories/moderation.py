"""mod_cases, case_reason_history and scheduled_unbans: all moderation SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from familybot.db.connection import Database, Row
from familybot.models import from_unix, to_unix
from familybot.models.moderation import Case, CaseStatus, ReasonChange


@dataclass(frozen=True)
class ScheduledUnban:
    case_id: int
    guild_id: int
    user_id: int
    due_at: datetime
    attempts: int


def _case(row: Row) -> Case:
    return Case(
        id=row["id"],
        guild_id=row["guild_id"],
        number=row["number"],
        action=row["action"],
        actor_id=row["actor_id"],
        target_id=row["target_id"],
        channel_id=row["channel_id"],
        reason=row["reason"],
        duration_seconds=row["duration_seconds"],
        expires_at=from_unix(row["expires_at"]) if row["expires_at"] is not None else None,
        created_at=from_unix(row["created_at"]),
        status=CaseStatus(row["status"]),
        detail=row["detail"],
        dm=row["dm"],
        modlog_message_id=row["modlog_message_id"],
    )


def _unban(row: Row) -> ScheduledUnban:
    return ScheduledUnban(
        case_id=row["case_id"],
        guild_id=row["guild_id"],
        user_id=row["user_id"],
        due_at=from_unix(row["due_at"]),
        attempts=row["attempts"],
    )


class ModerationRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def open_case(
        self,
        *,
        guild_id: int,
        action: str,
        actor_id: int,
        target_id: int | None,
        channel_id: int | None,
        reason: str,
        duration_seconds: int | None,
        expires_at: datetime | None,
        now: datetime,
    ) -> Case:
        """Store a pending case with the server's next number (allocated in one transaction)."""
        async with self._db.transaction():
            number = int(
                await self._db.fetchval(
                    "SELECT COALESCE(MAX(number), 0) + 1 FROM mod_cases WHERE guild_id = ?",
                    (guild_id,),
                )
            )
            cursor = await self._db.execute(
                "INSERT INTO mod_cases (guild_id, number, action, actor_id, target_id, channel_id,"
                " reason, duration_seconds, expires_at, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    guild_id,
                    number,
                    action,
                    actor_id,
                    target_id,
                    channel_id,
                    reason,
                    duration_seconds,
                    to_unix(expires_at) if expires_at else None,
                    to_unix(now),
                ),
            )
            case_id = int(cursor.lastrowid or 0)
        found = await self.get(case_id)
        assert found is not None
        return found

    async def get(self, case_id: int) -> Case | None:
        row = await self._db.fetchone("SELECT * FROM mod_cases WHERE id = ?", (case_id,))
        return _case(row) if row else None

    async def by_number(self, guild_id: int, number: int) -> Case | None:
        row = await self._db.fetchone(
            "SELECT * FROM mod_cases WHERE guild_id = ? AND number = ?", (guild_id, number)
        )
        return _case(row) if row else None

    async def for_target(self, guild_id: int, target_id: int, limit: int) -> list[Case]:
        rows = await self._db.fetchall(
            "SELECT * FROM mod_cases WHERE guild_id = ? AND target_id = ? "
            "ORDER BY number DESC LIMIT ?",
            (guild_id, target_id, limit),
        )
        return [_case(r) for r in rows]

    async def finish(
        self, case_id: int, status: CaseStatus, detail: str | None, dm: str | None
    ) -> Case:
        await self._db.execute(
            "UPDATE mod_cases SET status = ?, detail = COALESCE(?, detail), dm = COALESCE(?, dm)"
            " WHERE id = ?",
            (status.value, detail, dm, case_id),
        )
        found = await self.get(case_id)
        assert found is not None
        return found

    async def set_modlog_message(self, case_id: int, message_id: int) -> None:
        await self._db.execute(
            "UPDATE mod_cases SET modlog_message_id = ? WHERE id = ?", (message_id, case_id)
        )

    async def change_reason(
        self, case_id: int, old: str, new: str, changed_by: int, now: datetime
    ) -> None:
        async with self._db.transaction():
            await self._db.execute(
                "INSERT INTO case_reason_history (case_id, old_reason, new_reason, changed_by,"
                " changed_at) VALUES (?, ?, ?, ?, ?)",
                (case_id, old, new, changed_by, to_unix(now)),
            )
            await self._db.execute("UPDATE mod_cases SET reason = ? WHERE id = ?", (new, case_id))

    async def reason_history(self, case_id: int) -> list[ReasonChange]:
        rows = await self._db.fetchall(
            "SELECT * FROM case_reason_history WHERE case_id = ? ORDER BY id", (case_id,)
        )
        return [
            ReasonChange(
                r["old_reason"], r["new_reason"], r["changed_by"], from_unix(r["changed_at"])
            )
            for r in rows
        ]

    # --- timed bans ---------------------------------------------------------------------------
    async def schedule_unban(
        self, case_id: int, guild_id: int, user_id: int, due_at: datetime, now: datetime
    ) -> list[int]:
        """Store a timed ban; returns the case ids of earlier timed bans it replaces."""
        async with self._db.transaction():
            # A newer ban replaces any earlier timed ban for the same person.
            replaced = await self.cancel_unbans_for(guild_id, user_id, now)
            await self._db.execute(
                "INSERT INTO scheduled_unbans (case_id, guild_id, user_id, due_at) "
                "VALUES (?, ?, ?, ?)",
                (case_id, guild_id, user_id, to_unix(due_at)),
            )
        return replaced

    async def pending_unbans(self) -> list[ScheduledUnban]:
        rows = await self._db.fetchall(
            "SELECT * FROM scheduled_unbans WHERE lifted_at IS NULL ORDER BY due_at"
        )
        return [_unban(r) for r in rows]

    async def pending_unban(self, case_id: int) -> ScheduledUnban | None:
        row = await self._db.fetchone(
            "SELECT * FROM scheduled_unbans WHERE case_id = ? AND lifted_at IS NULL", (case_id,)
        )
        return _unban(row) if row else None

    async def cancel_unbans_for(self, guild_id: int, user_id: int, now: datetime) -> list[int]:
        """Mark a person's timed bans as settled (a manual unban); returns their case ids."""
        rows = await self._db.fetchall(
            "SELECT case_id FROM scheduled_unbans "
            "WHERE guild_id = ? AND user_id = ? AND lifted_at IS NULL",
            (guild_id, user_id),
        )
        await self._db.execute(
            "UPDATE scheduled_unbans SET lifted_at = ? "
            "WHERE guild_id = ? AND user_id = ? AND lifted_at IS NULL",
            (to_unix(now), guild_id, user_id),
        )
        return [int(r["case_id"]) for r in rows]

    async def mark_unban_lifted(self, case_id: int, now: datetime) -> bool:
        """True for the one caller that settles it (a job running twice lifts once)."""
        cursor = await self._db.execute(
            "UPDATE scheduled_unbans SET lifted_at = ? WHERE case_id = ? AND lifted_at IS NULL",
            (to_unix(now), case_id),
        )
        return cursor.rowcount == 1

    async def count_unban_attempt(self, case_id: int) -> None:
        await self._db.execute(
            "UPDATE scheduled_unbans SET attempts = attempts + 1 WHERE case_id = ?", (case_id,)
        )

    # --- privacy ------------------------------------------------------------------------------
    async def about_user(self, user_id: int) -> list[Case]:
        """Cases about them or by them, in every server."""
        rows = await self._db.fetchall(
            "SELECT * FROM mod_cases WHERE target_id = ? OR actor_id = ? ORDER BY guild_id, number",
            (user_id, user_id),
        )
        return [_case(r) for r in rows]

    async def forget_user(self, user_id: int, guild_id: int | None = None) -> int:
        """Remove the facilitators' notes about them and settled timed-ban rows; every other
        case stays as the server's record. A timed ban still to be lifted stays too, or it
        would never end."""
        scope = "(? IS NULL OR guild_id = ?)"
        notes = f"SELECT id FROM mod_cases WHERE action = 'note' AND target_id = ? AND {scope}"
        params = (user_id, guild_id, guild_id)
        async with self._db.transaction():
            await self._db.execute(
                f"DELETE FROM case_reason_history WHERE case_id IN ({notes})", params
            )
            gone = await self._db.execute(f"DELETE FROM mod_cases WHERE id IN ({notes})", params)
            lifted = await self._db.execute(
                "DELETE FROM scheduled_unbans WHERE user_id = ? AND lifted_at IS NOT NULL "
                f"AND {scope}",
                params,
            )
        return gone.rowcount + lifted.rowcount
