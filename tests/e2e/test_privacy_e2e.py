"""/my data, /my forget and the departure events, end to end against the fake Discord."""

from __future__ import annotations

import json

import pytest

from familybot.ui.privacy import DATA_FILENAME
from tests.e2e.harness import World, custom_ids, eventually, rows
from tests.support.fake_discord.interactions import EPHEMERAL
from tests.support.fake_discord.permissions import VIEW_CHANNEL

pytestmark = pytest.mark.asyncio


async def alice_in_a_group(world: World) -> int:
    """Alice joins "Parents Circle" and sets a time zone; returns the group's channel id."""
    await world.configure()
    await world.run_to_end(
        world.facilitator,
        "group",
        "create",
        name="Parents Circle",
        description="Weekly circle",
        focus="parents",
        join_mode="open",
    )
    for user in (world.alice, world.bob):
        h = await world.run(user, "group", "join", name="Parents Circle")
        click = await world.fake.click(
            world.guild_id, user, custom_ids(h.callback)[0], message_id=world.fake.next_id()
        )
        await click.wait_response()
    await world.run(world.alice, "my", "timezone", tz="Europe/Dublin")
    (group,) = await rows(world, "SELECT channel_id FROM groups")
    channel_id = int(str(group["channel_id"]))
    assert world.fake.permissions_in(channel_id, world.alice) & VIEW_CHANNEL
    return channel_id


async def test_my_data_is_a_private_json_file(world: World) -> None:
    await alice_in_a_group(world)

    h = await world.run_to_end(world.alice, "my", "data")

    assert h.response_type == 5 and h.ephemeral  # deferred privately: it may take a moment
    (upload,) = [r for r in world.fake.requests if r.files and "/webhooks/" in r.path]
    assert upload.files[0].filename == DATA_FILENAME
    assert int(upload.json_body.get("flags") or 0) & EPHEMERAL
    data = json.loads(upload.files[0].data)
    assert data["user_id"] == str(world.alice)
    (membership,) = data["groups"]["memberships"]
    assert membership["group"] == "Parents Circle" and membership["status"] == "member"
    assert data["sessions"]["settings"]["timezone"] == "Europe/Dublin"
    assert str(world.bob) not in json.dumps(data)  # nothing about anyone else


async def test_my_forget_asks_first_and_cancel_changes_nothing(world: World) -> None:
    channel_id = await alice_in_a_group(world)

    h = await world.run(world.alice, "my", "forget")

    assert h.ephemeral and "can't be undone" in h.content and "What stays" in h.content
    _confirm_id, cancel_id = custom_ids(h.callback)
    message_id = int(h.original_message["id"])
    click = await world.fake.click(world.guild_id, world.alice, cancel_id, message_id=message_id)
    body = await click.wait_response()
    assert "Nothing was deleted" in body["data"]["content"]
    assert len(await rows(world, "SELECT * FROM memberships")) == 2
    assert world.fake.permissions_in(channel_id, world.alice) & VIEW_CHANNEL


async def test_my_forget_confirmed_forgets_and_closes_the_channel_to_them(world: World) -> None:
    channel_id = await alice_in_a_group(world)
    h = await world.run(world.alice, "my", "forget")
    confirm_id, _cancel_id = custom_ids(h.callback)
    message_id = int(h.original_message["id"])

    # Someone else pressing it (they can't see an ephemeral message, but ids can leak) is refused.
    other = await world.fake.click(world.guild_id, world.bob, confirm_id, message_id=message_id)
    assert "Only the person who asked" in (await other.wait_response())["data"]["content"]
    click = await world.fake.click(world.guild_id, world.alice, confirm_id, message_id=message_id)
    await click.wait_response()

    await eventually(lambda: "Done." in str(world.fake.find_message(h.channel_id, message_id)))
    assert await rows(world, "SELECT * FROM memberships WHERE user_id = ?", world.alice) == []
    assert await rows(world, "SELECT * FROM member_prefs WHERE user_id = ?", world.alice) == []
    assert len(await rows(world, "SELECT * FROM memberships WHERE user_id = ?", world.bob)) == 1
    assert not world.fake.permissions_in(channel_id, world.alice) & VIEW_CHANNEL
    assert world.fake.permissions_in(channel_id, world.bob) & VIEW_CHANNEL


async def test_bot_removed_from_a_server_starts_the_30_day_clock(world: World) -> None:
    await alice_in_a_group(world)

    await world.fake.dispatch("GUILD_DELETE", {"id": str(world.guild_id)})

    departed = await eventually(lambda: rows(world, "SELECT * FROM guild_departures"))
    assert departed[0]["guild_id"] == world.guild_id
    assert len(await rows(world, "SELECT * FROM memberships")) == 2  # nothing purged yet
