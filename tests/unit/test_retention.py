"""Retention: old RSVPs and attendance, members who left, and servers that removed the bot."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from familybot.bot import build_intents
from familybot.config import load_settings
from familybot.db.connection import Database
from familybot.db.repositories.privacy import PrivacyRepository
from familybot.errors import ConfigError
from familybot.models import to_unix
from familybot.services.privacy.retention import RetentionService
from familybot.sharding import ShardFilter, shard_of
from familybot.wiring import Services
from tests.support.fakes import FakeClock
from tests.unit import privacy_seed as seed

ALICE = 900_000_000_000_000_011
BOB = 900_000_000_000_000_012
CAROL = 900_000_000_000_000_013
DAN = 900_000_000_000_000_014
GUILD = 800_000_000_000_000_001
GUILD2 = 800_000_000_000_000_002


@dataclass
class FakePresence:
    """Discord's answers: who is in which server, and which servers the bot is in."""

    members: dict[int, set[int]] = field(default_factory=dict)
    ready: bool = True
    asked: list[tuple[int, int]] = field(default_factory=list)

    async def is_member(self, guild_id: int, user_id: int) -> bool | None:
        self.asked.append((guild_id, user_id))
        if guild_id not in self.members:
            return None
        return user_id in self.members[guild_id]

    def current_guild_ids(self) -> set[int] | None:
        return set(self.members) if self.ready else None


def retention(
    services: Services,
    db: Database,
    clock: FakeClock,
    presence: FakePresence | None = None,
    **kwargs: object,
) -> RetentionService:
    return RetentionService(
        services.privacy,
        PrivacyRepository(db),
        clock,
        presence=presence,
        pace_seconds=0,
        **kwargs,  # type: ignore[arg-type]
    )


async def about(db: Database, user_id: int) -> set[str]:
    return set(await seed.rows_mentioning(db, user_id))


# --- RSVPs and attendance past the window --------------------------------------------------
async def test_old_rsvps_and_attendance_are_purged(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await seed.rsvps(db, ALICE, GUILD)
    await seed.attendance(db, ALICE, GUILD)
    old = to_unix(clock.now() - timedelta(days=181))
    recent = to_unix(clock.now() - timedelta(days=179))
    await db.execute("UPDATE rsvps SET updated_at = ?", (old,))
    await db.execute("UPDATE attendance SET marked_at = ?", (old,))
    await seed.rsvps(db, BOB, GUILD)
    await seed.attendance(db, BOB, GUILD)
    await db.execute("UPDATE rsvps SET updated_at = ? WHERE user_id = ?", (recent, BOB))
    await db.execute("UPDATE attendance SET marked_at = ? WHERE user_id = ?", (recent, BOB))

    report = await retention(services, db, clock).run()

    assert report.activity["rsvps"] == 1 and report.activity["attendance"] == 2
    assert [r["user_id"] for r in await db.fetchall("SELECT user_id FROM rsvps")] == [BOB]
    assert {r["user_id"] for r in await db.fetchall("SELECT user_id FROM attendance")} >= {BOB}
    assert await db.fetchval("SELECT count(*) FROM attendance WHERE user_id = ?", (ALICE,)) == 0


async def test_retention_window_is_configurable(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await seed.rsvps(db, ALICE, GUILD)
    await db.execute(
        "UPDATE rsvps SET updated_at = ?", (to_unix(clock.now() - timedelta(days=31)),)
    )
    await retention(services, db, clock, retention_days=180).run()
    assert await db.fetchval("SELECT count(*) FROM rsvps") == 1
    await retention(services, db, clock, retention_days=30).run()
    assert await db.fetchval("SELECT count(*) FROM rsvps") == 0


# --- members who left -----------------------------------------------------------------------
async def test_member_data_is_purged_30_days_after_they_leave(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await seed.seed_all(db, ALICE, GUILD)
    await seed.memberships(db, BOB, GUILD)
    await db.execute("DELETE FROM member_departures")  # the seeded one: not this departure
    await services.privacy.member_left(GUILD, ALICE)  # the Server Members intent told us
    sweep = retention(services, db, clock, check_members=False)

    clock.advance(days=29)
    await sweep.run()
    assert "memberships" in await about(db, ALICE)

    clock.advance(days=1, seconds=1)
    report = await sweep.run()
    assert report.members_purged == 1
    # The server's record stays: cases, the audit log, removal/denial records.
    assert await about(db, ALICE) <= {"mod_cases", "audit_log", "join_reviews"}
    assert "memberships" in await about(db, BOB)


async def test_member_who_comes_back_within_30_days_keeps_their_data(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await seed.memberships(db, ALICE, GUILD)
    await services.privacy.member_left(GUILD, ALICE)
    clock.advance(days=10)
    await services.privacy.member_returned(GUILD, ALICE)  # on_member_join
    clock.advance(days=40)

    await retention(services, db, clock, check_members=False).run()

    assert "memberships" in await about(db, ALICE)
    assert await db.fetchval("SELECT count(*) FROM member_departures") == 0


async def test_without_the_members_intent_the_sweep_asks_discord(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await seed.memberships(db, ALICE, GUILD)
    await seed.rsvps(db, BOB, GUILD)
    await seed.memberships(db, CAROL, GUILD)
    presence = FakePresence(members={GUILD: {BOB}})  # Alice and Carol have left
    sweep = retention(services, db, clock, presence)

    report = await sweep.run()
    assert report.departures_noted == 2 and report.checked == 3
    presence.asked.clear()
    clock.advance(days=20)
    report = await sweep.run()
    assert (GUILD, ALICE) not in presence.asked  # known gone: not asked again every day
    presence.members[GUILD].add(CAROL)  # Carol rejoined (no event without the intent)
    clock.advance(days=11)

    report = await sweep.run()

    assert report.members_purged == 1
    assert "memberships" not in await about(db, ALICE)
    assert "memberships" in await about(db, CAROL)
    assert "rsvps" in await about(db, BOB)
    assert await db.fetchval("SELECT count(*) FROM member_departures") == 0


async def test_when_discord_cannot_say_the_purge_waits(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await seed.memberships(db, ALICE, GUILD)
    await services.privacy.member_left(GUILD, ALICE)
    presence = FakePresence(members={GUILD: set()})

    async def unknown(guild_id: int, user_id: int) -> bool | None:
        return None

    presence.is_member = unknown  # type: ignore[method-assign]
    clock.advance(days=31)
    await retention(services, db, clock, presence).run()
    assert "memberships" in await about(db, ALICE)


async def test_leaving_one_server_keeps_what_belongs_to_another(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await seed.memberships(db, ALICE, GUILD)
    await seed.rsvps(db, ALICE, GUILD)
    await seed.memberships(db, ALICE, GUILD2)
    await seed.member_prefs(db, ALICE, GUILD2)
    await services.privacy.member_left(GUILD, ALICE)
    clock.advance(days=31)

    await retention(services, db, clock, check_members=False).run()

    guilds = {
        int(r["guild_id"])
        for r in await db.fetchall(
            "SELECT g.guild_id FROM memberships m JOIN groups g ON g.id = m.group_id "
            "WHERE m.user_id = ?",
            (ALICE,),
        )
    }
    assert guilds == {GUILD2}
    assert await db.fetchval("SELECT count(*) FROM rsvps WHERE user_id = ?", (ALICE,)) == 0
    assert await db.fetchval("SELECT timezone FROM member_prefs WHERE user_id = ?", (ALICE,))


async def test_leaving_one_server_forgets_them_there_in_every_table_with_a_server(
    services: Services, db: Database, clock: FakeClock
) -> None:
    """Every table that names a server, not only groups and sessions: FAQ, crisis lines,
    resources, reports... in the server they left, while the other server keeps its rows."""
    await seed.seed_all(db, ALICE, GUILD)
    await seed.seed_all(db, ALICE, GUILD2)
    await db.execute("DELETE FROM member_departures")  # seeded ones would shadow the real one
    await db.execute("DELETE FROM guild_departures")
    before = await seed.rows_mentioning(db, ALICE)
    await services.privacy.member_left(GUILD, ALICE)
    clock.advance(days=31)

    await retention(services, db, clock, check_members=False).run()

    after = await seed.rows_mentioning(db, ALICE)
    checked = 0
    for table, found in after.items():
        here = [r for r in found if r.get("guild_id") == GUILD]
        if table == "mod_cases":  # the server's record stays; private notes go
            assert here and all(r["action"] != "note" for r in here), here
        elif table != "audit_log":  # append-only, the server's record
            assert here == [], f"{table} still names them in the server they left: {here}"
    for table, found in before.items():
        there = [r for r in found if r.get("guild_id") == GUILD2]
        checked += bool(there)
        assert [r for r in after.get(table, []) if r.get("guild_id") == GUILD2] == there, table
    assert checked >= 6  # faq, crisis lines, resources, reports, cases, audit... were seeded


# --- servers that removed the bot -------------------------------------------------------------
async def test_server_data_is_purged_30_days_after_the_bot_is_removed(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await seed.check_every_table_seeded(db)
    await seed.seed_all(db, ALICE, GUILD2)
    await seed.seed_all(db, BOB, GUILD2)
    kept = await seed.row_counts(db)
    await seed.seed_all(db, CAROL, GUILD)
    await seed.seed_all(db, DAN, GUILD)
    await db.execute("DELETE FROM guild_departures")  # the seeded ones: not these departures
    kept["guild_departures"] = 0
    await services.privacy.guild_removed(GUILD)
    # Finished reminder records are pruned after REMINDER_LEDGER_KEEP_DAYS whatever the server
    # (tests/unit/test_ledger_pruning.py): kept here, to see the guild purge alone.
    sweep = retention(services, db, clock, check_members=False, ledger_keep_days=3650)

    clock.advance(days=29)
    await sweep.run()
    assert await seed.rows_mentioning(db, GUILD)

    clock.advance(days=2)
    report = await sweep.run()

    assert report.guilds_purged == 1
    assert await seed.rows_mentioning(db, GUILD) == {}
    for person in (CAROL, DAN):  # their personal settings went with their only server
        assert await seed.rows_mentioning(db, person) == {}
    assert await seed.row_counts(db) == kept  # the other server is untouched
    assert await db.fetchval("SELECT count(*) FROM audit_purge_allowed") == 0
    if not db.is_postgres:  # PostgreSQL refuses a dangling foreign key when it is made
        assert await db.fetchall("PRAGMA foreign_key_check") == []


async def test_bot_added_back_within_30_days_cancels_the_purge(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await seed.memberships(db, ALICE, GUILD)
    await services.privacy.guild_removed(GUILD)
    clock.advance(days=5)
    await services.privacy.guild_returned(GUILD)
    clock.advance(days=60)

    await retention(services, db, clock, check_members=False).run()

    assert "memberships" in await about(db, ALICE)


async def test_a_server_that_removed_the_bot_while_offline_is_noticed(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await seed.guild_settings(db, ALICE, GUILD)
    await seed.memberships(db, ALICE, GUILD)
    await seed.memberships(db, BOB, GUILD2)
    presence = FakePresence(members={GUILD2: {BOB}})  # GUILD is no longer in the bot's list
    sweep = retention(services, db, clock, presence)

    report = await sweep.run()
    assert report.guilds_noted == 1
    assert (GUILD, ALICE) not in presence.asked
    clock.advance(days=31)
    await sweep.run()

    assert "memberships" not in await about(db, ALICE)
    assert "memberships" in await about(db, BOB)


async def test_not_ready_means_no_server_is_taken_for_gone(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await seed.memberships(db, ALICE, GUILD)
    presence = FakePresence(members={}, ready=False)
    report = await retention(services, db, clock, presence).run()
    assert report.guilds_noted == 0 and report.checked == 0


async def test_each_process_sweeps_only_its_own_servers(
    services: Services, db: Database, clock: FakeClock
) -> None:
    pair = (GUILD, GUILD + (1 << 22))  # Discord shards on the bits above 22
    mine = next(g for g in pair if shard_of(g, 2) == 1)
    theirs = next(g for g in pair if g != mine)
    for guild in pair:
        await seed.memberships(db, ALICE, guild)
        await services.privacy.guild_removed(guild)
    clock.advance(days=31)

    await retention(
        services, db, clock, check_members=False, shards=ShardFilter(2, frozenset({1}))
    ).run()

    assert await db.fetchval("SELECT guild_id FROM guild_departures") == theirs


# --- settings -------------------------------------------------------------------------------
def test_retention_settings_and_the_members_intent(tmp_path: Path) -> None:
    defaults = load_settings(tmp_path / "none.env", environ={})
    assert defaults.retention_days == 180 and defaults.members_intent is False
    assert build_intents(defaults).members is False
    chosen = load_settings(
        tmp_path / "none.env", environ={"RETENTION_DAYS": "30", "MEMBERS_INTENT": "true"}
    )
    assert chosen.retention_days == 30 and build_intents(chosen).members is True
    with pytest.raises(ConfigError, match="RETENTION_DAYS"):
        load_settings(tmp_path / "none.env", environ={"RETENTION_DAYS": "0"})


async def test_one_server_that_fails_its_check_stops_neither_the_others_nor_the_purges(
    services: Services, db: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Once, one server's membership check that raised (Discord unreachable for a moment)
    ended the whole day's sweep: no other server was checked and nobody due was purged."""
    await seed.memberships(db, ALICE, GUILD2)
    await services.privacy.member_left(GUILD2, ALICE)
    clock.advance(days=31)  # Alice left 31 days ago: her data goes today
    await seed.memberships(db, BOB, GUILD)
    await seed.memberships(db, CAROL, GUILD2)  # Carol has left too, unnoticed so far
    presence = FakePresence(members={GUILD: {BOB}, GUILD2: set()})
    answer = presence.is_member

    async def unreachable_for_guild(guild_id: int, user_id: int) -> bool | None:
        if guild_id == GUILD:  # checked first (servers in id order)
            raise ConnectionResetError("Connection reset by peer")
        return await answer(guild_id, user_id)

    presence.is_member = unreachable_for_guild  # type: ignore[method-assign]
    report = await retention(services, db, clock, presence).run()

    assert report.departures_noted == 1  # Carol, in the other server
    assert report.members_purged == 1
    assert "memberships" not in await about(db, ALICE)
    assert "memberships" in await about(db, BOB)  # nothing changed where Discord was silent
    failed = [r for r in caplog.records if "membership check failed" in r.getMessage()]
    assert len(failed) == 1 and f"guild={GUILD}" in failed[0].getMessage()
