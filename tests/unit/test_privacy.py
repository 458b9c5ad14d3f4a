"""/my data and /my forget: every table is covered, the server's records stay, others untouched."""

from __future__ import annotations

import json

from familybot.db.connection import Database
from familybot.models import to_unix
from familybot.services.groups.service import GroupsService
from familybot.wiring import Services
from tests.support.fakes import FakeClock, RecordingPort
from tests.unit import privacy_seed as seed

TARGET = 900_000_000_000_000_001
OTHER = 900_000_000_000_000_002
GUILD = 800_000_000_000_000_001
GUILD2 = 800_000_000_000_000_002

# What may still name the person after /my forget, and why.
KEPT_AFTER_FORGET = {
    "mod_cases",  # warn/timeout/kick/ban cases: the server's record (notes are removed)
    "audit_log",  # append-only, ids only: the server's record
    "join_reviews",  # a removal or denial: the server's record, so forgetting can't undo it
}


async def test_every_table_has_a_seed(db: Database) -> None:
    await seed.check_every_table_seeded(db)


async def test_forget_leaves_no_row_about_the_person(services: Services, db: Database) -> None:
    await seed.check_every_table_seeded(db)
    await seed.seed_all(db, OTHER, GUILD)
    await seed.seed_all(db, TARGET, GUILD)
    await seed.seed_all(db, TARGET, GUILD2)  # a second server: forget covers every server
    await seed.seed_all(db, OTHER, GUILD2)
    other_before = await seed.rows_mentioning(db, OTHER)

    report = await services.privacy.forget_user(TARGET)

    left = await seed.rows_mentioning(db, TARGET)
    assert set(left) <= KEPT_AFTER_FORGET, {t: left[t] for t in set(left) - KEPT_AFTER_FORGET}
    kept_cases = left["mod_cases"]
    assert {c["action"] for c in kept_cases} == {"warn", "ban"}  # notes are gone
    assert len(left["audit_log"]) == 2
    other_after = await seed.rows_mentioning(db, OTHER)
    assert {t: len(r) for t, r in other_after.items()} == {
        t: len(r) for t, r in other_before.items()
    }
    assert report.total > 0 and report.counts["groups"] >= 2
    # Vetted resources stay in the library, unattributed; unapproved suggestions go.
    titles = [r["title"] for r in await db.fetchall("SELECT title FROM resources")]
    assert any(t.endswith("approved") for t in titles)
    assert await db.fetchval("SELECT count(*) FROM resources WHERE suggested_by IS NULL") == 2


async def test_export_has_something_from_every_table(services: Services, db: Database) -> None:
    await seed.seed_all(db, OTHER, GUILD)
    seeded = await seed.seed_all(db, TARGET, GUILD)

    exported = await services.privacy.export_user(TARGET)

    text = json.dumps(exported)  # also proves it is JSON-serialisable
    for table, s in seed.SEEDS.items():
        if s.marker is not None:
            assert s.marker(seeded[table]) in text, f"/my data shows nothing from {table}"
    # Nothing about the other person: their group and their RSVP stay out of my file.
    other_groups = await seed.rows_mentioning(db, OTHER)
    for row in other_groups.get("memberships", []):
        name = await db.fetchval("SELECT name FROM groups WHERE id = ?", (row["group_id"],))
        assert name not in text
    # Facilitators' private notes are listed without their text.
    assert "Private note" not in text


async def test_forget_closes_the_channel_to_them_and_moves_the_waitlist_on(
    services: Services, port: RecordingPort, db: Database, clock: FakeClock
) -> None:
    groups: GroupsService = services.groups
    await db.execute(
        "INSERT INTO groups (guild_id, name, name_key, description, focus, capacity, join_mode,"
        " guidelines, role_id, channel_id, created_by, created_at) "
        "VALUES (?, 'Circle', 'circle', 'd', 'f', 1, 'open', 'g', 77, 78, 1, ?)",
        (GUILD, to_unix(clock.now())),
    )
    group_id = int(await db.fetchval("SELECT id FROM groups"))
    for user, status in ((TARGET, "member"), (OTHER, "waitlisted")):
        await db.execute(
            "INSERT INTO memberships (group_id, user_id, status, consent_version, consented_at,"
            " requested_at) VALUES (?, ?, ?, 1, 0, 0)",
            (group_id, user, status),
        )

    removed = await groups.delete_user_data(TARGET)

    assert removed == 1
    # Their own access to the channel goes (and, in a group from before the upgrade, the
    # old role too); the next on the waitlist gets access of their own, never the role.
    assert ("revoke_channel_access", (GUILD, 78, TARGET)) in port.calls
    assert ("remove_member_role", (GUILD, TARGET, 77)) in port.calls
    assert ("grant_channel_access", (GUILD, 78, OTHER)) in port.calls  # the waitlist moved on
    assert port.can_see(78, OTHER) and not port.can_see(78, TARGET)
    assert not any(name == "add_member_role" for name in port.names())
    row = await db.fetchone("SELECT status FROM memberships WHERE user_id = ?", (OTHER,))
    assert row is not None and row["status"] == "member"
    assert [uid for uid, _ in port.dms] == [OTHER]


async def test_forget_keeps_a_timed_ban_that_is_still_to_be_lifted(
    services: Services, db: Database
) -> None:
    await db.execute(
        "INSERT INTO mod_cases (guild_id, number, action, actor_id, target_id, reason,"
        " created_at, status) VALUES (?, 1, 'ban', 1, ?, 'r', 0, 'done')",
        (GUILD, TARGET),
    )
    await db.execute(
        "INSERT INTO scheduled_unbans (case_id, guild_id, user_id, due_at) VALUES (1, ?, ?, 99)",
        (GUILD, TARGET),
    )

    await services.privacy.forget_user(TARGET)

    assert await services.moderation.pending_unbans() == [(1, seed.from_unix(99))]


async def test_forget_when_a_role_cannot_be_removed_still_forgets(
    services: Services, port: RecordingPort, db: Database
) -> None:
    await seed.memberships(db, TARGET, GUILD)
    port.fail.add("remove_member_role")
    port.fail.add("revoke_channel_access")

    await services.privacy.forget_user(TARGET)

    assert await db.fetchval("SELECT count(*) FROM memberships") == 0


async def test_every_holder_is_asked(services: Services) -> None:
    names = services.privacy.holder_names
    for expected in ("groups", "sessions", "moderation", "crisis_lines", "faq", "resources"):
        assert expected in names
    for _name, holder in services.user_data_holders():
        assert callable(holder.export_user_data) and callable(holder.delete_user_data)


async def test_retention_purge_and_forget_take_channel_access_back(
    services: Services, port: RecordingPort
) -> None:
    """A departed member's purge (here: a member of groups on two servers, so only this
    server's part goes) and /my forget close the group channels to them, facilitators too."""
    from familybot.models import JoinMode

    groups: GroupsService = services.groups
    made = {}
    for guild in (GUILD, GUILD2):
        made[guild] = await groups.create(
            guild_id=guild,
            actor_id=OTHER,
            name="Circle",
            description="d",
            focus="f",
            capacity=None,
            join_mode=JoinMode.OPEN,
        )
        await groups.consent_and_join(made[guild].id, TARGET, 1, guild_id=guild)
    await groups.add_facilitator(GUILD2, "Circle", TARGET, OTHER, True)
    channel, channel2 = made[GUILD].channel_id, made[GUILD2].channel_id
    assert port.can_see(channel, TARGET) and port.can_see(channel2, TARGET)

    await services.privacy.purge_member(GUILD, TARGET)
    assert not port.can_see(channel, TARGET)
    assert port.can_see(channel2, TARGET)  # another server's group is not this purge's
    assert port.can_see(channel, OTHER)  # the facilitator stays

    await services.privacy.forget_user(TARGET)
    assert not port.can_see(channel2, TARGET)  # member and facilitator access both gone
    assert port.can_see(channel2, OTHER)
    assert not port.roles  # no role was ever given
