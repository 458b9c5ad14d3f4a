"""/setup show's health report, end to end: break the server in the fake Discord (delete
channels and roles, strip permissions, reorder roles, want an intent the app lacks) and
check the report names each problem with a fix."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from familybot.permissions import permissions_value
from tests.e2e.harness import World, text_of
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_discord.permissions import (
    BAN_MEMBERS,
    DEFAULT_BOT_PERMISSIONS,
    EMBED_LINKS,
    READ_MESSAGE_HISTORY,
    VIEW_CHANNEL,
)

pytestmark = pytest.mark.asyncio

# Everything familybot/permissions.py NEEDS (the invite link asks for exactly these).
BOT_PERMISSIONS = DEFAULT_BOT_PERMISSIONS | permissions_value()


@pytest.fixture
async def sw(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    g = fake_discord.guild(w.guild_id)
    g.roles[g.bot_role_id]["permissions"] = str(BOT_PERMISSIONS)
    g.roles[g.bot_role_id]["position"] = 10  # above the roles it manages, as an admin would
    await w.start_bot()
    await w.configure()
    await w.run(w.admin, "setup", "modlog", channel=w.modlog_channel)
    for name in ("Parents Circle", "Siblings"):
        h = await w.run_to_end(
            w.facilitator,
            "group",
            "create",
            name=name,
            description="A weekly circle",
            focus="families",
            join_mode="open",
        )
        assert "couldn't" not in text_of(h.responses[-1]["body"]).lower()
    yield w
    await w.stop_bot()


async def show(world: World) -> str:
    h = await world.run(world.admin, "setup", "show")
    assert h.ephemeral
    return text_of(h.callback)


def overwrite_for(channel: dict[str, object], target: int) -> dict[str, object]:
    overwrites = channel["permission_overwrites"]
    assert isinstance(overwrites, list)
    found = next((o for o in overwrites if int(o["id"]) == target), None)
    if found is None:
        found = {"id": str(target), "type": 1, "allow": "0", "deny": "0"}
        overwrites.append(found)
    return found  # type: ignore[no-any-return]


async def test_a_well_set_up_server_is_all_good(sw: World) -> None:
    shown = await show(sw)
    assert "Everything looks good" in shown, shown
    assert "Needs attention" not in shown


async def test_each_breakage_is_named_with_a_fix(sw: World) -> None:
    fake = sw.fake
    g = fake.guild(sw.guild_id)
    parents = fake.channel_named(sw.guild_id, "parents-circle")
    assert parents is not None
    siblings = fake.channel_named(sw.guild_id, "siblings")
    assert siblings is not None

    # Deleted: the alerts channel, the facilitator role, one group's channel.
    for channel_id in (sw.alerts_channel, int(siblings["id"])):
        del g.channels[channel_id]
        del fake.channels[channel_id]
    del g.roles[sw.facilitator_role]
    for member in g.members.values():
        if str(sw.facilitator_role) in member["roles"]:
            member["roles"].remove(str(sw.facilitator_role))
    # The bot may not ban any more, nor embed in the mod log, nor read its group's history.
    bot_role = g.roles[g.bot_role_id]
    bot_role["permissions"] = str(BOT_PERMISSIONS & ~BAN_MEMBERS)
    modlog = fake.channel(sw.modlog_channel)
    overwrite_for(modlog, fake.bot_user_id)["deny"] = str(EMBED_LINKS)
    # ...and the mod log became visible to everyone.
    overwrite_for(modlog, sw.guild_id)["deny"] = "0"
    bot_in_parents = overwrite_for(parents, fake.bot_user_id)
    bot_in_parents["allow"] = str(int(str(bot_in_parents["allow"])) & ~READ_MESSAGE_HISTORY)
    bot_in_parents["deny"] = str(READ_MESSAGE_HISTORY)
    assert fake.permissions_in(int(parents["id"]), fake.bot_user_id) & VIEW_CHANNEL

    # A restart reads the server afresh; the app has no Message Content intent switched on.
    await sw.stop_bot()
    await sw.start_bot(MESSAGE_CONTENT_INTENT="true")
    shown = await show(sw)

    assert "Needs attention" in shown
    expected = [
        "I'm missing the **Ban Members** permission",
        "The facilitator role was deleted; set it again with `/setup facilitator-role`",
        "The alerts channel was deleted. Fix: choose another with `/setup alerts`",
        f"In the mod log channel <#{sw.modlog_channel}> I'm missing **Embed Links**",
        f"The mod log channel <#{sw.modlog_channel}> is visible to everyone",
        "The channel of group **Siblings** is missing",
        f"In group **Parents Circle**'s channel <#{parents['id']}> I'm missing "
        "**Read Message History**",
        "**Message Content** intent isn't switched on",
    ]
    missing = [e for e in expected if e not in shown]
    assert not missing, f"not reported: {missing}\n---\n{shown}"
    # Each problem carries its fix on the same line.
    problems = [line for line in shown.splitlines() if line.startswith("• ")]
    assert len(problems) == len(expected)
    assert all("Fix:" in line or "`/setup" in line for line in problems)


async def test_a_channel_deleted_while_running_is_noticed(sw: World) -> None:
    fake = sw.fake
    channel = fake.channel(sw.alerts_channel)
    del fake.guild(sw.guild_id).channels[sw.alerts_channel]
    del fake.channels[sw.alerts_channel]
    await fake.dispatch("CHANNEL_DELETE", dict(channel))
    shown = await show(sw)
    assert "The alerts channel was deleted" in shown
