"""audit_log: the append-only record of facilitator and admin actions (ids only)."""

from __future__ import annotations

from datetime import datetime

from familybot.db.connection import Database, Row
from familybot.models import from_unix, to_unix
from familybot.models.audit import AuditEntry, AuditResult, AuditTarget, TargetKind


def _row(row: Row) -> AuditEntry:
    target = (
        AuditTarget(row["target_id"], TargetKind(row["target_kind"]))
        if row["target_id"] is not None
        else None
    )
    return AuditEntry(
        id=row["id"],
        guild_id=row["guild_id"],
        actor_id=row["actor_id"],
        action=row["action"],
        target=target,
        result=AuditResult(row["result"]),
        created_at=from_unix(row["created_at"]),
    )


class AuditRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        guild_id: int,
        actor_id: int,
        action: str,
        target: AuditTarget | None,
        result: AuditResult,
        now: datetime,
    ) -> int:
        cursor = await self._db.execute(
            "INSERT INTO audit_log "
            "(guild_id, actor_id, action, target_id, target_kind, result, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                guild_id,
                actor_id,
                action,
                target.id if target else None,
                target.kind.value if target else None,
                result.value,
                to_unix(now),
            ),
        )
        return int(cursor.lastrowid or 0)

    async def recent(
        self, guild_id: int, limit: int, *, actor_id: int | None = None
    ) -> list[AuditEntry]:
        """Newest first. With actor_id: only what that person did."""
        if actor_id is None:
            rows = await self._db.fetchall(
                "SELECT * FROM audit_log WHERE guild_id = ? ORDER BY id DESC LIMIT ?",
                (guild_id, limit),
            )
        else:
            rows = await self._db.fetchall(
                "SELECT * FROM audit_log WHERE guild_id = ? AND actor_id = ? "
                "ORDER BY id DESC LIMIT ?",
                (guild_id, actor_id, limit),
            )
        return [_row(r) for r in rows]

    async def about_user(self, user_id: int) -> list[AuditEntry]:
        """Every entry where the person acted or was acted on (for a data export)."""
        rows = await self._db.fetchall(
            "SELECT * FROM audit_log WHERE actor_id = ? "
            "UNION SELECT * FROM audit_log WHERE target_id = ? AND target_kind = 'user' "
            "ORDER BY id",
            (user_id, user_id),
        )
        return [_row(r) for r in rows]
