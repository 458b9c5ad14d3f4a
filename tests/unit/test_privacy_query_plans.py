"""/my data and /my forget cost what the person's rows cost, not the database's size (issue 15).

Every statement they run is captured as SQLite executed it (its trace callback, values bound)
and shown to SQLite's own planner on a second connection: none may read a whole table (or a
whole index of one) to find one person's rows.
"""

from __future__ import annotations

import sqlite3

import pytest

from familybot.db.connection import Database
from familybot.wiring import Services
from tests.unit import privacy_seed as seed
from tests.unit.test_privacy import KEPT_AFTER_FORGET

TARGET = 900_000_000_000_000_001
OTHER = 900_000_000_000_000_002
GUILD = 800_000_000_000_000_001
GUILD2 = 800_000_000_000_000_002
# SQLite's planner and trace callback: the PostgreSQL variant is not collected.
pytestmark = pytest.mark.sqlite_only

NOT_QUERIES = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA", "--")


def full_reads(db: Database, statements: list[str]) -> list[tuple[str, str]]:
    con = sqlite3.connect(db.path)
    try:
        out = []
        planned = 0
        for sql in statements:
            text = sql.lstrip()
            if text.upper().startswith(NOT_QUERIES) or "_fts" in text:
                continue  # transaction control, and FTS5's own bookkeeping of its shadow tables
            planned += 1
            for row in con.execute("EXPLAIN QUERY PLAN " + text):
                if str(row[3]).startswith("SCAN"):
                    out.append((str(row[3]), text[:160]))
        assert planned > 20, planned  # the capture saw the real work
        return out
    finally:
        con.close()


async def traced(db: Database, work: object) -> list[str]:
    seen: list[str] = []
    await db.connection.set_trace_callback(seen.append)
    try:
        await work  # type: ignore[misc]
    finally:
        await db.connection.set_trace_callback(None)
    return seen


async def seeded(db: Database) -> None:
    await seed.seed_all(db, OTHER, GUILD)
    await seed.seed_all(db, TARGET, GUILD)
    await seed.seed_all(db, TARGET, GUILD2)


async def test_export_reads_no_whole_table(services: Services, db: Database) -> None:
    await seeded(db)
    statements = await traced(db, services.privacy.export_user(TARGET))
    assert full_reads(db, statements) == []


async def test_forget_reads_no_whole_table(services: Services, db: Database) -> None:
    await seeded(db)
    statements = await traced(db, services.privacy.forget_user(TARGET))
    assert full_reads(db, statements) == []
    assert set(await seed.rows_mentioning(db, TARGET)) <= KEPT_AFTER_FORGET


async def test_one_server_purge_reads_no_whole_table_and_keeps_the_other_server(
    services: Services, db: Database
) -> None:
    await seeded(db)
    before = await seed.rows_mentioning(db, TARGET)
    statements = await traced(db, services.privacy.purge_member(GUILD, TARGET))
    # Left for the retention work of issue 15: "which servers is this person still in" reads a
    # union of every membership-like table. Everything else finds the person by index.
    assert [r for r in full_reads(db, statements) if "UNION SELECT" not in r[1]] == []
    after = await seed.rows_mentioning(db, TARGET)
    # Rows of the other server stay (fewer rows overall, none gone from every table).
    assert sum(map(len, after.values())) < sum(map(len, before.values()))
    assert {"rsvps", "attendance", "memberships"} <= set(after)
