"""The start-here panel (`/setup welcome`) and `/help`, end to end on the fake Discord."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.harness import World, custom_ids, eventually, rows, text_of
from tests.support.fake_discord.permissions import EMBED_LINKS, SEND_MESSAGES

pytestmark = pytest.mark.asyncio

NY = ZoneInfo("America/New_York")
PANEL_IDS = [
    "fb:panel:find",
    "fb:panel:mine",
    "fb:panel:resources",
    "fb:panel:crisis",
    "fb:panel:how",
]
POSTS = r"/channels/{cid}/messages$"


def posts_to(world: World, channel_id: int) -> int:
    return len(world.fake.requests_to("POST", POSTS.format(cid=channel_id)))


async def restart(world: World) -> None:
    """Restart once the last command's completion hook (audit entry) has run, so the test
    doesn't cut it off mid-write."""
    for _ in range(10):
        await asyncio.sleep(0)  # a yield, not a wait: lets the hook's task start
    bot = world.bot
    assert bot is not None
    await eventually(lambda: not bot._completion_hooks)
    await world.restart()


async def start_here(world: World, **overwrites: Any) -> int:
    """A public channel for the panel; the bot restarts to see it (as after a real create)."""
    cid = world.fake.add_text_channel(world.guild_id, "start-here", **overwrites)
    await restart(world)
    return cid


async def post_panel(world: World, channel_id: int) -> str:
    h = await world.run(world.admin, "setup", "welcome", channel=channel_id)
    assert h.ephemeral
    if h.response_type == 5:
        (followup,) = await h.wait_for("followup")
        assert int(followup["flags"]) & 64  # private to the admin
        return str(followup["content"])
    return str(h.content)


async def the_group(world: World) -> dict[str, Any]:
    """A configured server with one group (seats and a session) and one approved resource."""
    await world.configure()
    await world.run_to_end(
        world.facilitator,
        "group",
        "create",
        name="Parents Circle",
        description="A weekly circle",
        focus="parents of teens in IOP",
        join_mode="open",
        capacity=8,
    )
    day = (datetime.now(NY) + timedelta(days=5)).date()
    h = await world.run(
        world.facilitator,
        "session",
        "schedule",
        group="Parents Circle",
        title="Weekly check-in",
        date=day.isoformat(),
        time="18:00",
        repeat="weekly",
        duration=60,
    )
    assert h.ephemeral, h.content
    for who, command, title in (
        (world.facilitator, "add", "Sleep for worried parents"),
        (world.bob, "suggest", "Sleep tips not yet vetted"),
    ):
        await world.run_to_end(
            who,
            "resource",
            command,
            title=title,
            url="https://example.org/" + title.split()[-1],
            category="Guides",
            description="Short, practical advice about sleep",
        )
    return (await rows(world, "SELECT * FROM groups"))[0]


def panel_message(world: World, channel_id: int) -> dict[str, Any]:
    # Only public messages: the fake keeps ephemeral replies in the channel too.
    found = [m for m in world.fake.messages_in(channel_id) if not int(m.get("flags") or 0) & 64]
    assert len(found) == 1, [(m.get("flags"), text_of(m)[:80]) for m in found]
    return found[0]


async def press(world: World, user: int, custom_id: str, message_id: int) -> Any:
    h = await world.fake.click(world.guild_id, user, custom_id, message_id=message_id)
    await h.wait_response()
    return h


async def test_panel_is_posted_once_edited_in_place_and_reposted_when_deleted(
    world: World,
) -> None:
    await world.configure()
    cid = await start_here(world)
    reply = await post_panel(world, cid)
    assert "posted the start-here panel" in reply
    assert posts_to(world, cid) == 1
    message = panel_message(world, cid)
    assert custom_ids(message) == PANEL_IDS
    shown = text_of(message)
    for label in ("Find a group", "My sessions", "Resources", "Crisis lines", "How this works"):
        assert label in shown
    stored = await rows(world, "SELECT guild_id, channel_id, message_id FROM welcome_panels")
    assert stored == [
        {"guild_id": world.guild_id, "channel_id": cid, "message_id": int(message["id"])}
    ]
    h = await world.run(world.admin, "setup", "show")
    assert f"**Start-here panel:** <#{cid}>" in text_of(h.callback)
    assert "was deleted" not in text_of(h.callback)

    # Again: the same message is edited, nothing new is posted.
    reply = await post_panel(world, cid)
    assert "in place" in reply
    assert posts_to(world, cid) == 1
    edits = world.fake.requests_to("PATCH", rf"/channels/{cid}/messages/{message['id']}$")
    assert len(edits) == 1 and edits[0].status == 200
    assert panel_message(world, cid)["id"] == message["id"]

    # Someone deletes it: /setup show says so, and the next run posts a new one.
    world.fake.messages[cid].clear()
    h = await world.run(world.admin, "setup", "show")
    assert h.ephemeral
    assert f"The start-here panel in <#{cid}> was deleted" in text_of(h.callback)
    reply = await post_panel(world, cid)
    assert "was deleted, so I posted a new one" in reply
    assert posts_to(world, cid) == 2
    new = panel_message(world, cid)
    assert new["id"] != message["id"] and custom_ids(new) == PANEL_IDS
    stored = await rows(world, "SELECT message_id FROM welcome_panels")
    assert stored == [{"message_id": int(new["id"])}]
    h = await world.run(world.admin, "setup", "show")
    assert "start-here panel" not in text_of(h.callback).split("**Start-here panel:**")[1].lower()


async def test_panel_refuses_a_channel_the_bot_cannot_post_in(world: World) -> None:
    await world.configure()
    no_embeds = {"id": world.fake.bot_user_id, "type": 1, "allow": 0, "deny": EMBED_LINKS}
    cid = await start_here(world, permission_overwrites=[no_embeds])
    h = await world.run(world.admin, "setup", "welcome", channel=cid)
    assert h.ephemeral and "**Embed Links**" in h.content and "Nothing was posted" in h.content
    assert posts_to(world, cid) == 0
    assert await rows(world, "SELECT * FROM welcome_panels") == []
    # Members can't run it at all.
    h = await world.run(world.alice, "setup", "welcome", channel=cid)
    assert h.ephemeral and "Only server admins" in h.content
    assert posts_to(world, cid) == 0


async def test_every_button_answers_privately_and_works_after_a_restart(world: World) -> None:
    group = await the_group(world)
    cid = await start_here(world, permission_overwrites=[])
    await post_panel(world, cid)
    # Members can read but not post there; the buttons still work for them.
    world.fake.channel(cid)["permission_overwrites"] = [
        {"id": str(world.guild_id), "type": 0, "allow": "0", "deny": str(SEND_MESSAGES)}
    ]
    await restart(world)  # the panel's buttons come back with the bot
    message_id = int(panel_message(world, cid)["id"])

    # Find a group: focus, seats left, next session as a Discord timestamp, and a menu.
    h = await press(world, world.alice, "fb:panel:find", message_id)
    assert h.response_type == 4 and h.ephemeral
    shown = text_of(h.callback)
    assert "Parents Circle" in shown and "parents of teens in IOP" in shown
    assert "8 seats left" in shown and "<t:" in shown
    assert "fb:panel:pick" in custom_ids(h.callback)
    (menu,) = [
        c
        for row in h.callback["data"]["components"]
        for c in row["components"]
        if c["custom_id"] == "fb:panel:pick"
    ]
    assert [o["value"] for o in menu["options"]] == [str(group["id"])]
    # Picking starts the same consent flow as /group join; nothing is stored before "I agree".
    pick = await world.fake.select(world.guild_id, world.alice, "fb:panel:pick", [str(group["id"])])
    await pick.wait_response()
    assert pick.ephemeral and "guidelines" in text_of(pick.callback).lower()
    (consent,) = custom_ids(pick.callback)
    assert consent.startswith(f"fb:consent:{group['id']}:")
    assert await rows(world, "SELECT * FROM memberships") == []
    agree = await press(world, world.alice, consent, world.fake.next_id())
    assert "You're now a member of **Parents Circle**" in text_of(agree.callback)
    seated = await rows(world, "SELECT user_id, status FROM memberships")
    assert seated == [{"user_id": world.alice, "status": "member"}]
    # Picking again is refused kindly, and changes nothing.
    again = await world.fake.select(
        world.guild_id, world.alice, "fb:panel:pick", [str(group["id"])]
    )
    await again.wait_response()
    assert again.ephemeral and "already a member" in again.content
    assert len(await rows(world, "SELECT * FROM memberships")) == 1

    # My sessions: as /my schedule.
    h = await press(world, world.alice, "fb:panel:mine", message_id)
    mine = await world.run(world.alice, "my", "schedule")
    assert h.ephemeral and "Weekly check-in" in text_of(h.callback)
    assert text_of(h.callback) == text_of(mine.callback)

    # Resources: a search box, then approved resources only, as /resource search shows them.
    h = await press(world, world.alice, "fb:panel:resources", message_id)
    assert h.response_type == 9 and h.callback["data"]["custom_id"] == "fb:panel:search"
    await restart(world)  # the search box still answers if the bot restarted meanwhile
    submit = await world.fake.submit_modal(
        world.guild_id, world.alice, "fb:panel:search", {"query": "sleep"}
    )
    await submit.wait_response()
    assert submit.ephemeral
    found = text_of(submit.callback)
    assert "Sleep for worried parents" in found and "not yet vetted" not in found
    search = await world.run(world.alice, "resource", "search", query="sleep")
    assert found == text_of(search.callback)

    # Crisis lines: exactly /crisis.
    h = await press(world, world.carol, "fb:panel:crisis", message_id)
    crisis = await world.run(world.carol, "crisis")
    assert h.ephemeral and "988" in text_of(h.callback)
    assert text_of(h.callback) == text_of(crisis.callback)

    # How this works: privacy in plain words.
    h = await press(world, world.carol, "fb:panel:how", message_id)
    assert h.ephemeral
    how = text_of(h.callback)
    assert "/my forget" in how and "/group leave" in how
    assert "not an emergency service" in how and "never who is in it" in how

    # Nothing the panel opened, nor the panel itself, names a member.
    for body in [panel_message(world, cid), *(r.json_body for r in world.fake.requests)]:
        if body and "fb:panel" in str(body):
            for person in (world.alice, world.bob, world.carol, world.facilitator):
                assert str(person) not in text_of(body)


async def test_crisis_lines_button_answers_with_the_database_closed(world: World) -> None:
    await world.configure()
    cid = await start_here(world)
    await post_panel(world, cid)
    message_id = int(panel_message(world, cid)["id"])
    await world.run(world.admin, "setup", "crisis-region", region="CA")
    bot = world.bot
    assert bot is not None
    await bot.db.close()
    for suffix in ("", "-wal", "-shm"):
        world.db_path.with_name(world.db_path.name + suffix).unlink(missing_ok=True)
    h = await press(world, world.bob, "fb:panel:crisis", message_id)
    assert h.response_type == 4 and h.ephemeral
    assert "9-8-8" in text_of(h.callback)  # the server's region, from memory
    h = await press(world, world.bob, "fb:panel:how", message_id)
    assert h.ephemeral and "/my forget" in text_of(h.callback)
    # A button that needs the database says so kindly.
    h = await press(world, world.bob, "fb:panel:find", message_id)
    assert h.ephemeral and "/crisis" in h.content


def field_names(body: Any) -> list[str]:
    return [f["name"] for f in body["data"]["embeds"][0].get("fields", [])]


async def test_help_shows_what_each_person_can_do(world: World) -> None:
    await world.configure()
    seen = {}
    for who in (world.alice, world.facilitator, world.admin):
        h = await world.run(who, "help")
        assert h.response_type == 4 and h.ephemeral
        seen[who] = text_of(h.callback)
        assert "/group join name:Parents Circle" in seen[who]
        assert "/my forget" in seen[who] and "/crisis" in seen[who]
    assert "/session edit" not in seen[world.alice] and "/setup" not in seen[world.alice]
    assert "/mod warn" not in seen[world.alice]
    assert "/session edit" in seen[world.facilitator] and "/group stats" in seen[world.facilitator]
    assert "/mod warn" in seen[world.facilitator] and "/resource review" in seen[world.facilitator]
    assert "/setup" not in seen[world.facilitator]
    assert "/setup welcome channel:#start-here" in seen[world.admin]
    assert "/session edit" in seen[world.admin]


async def test_help_works_in_a_direct_message(world: World) -> None:
    fake = world.fake
    data = fake._command_data(world.guild_id, None, ("help",), None)
    data.pop("guild_id", None)
    handle = fake._base_interaction(2, world.guild_id, world.alice, None, data)
    dm = fake.channel(fake.dm_channel_for(world.alice))
    payload = handle.payload
    for key in ("guild_id", "guild", "member", "guild_locale"):
        payload.pop(key, None)
    payload.update(
        channel_id=dm["id"],
        channel=dm,
        user=fake.user_payload(world.alice),
        context=1,
        authorizing_integration_owners={"0": "0"},
    )
    await fake._inject(handle)
    await handle.wait_response()
    assert handle.ephemeral
    shown = text_of(handle.callback)
    assert "/group join name:Parents Circle" in shown
    assert "appear when you use `/help` inside the server" in shown
    assert "/session edit" not in shown and "/setup" not in shown
    await eventually(lambda: True)


async def test_panel_moves_to_another_channel_without_leaving_a_second_one(world: World) -> None:
    await world.configure()
    first = await start_here(world)
    await post_panel(world, first)
    second = world.fake.add_text_channel(world.guild_id, "welcome")
    await restart(world)
    reply = await post_panel(world, second)
    assert f"removed the old one from <#{first}>" in reply
    public = [m for m in world.fake.messages_in(first) if not int(m.get("flags") or 0) & 64]
    assert public == []
    moved = panel_message(world, second)
    stored = await rows(world, "SELECT channel_id, message_id FROM welcome_panels")
    assert stored == [{"channel_id": second, "message_id": int(moved["id"])}]


async def test_two_setup_welcome_at_once_post_one_panel(world: World) -> None:
    await world.configure()
    cid = await start_here(world)
    first, second = await asyncio.gather(
        world.fake.slash(world.guild_id, world.admin, "setup", "welcome", options={"channel": cid}),
        world.fake.slash(world.guild_id, world.admin, "setup", "welcome", options={"channel": cid}),
    )
    for handle in (first, second):
        await handle.wait_response()
        await handle.wait_for("followup")
    assert posts_to(world, cid) == 1
    stored = await rows(world, "SELECT message_id FROM welcome_panels")
    assert stored == [{"message_id": int(panel_message(world, cid)["id"])}]
