"""reminder_ledger (the outbox), member_prefs and dm_failures."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from familybot.db.connection import Database, Row
from familybot.models import LedgerRow, LedgerState, MemberPrefs, from_unix, to_unix
from familybot.sharding import ALL, ShardFilter


def parse_offsets(text: str | None) -> tuple[int, ...] | None:
    if not text:
        return None
    return tuple(int(x) for x in text.split(",") if x)


def format_offsets(offsets: Sequence[int]) -> str:
    return ",".join(str(int(o)) for o in sorted(set(offsets), reverse=True))


def _ledger(row: Row) -> LedgerRow:
    return LedgerRow(
        id=row["id"],
        series_id=row["series_id"],
        occurrence_key=row["occurrence_key"],
        occurrence_start=from_unix(row["occurrence_start"]),
        offset_minutes=row["offset_minutes"],
        target=row["target"],
        due_at=from_unix(row["due_at"]),
        state=LedgerState(row["state"]),
        attempts=row["attempts"],
        attempt_at=from_unix(row["attempt_at"]) if row["attempt_at"] is not None else None,
        first_attempt_at=(
            from_unix(row["first_attempt_at"]) if row["first_attempt_at"] is not None else None
        ),
        message_id=row["message_id"],
        late=bool(row["late"]),
    )


@dataclass(frozen=True)
class PlannedReminder:
    series_id: int
    occurrence_key: str
    occurrence_start: datetime
    offset_minutes: int
    target: str
    due_at: datetime


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _shard_join(shards: ShardFilter) -> tuple[str, str, tuple[int, ...]]:
    """What keeps a query on the ledger `l` to the rows of servers on `shards`: a join to the
    row's series, a condition (both end in a space) and its parameters. All empty when this
    process runs every shard: the query then reads the ledger alone, as without sharding."""
    if shards.owns_all:
        return "", "", ()
    ours, params = shards.sql("s.guild_id")
    return "JOIN session_series s ON s.id = l.series_id ", f"AND {ours} ", params


def _ledger_values(r: PlannedReminder) -> tuple[object, ...]:
    """A planned reminder as the ledger's (series_id, occurrence_key, occurrence_start,
    offset_minutes, target, due_at) columns."""
    return (
        r.series_id,
        r.occurrence_key,
        to_unix(r.occurrence_start),
        r.offset_minutes,
        r.target,
        to_unix(r.due_at),
    )


class ReminderRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- the ledger -----------------------------------------------------------------------
    async def plan(self, reminders: Iterable[PlannedReminder]) -> None:
        """Insert planned reminders; the unique key makes planning the same one twice a no-op.

        A row cancelled earlier comes back to life only when it is planned again, which
        happens only when it is valid again (say, an occurrence moved back to its old time).
        """
        await self._db.executemany(
            "INSERT INTO reminder_ledger (series_id, occurrence_key, occurrence_start, "
            "offset_minutes, target, due_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (series_id, occurrence_key, occurrence_start, offset_minutes, target) "
            "DO UPDATE SET state = 'pending', claimed_by = NULL "
            "WHERE reminder_ledger.state = 'cancelled'",
            [_ledger_values(r) for r in reminders],
        )

    def _claimable(self, column: str = "claimed_by") -> str:
        """Rows nobody claimed, this process claimed, or a process now gone claimed.
        One parameter: this process's token."""
        return (
            f"({column} IS NULL OR {column} = ? "
            f"OR {column} NOT IN ({self._db.dialect.live_claimants()}))"
        )

    async def due(
        self,
        now: datetime,
        limit: int,
        shards: ShardFilter = ALL,
        *,
        after: tuple[datetime, int] | None = None,
        claimant: int = 0,
    ) -> list[LedgerRow]:
        """Unsent rows due by `now`, of servers on this process's shards only: another
        process sharing the database sends the rest, so none goes out twice. Rows another
        live process has claimed are left out (see `claim`).

        In (due_at, id) order; `after` (the last row's due_at and id) reads the next page.
        """
        page = f"AND {self._claimable('l.claimed_by')} "
        page_params: tuple[object, ...] = (claimant,)
        if after is not None:
            page += "AND (l.due_at, l.id) > (?, ?) "
            page_params += (to_unix(after[0]), after[1])
        join, ours, shard_params = _shard_join(shards)
        rows = await self._db.fetchall(
            f"SELECT l.* FROM reminder_ledger l {join}WHERE l.state IN ('pending', 'sending') "
            f"AND l.due_at <= ? {page}{ours}ORDER BY l.due_at, l.id LIMIT ?",
            (to_unix(now), *page_params, *shard_params, limit),
        )
        return [_ledger(r) for r in rows]

    async def orphaned(
        self, now: datetime, shards: ShardFilter = ALL, *, claimant: int = 0
    ) -> dict[int, datetime]:
        """Per process now gone (its claim token; not `claimant`, not a live one), the latest
        due instant of the unsent rows due by `now` it had claimed; empty when there are none.
        Such rows were passed over by every run so far, this process's included (their
        claimant lived then)."""
        gone = (
            "l.claimed_by IS NOT NULL AND l.claimed_by <> ? "
            f"AND l.claimed_by NOT IN ({self._db.dialect.live_claimants()})"
        )
        join, ours, shard_params = _shard_join(shards)
        rows = await self._db.fetchall(
            f"SELECT l.claimed_by, max(l.due_at) FROM reminder_ledger l {join}"
            f"WHERE l.state IN ('pending', 'sending') AND l.due_at <= ? AND {gone} {ours}"
            "GROUP BY l.claimed_by",
            (to_unix(now), claimant, *shard_params),
        )
        return {int(r[0]): from_unix(int(r[1])) for r in rows}

    async def pending_instants(self, until: datetime, shards: ShardFilter = ALL) -> list[datetime]:
        return [instant for instant, _ in await self.pending_instant_counts(until, shards)]

    async def pending_instant_counts(
        self, until: datetime, shards: ShardFilter = ALL
    ) -> list[tuple[datetime, int]]:
        """Each instant with unsent reminders due by `until`, and how many fall due then."""
        join, ours, shard_params = _shard_join(shards)
        rows = await self._db.fetchall(
            f"SELECT l.due_at, count(*) AS n FROM reminder_ledger l {join}"
            f"WHERE l.state IN ('pending', 'sending') AND l.due_at <= ? {ours}"
            "GROUP BY l.due_at ORDER BY l.due_at",
            (to_unix(until), *shard_params),
        )
        return [(from_unix(r["due_at"]), int(r["n"])) for r in rows]

    async def get(self, ledger_id: int) -> LedgerRow | None:
        row = await self._db.fetchone("SELECT * FROM reminder_ledger WHERE id = ?", (ledger_id,))
        return _ledger(row) if row else None

    async def claim(self, ids: Sequence[int], claimant: int) -> set[int]:
        """Claim unsent rows for this process (token `claimant`); the ids it now holds.

        Processes sharing the database may read the same due rows; each sends only what it
        claimed, and a row stays claimed while its claimant lives (familybot/db/peers.py),
        so each reminder goes to one process. The claim is one statement in a serialised
        transaction; on PostgreSQL rows another process is claiming at that moment are
        skipped (SKIP LOCKED), not waited for.
        """
        if not ids:
            return set()
        async with self._db.transaction():
            rows = await self._db.fetchall(
                "UPDATE reminder_ledger SET claimed_by = ? WHERE id IN ("
                f"SELECT id FROM reminder_ledger WHERE id IN ({_marks(len(ids))}) "
                f"AND state IN ('pending', 'sending') AND {self._claimable()} "
                f"ORDER BY id{self._db.dialect.skip_locked}) RETURNING id",
                (claimant, *ids, claimant),
            )
        return {int(r[0]) for r in rows}

    async def mark_sending(self, ids: Sequence[int], now: datetime) -> None:
        await self._db.executemany(
            "UPDATE reminder_ledger SET state = 'sending', attempts = attempts + 1, attempt_at = ?, "
            "first_attempt_at = coalesce(first_attempt_at, ?) "
            "WHERE id = ? AND state IN ('pending', 'sending')",
            [(to_unix(now), to_unix(now), i) for i in ids],
        )

    async def mark_sent(
        self, results: Iterable[tuple[int, int | None, bool]], now: datetime
    ) -> None:
        """results: (ledger id, message id, sent late)."""
        await self._db.executemany(
            "UPDATE reminder_ledger SET state = 'sent', sent_at = ?, message_id = ?, late = ? "
            "WHERE id = ? AND state IN ('pending', 'sending')",
            [(to_unix(now), mid, int(late), i) for i, mid, late in results],
        )

    async def mark(self, ids: Sequence[int], state: LedgerState) -> None:
        await self._db.executemany(
            "UPDATE reminder_ledger SET state = ? WHERE id = ? AND state IN ('pending', 'sending')",
            [(state.value, i) for i in ids],
        )

    async def cancel_occurrence(self, series_id: int, key: str) -> int:
        cursor = await self._db.execute(
            "UPDATE reminder_ledger SET state = 'cancelled' WHERE series_id = ? AND occurrence_key = ? "
            "AND state = 'pending'",
            (series_id, key),
        )
        return cursor.rowcount

    async def cancel_series(self, series_ids: Sequence[int]) -> None:
        await self._db.executemany(
            "UPDATE reminder_ledger SET state = 'cancelled' WHERE series_id = ? AND state = 'pending'",
            [(sid,) for sid in series_ids],
        )

    async def for_occurrence(self, series_id: int, key: str) -> list[LedgerRow]:
        rows = await self._db.fetchall(
            "SELECT * FROM reminder_ledger WHERE series_id = ? AND occurrence_key = ? ORDER BY id",
            (series_id, key),
        )
        return [_ledger(r) for r in rows]

    async def move_row(
        self, ledger_id: int, series_id: int, key: str, start: datetime, due: datetime
    ) -> None:
        """An edit hands a reminder row to the occurrence's partner in the new series."""
        await self._db.execute(
            "UPDATE reminder_ledger SET series_id = ?, occurrence_key = ?, occurrence_start = ?, "
            "due_at = ? WHERE id = ?",
            (series_id, key, to_unix(start), to_unix(due), ledger_id),
        )

    async def mark_already_sent(self, rows: Iterable[PlannedReminder]) -> None:
        """Rows that stop the planner from sending a reminder again: that reminder went out
        for the occurrence before an edit moved it. 'skipped' is never planned again."""
        await self._db.executemany(
            "INSERT OR IGNORE INTO reminder_ledger (series_id, occurrence_key, occurrence_start, "
            "offset_minutes, target, due_at, state) VALUES (?, ?, ?, ?, ?, ?, 'skipped')",
            [_ledger_values(r) for r in rows],
        )

    # --- personal preferences -------------------------------------------------------------
    async def prefs(self, user_id: int) -> MemberPrefs:
        row = await self._db.fetchone("SELECT * FROM member_prefs WHERE user_id = ?", (user_id,))
        if row is None:
            return MemberPrefs(user_id)
        return MemberPrefs(
            user_id=user_id,
            timezone=row["timezone"],
            dm_reminders=bool(row["dm_reminders"]),
            dm_offsets=parse_offsets(row["dm_offsets"]),
        )

    async def set_timezone(self, user_id: int, tz: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO member_prefs (user_id, timezone, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET timezone = excluded.timezone, updated_at = excluded.updated_at",
            (user_id, tz, to_unix(now)),
        )

    async def set_dm(
        self, user_id: int, on: bool, offsets: Sequence[int] | None, now: datetime
    ) -> None:
        await self._db.execute(
            "INSERT INTO member_prefs (user_id, dm_reminders, dm_offsets, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET dm_reminders = excluded.dm_reminders, "
            "dm_offsets = excluded.dm_offsets, updated_at = excluded.updated_at",
            (user_id, int(on), format_offsets(offsets) if offsets else None, to_unix(now)),
        )

    async def dm_subscribers(
        self, group_ids: Sequence[int]
    ) -> dict[int, list[tuple[int, tuple[int, ...] | None]]]:
        """group id -> [(user id, personal offsets or None)] of seated members with DMs on."""
        out: dict[int, list[tuple[int, tuple[int, ...] | None]]] = {g: [] for g in group_ids}
        if not group_ids:
            return out
        rows = await self._db.fetchall(
            "SELECT m.group_id, m.user_id, p.dm_offsets FROM memberships m "
            "JOIN member_prefs p ON p.user_id = m.user_id "
            f"WHERE m.status = 'member' AND p.dm_reminders = 1 AND m.group_id IN ({_marks(len(group_ids))}) "
            "ORDER BY m.user_id",
            tuple(group_ids),
        )
        for r in rows:
            out[r["group_id"]].append((r["user_id"], parse_offsets(r["dm_offsets"])))
        return out

    # --- undelivered DMs ------------------------------------------------------------------
    async def record_dm_failure(self, user_id: int, kind: str, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO dm_failures (user_id, kind, created_at) VALUES (?, ?, ?)",
            (user_id, kind, to_unix(now)),
        )

    async def unnotified_dm_failures(self, user_id: int) -> int:
        return int(
            await self._db.fetchval(
                "SELECT count(*) FROM dm_failures WHERE user_id = ? AND notified_at IS NULL",
                (user_id,),
            )
        )

    async def mark_dm_failures_notified(self, user_id: int, now: datetime) -> None:
        await self._db.execute(
            "UPDATE dm_failures SET notified_at = ? WHERE user_id = ? AND notified_at IS NULL",
            (to_unix(now), user_id),
        )
