"""/mod end to end: the real bot against the fake Discord, which enforces permissions and
role hierarchy. Every request body is checked against Discord's schema at teardown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.harness import World, eventually, rows, text_of
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_discord.common import snowflake_at
from tests.support.fake_discord.moderation import install
from tests.support.fake_discord.permissions import (
    BAN_MEMBERS,
    DEFAULT_BOT_PERMISSIONS,
    KICK_MEMBERS,
    MODERATE_MEMBERS,
)
from tests.support.fakes import FakeClock

pytestmark = pytest.mark.asyncio

BOT_PERMISSIONS = DEFAULT_BOT_PERMISSIONS | KICK_MEMBERS | BAN_MEMBERS | MODERATE_MEMBERS


@pytest.fixture
async def mw(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    install(fake_discord)
    w = World(fake=fake_discord, tmp=tmp_path, clock=FakeClock(datetime.now(UTC)))
    w.populate()
    g = fake_discord.guild(w.guild_id)
    # The bot's role sits above the facilitators' (as an admin would arrange it).
    g.roles[g.bot_role_id]["permissions"] = str(BOT_PERMISSIONS)
    g.roles[g.bot_role_id]["position"] = 3
    await w.start_bot()
    await w.configure()
    h = await w.run(w.admin, "setup", "modlog", channel=w.modlog_channel)
    assert h.ephemeral
    yield w
    await w.stop_bot()  # runs the shared care check (harness.privacy_violations)


def modlog_posts(world: World) -> list[str]:
    return [
        text_of(r.json_body)
        for r in world.fake.requests_to("POST", rf"/channels/{world.modlog_channel}/messages")
    ]


async def test_warn_is_a_case_with_a_dm_and_a_modlog_post(mw: World) -> None:
    h = await mw.run_to_end(mw.facilitator, "mod", "warn", member=mw.alice, reason="Be gentle")
    assert h.ephemeral and "case #1" in h.responses[-1]["body"]["content"]
    assert "told by DM" in h.responses[-1]["body"]["content"]
    (dm,) = mw.fake.dms_to(mw.alice)
    assert "Be gentle" in text_of(dm)
    (post,) = modlog_posts(mw)
    assert "Case #1" in post and str(mw.alice) in post and "Be gentle" in post
    assert "alice" not in post  # ids, not names
    (case,) = await rows(mw, "SELECT * FROM mod_cases")
    assert case["status"] == "done" and case["dm"] == "sent" and case["actor_id"] == mw.facilitator


async def test_timeout_sets_communication_disabled_until(mw: World) -> None:
    assert mw.clock is not None
    h = await mw.run_to_end(mw.facilitator, "mod", "timeout", member=mw.alice, duration="2h")
    assert "case #1" in h.responses[-1]["body"]["content"]
    (patch,) = mw.fake.requests_to("PATCH", rf"/guilds/{mw.guild_id}/members/{mw.alice}")
    until = datetime.fromisoformat(patch.json_body["communication_disabled_until"])
    assert abs(until - (mw.clock.now() + timedelta(hours=2))) < timedelta(seconds=2)
    h = await mw.run(mw.facilitator, "mod", "timeout", member=mw.alice, duration="29d")
    assert h.ephemeral and "28 days" in h.content
    await mw.run_to_end(mw.facilitator, "mod", "untimeout", member=mw.alice)
    patches = mw.fake.requests_to("PATCH", rf"/guilds/{mw.guild_id}/members/{mw.alice}")
    assert len(patches) == 2 and patches[-1].json_body["communication_disabled_until"] is None


async def test_kick_tells_first_and_ban_passes_the_deletion_window(mw: World) -> None:
    mw.fake.close_dms(mw.bob)
    h = await mw.run_to_end(mw.facilitator, "mod", "kick", member=mw.bob, reason="Repeated")
    reply = h.responses[-1]["body"]["content"]
    assert "case #1" in reply and "direct messages are closed" in reply
    assert mw.fake.requests_to("DELETE", rf"/guilds/{mw.guild_id}/members/{mw.bob}")
    assert (await rows(mw, "SELECT dm FROM mod_cases"))[0]["dm"] == "closed"
    h = await mw.run_to_end(
        mw.facilitator, "mod", "ban", member=mw.alice, reason="Unsafe", delete_messages=86400
    )
    assert "case #2" in h.responses[-1]["body"]["content"]
    (ban,) = mw.fake.requests_to("PUT", rf"/guilds/{mw.guild_id}/bans/{mw.alice}")
    assert ban.json_body == {"delete_message_seconds": 86400}
    # The DM went before the ban (afterwards the bot may share no server with them).
    order = [r.path for r in mw.fake.requests if "/bans/" in r.path or "/messages" in r.path]
    dm_channel = mw.fake.dm_channel_for(mw.alice)
    assert order.index(f"/channels/{dm_channel}/messages") < order.index(ban.path)
    await mw.run_to_end(mw.facilitator, "mod", "unban", member=mw.alice)
    assert mw.fake.requests_to("DELETE", rf"/guilds/{mw.guild_id}/bans/{mw.alice}")
    assert [
        r["action"] for r in await rows(mw, "SELECT action FROM mod_cases ORDER BY number")
    ] == [
        "kick",
        "ban",
        "unban",
    ]


async def test_guards_refuse_without_side_effects(mw: World) -> None:
    g = mw.fake.guild(mw.guild_id)
    high = mw.fake.add_role(mw.guild_id, "Senior", position=2)  # equal to the facilitators'
    mw.fake.member(mw.guild_id, mw.carol)["roles"].append(str(high))
    # Above the bot, but below the owner: the owner is refused by the bot's own hierarchy.
    top = mw.fake.add_role(mw.guild_id, "Top", position=4)
    await mw.restart()  # let the bot see the new roles
    mw.fake.member(mw.guild_id, mw.bob)["roles"].append(str(top))
    before = len(mw.fake.requests)
    cases = [
        (mw.facilitator, "kick", {"member": mw.facilitator}, "yourself"),
        (mw.facilitator, "ban", {"member": g.owner_id}, "owner"),
        (mw.facilitator, "timeout", {"member": mw.fake.bot_user_id, "duration": "1h"}, "myself"),
        (mw.facilitator, "kick", {"member": mw.admin}, "admins"),
        (mw.facilitator, "kick", {"member": mw.carol}, "same as or above yours"),
        (mw.owner, "kick", {"member": mw.bob}, "above mine"),
        (mw.alice, "warn", {"member": mw.bob, "reason": "x"}, "Only facilitators"),
    ]
    for actor, command, options, expected in cases:
        h = await mw.run(actor, "mod", command, **options)
        assert h.ephemeral and expected in h.content, (command, h.content)
    calls = [r.path for r in mw.fake.requests[before:] if "/callback" not in r.path]
    assert calls == []
    assert await rows(mw, "SELECT * FROM mod_cases") == []


async def test_missing_bot_permission_is_checked_before_discord(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    install(fake_discord)
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    await w.start_bot()  # the default bot role: no Kick, Ban or Timeout Members
    try:
        await w.configure()
        for command, options in (
            ("kick", {"member": w.alice}),
            ("ban", {"member": w.alice}),
            ("timeout", {"member": w.alice, "duration": "1h"}),
        ):
            h = await w.run(w.facilitator, "mod", command, **options)
            assert h.ephemeral and "I'm missing the" in h.content, command
        assert not w.fake.requests_to("PUT", r"/guilds/\d+/bans/\d+")
        assert await rows(w, "SELECT * FROM mod_cases") == []
    finally:
        await w.stop_bot()


async def test_a_refused_call_is_recorded_as_failed(mw: World) -> None:
    mw.fake.fail_next(
        "DELETE",
        rf"/guilds/{mw.guild_id}/members/{mw.alice}",
        status=403,
        body={"code": 50013, "message": "Missing Permissions"},
    )
    h = await mw.run_to_end(mw.facilitator, "mod", "kick", member=mw.alice)
    assert "recorded as **failed**" in h.responses[-1]["body"]["content"]
    assert (await rows(mw, "SELECT status FROM mod_cases"))[0]["status"] == "failed"
    assert "Failed" in modlog_posts(mw)[-1]
    # The audit log says the same (written just after the reply).
    audit = await eventually(
        lambda: rows(mw, "SELECT action, result FROM audit_log WHERE action = 'mod.kick'")
    )
    assert audit == [{"action": "mod.kick", "result": "failed"}]


async def test_purge_bulk_deletes_only_recent_messages(mw: World) -> None:
    general = mw.fake.guild(mw.guild_id).general_channel_id
    now = datetime.now(UTC)
    for i, (age, author) in enumerate(
        [
            (timedelta(days=20), mw.alice),
            (timedelta(hours=2), mw.bob),
            (timedelta(minutes=5), mw.alice),
            (timedelta(minutes=1), mw.alice),
        ]
    ):
        msg = mw.fake.message_payload(general, {"content": f"m{i}"}, author_id=author)
        msg["id"] = str(snowflake_at(now - age, i))
        mw.fake.store_message(msg)
    h = await mw.run_to_end(mw.facilitator, "mod", "purge", amount=10, member=mw.alice)
    reply = h.responses[-1]["body"]["content"]
    assert "Removed 2 messages" in reply and "1 older than 14 days" in reply
    (bulk,) = mw.fake.requests_to("POST", rf"/channels/{general}/messages/bulk-delete")
    assert len(bulk.json_body["messages"]) == 2
    left = [
        m["content"]
        for m in mw.fake.messages_in(general)
        if m["content"] in ("m0", "m1", "m2", "m3")
    ]
    assert left == ["m0", "m1"]


async def test_slowmode_lock_and_unlock(mw: World) -> None:
    general = mw.fake.guild(mw.guild_id).general_channel_id
    await mw.run_to_end(mw.facilitator, "mod", "slowmode", seconds=30)
    (edit,) = mw.fake.requests_to("PATCH", rf"/channels/{general}")
    assert edit.json_body["rate_limit_per_user"] == 30
    await mw.run_to_end(mw.facilitator, "mod", "lock", reason="Cooling off")
    (put,) = mw.fake.requests_to("PUT", rf"/channels/{general}/permissions/{mw.guild_id}")
    assert int(put.json_body["deny"]) & (1 << 11)
    await mw.run_to_end(mw.facilitator, "mod", "unlock")
    last = mw.fake.requests_to("PUT", rf"/channels/{general}/permissions/{mw.guild_id}")[-1]
    assert not int(last.json_body["deny"]) & (1 << 11)
    assert len(await rows(mw, "SELECT * FROM mod_cases WHERE channel_id = ?", general)) == 3


async def test_history_case_and_reason(mw: World) -> None:
    await mw.run_to_end(mw.facilitator, "mod", "warn", member=mw.alice, reason="first")
    await mw.run_to_end(mw.facilitator, "mod", "note", member=mw.alice, text="checked in")
    h = await mw.run_to_end(mw.facilitator, "mod", "reason", number=1, reason="clearer")
    assert h.ephemeral and "clearer" in h.responses[-1]["body"]["content"]
    h = await mw.run(mw.facilitator, "mod", "history", member=mw.alice)
    shown = text_of(h.callback)
    assert h.ephemeral and "#1" in shown and "#2" in shown and "clearer" in shown
    h = await mw.run(mw.facilitator, "mod", "case", number=1)
    assert h.ephemeral and "was “first”" in text_of(h.callback)
    assert len(await rows(mw, "SELECT * FROM case_reason_history")) == 1
    assert "Reason updated" in modlog_posts(mw)[-1]


async def test_modlog_not_set_still_stores_the_case(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    await w.start_bot()
    try:
        await w.configure()
        h = await w.run_to_end(w.facilitator, "mod", "warn", member=w.alice, reason="hi")
        assert "mod log isn't set up" in h.responses[-1]["body"]["content"]
        assert len(await rows(w, "SELECT * FROM mod_cases")) == 1
    finally:
        await w.stop_bot()


async def test_timed_ban_is_lifted_after_a_restart(mw: World) -> None:
    assert isinstance(mw.clock, FakeClock)
    await mw.run_to_end(mw.facilitator, "mod", "ban", member=mw.alice, duration="1h")
    assert mw.bot is not None and mw.bot.scheduler.get_job("unban:1") is not None
    await mw.stop_bot()
    mw.clock.advance(hours=2)  # the ban fell due while the bot was down
    await mw.start_bot()
    assert mw.fake.requests_to("DELETE", rf"/guilds/{mw.guild_id}/bans/{mw.alice}")
    cases = await rows(mw, "SELECT * FROM mod_cases ORDER BY number")
    assert [(c["action"], c["actor_id"], c["status"]) for c in cases] == [
        ("ban", mw.facilitator, "done"),
        ("unban", 0, "done"),
    ]
    assert (await rows(mw, "SELECT lifted_at FROM scheduled_unbans"))[0]["lifted_at"]
    assert "FamilyBot (automatic)" in modlog_posts(mw)[-1]


async def test_mod_lengths_use_the_one_duration_parser(mw: World) -> None:
    """The same forms as reminder times: compounds and words; a kind list of forms otherwise."""
    assert mw.clock is not None
    await mw.run_to_end(mw.facilitator, "mod", "timeout", member=mw.alice, duration="1 hour 30 min")
    (patch,) = mw.fake.requests_to("PATCH", rf"/guilds/{mw.guild_id}/members/{mw.alice}")
    until = datetime.fromisoformat(patch.json_body["communication_disabled_until"])
    assert abs(until - (mw.clock.now() + timedelta(minutes=90))) < timedelta(seconds=2)
    h = await mw.run(mw.facilitator, "mod", "timeout", member=mw.bob, duration="tomorrow")
    assert h.ephemeral and "90m, 1h30m, 2 hours, 1d or 1w" in h.content
    assert mw.fake.requests_to("PATCH", rf"/guilds/{mw.guild_id}/members/{mw.bob}") == []
