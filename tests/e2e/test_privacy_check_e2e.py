"""The shared care check (harness.privacy_violations, run whenever a World's bot stops) sees
more than messages: what a plain member with no roles can see of the server. Each test
below builds a state that gives membership away and shows the check catches it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from familybot.db.migrate import migrate
from familybot.db.repositories.groups import GroupRepository
from familybot.models import JoinMode, MembershipStatus
from tests.e2e.harness import (
    World,
    assert_nothing_private_in_public,
    custom_ids,
    open_database,
    rows,
)
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_discord.permissions import VIEW_CHANNEL

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def offline(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    """A server and a database with one group ("Parents Circle", alice in it), no bot."""
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    db = await open_database(w)
    try:
        await migrate(db)
        repo = GroupRepository(db)
        channel = w.fake.add_text_channel(
            w.guild_id,
            "parents-circle",
            permission_overwrites=[
                {"id": w.guild_id, "type": 0, "allow": 0, "deny": VIEW_CHANNEL},
                {"id": w.alice, "type": 1, "allow": VIEW_CHANNEL, "deny": 0},
            ],
        )
        group = await repo.create(
            guild_id=w.guild_id,
            name="Parents Circle",
            description="d",
            focus="f",
            capacity=None,
            join_mode=JoinMode.OPEN,
            guidelines="g",
            role_id=None,
            channel_id=channel,
            created_by=w.facilitator,
            now=datetime.now(UTC),
        )
        await repo.add_membership(group.id, w.alice, MembershipStatus.MEMBER, 1, datetime.now(UTC))
    finally:
        await db.close()
    yield w


async def test_per_member_access_passes_the_check(offline: World) -> None:
    assert_nothing_private_in_public(offline)


async def test_a_role_named_after_a_group_fails_the_check(offline: World) -> None:
    # What FamilyBot did before: a role named after the group on each member's profile.
    role = offline.fake.add_role(offline.guild_id, "Parents Circle")
    offline.fake.member(offline.guild_id, offline.alice)["roles"].append(str(role))
    with pytest.raises(AssertionError, match="holds role 'Parents Circle'"):
        assert_nothing_private_in_public(offline)


async def test_a_neutral_role_recorded_as_a_groups_role_fails_the_check(offline: World) -> None:
    # Renaming is not enough: whoever holds the group's role is in the group.
    role = offline.fake.add_role(offline.guild_id, "member")
    offline.fake.member(offline.guild_id, offline.bob)["roles"].append(str(role))
    db = await open_database(offline)
    try:
        await db.execute("UPDATE groups SET role_id = ?", (role,))
    finally:
        await db.close()
    with pytest.raises(AssertionError, match=f"member {offline.bob} holds role 'member'"):
        assert_nothing_private_in_public(offline)


async def test_a_group_channel_everyone_can_see_fails_the_check(offline: World) -> None:
    (group,) = await rows(offline, "SELECT channel_id FROM groups")
    channel = offline.fake.channel(int(str(group["channel_id"])))
    channel["permission_overwrites"] = []  # @everyone may view it now
    with pytest.raises(AssertionError, match="is visible to everyone"):
        assert_nothing_private_in_public(offline)


async def test_a_visible_channel_or_thread_named_after_a_member_fails_the_check(
    offline: World,
) -> None:
    offline.fake.add_text_channel(offline.guild_id, "alice-and-friends")
    with pytest.raises(AssertionError, match="shows a name \\('alice'\\)"):
        assert_nothing_private_in_public(offline)


async def test_an_event_naming_a_member_fails_the_check(offline: World) -> None:
    guild = offline.fake.guild(offline.guild_id)
    guild.scheduled_events[1] = {
        "id": "1",
        "name": "Circle with alice",
        "description": "",
        "entity_metadata": {"location": "Discord"},
    }
    with pytest.raises(AssertionError, match="scheduled event 1 shows a name"):
        assert_nothing_private_in_public(offline)


async def test_a_member_who_joins_through_the_bot_shows_nothing_to_others(world: World) -> None:
    """The real bot: after a group is created and alice joins, nothing a plain member can see
    (roles on her profile, channels, events) says she is in it."""
    await world.configure()
    h = await world.run_to_end(
        world.facilitator,
        "group",
        "create",
        name="Grief After Suicide Loss",
        description="A circle",
        focus="loss",
        join_mode="open",
    )
    assert "Created" in h.responses[-1]["body"]["content"]
    h = await world.run(world.alice, "group", "join", name="Grief After Suicide Loss")
    click = await world.fake.click(
        world.guild_id, world.alice, custom_ids(h.callback)[0], message_id=world.fake.next_id()
    )
    await click.wait_response()
    assert (await rows(world, "SELECT status FROM memberships"))[0]["status"] == "member"
    assert_nothing_private_in_public(world)
    names = [r["name"] for r in world.fake.guild(world.guild_id).roles.values()]
    assert not any("Grief" in n for n in names)
