"""The daily purges delete in batches, each its own short transaction (issue 15): while one
runs, another connection sees the rows go batch by batch, and what must stay stays."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from familybot.db.connection import Database
from familybot.db.repositories.privacy import PrivacyRepository
from familybot.models import to_unix
from tests.support.fakes import FakeClock
from tests.unit import privacy_seed as seed

GUILD = 800_000_000_000_000_001
USERS = [900_000_000_000_000_100 + i for i in range(25)]


async def _watch(db: Database, table: str) -> tuple[Database, list[int]]:
    """After every DELETE on `table`, the row count a second connection sees then."""
    other = await Database.connect(db.path)
    seen: list[int] = []
    execute = db.execute
    depth = [0]  # a backend's execute may call itself (inside its own transaction): outermost

    async def spy(sql: str, params: Any = ()) -> Any:
        depth[0] += 1
        try:
            result = await execute(sql, params)
        finally:
            depth[0] -= 1
        if depth[0] == 0 and sql.startswith(f"DELETE FROM {table} "):
            seen.append(int(await other.fetchval(f"SELECT count(*) FROM {table}")))
        return result

    db.execute = spy  # type: ignore[method-assign]
    return other, seen


async def test_old_rsvps_go_in_batches_each_committed_alone(db: Database, clock: FakeClock) -> None:
    for user in USERS:
        await seed.rsvps(db, user, GUILD)
    old = to_unix(clock.now() - timedelta(days=200))
    await db.execute("UPDATE rsvps SET updated_at = ? WHERE user_id <> ?", (old, USERS[0]))
    other, seen = await _watch(db, "rsvps")
    try:
        out = await PrivacyRepository(db).purge_activity_before(
            clock.now() - timedelta(days=180), batch=10
        )
    finally:
        await other.close()
    assert out["rsvps"] == 24
    # 24 old of 25: batches of 10, 10 and 4, each seen by the other connection at once.
    assert seen == [15, 5, 1]
    assert [r["user_id"] for r in await db.fetchall("SELECT user_id FROM rsvps")] == [USERS[0]]


async def test_dm_ledger_rows_go_in_batches_and_pending_ones_stay(
    db: Database, clock: FakeClock
) -> None:
    for user in USERS:
        await seed.reminder_ledger(db, user, GUILD)
    old = to_unix(clock.now() - timedelta(days=200))
    await db.execute("UPDATE reminder_ledger SET occurrence_start = ?", (old,))
    await db.execute(
        "UPDATE reminder_ledger SET state = 'pending' WHERE target IN (?, ?)",
        (f"dm:{USERS[3]}", f"dm:{USERS[17]}"),
    )
    other, seen = await _watch(db, "reminder_ledger")
    try:
        out = await PrivacyRepository(db).purge_activity_before(
            clock.now() - timedelta(days=180), batch=7
        )
    finally:
        await other.close()
    assert out["reminder_ledger"] == 23
    assert seen == [18, 11, 4, 2]
    left = {r["target"] for r in await db.fetchall("SELECT target FROM reminder_ledger")}
    assert left == {f"dm:{USERS[3]}", f"dm:{USERS[17]}"}


async def test_finished_ledger_rows_are_pruned_in_batches(db: Database, clock: FakeClock) -> None:
    for user in USERS:
        await seed.reminder_ledger(db, user, GUILD)
    old = to_unix(clock.now() - timedelta(days=30))
    await db.execute("UPDATE reminder_ledger SET occurrence_start = ?, due_at = ?", (old, old))
    await db.execute(
        "UPDATE reminder_ledger SET state = 'pending' WHERE target = ?", (f"dm:{USERS[5]}",)
    )
    other, seen = await _watch(db, "reminder_ledger")
    try:
        pruned = await PrivacyRepository(db).prune_ledger_before(
            clock.now() - timedelta(days=14), batch=10
        )
    finally:
        await other.close()
    assert pruned == 24
    assert seen == [15, 5, 1]
    assert await db.fetchval("SELECT target FROM reminder_ledger") == f"dm:{USERS[5]}"
