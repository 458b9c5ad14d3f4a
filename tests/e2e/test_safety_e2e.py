"""Safety watch and automod end to end: the real bot, the fake Discord, real messages.

The promise under test above all: the safety watch never sends to a public channel, never
replies where the message was, and never repeats what the person wrote.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.harness import World, eventually, rows, text_of
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_discord.channels import CHANNEL_DM
from tests.support.fake_discord.messages import user_says
from tests.support.fake_discord.permissions import VIEW_CHANNEL

pytestmark = pytest.mark.asyncio

AT_RISK = "I don't want to be here anymore"
INVITE = "join my other server discord.gg/abc123"


@pytest.fixture
async def sw(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    """A configured server with one group, the bot running with the Message Content intent."""
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    await w.start_bot(MESSAGE_CONTENT_INTENT="true")
    await w.configure()
    await w.run(w.admin, "setup", "modlog", channel=w.modlog_channel)
    await w.run_to_end(
        w.facilitator,
        "group",
        "create",
        name="Parents Circle",
        description="A weekly circle for parents",
        focus="parents of teens",
        join_mode="open",
    )
    yield w
    await w.stop_bot()


async def group_channel(world: World) -> int:
    (row,) = await rows(world, "SELECT channel_id FROM groups")
    return int(str(row["channel_id"]))


def bot_posts(world: World) -> list[tuple[int, object]]:
    return [
        (int(r.path.split("/")[2]), r.json_body)
        for r in world.fake.requests_to("POST", r"/channels/\d+/messages")
    ]


def everyone_can_see(world: World, channel_id: int) -> bool:
    """Whether a channel is visible to @everyone (a plain member with no roles)."""
    channel = world.fake.channel(channel_id)
    if channel["type"] == CHANNEL_DM:
        return False
    for o in channel.get("permission_overwrites") or []:
        if int(o["id"]) == world.guild_id and int(o["deny"]) & VIEW_CHANNEL:
            return False
    return True


async def test_the_safety_watch_never_sends_to_a_public_channel(sw: World) -> None:
    h = await sw.run(sw.admin, "setup", "safety-watch", state="on")
    assert h.ephemeral and "safety watch is on" in h.content
    group = await group_channel(sw)
    general = sw.fake.guild(sw.guild_id).general_channel_id
    before = len(bot_posts(sw))

    await user_says(sw.fake, general, sw.bob, AT_RISK)  # not a group channel: left alone
    await user_says(sw.fake, group, sw.alice, AT_RISK)
    (dm,) = await eventually(lambda: sw.fake.dms_to(sw.alice))
    text = text_of(dm)
    assert "local emergency number" in text and "988" in text and "not alone" in text.lower()
    alert = await eventually(lambda: sw.fake.messages_in(sw.alerts_channel))
    alert_text = text_of(alert[-1])
    assert f"<@{sw.alice}>" in alert_text and f"<#{group}>" in alert_text
    jump = f"https://discord.com/channels/{sw.guild_id}/{group}/"
    assert jump in alert_text and "sent them the crisis lines" in alert_text

    # Closed DMs: the alert says so; still nothing anywhere public.
    sw.fake.close_dms(sw.carol)
    await user_says(sw.fake, group, sw.carol, "I can't go on like this")
    await eventually(lambda: len(sw.fake.messages_in(sw.alerts_channel)) == 2)
    assert "couldn't send them the crisis lines" in text_of(
        sw.fake.messages_in(sw.alerts_channel)[-1]
    )
    so_far = bot_posts(sw)[before:]
    assert not any(everyone_can_see(sw, cid) for cid, _ in so_far)

    # Someone opens the alerts channel to everyone: alerts stop rather than go public.
    alerts = sw.fake.channel(sw.alerts_channel)
    alerts["permission_overwrites"] = []
    await sw.fake.dispatch("CHANNEL_UPDATE", dict(alerts))
    await eventually(lambda: sw.bot is not None and _public_in_cache(sw))
    await user_says(sw.fake, group, sw.bob, "I want to end it all")
    await eventually(lambda: sw.fake.dms_to(sw.bob))

    since = bot_posts(sw)[before + len(so_far) :]
    assert [sw.fake.channel(cid)["type"] for cid, _ in since] == [CHANNEL_DM]  # bob's DM only
    assert len(sw.fake.messages_in(sw.alerts_channel)) == 2  # the now-public one got nothing
    new = bot_posts(sw)[before:]
    channels = {cid for cid, _ in new}
    assert group not in channels and general not in channels  # never a reply where it was said
    for _, body in new:  # what they wrote is never repeated, not even to facilitators
        for said in (AT_RISK, "go on like this", "end it all"):
            assert said not in str(body)
    assert not sw.fake.requests_to("DELETE", r"/channels/\d+/messages/\d+")
    assert await rows(sw, "SELECT * FROM mod_cases") == []


def _public_in_cache(world: World) -> bool:
    assert world.bot is not None
    channel = world.bot.get_channel(world.alerts_channel)
    guild = world.bot.get_guild(world.guild_id)
    assert guild is not None and channel is not None
    return bool(channel.permissions_for(guild.default_role).view_channel)  # type: ignore[union-attr]


async def test_automod_removes_an_invite_with_a_private_note_and_a_case(sw: World) -> None:
    h = await sw.run(sw.admin, "setup", "automod", state="on")
    assert h.ephemeral and "Automod is on" in h.content
    group = await group_channel(sw)
    said = await user_says(sw.fake, group, sw.alice, INVITE)
    await sw.fake.wait_for_request("DELETE", rf"/channels/{group}/messages/{said['id']}")
    assert all(m["id"] != said["id"] for m in sw.fake.messages_in(group))
    (note,) = await eventually(lambda: sw.fake.dms_to(sw.alice))
    assert "invite" in text_of(note) and "isn't a punishment" in text_of(note)
    # The case is stored first and its DM outcome just after: wait for both (flaky under load).
    (case,) = await eventually(lambda: rows(sw, "SELECT * FROM mod_cases WHERE dm IS NOT NULL"))
    assert (case["action"], case["actor_id"], case["target_id"]) == ("automod", 0, sw.alice)
    assert case["reason"] == "Invite link" and case["dm"] == "sent"
    post = await eventually(lambda: sw.fake.messages_in(sw.modlog_channel))
    assert "Invite link" in text_of(post[-1]) and "abc123" not in text_of(post[-1])

    # A facilitator sharing an invite, and a member with a few mentions, are left alone.
    await user_says(sw.fake, group, sw.facilitator, INVITE)
    await user_says(sw.fake, group, sw.bob, "thanks both!", mentions=[sw.alice, sw.carol])
    await user_says(sw.fake, group, sw.carol, AT_RISK)  # the watch is off here: nothing
    await user_says(
        sw.fake,
        group,
        sw.bob,
        "ping",
        mentions=[sw.alice, sw.carol, sw.admin, sw.owner, sw.facilitator],
    )
    await eventually(lambda: len(sw.fake.requests_to("DELETE", r"/channels/\d+/messages/\d+")) == 2)
    cases = await rows(sw, "SELECT target_id, reason FROM mod_cases ORDER BY number")
    assert cases == [
        {"target_id": sw.alice, "reason": "Invite link"},
        {"target_id": sw.bob, "reason": "Mass mentions"},
    ]
    assert not sw.fake.dms_to(sw.carol)


async def test_without_the_intent_setup_explains_and_stores_nothing(world: World) -> None:
    await world.configure()
    for name in ("safety-watch", "automod"):
        h = await world.run(world.admin, "setup", name, state="on")
        assert h.ephemeral
        assert "MESSAGE_CONTENT_INTENT=true" in h.content and "Developer Portal" in h.content
    (settings,) = await rows(world, "SELECT safety_watch, automod FROM guild_settings")
    assert settings == {"safety_watch": 0, "automod": 0}

    async def both_refused() -> bool:  # audit entries are written just after the replies
        found = await rows(world, "SELECT action FROM audit_log WHERE result = 'refused'")
        return {r["action"] for r in found} == {"setup.safety-watch", "setup.automod"}

    assert await eventually(both_refused)
    h = await world.run(world.facilitator, "setup", "safety-watch", state="on")
    assert h.ephemeral and "safety watch is on" not in h.content
