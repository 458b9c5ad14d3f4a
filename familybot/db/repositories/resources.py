"""resources, resources_fts (search) and resource_settings; the trigram index of the search
words comes from resource_terms.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from familybot.db.connection import Row
from familybot.db.dialect import SQLITE_WORD_WEIGHTS
from familybot.db.repositories.resource_terms import ResourceTermIndex, after_prefix, fts_tokens
from familybot.models import Resource, ResourceStatus, from_unix, to_unix

# How many of the best matches a search ranks by the index alone before reading their rows
# (SQLite; the full ranking follows when fewer than the page are left after filtering).
SEARCH_WINDOW = 200


def category_key(category: str) -> str:
    return " ".join(category.split()).casefold()


def _opt(value: int | None) -> datetime | None:
    return from_unix(value) if value is not None else None


def _resource(row: Row) -> Resource:
    return Resource(
        id=row["id"],
        guild_id=row["guild_id"],
        title=row["title"],
        url=row["url"],
        category=row["category"],
        description=row["description"],
        region=row["region"],
        language=row["language"],
        audience=row["audience"],
        status=ResourceStatus(row["status"]),
        suggested_by=row["suggested_by"],
        suggested_at=from_unix(row["suggested_at"]),
        vetted_by=row["vetted_by"],
        vetted_at=_opt(row["vetted_at"]),
        review_due_at=_opt(row["review_due_at"]),
        decision_reason=row["decision_reason"],
        link_failures=row["link_failures"],
        flagged_at=_opt(row["flagged_at"]),
    )


@dataclass(frozen=True)
class NewResource:
    title: str
    url: str
    category: str
    description: str
    region: str = ""
    language: str = ""
    audience: str = ""


class ResourceRepository(ResourceTermIndex):
    async def create(
        self,
        guild_id: int,
        item: NewResource,
        *,
        status: ResourceStatus,
        suggested_by: int | None,
        now: datetime,
        vetted_by: int | None = None,
        review_due_at: datetime | None = None,
    ) -> Resource:
        cursor = await self._db.execute(
            "INSERT INTO resources (guild_id, title, url, category, category_key, description, "
            "region, language, audience, status, suggested_by, suggested_at, vetted_by, "
            "vetted_at, review_due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                guild_id,
                item.title,
                item.url,
                item.category,
                category_key(item.category),
                item.description,
                item.region,
                item.language,
                item.audience,
                status.value,
                suggested_by,
                to_unix(now),
                vetted_by,
                to_unix(now) if status is ResourceStatus.APPROVED else None,
                to_unix(review_due_at) if review_due_at else None,
            ),
        )
        resource = await self.get(int(cursor.lastrowid or 0))
        assert resource is not None
        await self.index_new_terms()
        return resource

    async def get(self, resource_id: int) -> Resource | None:
        row = await self._db.fetchone("SELECT * FROM resources WHERE id = ?", (resource_id,))
        return _resource(row) if row else None

    async def next_pending(self, guild_id: int) -> Resource | None:
        row = await self._db.fetchone(
            "SELECT * FROM resources WHERE guild_id = ? AND status = 'pending' ORDER BY id LIMIT 1",
            (guild_id,),
        )
        return _resource(row) if row else None

    async def count_pending(self, guild_id: int) -> int:
        return int(
            await self._db.fetchval(
                "SELECT count(*) FROM resources WHERE guild_id = ? AND status = 'pending'",
                (guild_id,),
            )
        )

    async def decide(
        self,
        resource_id: int,
        *,
        from_status: ResourceStatus,
        to_status: ResourceStatus,
        actor_id: int,
        now: datetime,
        reason: str | None = None,
        review_due_at: datetime | None = None,
    ) -> bool:
        """Move one resource between states; False when it was no longer in `from_status`."""
        vetting = to_status is ResourceStatus.APPROVED
        cursor = await self._db.execute(
            "UPDATE resources SET status = ?, decision_reason = ?, "
            "vetted_by = CASE WHEN ? THEN ? ELSE vetted_by END, "
            "vetted_at = CASE WHEN ? THEN ? ELSE vetted_at END, "
            "review_due_at = CASE WHEN ? THEN ? ELSE review_due_at END, "
            "flagged_at = CASE WHEN ? THEN NULL ELSE flagged_at END, "
            "link_failures = CASE WHEN ? THEN 0 ELSE link_failures END "
            "WHERE id = ? AND status = ?",
            (
                to_status.value,
                reason,
                vetting,
                actor_id,
                vetting,
                to_unix(now),
                vetting,
                to_unix(review_due_at) if review_due_at else None,
                vetting,
                vetting,
                resource_id,
                from_status.value,
            ),
        )
        return cursor.rowcount == 1

    async def list_approved(
        self, guild_id: int, category: str | None, limit: int
    ) -> tuple[list[Resource], int]:
        """The first `limit` in list order and the number of all: only the shown rows become
        objects (a library of 1,000 cost 16 ms and a full garbage collection, issue 15)."""
        sql = "SELECT *, count(*) OVER () AS total FROM resources WHERE guild_id = ?"
        sql += " AND status = 'approved'"
        params: list[Any] = [guild_id]
        if category:
            sql += " AND category_key = ?"
            params.append(category_key(category))
        rows = await self._db.fetchall(
            sql + " ORDER BY category_key, title COLLATE NOCASE LIMIT ?", [*params, limit]
        )
        return [_resource(r) for r in rows], int(rows[0]["total"]) if rows else 0

    async def categories(self, guild_id: int) -> list[str]:
        rows = await self._db.fetchall(
            "SELECT min(category) AS c FROM resources WHERE guild_id = ? AND status = 'approved' "
            "GROUP BY category_key ORDER BY category_key",
            (guild_id,),
        )
        return [r["c"] for r in rows]

    async def search(
        self, guild_id: int, match: str, category: str | None, limit: int
    ) -> list[Resource]:
        """Approved resources matching an FTS5 expression, best first (bm25, title weighted;
        on PostgreSQL its full-text ranking with the same weights)."""
        key = category_key(category) if category else None
        first = self._db.dialect.resource_search_window(match, guild_id, key, limit, SEARCH_WINDOW)
        if first is not None:
            rows = await self._db.fetchall(*first)
            if len(rows) >= limit:
                return [_resource(r) for r in rows]
        sql, params = self._db.dialect.resource_search(match, guild_id, key, limit)
        rows = await self._db.fetchall(sql, params)
        return [_resource(r) for r in rows]

    async def search_word(
        self, guild_id: int, word: str, category: str | None, limit: int, *, prefix: bool
    ) -> list[Resource]:
        """search() of one word typed alone, '("word")', or with `prefix` '("word" OR
        "word"*)': the same resources in the same order, found without scoring all of a common
        word's matches (see SQLITE_WORD_WEIGHTS). search() itself answers when fewer than
        `limit` are found this way (a rare word, one of more than one token, a prefix of other
        words, a category asked for), except on SQLite for a word no resource here holds."""
        match = f'("{word}" OR "{word}"*)' if prefix else f'("{word}")'
        if category is None and self._db.is_postgres:
            sql, params = self._db.dialect.resource_word_search(match, guild_id, limit, "", [])
            rows = await self._db.fetchall(sql, params)
            if len(rows) >= limit:
                return [_resource(r) for r in rows]
        elif category is None and len(tokens := fts_tokens(word)) == 1:
            token = tokens[0]
            # Written resources count at once: their weights are added first.
            await self.index_new_terms()
            bounds = (token, after_prefix(token)) if prefix else (token, token)
            found = await self._db.fetchone(
                SQLITE_WORD_WEIGHTS, (token, guild_id, token, guild_id, *bounds)
            )
            assert found is not None
            if not found["others"]:
                if found["weights"] is None:
                    return []  # no approved resource here holds the word: nothing matches
                weights = [int(w) for w in found["weights"].split()]
                sql, params = self._db.dialect.resource_word_search(
                    match, guild_id, limit, token, weights
                )
                rows = await self._db.fetchall(sql, params)
                if len(rows) >= limit:
                    return [_resource(r) for r in rows]
        return await self.search(guild_id, match, category, limit)

    async def vocabulary(self) -> list[str]:
        rows = await self._db.fetchall(self._db.dialect.resource_vocabulary())
        return [r["term"] for r in rows]

    async def titles_like(
        self, guild_id: int, typed: str, statuses: Sequence[ResourceStatus], limit: int = 25
    ) -> list[Resource]:
        marks = ",".join("?" * len(statuses))
        escaped = typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self._db.fetchall(
            f"SELECT * FROM resources WHERE guild_id = ? AND status IN ({marks}) "
            "AND title LIKE ? ESCAPE '\\' ORDER BY instr(lower(title), lower(?)) = 1 DESC, "
            "title COLLATE NOCASE LIMIT ?",
            (guild_id, *[s.value for s in statuses], f"%{escaped}%", typed, limit),
        )
        return [_resource(r) for r in rows]

    async def due_for_review(self, now: datetime) -> list[Resource]:
        rows = await self._db.fetchall(
            "SELECT * FROM resources WHERE status = 'approved' "
            "AND (review_due_at <= ? OR flagged_at IS NOT NULL) ORDER BY guild_id, review_due_at",
            (to_unix(now),),
        )
        return [_resource(r) for r in rows]

    async def due_for_review_in(
        self, guild_id: int, now: datetime, typed: str, limit: int = 25
    ) -> list[Resource]:
        """One server's approved resources the review digest lists, titles like `typed`."""
        escaped = typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self._db.fetchall(
            "SELECT * FROM resources WHERE guild_id = ? AND status = 'approved' "
            "AND (review_due_at <= ? OR flagged_at IS NOT NULL) "
            "AND title LIKE ? ESCAPE '\\' ORDER BY flagged_at IS NULL, review_due_at, id LIMIT ?",
            (guild_id, to_unix(now), f"%{escaped}%", limit),
        )
        return [_resource(r) for r in rows]

    async def mark_reviewed(
        self,
        resource_id: int,
        *,
        actor_id: int,
        now: datetime,
        review_due_at: datetime,
        note: str | None,
    ) -> bool:
        """Checked again: new vetter, date and next review date; any broken-link flag clears.
        The note is kept like a decision's reason. False when it is no longer approved."""
        cursor = await self._db.execute(
            "UPDATE resources SET vetted_by = ?, vetted_at = ?, review_due_at = ?, "
            "flagged_at = NULL, link_failures = 0, decision_reason = ? "
            "WHERE id = ? AND status = 'approved'",
            (actor_id, to_unix(now), to_unix(review_due_at), note, resource_id),
        )
        return cursor.rowcount == 1

    async def approved_links(self) -> list[tuple[int, str]]:
        rows = await self._db.fetchall(
            "SELECT id, url FROM resources WHERE status = 'approved' ORDER BY id"
        )
        return [(r["id"], r["url"]) for r in rows]

    async def record_link_result(
        self, resource_id: int, ok: bool, now: datetime, flag_after: int
    ) -> bool:
        """Count consecutive failures; returns True when this failure newly flags it."""
        if ok:
            await self._db.execute(
                "UPDATE resources SET link_failures = 0, link_checked_at = ? WHERE id = ?",
                (to_unix(now), resource_id),
            )
            return False
        async with self._db.transaction():
            row = await self._db.fetchone(
                "SELECT link_failures, flagged_at FROM resources WHERE id = ?", (resource_id,)
            )
            if row is None:
                return False
            failures = row["link_failures"] + 1
            newly = failures >= flag_after and row["flagged_at"] is None
            await self._db.execute(
                "UPDATE resources SET link_failures = ?, link_checked_at = ?, "
                "flagged_at = CASE WHEN ? THEN ? ELSE flagged_at END WHERE id = ?",
                (failures, to_unix(now), newly, to_unix(now), resource_id),
            )
        return newly

    async def urls(self, guild_id: int) -> set[str]:
        """Every link this server's library holds, in any state (for idempotent imports)."""
        rows = await self._db.fetchall("SELECT url FROM resources WHERE guild_id = ?", (guild_id,))
        return {r["url"] for r in rows}

    async def allow_http(self, guild_id: int) -> bool:
        value = await self._db.fetchval(
            "SELECT allow_http FROM resource_settings WHERE guild_id = ?", (guild_id,)
        )
        return bool(value)

    async def set_allow_http(self, guild_id: int, allow: bool) -> None:
        await self._db.execute(
            "INSERT INTO resource_settings (guild_id, allow_http) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET allow_http = excluded.allow_http",
            (guild_id, int(allow)),
        )

    async def by_suggester(self, user_id: int) -> list[Resource]:
        rows = await self._db.fetchall(
            "SELECT * FROM resources WHERE suggested_by = ? OR vetted_by = ? ORDER BY id",
            (user_id, user_id),
        )
        return [_resource(r) for r in rows]

    async def forget_user(self, user_id: int, guild_id: int | None = None) -> int:
        """Pending suggestions go; vetted items stay as the server's library, unattributed.
        With a guild_id, only in that server."""
        here = "(? IS NULL OR guild_id = ?)"
        async with self._db.transaction():
            gone = await self._db.execute(
                "DELETE FROM resources WHERE suggested_by = ? "
                f"AND status IN ('pending', 'rejected') AND {here}",
                (user_id, guild_id, guild_id),
            )
            await self._db.execute(
                f"UPDATE resources SET suggested_by = NULL WHERE suggested_by = ? AND {here}",
                (user_id, guild_id, guild_id),
            )
            await self._db.execute(
                f"UPDATE resources SET vetted_by = NULL WHERE vetted_by = ? AND {here}",
                (user_id, guild_id, guild_id),
            )
        return gone.rowcount
