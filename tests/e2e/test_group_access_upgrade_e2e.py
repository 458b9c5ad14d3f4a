"""The upgrade of an existing install from group roles to per-person channel access.

An install made before it has, per group, a role named after the group that every member
holds (visible on their profile), and a channel opened to that role. At start the bot gives
each member their own overwrite, deletes the role and clears groups.role_id, one group at a
time. Here it is interrupted midway (a role deletion never answers; the process stops), then
restarted: the end state is right, members never lost access, and a further start changes
nothing.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from familybot.db.migrate import migrate
from familybot.db.repositories.groups import GroupRepository
from familybot.models import GroupStatus, JoinMode, MembershipStatus
from tests.e2e.harness import World, eventually, open_database, privacy_violations, rows
from tests.support.fake_discord.errors import ApiError
from tests.support.fake_discord.permissions import READ_MESSAGE_HISTORY, SEND_MESSAGES, VIEW_CHANNEL

pytestmark = pytest.mark.asyncio

MEMBER = VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY
NAMES = ("Parents Circle", "Siblings", "Grief After Suicide Loss", "Old Circle")


async def old_install(world: World) -> dict[str, dict[str, Any]]:
    """What the previous version left: named roles, held by members; role overwrites."""
    fake, gid = world.fake, world.guild_id
    guild = fake.guild(gid)
    db = await open_database(world)
    groups: dict[str, dict[str, Any]] = {}
    try:
        await migrate(db)
        repo = GroupRepository(db)
        now = datetime.now(UTC)
        everyone = [world.alice, world.bob, world.carol]
        for i, name in enumerate(NAMES):
            members = everyone[: 1 + i % 3]
            role = fake.add_role(gid, name)
            archived = name == "Old Circle"
            overwrites = [
                {"id": gid, "type": 0, "allow": 0, "deny": VIEW_CHANNEL},
                {
                    "id": role,
                    "type": 0,
                    "allow": VIEW_CHANNEL | READ_MESSAGE_HISTORY | (0 if archived else MEMBER),
                    "deny": SEND_MESSAGES if archived else 0,
                },
                {"id": fake.bot_user_id, "type": 1, "allow": MEMBER, "deny": 0},
                {"id": world.facilitator, "type": 1, "allow": MEMBER, "deny": 0},
            ]
            channel = fake.add_text_channel(
                gid, name.lower().replace(" ", "-"), permission_overwrites=overwrites
            )
            for uid in members:
                fake.member(gid, uid)["roles"].append(str(role))
            group = await repo.create(
                guild_id=gid,
                name=name,
                description="A weekly circle",
                focus="families",
                capacity=None,
                join_mode=JoinMode.OPEN,
                guidelines="Be kind.",
                role_id=role,
                channel_id=channel,
                created_by=world.facilitator,
                now=now,
            )
            await repo.add_facilitator(group.id, world.facilitator, world.facilitator, now)
            for uid in members:
                await repo.add_membership(group.id, uid, MembershipStatus.MEMBER, 1, now)
            if archived:
                await repo.update(group.id, status=GroupStatus.ARCHIVED, archived_at=now)
            groups[name] = {
                "id": group.id,
                "role": role,
                "channel": channel,
                "members": members,
                "archived": archived,
            }
    finally:
        await db.close()
    guild.roles[guild.bot_role_id]["position"] = 1000  # above the roles it made, as told to
    return groups


def can(world: World, channel: int, user: int, perm: int) -> bool:
    return bool(world.fake.permissions_in(channel, user) & perm)


def assert_every_member_can_read(world: World, groups: dict[str, dict[str, Any]]) -> None:
    for name, g in groups.items():
        for uid in [*g["members"], world.facilitator]:
            assert can(world, g["channel"], uid, VIEW_CHANNEL), (name, uid)


def assert_upgraded(world: World, groups: dict[str, dict[str, Any]]) -> None:
    fake, gid = world.fake, world.guild_id
    everyone = {world.alice, world.bob, world.carol}
    for name, g in groups.items():
        assert fake.role_named(gid, name) is None, name  # the named role is gone
        channel = fake.channel(g["channel"])
        assert all(int(o["id"]) != g["role"] for o in channel["permission_overwrites"])
        for uid in g["members"]:
            assert can(world, g["channel"], uid, VIEW_CHANNEL), (name, uid)
            # Archived: still readable, closed to posts, as before the upgrade.
            assert can(world, g["channel"], uid, SEND_MESSAGES) is not g["archived"], (name, uid)
        for uid in everyone - set(g["members"]):
            assert not can(world, g["channel"], uid, VIEW_CHANNEL), (name, uid)
    for uid in everyone:
        assert fake.member(gid, uid)["roles"] == []  # nothing on anyone's profile


async def upgrade_finished(world: World) -> None:
    assert world.bot is not None
    bot = world.bot
    await eventually(lambda: bot._upgrade_task is not None and bot._upgrade_task.done(), 10)


def changes_since(world: World, start: int) -> list[str]:
    return [
        f"{r.method} {r.path}"
        for r in world.fake.requests[start:]
        if r.method in ("PUT", "DELETE", "PATCH", "POST")
        and ("/permissions/" in r.path or "/roles" in r.path)
    ]


async def test_old_roles_become_channel_access_across_a_crash_midway(world: World) -> None:
    await world.stop_bot()
    groups = await old_install(world)
    # The old state does break the (widened) privacy check: roles name the groups.
    assert any("role" in p for p in privacy_violations(world))

    # The third group's role deletion never answers: the process "crashes" there.
    stuck = groups[NAMES[2]]["role"]
    release = asyncio.Event()
    reached = asyncio.Event()

    async def hang(req: Any) -> None:
        reached.set()
        await release.wait()
        raise ApiError(500, 0, "gone")

    world.fake.add_route("DELETE", f"/guilds/{world.guild_id}/roles/{stuck}", hang)
    await world.start_bot()
    await asyncio.wait_for(reached.wait(), 10)

    # Midway: the first two groups are done and recorded, the rest are not, and nobody lost
    # access at any point (their overwrite came before the role went).
    recorded = {r["id"]: r["role_id"] for r in await rows(world, "SELECT id, role_id FROM groups")}
    assert recorded[groups[NAMES[0]]["id"]] is None and recorded[groups[NAMES[1]]["id"]] is None
    assert recorded[groups[NAMES[2]]["id"]] == stuck
    assert recorded[groups[NAMES[3]]["id"]] == groups[NAMES[3]]["role"]
    assert world.fake.role_named(world.guild_id, NAMES[3]) is not None
    assert_every_member_can_read(world, groups)

    # The crash: the process goes away without finishing (no care check on a half state).
    await world.crash()
    release.set()
    world.fake.routes.pop(0)
    assert_every_member_can_read(world, groups)

    # The next start finishes the job.
    await world.start_bot()
    await upgrade_finished(world)
    assert await rows(world, "SELECT role_id FROM groups WHERE role_id IS NOT NULL") == []
    assert_upgraded(world, groups)
    assert privacy_violations(world) == []

    # Running again changes nothing on Discord or in the database.
    before_db = await rows(world, "SELECT * FROM groups ORDER BY id")
    before_channels = {g["channel"]: world.fake.channel(g["channel"]) for g in groups.values()}
    snapshot = {cid: list(c["permission_overwrites"]) for cid, c in before_channels.items()}
    start = len(world.fake.requests)
    await world.restart()
    await upgrade_finished(world)
    assert changes_since(world, start) == []
    assert await rows(world, "SELECT * FROM groups ORDER BY id") == before_db
    for cid, overwrites in snapshot.items():
        assert world.fake.channel(cid)["permission_overwrites"] == overwrites
    assert_upgraded(world, groups)


async def test_a_role_discord_will_not_delete_waits_and_setup_show_says_so(world: World) -> None:
    await world.stop_bot()
    groups = await old_install(world)
    guild = world.fake.guild(world.guild_id)
    guild.roles[guild.bot_role_id]["position"] = 1  # below the old roles: deletion refused
    await world.start_bot()
    await world.configure()
    await upgrade_finished(world)
    # Members got their own access anyway; the roles wait for the next start.
    assert_every_member_can_read(world, groups)
    assert len(await rows(world, "SELECT id FROM groups WHERE role_id IS NOT NULL")) == 4
    h = await world.run(world.admin, "setup", "show")
    shown = str(h.callback)
    assert "old role of group **Parents Circle**" in shown and "Manage Roles" in shown
    # Once the admin fixes the order, the next start finishes.
    guild.roles[guild.bot_role_id]["position"] = 1000
    await world.crash()  # not stop_bot: its care check would (rightly) see the roles
    await world.start_bot()
    await upgrade_finished(world)
    assert_upgraded(world, groups)


async def test_a_member_discord_no_longer_knows_does_not_cut_off_the_others(world: World) -> None:
    """Discord answers 404 Unknown Member for someone who left within the 30 days: that is
    not "the channel is gone", so everyone after them still gets access before the role goes."""
    await world.stop_bot()
    groups = await old_install(world)
    circle = groups["Grief After Suicide Loss"]  # alice, bob and carol
    gone = circle["members"][0]
    world.fake.fail_next(
        "PUT",
        rf"/channels/{circle['channel']}/permissions/{gone}",
        status=404,
        body={"code": 10013, "message": "Unknown User"},
    )
    await world.start_bot()
    await upgrade_finished(world)
    assert await rows(world, "SELECT role_id FROM groups WHERE role_id IS NOT NULL") == []
    for uid in circle["members"][1:]:
        assert can(world, circle["channel"], uid, VIEW_CHANNEL), uid
    assert world.fake.role_named(world.guild_id, "Grief After Suicide Loss") is None
