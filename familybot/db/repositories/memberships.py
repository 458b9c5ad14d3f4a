"""memberships and join_reviews: who is in, waiting for or turned away from a group.

GroupRepository (groups.py) has these calls too: it is built on MembershipRepository."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from familybot.db.connection import Database, Row
from familybot.models import (
    JoinReview,
    Membership,
    MembershipStatus,
    from_unix,
    to_unix,
)


def membership_of_row(row: Row) -> Membership:
    return Membership(
        id=row["id"],
        group_id=row["group_id"],
        user_id=row["user_id"],
        status=MembershipStatus(row["status"]),
        consent_version=row["consent_version"],
        consented_at=from_unix(row["consented_at"]),
        requested_at=from_unix(row["requested_at"]),
        joined_at=from_unix(row["joined_at"]) if row["joined_at"] is not None else None,
    )


def join_review_of_row(row: Row) -> JoinReview:
    return JoinReview(
        group_id=row["group_id"],
        user_id=row["user_id"],
        removed_at=from_unix(row["removed_at"]) if row["removed_at"] is not None else None,
        denied_at=from_unix(row["denied_at"]) if row["denied_at"] is not None else None,
    )


class MembershipRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- memberships ----------------------------------------------------------------------
    async def membership(self, group_id: int, user_id: int) -> Membership | None:
        row = await self._db.fetchone(
            "SELECT * FROM memberships WHERE group_id = ? AND user_id = ?", (group_id, user_id)
        )
        return membership_of_row(row) if row else None

    async def add_membership(
        self,
        group_id: int,
        user_id: int,
        status: MembershipStatus,
        consent_version: int,
        now: datetime,
    ) -> Membership:
        await self._db.execute(
            "INSERT INTO memberships (group_id, user_id, status, consent_version, consented_at, "
            "requested_at, joined_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                group_id,
                user_id,
                status.value,
                consent_version,
                to_unix(now),
                to_unix(now),
                to_unix(now) if status is MembershipStatus.MEMBER else None,
            ),
        )
        membership = await self.membership(group_id, user_id)
        assert membership is not None
        return membership

    async def set_status(
        self, group_id: int, user_id: int, status: MembershipStatus, now: datetime
    ) -> None:
        await self._db.execute(
            "UPDATE memberships SET status = ?, "
            "joined_at = CASE WHEN ? = 'member' THEN ? ELSE joined_at END "
            "WHERE group_id = ? AND user_id = ?",
            (status.value, status.value, to_unix(now), group_id, user_id),
        )

    async def delete_membership(self, group_id: int, user_id: int) -> bool:
        cursor = await self._db.execute(
            "DELETE FROM memberships WHERE group_id = ? AND user_id = ?", (group_id, user_id)
        )
        return cursor.rowcount == 1

    async def delete_memberships(self, user_id: int, group_ids: Sequence[int]) -> int:
        """One person's memberships of these groups, in one statement (one commit)."""
        if not group_ids:
            return 0
        marks = ",".join("?" * len(group_ids))
        cursor = await self._db.execute(
            f"DELETE FROM memberships WHERE user_id = ? AND group_id IN ({marks})",
            (user_id, *group_ids),
        )
        return max(cursor.rowcount, 0)

    async def statuses(self, user_id: int, group_ids: Sequence[int]) -> dict[int, MembershipStatus]:
        """One person's status in each of these groups where they have one (one statement)."""
        if not group_ids:
            return {}
        marks = ",".join("?" * len(group_ids))
        rows = await self._db.fetchall(
            f"SELECT group_id, status FROM memberships WHERE user_id = ? AND group_id IN ({marks})",
            (user_id, *group_ids),
        )
        return {int(r["group_id"]): MembershipStatus(r["status"]) for r in rows}

    async def with_waitlist(self, group_ids: Sequence[int]) -> set[int]:
        """Which of these groups have someone on their waitlist (one statement)."""
        if not group_ids:
            return set()
        marks = ",".join("?" * len(group_ids))
        rows = await self._db.fetchall(
            "SELECT DISTINCT group_id FROM memberships "
            f"WHERE status = 'waitlisted' AND group_id IN ({marks})",
            list(group_ids),
        )
        return {int(r["group_id"]) for r in rows}

    async def count(self, group_id: int, status: MembershipStatus) -> int:
        return int(
            await self._db.fetchval(
                "SELECT count(*) FROM memberships WHERE group_id = ? AND status = ?",
                (group_id, status.value),
            )
        )

    async def seat_counts(self, guild_id: int) -> dict[int, int]:
        rows = await self._db.fetchall(
            "SELECT m.group_id, count(*) AS n FROM memberships m JOIN groups g ON g.id = m.group_id "
            "WHERE g.guild_id = ? AND g.status = 'active' AND m.status = 'member' "
            "GROUP BY m.group_id",
            (guild_id,),
        )
        return {r["group_id"]: r["n"] for r in rows}

    async def waitlist_position(self, group_id: int, user_id: int) -> int | None:
        value = await self._db.fetchval(
            "SELECT count(*) FROM memberships w JOIN memberships me "
            "ON me.group_id = w.group_id AND me.user_id = ? "
            "WHERE w.group_id = ? AND w.status = 'waitlisted' AND me.status = 'waitlisted' "
            "AND w.id <= me.id",
            (user_id, group_id),
        )
        return int(value) if value else None

    async def first_waitlisted(self, group_id: int) -> Membership | None:
        row = await self._db.fetchone(
            "SELECT * FROM memberships WHERE group_id = ? AND status = 'waitlisted' "
            "ORDER BY id LIMIT 1",
            (group_id,),
        )
        return membership_of_row(row) if row else None

    async def list_by_status(self, group_id: int, status: MembershipStatus) -> list[Membership]:
        rows = await self._db.fetchall(
            "SELECT * FROM memberships WHERE group_id = ? AND status = ? ORDER BY id",
            (group_id, status.value),
        )
        return [membership_of_row(r) for r in rows]

    async def memberships_of_user(self, guild_id: int, user_id: int) -> list[Membership]:
        rows = await self._db.fetchall(
            "SELECT m.* FROM memberships m JOIN groups g ON g.id = m.group_id "
            "WHERE g.guild_id = ? AND m.user_id = ? ORDER BY m.id",
            (guild_id, user_id),
        )
        return [membership_of_row(r) for r in rows]

    # --- join reviews (removed or denied: the next join goes to the facilitators) ----------
    async def join_review(self, group_id: int, user_id: int) -> JoinReview | None:
        row = await self._db.fetchone(
            "SELECT * FROM join_reviews WHERE group_id = ? AND user_id = ?", (group_id, user_id)
        )
        return join_review_of_row(row) if row else None

    async def mark_removed(self, group_id: int, user_id: int, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO join_reviews (group_id, user_id, removed_at) VALUES (?, ?, ?) "
            "ON CONFLICT (group_id, user_id) DO UPDATE SET removed_at = excluded.removed_at",
            (group_id, user_id, to_unix(now)),
        )

    async def mark_denied(self, group_id: int, user_id: int, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO join_reviews (group_id, user_id, denied_at) VALUES (?, ?, ?) "
            "ON CONFLICT (group_id, user_id) DO UPDATE SET denied_at = excluded.denied_at",
            (group_id, user_id, to_unix(now)),
        )

    async def clear_join_review(self, group_id: int, user_id: int) -> None:
        await self._db.execute(
            "DELETE FROM join_reviews WHERE group_id = ? AND user_id = ?", (group_id, user_id)
        )
