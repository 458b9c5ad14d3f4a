"""member_departures, guild_departures, and the retention sweeps that span many tables."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime

from familybot.db.connection import Database
from familybot.models import from_unix, to_unix

# Rows per batch of the daily purges (each batch one short transaction).
PURGE_BATCH = 2000

# Tables the server purge must not touch directly: SQLite's own, FTS shadow tables (kept in
# step by triggers) and the audit log's purge permission, which the purge manages itself.
_NOT_PURGED = ("audit_purge_allowed", "guild_departures")

# Where a user's presence in a server shows in the data: used to find whom to check, and
# whether someone still has data in another server. One (guild column, user column, source)
# per arm; queries filter each arm by itself, as a filter outside a UNION is not pushed into
# its arms and the whole union would be built for one server or one person (issue 15: the
# membership sweep was quadratic).
_USER_GUILD_ARMS = (
    ("g.guild_id", "m.user_id", "memberships m JOIN groups g ON g.id = m.group_id"),
    ("g.guild_id", "f.user_id", "group_facilitators f JOIN groups g ON g.id = f.group_id"),
    ("s.guild_id", "r.user_id", "rsvps r JOIN session_series s ON s.id = r.series_id"),
    ("s.guild_id", "a.user_id", "attendance a JOIN session_series s ON s.id = a.series_id"),
    ("g.guild_id", "j.user_id", "join_reviews j JOIN groups g ON g.id = j.group_id"),
    ("guild_id", "user_id", "member_departures"),
    ("guild_id", "user_id", "calendar_feeds"),
)


def _user_guilds_where(condition: str, select: str) -> str:
    """The union (distinct rows) of every arm filtered by `condition`, selecting `select`;
    both are written with {guild} and {user} for the arm's columns."""
    return " UNION ".join(
        f"SELECT {select.format(guild=g, user=u)} FROM {src} "
        f"WHERE {condition.format(guild=g, user=u)}"
        for g, u, src in _USER_GUILD_ARMS
    )


@dataclass(frozen=True)
class Departure:
    guild_id: int
    user_id: int
    left_at: datetime


class PrivacyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def transaction(self) -> AbstractAsyncContextManager[Database]:
        """One transaction for several holders' statements (/my forget)."""
        return self._db.transaction()

    # --- members who left ---------------------------------------------------------------------
    async def record_member_left(self, guild_id: int, user_id: int, now: datetime) -> bool:
        """Keep the first time they were seen gone, so noticing again does not reset the clock."""
        cursor = await self._db.execute(
            "INSERT OR IGNORE INTO member_departures (guild_id, user_id, left_at) VALUES (?, ?, ?)",
            (guild_id, user_id, to_unix(now)),
        )
        return cursor.rowcount == 1

    async def member_returned(self, guild_id: int, user_id: int) -> bool:
        cursor = await self._db.execute(
            "DELETE FROM member_departures WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )
        return cursor.rowcount == 1

    async def departures_due(self, cutoff: datetime) -> list[Departure]:
        rows = await self._db.fetchall(
            "SELECT * FROM member_departures WHERE left_at <= ? ORDER BY left_at",
            (to_unix(cutoff),),
        )
        return [Departure(r["guild_id"], r["user_id"], from_unix(r["left_at"])) for r in rows]

    async def departures_of(self, user_id: int) -> list[Departure]:
        rows = await self._db.fetchall(
            "SELECT * FROM member_departures WHERE user_id = ? ORDER BY guild_id", (user_id,)
        )
        return [Departure(r["guild_id"], r["user_id"], from_unix(r["left_at"])) for r in rows]

    async def forget_departures(self, user_id: int, guild_id: int | None = None) -> int:
        if guild_id is None:
            cursor = await self._db.execute(
                "DELETE FROM member_departures WHERE user_id = ?", (user_id,)
            )
        else:
            cursor = await self._db.execute(
                "DELETE FROM member_departures WHERE user_id = ? AND guild_id = ?",
                (user_id, guild_id),
            )
        return cursor.rowcount

    async def users_to_check(self, guild_id: int, limit: int, after: int = 0) -> list[int]:
        """People with data in this server not already known to have left, in user id order
        from after `after` (a keyset page): each arm is read through its server's index."""
        union = _user_guilds_where("{guild} = ? AND {user} > ?", "{user} AS user_id")
        rows = await self._db.fetchall(
            f"SELECT DISTINCT user_id FROM ({union}) AS ug WHERE user_id "
            "NOT IN (SELECT user_id FROM member_departures WHERE guild_id = ?) "
            "ORDER BY user_id LIMIT ?",
            (*(guild_id, after) * len(_USER_GUILD_ARMS), guild_id, limit),
        )
        return [int(r["user_id"]) for r in rows]

    async def guilds_of_user(self, user_id: int) -> set[int]:
        rows = await self._db.fetchall(
            _user_guilds_where("{user} = ?", "{guild} AS guild_id"),
            (user_id,) * len(_USER_GUILD_ARMS),
        )
        return {int(r["guild_id"]) for r in rows}

    # --- servers that removed the bot ---------------------------------------------------------
    async def record_guild_removed(self, guild_id: int, now: datetime) -> bool:
        cursor = await self._db.execute(
            "INSERT OR IGNORE INTO guild_departures (guild_id, removed_at) VALUES (?, ?)",
            (guild_id, to_unix(now)),
        )
        return cursor.rowcount == 1

    async def guild_returned(self, guild_id: int) -> bool:
        cursor = await self._db.execute(
            "DELETE FROM guild_departures WHERE guild_id = ?", (guild_id,)
        )
        return cursor.rowcount == 1

    async def guilds_due(self, cutoff: datetime) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT guild_id FROM guild_departures WHERE removed_at <= ? ORDER BY removed_at",
            (to_unix(cutoff),),
        )
        return [int(r["guild_id"]) for r in rows]

    async def known_guild_ids(self) -> set[int]:
        """Servers this database holds anything for (settings or groups)."""
        rows = await self._db.fetchall(
            "SELECT guild_id FROM guild_settings UNION SELECT guild_id FROM groups"
        )
        return {int(r["guild_id"]) for r in rows}

    async def purge_guild(self, guild_id: int) -> int:
        """Delete every row of one server, in every table, in one transaction.

        Found from the schema rather than listed, so a table added later is covered: rows of
        tables with a guild_id column, and rows of tables that point (by foreign key) at
        those. Children go first, so no foreign key is left dangling.
        """
        removed = 0
        async with self._db.transaction():
            people = await self._db.fetchall(
                _user_guilds_where("{guild} = ?", "{user} AS user_id"),
                (guild_id,) * len(_USER_GUILD_ARMS),
            )
            tables = await self._tables()
            with_guild = {t for t, cols in tables.items() if "guild_id" in cols}
            audit = "audit_purge_allowed" in tables
            if audit:  # the audit log refuses deletes unless its server is listed here
                await self._db.execute(
                    "INSERT OR IGNORE INTO audit_purge_allowed (guild_id) VALUES (?)", (guild_id,)
                )
            for table in sorted(tables):
                for parent, col, parent_col in await self._foreign_keys(table):
                    if parent in with_guild and table not in with_guild:
                        cursor = await self._db.execute(
                            f'DELETE FROM "{table}" WHERE "{col}" IN '
                            f'(SELECT "{parent_col}" FROM "{parent}" WHERE guild_id = ?)',
                            (guild_id,),
                        )
                        removed += max(cursor.rowcount, 0)
            for table in await self._children_first(with_guild):
                if table in _NOT_PURGED:
                    continue
                cursor = await self._db.execute(
                    f'DELETE FROM "{table}" WHERE guild_id = ?', (guild_id,)
                )
                removed += max(cursor.rowcount, 0)
            if audit:
                await self._db.execute(
                    "DELETE FROM audit_purge_allowed WHERE guild_id = ?", (guild_id,)
                )
            # Personal settings belong to no server: they go with the person's last server
            # (asked per person through the indexes, not by building the whole union each time).
            for person in people:
                user_id = int(person["user_id"])
                if await self.guilds_of_user(user_id):
                    continue
                for table in ("member_prefs", "member_language", "dm_failures"):
                    cursor = await self._db.execute(
                        f"DELETE FROM {table} WHERE user_id = ?", (user_id,)
                    )
                    removed += max(cursor.rowcount, 0)
            await self._db.execute("DELETE FROM guild_departures WHERE guild_id = ?", (guild_id,))
        return removed

    async def _tables(self) -> dict[str, set[str]]:
        return await self._db.tables()

    async def _foreign_keys(self, table: str) -> list[tuple[str, str, str]]:
        return await self._db.foreign_keys(table)

    async def _children_first(self, tables: set[str]) -> list[str]:
        """Order tables so one that references another comes before it."""
        refs = {t: {p for p, _, _ in await self._foreign_keys(t) if p in tables} for t in tables}
        ordered: list[str] = []
        while refs:
            # A table nobody left references can go now.
            free = sorted(t for t in refs if not any(t in ps for o, ps in refs.items() if o != t))
            if not free:  # a cycle: fall back to name order (foreign keys would then complain)
                free = sorted(refs)
            for t in free:
                ordered.append(t)
                refs.pop(t)
        return ordered

    # --- time-limited records -----------------------------------------------------------------
    # The daily purges delete in batches of PURGE_BATCH rows, each batch its own short
    # transaction, and let the event loop run between them (issue 15): one transaction over a
    # day's rows (or a year's, on the first run) held the database's writer for all of it.
    async def _delete_batches(
        self, table: str, key: str, where: str, params: tuple[int, ...], batch: int
    ) -> int:
        """Rows of `table` matching `where`, `batch` at a time; `where` must be served by an
        index, as each batch reads from the start (what is deleted is gone from it)."""
        sql = (
            f"DELETE FROM {table} WHERE ({key}) IN "
            f"(SELECT {key} FROM {table} WHERE {where} LIMIT ?)"
        )
        total = 0
        while True:
            done = (await self._db.execute(sql, (*params, batch))).rowcount
            total += max(done, 0)
            if done < batch:
                return total
            await asyncio.sleep(0)

    async def _delete_by_id(
        self, table: str, where: str, params: tuple[int, ...], batch: int
    ) -> int:
        """The same for a table with an `id`, walking ids upward (keyset): for conditions no
        index serves, so the whole table is read once, not once per batch."""
        total, after = 0, 0
        while True:
            rows = await self._db.fetchall(
                f"SELECT id FROM {table} WHERE id > ? AND {where} ORDER BY id LIMIT ?",
                (after, *params, batch),
            )
            if not rows:
                return total
            ids = [int(r[0]) for r in rows]
            marks = ", ".join("?" * len(ids))
            done = await self._db.execute(
                f"DELETE FROM {table} WHERE id IN ({marks}) AND {where}", (*ids, *params)
            )
            total += max(done.rowcount, 0)
            if len(ids) < batch:
                return total
            after = ids[-1]
            await asyncio.sleep(0)

    async def prune_ledger_before(self, cutoff: datetime, *, batch: int = PURGE_BATCH) -> int:
        """Reminder records (any target) that are finished and whose session started before
        the cutoff (days ago, so it is over): the planner only plans ahead and the sender
        only reads pending rows, so these can no longer matter. Found by (state, due_at)."""
        at = to_unix(cutoff)
        return await self._delete_batches(
            "reminder_ledger",
            "id",
            "state IN ('sent', 'skipped', 'cancelled', 'undeliverable', 'failed') "
            "AND due_at < ? AND occurrence_start < ?",
            (at, at),
            batch,
        )

    async def purge_activity_before(
        self, cutoff: datetime, *, batch: int = PURGE_BATCH
    ) -> dict[str, int]:
        """RSVPs, attendance, DM reminder records and DM failure notes older than the window."""
        at = to_unix(cutoff)
        key = "series_id, occurrence_key, user_id"
        return {
            "rsvps": await self._delete_batches("rsvps", key, "updated_at < ?", (at,), batch),
            "attendance": await self._delete_batches(
                "attendance", key, "marked_at < ?", (at,), batch
            ),
            "reminder_ledger": await self._delete_by_id(
                "reminder_ledger",
                "target LIKE 'dm:%' AND occurrence_start < ? "
                "AND state NOT IN ('pending', 'sending')",
                (at,),
                batch,
            ),
            "dm_failures": await self._delete_by_id("dm_failures", "created_at < ?", (at,), batch),
        }
