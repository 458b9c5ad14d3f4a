"""/my forget for a member of many groups: their series are re-planned together (issue 15).

Leaving each group changes who is seated there, and each group's series are re-planned so
the person's DM reminders go. Re-planned one group at a time, each further group cost 10
statements here (more with more series); re-planned in one pass, it costs only its own 3
(its membership row, the waitlist check). Counted on both backends by wrapping the
database's calls; what is stored afterwards is checked too.
"""

from __future__ import annotations

from typing import Any

from familybot.db.connection import Database
from familybot.models import to_unix
from familybot.wiring import Services
from tests.support.fakes import FakeClock

GUILD = 800_000_000_000_000_009
FEW, MANY = 900_000_000_000_000_011, 900_000_000_000_000_012
# Statements each further group may add to a forget: its membership row, the waitlist check,
# and a little slack. A re-plan per group (before the fix) added 10.
PER_GROUP_BOUND = 5


async def member_of_groups(db: Database, clock: FakeClock, user_id: int, n: int) -> list[int]:
    """n groups, each with a weekly series and `user_id` seated, DM reminders on: the
    clock's next session starts in 70 minutes, so its 1-hour reminders are planned now."""
    now = to_unix(clock.now())
    ids = []
    for g in range(n):
        name = f"circle {user_id % 1000}-{g}"
        await db.execute(
            "INSERT INTO groups (guild_id, name, name_key, description, focus, join_mode,"
            " guidelines, channel_id, created_by, created_at) "
            "VALUES (?, ?, ?, 'd', 'f', 'open', 'g', NULL, 1, ?)",
            (GUILD, name, name, now),
        )
        gid = int(await db.fetchval("SELECT max(id) FROM groups"))
        ids.append(gid)
        await db.execute(
            "INSERT INTO memberships (group_id, user_id, status, consent_version, consented_at,"
            " requested_at, joined_at) VALUES (?, ?, 'member', 1, ?, ?, ?)",
            (gid, user_id, now, now, now),
        )
        await db.execute(
            "INSERT INTO session_series (group_id, guild_id, title, tz, first_local, repeat,"
            " duration_minutes, created_by, created_at, planned_until)"
            " VALUES (?, ?, 'Evening', 'UTC', '2026-11-20T13:10', 'weekly', 60, 1, ?, ?)",
            (gid, GUILD, now, now),
        )
    await db.execute(
        "INSERT INTO member_prefs (user_id, timezone, dm_reminders, updated_at)"
        " VALUES (?, 'UTC', 1, ?)",
        (user_id, now),
    )
    return ids


def counting(db: Database) -> list[str]:
    """Every call the services make on `db` from now on (wrapped on the instance)."""
    seen: list[str] = []
    outer: list[str] = []  # the calls under way (nested: a backend calling itself)
    for name in ("fetchall", "fetchone", "fetchval", "execute", "executemany"):
        inner = getattr(db, name)

        async def call(sql: str, *args: Any, _inner: Any = inner, **kwargs: Any) -> Any:
            # A backend's own calls to itself (fetchval through fetchone) count once.
            if not outer:
                seen.append(sql)
            outer.append(sql)
            try:
                return await _inner(sql, *args, **kwargs)
            finally:
                outer.pop()

        setattr(db, name, call)
    return seen


async def pending_dms(db: Database, user_id: int) -> int:
    return int(
        await db.fetchval(
            "SELECT count(*) FROM reminder_ledger WHERE target = ? AND state = 'pending'",
            (f"dm:{user_id}",),
        )
    )


async def test_forget_replans_all_of_a_members_groups_in_one_pass(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await member_of_groups(db, clock, FEW, 2)
    await member_of_groups(db, clock, MANY, 10)
    series = await db.fetchall("SELECT id FROM session_series")
    await services.planner.replan([int(r["id"]) for r in series])  # their DM reminders
    assert await pending_dms(db, FEW) > 0 and await pending_dms(db, MANY) > 0

    seen = counting(db)
    await services.privacy.forget_user(FEW)
    for_few = len(seen)
    seen.clear()
    await services.privacy.forget_user(MANY)
    for_many = len(seen)

    assert for_many - for_few <= PER_GROUP_BOUND * (10 - 2), (for_few, for_many)
    # What is stored: no seat, no reminder left for either of them.
    for user_id in (FEW, MANY):
        assert (
            await db.fetchval("SELECT count(*) FROM memberships WHERE user_id = ?", (user_id,)) == 0
        )
        assert await pending_dms(db, user_id) == 0


async def test_forget_writes_the_same_statements_for_ten_groups_as_for_two(
    services: Services, db: Database, clock: FakeClock
) -> None:
    """Each further group used to add its own DELETE of the membership row: a commit (a
    disk flush on PostgreSQL) per group. Now one statement leaves them all; what is added
    per group is the waitlist check (reads)."""
    await member_of_groups(db, clock, FEW, 2)
    await member_of_groups(db, clock, MANY, 10)

    def writes(seen: list[str]) -> list[str]:
        return [s for s in seen if s.lstrip().split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]

    seen = counting(db)
    await services.privacy.forget_user(FEW)
    for_few = writes(seen)
    seen.clear()
    await services.privacy.forget_user(MANY)
    assert len(writes(seen)) == len(for_few), (for_few, writes(seen))
    # Nobody waits in these groups: no waitlist check per group either (one for all).
    waits = [s for s in seen if "waitlisted" in s]
    assert len(waits) == 1, waits
    for user_id in (FEW, MANY):
        assert (
            await db.fetchval("SELECT count(*) FROM memberships WHERE user_id = ?", (user_id,)) == 0
        )
