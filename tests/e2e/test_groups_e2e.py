"""The real FamilyBot against the fake Discord: setup and support groups end to end."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.harness import World, custom_ids, eventually, rows, text_of
from tests.support.fake_discord.permissions import SEND_MESSAGES, VIEW_CHANNEL

pytestmark = pytest.mark.asyncio


async def create_group(world: World, name: str = "Parents Circle", **extra: object) -> object:
    options = {
        "description": "A weekly circle for parents",
        "focus": "parents of teens in IOP",
        "join_mode": "open",
    }
    options.update(extra)
    return await world.run_to_end(world.facilitator, "group", "create", name=name, **options)


async def join(world: World, user: int, name: str = "Parents Circle") -> tuple[object, object]:
    h = await world.run(user, "group", "join", name=name)
    (consent_id,) = custom_ids(h.callback)
    click = await world.fake.click(
        world.guild_id, user, consent_id, message_id=world.fake.next_id()
    )
    await click.wait_response()
    return h, click


async def test_commands_are_synced_to_the_dev_guild(world: World) -> None:
    names = {c["name"] for c in world.fake.guilds[world.guild_id].commands.values()}
    assert {"setup", "group", "about"} <= names


async def test_setup_commands(world: World) -> None:
    await world.configure()
    rows_ = await rows(world, "SELECT * FROM guild_settings")
    assert rows_[0]["facilitator_role_id"] == world.facilitator_role
    assert rows_[0]["alerts_channel_id"] == world.alerts_channel
    h = await world.run(
        world.admin, "setup", "alerts", channel=world.fake.guilds[world.guild_id].general_channel_id
    )
    assert h.ephemeral and "visible to everyone" in h.content
    refused = await eventually(
        lambda: rows(world, "SELECT action FROM audit_log WHERE result = 'refused'")
    )
    assert refused == [{"action": "setup.alerts"}]
    h = await world.run(world.admin, "setup", "timezone", tz="Europe/London")
    assert h.ephemeral and "Europe/London" in h.content
    h = await world.run(world.admin, "setup", "timezone", tz="Mars/Base")
    assert h.ephemeral and "don't know the time zone" in h.content
    h = await world.run(world.admin, "setup", "show")
    assert h.ephemeral
    shown = text_of(h.callback)
    assert "Europe/London" in shown and f"<@&{world.facilitator_role}>" in shown
    assert "Set a facilitator role" not in shown


async def test_setup_show_lists_what_is_missing(world: World) -> None:
    h = await world.run(world.admin, "setup", "show")
    shown = text_of(h.callback)
    assert "Set a facilitator role" in shown and "Set an alerts channel" in shown


async def test_setup_refuses_plain_members(world: World) -> None:
    before = len(world.fake.requests)
    h = await world.run(world.alice, "setup", "facilitator-role", role=world.facilitator_role)
    assert h.ephemeral and "Only server admins" in h.content
    assert await rows(world, "SELECT * FROM guild_settings") == []
    # The only request was the reply itself.
    assert [
        r.route_name or r.path for r in world.fake.requests[before:] if "callback" not in r.path
    ] == []


async def test_timezone_autocomplete(world: World) -> None:
    async def first_choices(typed: str) -> list[dict[str, str]]:
        h = await world.fake.autocomplete(
            world.guild_id, world.admin, "setup", "timezone", focused="tz", options={"tz": typed}
        )
        body = await h.wait_response()
        assert body["type"] == 8
        choices: list[dict[str, str]] = body["data"]["choices"]
        assert len(choices) <= 25 and all(len(c["name"]) <= 100 for c in choices)
        return choices

    # Canonical zones first, found by the names people use; never a legacy alias.
    for typed, zone in [
        ("new_y", "America/New_York"),
        ("EST", "America/New_York"),
        ("Eastern", "America/New_York"),
        ("pacific", "America/Los_Angeles"),
        ("india", "Asia/Kolkata"),
        ("UK", "Europe/London"),
        ("central europe", "Europe/Berlin"),
    ]:
        choices = await first_choices(typed)
        assert choices[0]["value"] == zone, (typed, choices[:3])
        assert not {c["value"] for c in choices} & {"EST", "US/Eastern", "GB", "EST5EDT"}
    (ny,) = [c for c in await first_choices("new york") if c["value"] == "America/New_York"]
    assert ny["name"].startswith("America/New_York · United States")
    assert ny["name"].endswith(("UTC−05:00 now", "UTC−04:00 now"))  # its offset today

    # Typed in full and sent without picking, "EST" means New York, not fixed UTC-5.
    await world.configure()
    h = await world.run(world.admin, "setup", "timezone", tz="EST")
    assert h.ephemeral and "America/New_York" in h.content
    settings = await rows(world, "SELECT timezone FROM guild_settings")
    assert settings[0]["timezone"] == "America/New_York"


async def test_create_group_makes_a_private_channel_and_no_role(world: World) -> None:
    await world.configure()
    roles_before = set(world.fake.guilds[world.guild_id].roles)
    h = await create_group(world, capacity=12)
    assert h.response_type == 5 and h.ephemeral  # deferred, privately
    # No role: a role named after the group would show on every member's profile.
    assert world.fake.requests_to("POST", rf"/guilds/{world.guild_id}/roles") == []
    assert set(world.fake.guilds[world.guild_id].roles) == roles_before
    (chan_req,) = world.fake.requests_to("POST", rf"/guilds/{world.guild_id}/channels")
    group = (await rows(world, "SELECT * FROM groups"))[0]
    assert group["role_id"] is None
    overwrites = {int(o["id"]): o for o in chan_req.json_body["permission_overwrites"]}
    assert set(overwrites) == {world.guild_id, world.fake.bot_user_id, world.facilitator}
    assert int(overwrites[world.guild_id]["deny"]) & VIEW_CHANNEL
    assert int(overwrites[world.fake.bot_user_id]["allow"]) & VIEW_CHANNEL
    assert overwrites[world.facilitator]["type"] == 1  # a member overwrite
    assert int(overwrites[world.facilitator]["allow"]) & VIEW_CHANNEL
    channel_id = int(str(group["channel_id"]))
    # Who can actually see it, according to Discord's permission rules:
    assert not world.fake.permissions_in(channel_id, world.alice) & VIEW_CHANNEL
    assert world.fake.permissions_in(channel_id, world.facilitator) & VIEW_CHANNEL
    assert world.fake.permissions_in(channel_id, world.fake.bot_user_id) & VIEW_CHANNEL
    followup = h.responses[-1]["body"]
    assert f"<#{channel_id}>" in followup["content"] and int(followup["flags"]) & 64
    assert group["capacity"] == 12 and group["join_mode"] == "open"


async def test_create_group_refused_for_members_and_validated(world: World) -> None:
    await world.configure()
    h = await world.run(
        world.alice, "group", "create", name="Mine", description="d", focus="f", join_mode="open"
    )
    assert h.ephemeral and "Only facilitators" in h.content
    await create_group(world)
    h = await create_group(world, name="parents circle")
    assert "already a group" in h.responses[-1]["body"]["content"]
    assert len(await rows(world, "SELECT * FROM groups")) == 1
    assert len(world.fake.requests_to("POST", rf"/guilds/{world.guild_id}/channels")) == 1


async def test_discord_refusal_on_create_keeps_nothing(world: World) -> None:
    await world.configure()
    world.fake.fail_next(
        "POST",
        rf"/guilds/{world.guild_id}/channels",
        status=403,
        body={"code": 50013, "message": "Missing Permissions"},
    )
    h = await create_group(world)
    reply = h.responses[-1]["body"]
    assert int(reply["flags"]) & 64
    assert "missing a permission" in reply["content"] and "Nothing was changed" in reply["content"]
    assert await rows(world, "SELECT * FROM groups") == []
    # Nothing half-made is left behind: no role was ever made, no channel was kept.
    assert world.fake.requests_to("POST", rf"/guilds/{world.guild_id}/roles") == []
    assert world.fake.channel_named(world.guild_id, "parents-circle") is None


async def test_join_shows_guidelines_and_seats_only_after_consent(world: World) -> None:
    await world.configure()
    await create_group(world)
    h = await world.run(world.alice, "group", "join", name="Parents Circle")
    assert h.ephemeral
    assert "What is shared here stays here" in text_of(h.callback)
    assert custom_ids(h.callback)[0].startswith("fb:consent:")
    assert await rows(world, "SELECT * FROM memberships") == []
    (consent_id,) = custom_ids(h.callback)
    click = await world.fake.click(
        world.guild_id, world.alice, consent_id, message_id=world.fake.next_id()
    )
    body = await click.wait_response()
    assert body["type"] == 7  # the ephemeral message is updated in place
    assert "You're now a member" in body["data"]["content"]
    group = (await rows(world, "SELECT * FROM groups"))[0]
    membership = (await rows(world, "SELECT * FROM memberships"))[0]
    assert membership["user_id"] == world.alice and membership["status"] == "member"
    assert membership["consent_version"] == 1 and membership["consented_at"]
    channel_id = int(str(group["channel_id"]))
    (grant,) = world.fake.requests_to("PUT", rf"/channels/{channel_id}/permissions/{world.alice}")
    assert grant.json_body["type"] == 1  # her own overwrite, seen only by those in the channel
    await eventually(lambda: world.fake.permissions_in(channel_id, world.alice) & VIEW_CHANNEL)
    assert world.fake.permissions_in(channel_id, world.alice) & SEND_MESSAGES
    # Nothing on her profile: she holds no role at all.
    assert world.fake.member(world.guild_id, world.alice)["roles"] == []


async def test_bad_input_answers_kindly_and_changes_nothing(world: World) -> None:
    await world.configure()
    await create_group(world, capacity=1)
    h = await world.run(world.alice, "group", "join", name="Nope")
    assert h.ephemeral and "couldn't find a group called “Nope”" in h.content
    h = await world.run(world.alice, "group", "leave", name="Parents Circle")
    assert h.ephemeral and "not in “Parents Circle”" in h.content
    h = await world.run(world.alice, "group", "info", name="Nope")
    assert h.ephemeral and "couldn't find" in h.content
    await join(world, world.alice)
    h = await world.run(world.alice, "group", "join", name="Parents Circle")
    assert h.ephemeral and "already a member" in h.content
    # Full: bob is waitlisted with his place in line.
    _, click = await join(world, world.bob)
    assert "waitlist: number 1 in line" in click.callback["data"]["content"]
    h = await world.run(world.facilitator, "group", "members", name="Nope")
    assert h.ephemeral and "couldn't find" in h.content
    for command, options in (
        ("members", {"name": "Parents Circle"}),
        ("archive", {"name": "Parents Circle"}),
        ("edit", {"name": "Parents Circle", "capacity": 5}),
        ("remove", {"member": world.bob, "name": "Parents Circle"}),
        ("add-facilitator", {"member": world.bob, "name": "Parents Circle"}),
    ):
        h = await world.run(world.alice, "group", command, **options)
        assert h.ephemeral and "Only facilitators" in h.content, command
    memberships = await rows(world, "SELECT user_id, status FROM memberships ORDER BY id")
    assert memberships == [
        {"user_id": world.alice, "status": "member"},
        {"user_id": world.bob, "status": "waitlisted"},
    ]
    group = (await rows(world, "SELECT * FROM groups"))[0]
    assert group["status"] == "active" and group["capacity"] == 1


async def test_leave_frees_seat_and_first_waiting_is_told_by_dm(world: World) -> None:
    await world.configure()
    await create_group(world, capacity=1)
    await join(world, world.alice)
    await join(world, world.bob)
    await join(world, world.carol)
    h = await world.run(world.alice, "group", "leave", name="Parents Circle")
    assert h.ephemeral and "You've left" in h.content
    group = (await rows(world, "SELECT * FROM groups"))[0]
    channel_id = int(str(group["channel_id"]))
    assert not world.fake.permissions_in(channel_id, world.alice) & VIEW_CHANNEL
    await eventually(lambda: world.fake.dms_to(world.bob))
    assert "a seat opened" in text_of(world.fake.dms_to(world.bob)[0]).lower()
    assert world.fake.permissions_in(channel_id, world.bob) & VIEW_CHANNEL
    assert not world.fake.permissions_in(channel_id, world.carol) & VIEW_CHANNEL
    assert world.fake.requests_to("PUT", r"/guilds/\d+/members/\d+/roles/\d+") == []
    statuses = await rows(world, "SELECT user_id, status FROM memberships ORDER BY id")
    assert statuses == [
        {"user_id": world.bob, "status": "member"},
        {"user_id": world.carol, "status": "waitlisted"},
    ]
    assert world.fake.dms_to(world.carol) == []


async def test_approval_mode_survives_restart(world: World) -> None:
    await world.configure()
    await create_group(world, join_mode="approval")
    _, click = await join(world, world.alice)
    assert "request is with them" in click.callback["data"]["content"]
    alert = await eventually(lambda: world.fake.messages_in(world.alerts_channel))
    assert f"<@{world.alice}>" in alert[-1]["content"]
    approve_id, deny_id = custom_ids(alert[-1])
    assert approve_id.endswith(":approve") and deny_id.endswith(":deny")
    assert (await rows(world, "SELECT status FROM memberships"))[0]["status"] == "pending"

    await world.restart()
    assert (await rows(world, "SELECT status FROM memberships"))[0]["status"] == "pending"

    # A plain member cannot use the buttons.
    nope = await world.fake.click(
        world.guild_id,
        world.bob,
        approve_id,
        message_id=int(alert[-1]["id"]),
        channel_id=world.alerts_channel,
    )
    await nope.wait_response()
    assert nope.ephemeral and "Only facilitators" in nope.content
    assert (await rows(world, "SELECT status FROM memberships"))[0]["status"] == "pending"

    ok = await world.fake.click(
        world.guild_id,
        world.facilitator,
        approve_id,
        message_id=int(alert[-1]["id"]),
        channel_id=world.alerts_channel,
    )
    body = await ok.wait_response()
    assert body["type"] == 7 and "approved by" in body["data"]["content"]
    assert body["data"]["components"] == []
    assert (await rows(world, "SELECT status FROM memberships"))[0]["status"] == "member"
    await eventually(lambda: world.fake.dms_to(world.alice))
    assert "was approved" in text_of(world.fake.dms_to(world.alice)[-1])
    channel_id = int(str((await rows(world, "SELECT channel_id FROM groups"))[0]["channel_id"]))
    assert world.fake.permissions_in(channel_id, world.alice) & VIEW_CHANNEL
    assert world.fake.member(world.guild_id, world.alice)["roles"] == []


async def test_deny_tells_member_kindly(world: World) -> None:
    await world.configure()
    await create_group(world, join_mode="approval")
    await join(world, world.alice)
    alert = await eventually(lambda: world.fake.messages_in(world.alerts_channel))
    _, deny_id = custom_ids(alert[-1])
    h = await world.fake.click(
        world.guild_id,
        world.facilitator,
        deny_id,
        message_id=int(alert[-1]["id"]),
        channel_id=world.alerts_channel,
    )
    await h.wait_response()
    assert await rows(world, "SELECT * FROM memberships") == []
    await eventually(lambda: world.fake.dms_to(world.alice))
    assert "weren't able to offer you a place" in text_of(world.fake.dms_to(world.alice)[-1])


async def test_closed_dms_do_not_break_promotion(world: World) -> None:
    await world.configure()
    await create_group(world, capacity=1)
    await join(world, world.alice)
    await join(world, world.bob)
    world.fake.close_dms(world.bob)
    h = await world.run(world.alice, "group", "leave", name="Parents Circle")
    assert "You've left" in h.content
    statuses = await rows(world, "SELECT user_id, status FROM memberships")
    assert statuses == [{"user_id": world.bob, "status": "member"}]


async def test_list_info_members_and_about(world: World) -> None:
    await world.configure()
    await create_group(world, capacity=3)
    await join(world, world.alice)
    h = await world.run(world.bob, "group", "list")
    assert h.ephemeral
    listed = text_of(h.callback)
    assert "Parents Circle" in listed and "2 seats left" in listed
    assert str(world.alice) not in listed
    h = await world.run(world.bob, "group", "info", name="parents circle")
    assert h.ephemeral and "2 seats left" in text_of(h.callback)
    h = await world.run(world.facilitator, "group", "members", name="Parents Circle")
    assert h.ephemeral
    roster = text_of(h.callback)
    assert f"<@{world.alice}>" in roster and f"<@{world.facilitator}>" in roster
    assert "Members (1/3)" in roster
    h = await world.run(world.alice, "about")
    assert h.ephemeral
    about = text_of(h.callback)
    assert "0.1.0" in about and "Groups here\n1" in about


async def test_group_name_autocomplete(world: World) -> None:
    await world.configure()
    await create_group(world)
    await create_group(world, name="Siblings")
    h = await world.fake.autocomplete(
        world.guild_id, world.alice, "group", "join", focused="name", options={"name": "sib"}
    )
    body = await h.wait_response()
    assert [c["value"] for c in body["data"]["choices"]] == ["Siblings"]


async def test_edit_remove_add_facilitator_archive(world: World) -> None:
    await world.configure()
    await create_group(world, capacity=1)
    await join(world, world.alice)
    await join(world, world.bob)
    h = await world.run_to_end(
        world.facilitator,
        "group",
        "edit",
        name="Parents Circle",
        capacity=0,
        new_name="Parents Evening",
    )
    assert "1 from the waitlist got a seat" in h.responses[-1]["body"]["content"]
    assert world.fake.requests_to("PATCH", r"/channels/\d+")
    h = await world.run(
        world.facilitator, "group", "remove", member=world.bob, name="Parents Evening"
    )
    assert h.ephemeral and "Removed" in h.content
    await eventually(lambda: any("removed you" in text_of(m) for m in world.fake.dms_to(world.bob)))
    channel_id = int(str((await rows(world, "SELECT channel_id FROM groups"))[0]["channel_id"]))
    assert not world.fake.permissions_in(channel_id, world.bob) & VIEW_CHANNEL
    h = await world.run(
        world.facilitator, "group", "add-facilitator", member=world.carol, name="Parents Evening"
    )
    assert h.ephemeral and "isn't a facilitator yet" in h.content
    h = await world.run(
        world.facilitator, "group", "add-facilitator", member=world.admin, name="Parents Evening"
    )
    assert h.ephemeral and "now facilitates" in h.content
    assert world.fake.requests_to("PUT", rf"/channels/\d+/permissions/{world.admin}")
    h = await world.run_to_end(world.facilitator, "group", "archive", name="Parents Evening")
    assert "Archived" in h.responses[-1]["body"]["content"]
    h = await world.run(world.carol, "group", "join", name="Parents Evening")
    assert "archived" in h.content
    group = (await rows(world, "SELECT * FROM groups"))[0]
    assert group["status"] == "archived" and group["name"] == "Parents Evening"
    # Archived: alice and the facilitators still read the history, nobody posts, no label
    # anywhere (no role), and nobody else sees the channel.
    perms = world.fake.permissions_in
    for reader in (world.alice, world.facilitator, world.admin):
        assert perms(channel_id, reader) & VIEW_CHANNEL, reader
        assert not perms(channel_id, reader) & SEND_MESSAGES, reader
    for outsider in (world.bob, world.carol):
        assert not perms(channel_id, outsider) & VIEW_CHANNEL
    for uid in (world.alice, world.bob, world.carol):
        assert world.fake.member(world.guild_id, uid)["roles"] == []


async def test_capacity_above_discords_channel_limit_is_refused_kindly(world: World) -> None:
    await world.configure()
    h = await create_group(world, capacity=90)
    reply = h.responses[-1]["body"]
    assert int(reply["flags"]) & 64
    assert (
        "at most 86 members" in reply["content"] and "Please choose 86 or fewer" in reply["content"]
    )
    assert await rows(world, "SELECT * FROM groups") == []
    assert world.fake.requests_to("POST", rf"/guilds/{world.guild_id}/channels") == []
    await create_group(world, capacity=86)
    h = await world.run_to_end(
        world.facilitator, "group", "edit", name="Parents Circle", capacity=300
    )
    reply = h.responses[-1]["body"]
    assert int(reply["flags"]) & 64 and "at most 86 members" in reply["content"]
    assert (await rows(world, "SELECT capacity FROM groups"))[0]["capacity"] == 86


async def test_groups_past_the_old_role_limit_and_a_kind_error_at_the_channel_limit(
    world: World,
) -> None:
    """One role per group stopped a server at about 247 groups (Discord's 250 roles); with
    no roles, groups are limited only by Discord's 500 channels, where the reply is kind."""
    await world.configure()
    fake = world.fake
    # A server already near Discord's channel cap: fill it up to 5 channels below it.
    while fake.guild_channel_count(world.guild_id) < fake.MAX_GUILD_CHANNELS - 5:
        fake.add_text_channel(world.guild_id, f"filler-{fake.next_id()}")
    for _ in range(260 - len(fake.guilds[world.guild_id].roles)):  # past 250 roles
        fake.add_role(world.guild_id, "some role")
    roles_before = len(fake.guilds[world.guild_id].roles)
    for n in range(5):
        h = await create_group(world, name=f"Circle {n}")
        assert "created" in h.responses[-1]["body"]["content"].lower(), n
    assert len(fake.guilds[world.guild_id].roles) == roles_before  # no role per group
    h = await create_group(world, name="One too many")
    reply = h.responses[-1]["body"]
    assert int(reply["flags"]) & 64
    assert "limit of 500 channels" in reply["content"] and "Nothing was changed" in reply["content"]
    assert len(await rows(world, "SELECT * FROM groups")) == 5


async def test_unexpected_error_gets_generic_reply_and_id_only_log(
    world: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert world.bot is not None

    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(world.bot.services.groups, "list_page", broken)
    with caplog.at_level(logging.ERROR):
        h = await world.run(world.alice, "group", "list")
    assert h.ephemeral and "something went wrong on my side" in h.content
    logged = [r for r in caplog.records if "unhandled error" in r.getMessage()]
    assert logged and f"user={world.alice}" in logged[0].getMessage()
    assert "alice" not in logged[0].getMessage()


async def test_error_after_deferral_uses_followup(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.configure()
    assert world.bot is not None

    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(world.bot.services.groups, "archive", broken)
    await create_group(world)
    h = await world.run_to_end(world.facilitator, "group", "archive", name="Parents Circle")
    assert h.response_type == 5
    reply = h.responses[-1]["body"]
    assert "something went wrong" in reply["content"] and int(reply["flags"]) & 64


async def test_the_invite_permissions_are_enough_and_manage_roles_is_what_opens_the_channel(
    world: World,
) -> None:
    """The bot's role holds exactly what `familybot check`'s invite asks for: groups work.
    Without Manage Roles (Discord's name for setting a channel's permissions) joining is
    refused kindly and nothing is stored."""
    from familybot.permissions import PERMISSION_BITS, permissions_value

    guild = world.fake.guild(world.guild_id)
    bot_role = guild.roles[guild.bot_role_id]
    bot_role["permissions"] = str(permissions_value())
    await world.configure()
    await create_group(world)
    await join(world, world.alice)
    channel_id = int(str((await rows(world, "SELECT channel_id FROM groups"))[0]["channel_id"]))
    assert world.fake.permissions_in(channel_id, world.alice) & VIEW_CHANNEL
    h = await world.run(world.alice, "group", "leave", name="Parents Circle")
    assert "You've left" in h.content
    assert not world.fake.permissions_in(channel_id, world.alice) & VIEW_CHANNEL

    bot_role["permissions"] = str(permissions_value() & ~PERMISSION_BITS["manage_roles"])
    _, click = await join(world, world.bob)
    content = click.callback["data"]["content"]
    assert "Manage Roles" in content and "Nothing was changed" in content
    assert await rows(world, "SELECT * FROM memberships") == []
    assert not world.fake.permissions_in(channel_id, world.bob) & VIEW_CHANNEL
