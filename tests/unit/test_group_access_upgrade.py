"""The upgrade from group roles to per-member channel access (services/groups/group_access.py),
against a real SQLite database and the recording Discord port."""

from __future__ import annotations

from datetime import UTC, datetime

from familybot.db.connection import Database
from familybot.db.repositories.groups import GroupRepository
from familybot.models import GroupStatus, JoinMode, MembershipStatus
from familybot.wiring import Services
from tests.support.fakes import RecordingPort

GUILD = 1
FAC = 10
NOW = datetime(2026, 1, 5, tzinfo=UTC)


async def old_group(
    db: Database,
    port: RecordingPort,
    name: str,
    role: int,
    channel: int,
    members: list[int],
    *,
    archived: bool = False,
) -> int:
    repo = GroupRepository(db)
    group = await repo.create(
        guild_id=GUILD,
        name=name,
        description="d",
        focus="f",
        capacity=None,
        join_mode=JoinMode.OPEN,
        guidelines="g",
        role_id=role,
        channel_id=channel,
        created_by=FAC,
        now=NOW,
    )
    await repo.add_facilitator(group.id, FAC, FAC, NOW)
    port.access[channel] = {FAC: "rw"}
    for uid in members:
        await repo.add_membership(group.id, uid, MembershipStatus.MEMBER, 1, NOW)
        port.roles.setdefault((GUILD, uid), set()).add(role)
    if archived:
        await repo.update(group.id, status=GroupStatus.ARCHIVED, archived_at=NOW)
    return group.id


async def role_ids(db: Database) -> dict[str, int | None]:
    return {r["name"]: r["role_id"] for r in await db.fetchall("SELECT name, role_id FROM groups")}


async def test_each_member_gets_access_before_the_role_goes_then_role_id_is_cleared(
    services: Services, port: RecordingPort, db: Database
) -> None:
    await old_group(db, port, "Parents", 500, 600, [1, 2])
    await old_group(db, port, "Old", 501, 601, [3], archived=True)

    report = await services.group_access.run([GUILD])

    assert (report.upgraded, report.waiting) == (2, 0)
    assert await role_ids(db) == {"Parents": None, "Old": None}
    assert port.access[600] == {FAC: "rw", 1: "rw", 2: "rw"}
    assert port.access[601] == {FAC: "ro", 3: "ro"}  # archived: read-only, as before
    assert all(not held for held in port.roles.values())
    names = port.names()
    # Per group: every grant comes before the role's deletion.
    first_delete = names.index("delete_role")
    assert names[:first_delete].count("grant_channel_access") == 3
    # Running again does nothing at all.
    before = len(port.calls)
    again = await services.group_access.run([GUILD])
    assert (again.upgraded, again.waiting) == (0, 0) and len(port.calls) == before


async def test_a_refused_role_deletion_keeps_role_id_and_the_next_run_finishes(
    services: Services, port: RecordingPort, db: Database
) -> None:
    await old_group(db, port, "Parents", 500, 600, [1])
    port.undeletable_roles.add(500)
    report = await services.group_access.run([GUILD])
    assert (report.upgraded, report.waiting) == (0, 1)
    assert await role_ids(db) == {"Parents": 500}
    assert port.can_see(600, 1)  # access is already theirs

    port.undeletable_roles.clear()
    report = await services.group_access.run([GUILD])
    assert (report.upgraded, report.waiting) == (1, 0)
    assert await role_ids(db) == {"Parents": None}


async def test_a_group_whose_channel_is_gone_still_loses_its_label(
    services: Services, port: RecordingPort, db: Database
) -> None:
    await old_group(db, port, "Parents", 500, 600, [1])
    port.gone_channels.add(600)
    report = await services.group_access.run([GUILD])
    assert report.upgraded == 1
    assert await role_ids(db) == {"Parents": None}
    assert not port.roles[(GUILD, 1)]


async def test_a_group_too_large_for_per_member_access_keeps_its_role_for_now(
    services: Services, port: RecordingPort, db: Database
) -> None:
    await old_group(db, port, "Big", 500, 600, list(range(1000, 1096)))  # +1 facilitator
    report = await services.group_access.run([GUILD])
    assert (report.upgraded, report.waiting) == (0, 1)
    assert await role_ids(db) == {"Big": 500}
    assert "delete_role" not in port.names() and "grant_channel_access" not in port.names()
    # A member leaving gives up the old role too, and the group then fits.
    await services.groups.leave(GUILD, 1000, "Big")
    assert 500 not in port.roles[(GUILD, 1000)]
    report = await services.group_access.run([GUILD])
    assert report.upgraded == 1 and await role_ids(db) == {"Big": None}
    assert len(port.access[600]) == 96


async def test_archiving_a_group_from_before_the_upgrade_removes_its_role(
    services: Services, port: RecordingPort, db: Database
) -> None:
    await old_group(db, port, "Parents", 500, 600, [1])
    await services.groups.archive(GUILD, "Parents")
    assert await role_ids(db) == {"Parents": None}
    assert port.access[600] == {FAC: "ro", 1: "ro"}
    assert not port.roles[(GUILD, 1)]
