"""groups and group_facilitators; memberships and join reviews come from memberships.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from familybot.db.connection import Row
from familybot.db.repositories.memberships import (
    MembershipRepository,
    join_review_of_row,
    membership_of_row,
)
from familybot.models import (
    Group,
    GroupFacilitator,
    GroupStatus,
    JoinMode,
    JoinReview,
    Membership,
    MembershipStatus,
    from_unix,
    to_unix,
)


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _group(row: Row) -> Group:
    return Group(
        id=row["id"],
        guild_id=row["guild_id"],
        name=row["name"],
        description=row["description"],
        focus=row["focus"],
        capacity=row["capacity"],
        join_mode=JoinMode(row["join_mode"]),
        guidelines=row["guidelines"],
        guidelines_version=row["guidelines_version"],
        role_id=row["role_id"],
        channel_id=row["channel_id"],
        status=GroupStatus(row["status"]),
        created_by=row["created_by"],
        created_at=from_unix(row["created_at"]),
        archived_at=from_unix(row["archived_at"]) if row["archived_at"] is not None else None,
        reminder_offsets=tuple(int(x) for x in row["reminder_offsets"].split(",") if x),
    )


class GroupRepository(MembershipRepository):
    # --- groups -------------------------------------------------------------------------
    async def create(
        self,
        *,
        guild_id: int,
        name: str,
        description: str,
        focus: str,
        capacity: int | None,
        join_mode: JoinMode,
        guidelines: str,
        role_id: int | None,
        channel_id: int | None,
        created_by: int,
        now: datetime,
    ) -> Group:
        cursor = await self._db.execute(
            "INSERT INTO groups (guild_id, name, name_key, description, focus, capacity, "
            "join_mode, guidelines, role_id, channel_id, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                guild_id,
                name,
                name_key(name),
                description,
                focus,
                capacity,
                join_mode.value,
                guidelines,
                role_id,
                channel_id,
                created_by,
                to_unix(now),
            ),
        )
        group = await self.get(int(cursor.lastrowid or 0))
        assert group is not None
        return group

    async def get(self, group_id: int) -> Group | None:
        row = await self._db.fetchone("SELECT * FROM groups WHERE id = ?", (group_id,))
        return _group(row) if row else None

    async def get_many(self, group_ids: Sequence[int]) -> dict[int, Group]:
        if not group_ids:
            return {}
        marks = ",".join("?" * len(group_ids))
        rows = await self._db.fetchall(
            f"SELECT * FROM groups WHERE id IN ({marks})", tuple(group_ids)
        )
        return {r["id"]: _group(r) for r in rows}

    async def find_active(self, guild_id: int, name: str) -> Group | None:
        row = await self._db.fetchone(
            "SELECT * FROM groups WHERE guild_id = ? AND name_key = ? AND status = 'active'",
            (guild_id, name_key(name)),
        )
        return _group(row) if row else None

    async def with_old_role(self, guild_id: int) -> list[Group]:
        """Groups (active or archived) still recorded with a role from before per-person
        channel access: the upgrade's to-do list; a group leaves it when role_id is cleared."""
        rows = await self._db.fetchall(
            "SELECT * FROM groups WHERE guild_id = ? AND role_id IS NOT NULL ORDER BY id",
            (guild_id,),
        )
        return [_group(r) for r in rows]

    async def find_latest_archived(self, guild_id: int, name: str) -> Group | None:
        row = await self._db.fetchone(
            "SELECT * FROM groups WHERE guild_id = ? AND name_key = ? AND status = 'archived' "
            "ORDER BY archived_at DESC LIMIT 1",
            (guild_id, name_key(name)),
        )
        return _group(row) if row else None

    async def list_active(self, guild_id: int) -> list[Group]:
        rows = await self._db.fetchall(
            "SELECT * FROM groups WHERE guild_id = ? AND status = 'active' ORDER BY name_key",
            (guild_id,),
        )
        return [_group(r) for r in rows]

    async def list_active_page(self, guild_id: int, offset: int, limit: int) -> list[Group]:
        """Open groups by name, `limit` from `offset` (the groups_active_name index's order)."""
        rows = await self._db.fetchall(
            "SELECT * FROM groups WHERE guild_id = ? AND status = 'active' ORDER BY name_key "
            "LIMIT ? OFFSET ?",
            (guild_id, limit, offset),
        )
        return [_group(r) for r in rows]

    async def seat_counts_of(self, group_ids: Sequence[int]) -> dict[int, int]:
        """Members seated in each of these groups (missing: none)."""
        if not group_ids:
            return {}
        marks = ", ".join("?" * len(group_ids))
        rows = await self._db.fetchall(
            f"SELECT group_id, count(*) AS n FROM memberships WHERE group_id IN ({marks}) "
            "AND status = 'member' GROUP BY group_id",
            tuple(group_ids),
        )
        return {r["group_id"]: r["n"] for r in rows}

    async def count_active(self, guild_id: int | None = None) -> int:
        if guild_id is None:
            return int(await self._db.fetchval("SELECT count(*) FROM groups WHERE status='active'"))
        return int(
            await self._db.fetchval(
                "SELECT count(*) FROM groups WHERE guild_id = ? AND status = 'active'", (guild_id,)
            )
        )

    async def search_names(
        self,
        guild_id: int,
        prefix: str,
        limit: int = 25,
        *,
        include_archived: bool = False,
        member_id: int | None = None,
        statuses: tuple[MembershipStatus, ...] = tuple(MembershipStatus),
        group_ids: Sequence[int] | None = None,
    ) -> list[str]:
        """Group names containing `prefix`; with `member_id`, only groups where that person
        has a membership in one of `statuses`."""
        pattern = (
            "%"
            + name_key(prefix).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        status_filter = "" if include_archived else "AND status = 'active'"
        params: list[Any] = [guild_id]
        if member_id is not None:
            marks = ",".join("?" * len(statuses))
            status_filter += (
                " AND id IN (SELECT group_id FROM memberships WHERE user_id = ? "
                f"AND status IN ({marks}))"
            )
            params += [member_id, *(s.value for s in statuses)]
        if group_ids is not None:
            status_filter += f" AND id IN ({','.join('?' * len(group_ids)) or 'NULL'})"
            params += list(group_ids)
        rows = await self._db.fetchall(
            "SELECT DISTINCT name, name_key, instr(name_key, ?) = 1 AS prefixed FROM groups "
            f"WHERE guild_id = ? {status_filter} AND name_key LIKE ? ESCAPE '\\' "
            "ORDER BY prefixed DESC, name_key LIMIT ?",
            (name_key(prefix), *params, pattern, limit),
        )
        return [r["name"] for r in rows]

    async def update(self, group_id: int, **changes: Any) -> Group:
        allowed = {
            "name",
            "description",
            "focus",
            "capacity",
            "join_mode",
            "guidelines",
            "guidelines_version",
            "status",
            "archived_at",
            "role_id",
            "channel_id",
            "reminder_offsets",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        values = dict(changes)
        if "name" in values:
            values["name_key"] = name_key(values["name"])
        for key, value in list(values.items()):
            if isinstance(value, tuple):
                values[key] = ",".join(str(v) for v in value)
            elif isinstance(value, datetime):
                values[key] = to_unix(value)
            elif hasattr(value, "value") and not isinstance(value, int | str):
                values[key] = value.value
        assignments = ", ".join(f"{k} = :{k}" for k in values)
        values["group_id"] = group_id
        await self._db.execute(f"UPDATE groups SET {assignments} WHERE id = :group_id", values)
        group = await self.get(group_id)
        assert group is not None
        return group

    # --- facilitators ---------------------------------------------------------------------
    async def add_facilitator(
        self, group_id: int, user_id: int, added_by: int, now: datetime
    ) -> bool:
        cursor = await self._db.execute(
            "INSERT OR IGNORE INTO group_facilitators (group_id, user_id, added_by, added_at) "
            "VALUES (?, ?, ?, ?)",
            (group_id, user_id, added_by, to_unix(now)),
        )
        return cursor.rowcount == 1

    async def facilitators(self, group_id: int) -> list[GroupFacilitator]:
        rows = await self._db.fetchall(
            "SELECT * FROM group_facilitators WHERE group_id = ? ORDER BY added_at, user_id",
            (group_id,),
        )
        return [
            GroupFacilitator(r["group_id"], r["user_id"], r["added_by"], from_unix(r["added_at"]))
            for r in rows
        ]

    async def join_reviews_for_privacy(
        self, user_id: int, guild_id: int | None = None
    ) -> list[tuple[JoinReview, Group]]:
        rows = await self._db.fetchall(
            "SELECT r.* FROM join_reviews r JOIN groups g ON g.id = r.group_id "
            "WHERE r.user_id = ? AND (? IS NULL OR g.guild_id = ?) ORDER BY r.group_id",
            (user_id, guild_id, guild_id),
        )
        reviews = [join_review_of_row(r) for r in rows]
        groups = await self.get_many([r.group_id for r in reviews])
        return [(r, groups[r.group_id]) for r in reviews]

    # --- privacy --------------------------------------------------------------------------
    async def memberships_for_privacy(
        self, user_id: int, guild_id: int | None = None
    ) -> list[tuple[Membership, Group]]:
        """A person's memberships (in one server, or all) with their groups."""
        rows = await self._db.fetchall(
            "SELECT m.* FROM memberships m JOIN groups g ON g.id = m.group_id "
            "WHERE m.user_id = ? AND (? IS NULL OR g.guild_id = ?) ORDER BY m.id",
            (user_id, guild_id, guild_id),
        )
        memberships = [membership_of_row(r) for r in rows]
        groups = await self.get_many([m.group_id for m in memberships])
        return [(m, groups[m.group_id]) for m in memberships]

    async def facilitated_by(self, user_id: int) -> list[tuple[Group, GroupFacilitator]]:
        rows = await self._db.fetchall(
            "SELECT g.*, f.added_by AS f_added_by, f.added_at AS f_added_at "
            "FROM group_facilitators f JOIN groups g ON g.id = f.group_id "
            "WHERE f.user_id = ? ORDER BY g.id",
            (user_id,),
        )
        return [
            (
                _group(r),
                GroupFacilitator(r["id"], user_id, r["f_added_by"], from_unix(r["f_added_at"])),
            )
            for r in rows
        ]

    async def created_by(self, user_id: int) -> list[Group]:
        rows = await self._db.fetchall(
            "SELECT * FROM groups WHERE created_by = ? ORDER BY id", (user_id,)
        )
        return [_group(r) for r in rows]

    async def forget_roles(self, user_id: int, guild_id: int | None = None) -> int:
        """Drop their facilitator places; groups they created or people they added stay,
        unattributed (0), as the server's own."""
        # Per row by primary key: a list of every group would cost the number of groups.
        scope = "(? IS NULL OR EXISTS (SELECT 1 FROM groups g WHERE g.id = group_id AND g.guild_id = ?))"
        async with self._db.transaction():
            gone = await self._db.execute(
                f"DELETE FROM group_facilitators WHERE user_id = ? AND {scope}",
                (user_id, guild_id, guild_id),
            )
            added = await self._db.execute(
                f"UPDATE group_facilitators SET added_by = 0 WHERE added_by = ? AND {scope}",
                (user_id, guild_id, guild_id),
            )
            created = await self._db.execute(
                "UPDATE groups SET created_by = 0 WHERE created_by = ? "
                "AND (? IS NULL OR guild_id = ?)",
                (user_id, guild_id, guild_id),
            )
        return gone.rowcount + added.rowcount + created.rowcount
