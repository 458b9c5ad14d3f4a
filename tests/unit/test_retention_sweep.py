"""The daily membership sweep at size (issue 15): it reads each server's people a keyset page
at a time through that server's own index rows, goes on where the previous sweep stopped,
and lets the event loop run between pages."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from familybot.db.connection import Database
from familybot.db.repositories.privacy import PrivacyRepository
from familybot.services.privacy import retention as retention_module
from familybot.wiring import Services
from tests.support.fakes import FakeClock
from tests.unit import privacy_seed as seed
from tests.unit.test_retention import FakePresence, retention

GUILD = 800_000_000_000_000_001
OTHER_GUILD = 800_000_000_000_000_002
FIRST = 900_000_000_000_000_100


async def people(db: Database, guild_id: int, count: int, first: int = FIRST) -> list[int]:
    """`count` members of one group of `guild_id`, plus an RSVP for every third of them."""
    await seed.memberships(db, first, guild_id)
    group_id = int(await db.fetchval("SELECT max(id) FROM groups"))
    await seed.rsvps(db, first, guild_id)
    series_id = int(await db.fetchval("SELECT max(id) FROM session_series"))
    users = [first + i for i in range(count)]
    async with db.transaction():
        for user in users[1:]:
            await db.execute(
                "INSERT INTO memberships (group_id, user_id, status, consent_version, "
                "consented_at, requested_at, joined_at) VALUES (?, ?, 'member', 1, ?, ?, ?)",
                (group_id, user, seed.NOW, seed.NOW, seed.NOW),
            )
        for user in users[3::3]:
            await db.execute(
                "INSERT INTO rsvps (series_id, occurrence_key, user_id, response, updated_at) "
                "VALUES (?, '2026-10-01', ?, 'going', ?)",
                (series_id, user, seed.NOW),
            )
    return users


async def test_a_big_server_is_covered_over_several_sweeps_a_page_at_a_time(
    services: Services, db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention_module, "MEMBER_CHECK_LIMIT", 5)
    monkeypatch.setattr(retention_module, "MEMBER_CHECK_PAGE", 2)
    users = await people(db, GUILD, 12)
    presence = FakePresence(members={GUILD: set(users)})
    sweep = retention(services, db, clock, presence)
    pages: list[tuple[int, int, int]] = []
    read = sweep._repo.users_to_check

    async def counted(guild_id: int, limit: int, after: int = 0) -> list[int]:
        pages.append((guild_id, limit, after))
        return await read(guild_id, limit, after)

    sweep._repo.users_to_check = counted  # type: ignore[method-assign]

    asked_per_day = []
    for _day in range(3):
        presence.asked.clear()
        await sweep.run()
        asked_per_day.append([u for _, u in presence.asked])
        clock.advance(days=1)

    # Five a day, each going on after the last, round from the first after the last person.
    assert asked_per_day == [users[0:5], users[5:10], users[10:12] + users[0:3]]
    # Pages of at most two, each read after the last person seen.
    assert all(limit <= 2 for _, limit, _ in pages)
    assert pages[:3] == [(GUILD, 2, 0), (GUILD, 2, users[1]), (GUILD, 1, users[3])]


async def test_people_known_to_have_left_are_skipped_and_the_lap_ends_where_it_began(
    services: Services, db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention_module, "MEMBER_CHECK_LIMIT", 4)
    monkeypatch.setattr(retention_module, "MEMBER_CHECK_PAGE", 3)
    users = await people(db, GUILD, 6)
    gone = users[4]
    presence = FakePresence(members={GUILD: set(users) - {gone}})
    sweep = retention(services, db, clock, presence)

    first = await sweep.run()
    assert first.checked == 4 and first.departures_noted == 0
    presence.asked.clear()
    second = await sweep.run()
    # users[4] is found gone; after users[5] the lap goes round to users[0..3], checked
    # yesterday, and stops where it began (users[3]), never asking anyone twice.
    assert second.departures_noted == 1
    assert [u for _, u in presence.asked] == [users[4], users[5], users[0], users[1]]
    presence.asked.clear()
    await sweep.run()
    assert gone not in [u for _, u in presence.asked]  # noted as gone: not asked again


async def test_the_loop_runs_between_pages_even_with_no_pause_between_checks(
    services: Services, db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention_module, "MEMBER_CHECK_PAGE", 10)
    users = await people(db, GUILD, 40)
    presence = FakePresence(members={GUILD: set(users)})
    turns: list[int] = []

    async def instant(guild_id: int, user_id: int) -> bool | None:
        presence.asked.append((guild_id, user_id))
        return True  # answers without ever suspending

    presence.is_member = instant  # type: ignore[method-assign]
    sweep = retention(services, db, clock, presence)

    async def probe() -> None:
        while True:
            turns.append(len(presence.asked))
            await asyncio.sleep(0)

    task = asyncio.create_task(probe())
    try:
        report = await sweep.run()
    finally:
        task.cancel()
    assert report.checked == 40
    # The probe ran while the sweep was between its first and last check.
    assert any(0 < n < 40 for n in turns)


def checked_statements(seen: list[str]) -> int:
    return sum(1 for sql in seen if "memberships" in sql and "UNION" in sql)


@pytest.mark.sqlite_only
async def test_the_sweep_reads_no_whole_table(
    services: Services, db: Database, clock: FakeClock
) -> None:
    users = await people(db, GUILD, 30)
    await people(db, OTHER_GUILD, 30, first=FIRST + 1000)
    await services.privacy.member_left(GUILD, users[0])
    clock.advance(days=31)
    presence = FakePresence(members={GUILD: set(users[1:]), OTHER_GUILD: set()})
    seen: list[str] = []
    await db.connection.set_trace_callback(seen.append)
    try:
        report = await retention(services, db, clock, presence).run()
    finally:
        await db.connection.set_trace_callback(None)
    assert report.checked == 59 and report.members_purged == 1

    con = sqlite3.connect(db.path)
    try:
        scans = set()
        for sql in seen:
            text = sql.lstrip()
            if not ("memberships" in text and "UNION" in text):
                continue  # only the statements that read who has data in which server
            for row in con.execute("EXPLAIN QUERY PLAN " + text):
                if str(row[3]).startswith("SCAN") and str(row[3]) != "SCAN ug":
                    scans.add(str(row[3]))
    finally:
        con.close()
    assert checked_statements(seen) >= 3  # a page per server and the departed one's servers
    assert scans == set()


async def test_guilds_of_user_and_users_to_check_agree_with_the_data(db: Database) -> None:
    users = await people(db, GUILD, 7)
    await people(db, OTHER_GUILD, 3, first=users[2])
    repo = PrivacyRepository(db)
    assert await repo.users_to_check(GUILD, 100) == users
    assert await repo.users_to_check(GUILD, 3, after=users[1]) == users[2:5]
    assert await repo.guilds_of_user(users[2]) == {GUILD, OTHER_GUILD}
    assert await repo.guilds_of_user(users[6]) == {GUILD}


@pytest.mark.sqlite_only
async def test_a_server_purge_asks_who_else_has_data_through_the_indexes(
    services: Services, db: Database
) -> None:
    users = await people(db, GUILD, 10)
    await people(db, OTHER_GUILD, 4, first=users[6])  # users[6..9] are in both servers
    for user in users:
        await seed.member_prefs(db, user, GUILD)
    seen: list[str] = []
    await db.connection.set_trace_callback(seen.append)
    try:
        await services.privacy.purge_guild(GUILD)
    finally:
        await db.connection.set_trace_callback(None)
    kept = {int(r["user_id"]) for r in await db.fetchall("SELECT user_id FROM member_prefs")}
    assert kept == set(users[6:])  # personal settings stay while another server has data

    con = sqlite3.connect(db.path)
    try:
        scans = [
            str(row[3])
            for sql in seen
            if "UNION" in sql
            for row in con.execute("EXPLAIN QUERY PLAN " + sql.lstrip())
            if str(row[3]).startswith("SCAN")
        ]
    finally:
        con.close()
    assert sum(1 for sql in seen if "UNION" in sql) >= 10
    assert scans == []
