"""Proves the fake Discord works with a bare discord.py ``commands.Bot``."""

from __future__ import annotations

import asyncio
import inspect
import io
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.support.discord_schema import DEFAULT_SPEC_PATH, SpecMissing, load_spec
from tests.support.fake_discord import FakeDiscord, UserOpt
from tests.support.fake_discord.permissions import MANAGE_ROLES, VIEW_CHANNEL

pytestmark = pytest.mark.backend_free  # the fake alone, no FamilyBot: runs once


async def eventually(check: Callable[[], bool], timeout: float = 2.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


class JoinView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Join", custom_id="family:join", style=discord.ButtonStyle.green)
    async def join(
        self, interaction: discord.Interaction, button: discord.ui.Button[JoinView]
    ) -> None:
        await interaction.response.send_message(f"joined {interaction.user.id}", ephemeral=True)


class NoteModal(discord.ui.Modal, title="Note"):
    note: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(label="Note", custom_id="note")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"noted: {self.note.value}", ephemeral=True)


def make_bot(*, members: bool = True) -> commands.Bot:
    intents = discord.Intents.default()
    intents.members = members
    bot = commands.Bot(command_prefix="!", intents=intents)

    setup = app_commands.Group(name="setup", description="Set up the bot")
    family = app_commands.Group(name="family", description="Family things")
    event = app_commands.Group(name="event", description="Events", parent=family)

    @setup.command(name="facilitator-role", description="Pick the facilitator role")
    async def facilitator_role(interaction: discord.Interaction, role: discord.Role) -> None:
        await interaction.response.send_message(f"facilitator role is {role.name}")

    @event.command(name="create", description="Create an event")
    @app_commands.describe(title="Title", slots="How many", public="Visible to all")
    async def create(
        interaction: discord.Interaction, title: str, slots: int, public: bool = False
    ) -> None:
        await interaction.response.send_message(
            f"{title}:{slots}:{public}:{type(slots).__name__}", ephemeral=not public
        )
        await interaction.followup.send("follow-up", ephemeral=True)

    @family.command(name="note", description="Leave a note")
    async def note(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(NoteModal())

    @family.command(name="pick", description="Pick a city")
    async def pick(interaction: discord.Interaction, city: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.edit_original_response(content=f"picked {city}")

    @pick.autocomplete("city")
    async def city_ac(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        cities = ["Berlin", "Bern", "Boston"]
        return [app_commands.Choice(name=c, value=c) for c in cities if c.startswith(current)]

    @app_commands.context_menu(name="Flag message")
    async def flag(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(f"flagged {message.id}", ephemeral=True)

    bot.tree.add_command(setup)
    bot.tree.add_command(family)
    bot.tree.add_command(flag)

    async def setup_hook() -> None:
        bot.add_view(JoinView())

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    return bot


@dataclass
class Env:
    fake: FakeDiscord
    bot: commands.Bot
    guild_id: int
    owner_id: int
    user_id: int


@pytest.fixture
async def env(fake_discord: FakeDiscord) -> AsyncIterator[Env]:
    owner = fake_discord.add_user(name="owner")
    guild_id = fake_discord.add_guild("Family Support", owner_id=owner)
    user = fake_discord.add_member(guild_id, name="alice")
    bot = make_bot()
    async with fake_discord.running(bot):
        yield Env(fake_discord, bot, guild_id, owner, user)


async def synced(env: Env) -> None:
    guild = discord.Object(env.guild_id)
    env.bot.tree.copy_global_to(guild=guild)
    await env.bot.tree.sync(guild=guild)


# --------------------------------------------------------------------------------------------


async def test_ready_and_guild_create_populate_cache(env: Env) -> None:
    fake, bot = env.fake, env.bot
    assert fake.identified.is_set()
    path, query = fake.gateway_connects[0]
    assert path == "/gateway"
    assert query["v"] == "10" and query["encoding"] == "json"
    assert query["compress"] in ("zlib-stream", "zstd-stream")
    assert fake.identify_payloads[0]["intents"] == bot.intents.value
    assert bot.user is not None and bot.user.id == fake.bot_user_id
    assert bot.application_id == fake.application_id
    guild = bot.get_guild(env.guild_id)
    assert guild is not None and guild.name == "Family Support"
    assert guild.default_role.id == env.guild_id
    assert guild.me is not None and guild.me.top_role.managed
    assert [c.name for c in guild.text_channels] == ["general"]
    assert guild.owner_id == env.owner_id
    assert guild.get_member(env.user_id) is not None
    assert guild.chunked


async def test_slash_command_with_group_subcommand_and_options(env: Env) -> None:
    fake = env.fake
    await synced(env)
    put = fake.requests_to("PUT", r"/applications/\d+/guilds/\d+/commands")
    assert len(put) == 1 and put[0].status == 200
    stored = fake.find_command("family", env.guild_id)
    assert stored is not None and stored["options"][0]["type"] in (1, 2)

    handle = await fake.slash(
        env.guild_id,
        env.user_id,
        "family",
        "event",
        "create",
        options={"title": "Picnic", "slots": 3},
    )
    body = await handle.wait_response()
    assert body["type"] == 4
    assert body["data"]["content"] == "Picnic:3:False:int"
    assert handle.ephemeral
    followups = await handle.wait_for("followup")
    assert followups[0]["content"] == "follow-up"
    assert fake.interaction_responses(handle.id)[0] == body

    role_id = fake.add_role(env.guild_id, "Facilitators")
    handle2 = await fake.slash(
        env.guild_id, env.user_id, "setup", "facilitator-role", options={"role": role_id}
    )
    body2 = await handle2.wait_response()
    assert body2["data"]["content"] == "facilitator role is Facilitators"
    assert not handle2.ephemeral
    general = fake.guilds[env.guild_id].general_channel_id
    assert fake.messages_in(general)[-1]["content"] == "facilitator role is Facilitators"


async def test_defer_edit_autocomplete_modal_and_context_menu(env: Env) -> None:
    fake = env.fake
    await synced(env)

    ac = await fake.autocomplete(
        env.guild_id, env.user_id, "family", "pick", focused="city", options={"city": "Be"}
    )
    body = await ac.wait_response()
    assert body["type"] == 8
    assert [c["value"] for c in body["data"]["choices"]] == ["Berlin", "Bern"]

    pick = await fake.slash(env.guild_id, env.user_id, "family", "pick", options={"city": "Bern"})
    assert (await pick.wait_response())["type"] == 5
    assert pick.ephemeral
    await pick.wait_for("edit")
    assert pick.content == "picked Bern"

    note = await fake.slash(env.guild_id, env.user_id, "family", "note")
    modal = await note.wait_response()
    assert modal["type"] == 9
    submit = await fake.submit_modal(
        env.guild_id, env.user_id, modal["data"]["custom_id"], {"note": "hello"}
    )
    assert (await submit.wait_response())["data"]["content"] == "noted: hello"

    msg = await env.bot.get_channel(fake.guilds[env.guild_id].general_channel_id).send("spam?")  # type: ignore[union-attr]
    flag = await fake.context_menu(env.guild_id, env.user_id, "Flag message", message_id=msg.id)
    assert (await flag.wait_response())["data"]["content"] == f"flagged {msg.id}"


async def test_persistent_view_button_click(env: Env) -> None:
    handle = await env.fake.click(env.guild_id, env.user_id, "family:join")
    body = await handle.wait_response()
    assert body["type"] == 4 and body["data"]["content"] == f"joined {env.user_id}"
    assert handle.ephemeral


async def test_user_select_resolves_member(env: Env) -> None:
    got: list[int] = []

    class Picker(discord.ui.View):
        def __init__(self) -> None:
            super().__init__(timeout=None)

        @discord.ui.select(cls=discord.ui.UserSelect, custom_id="family:pick-user")
        async def pick(
            self, interaction: discord.Interaction, select: discord.ui.UserSelect[Picker]
        ) -> None:
            got.extend(u.id for u in select.values)
            await interaction.response.defer()

    env.bot.add_view(Picker())
    handle = await env.fake.select(
        env.guild_id, env.user_id, "family:pick-user", [UserOpt(env.owner_id)], component_type=5
    )
    assert (await handle.wait_response())["type"] == 6
    assert got == [env.owner_id]


async def test_role_channel_and_member_roles_round_trip(env: Env) -> None:
    fake, bot = env.fake, env.bot
    guild = bot.get_guild(env.guild_id)
    assert guild is not None
    role = await guild.create_role(
        name="Facilitators", permissions=discord.Permissions(manage_roles=True)
    )
    stored = fake.role_named(env.guild_id, "Facilitators")
    assert stored is not None and int(stored["permissions"]) == MANAGE_ROLES
    await eventually(lambda: guild.get_role(role.id) is not None)

    channel = await guild.create_text_channel(
        "facilitators",
        overwrites={
            guild.default_role: discord.PermissionOverwrite(view_channel=False),
            role: discord.PermissionOverwrite(view_channel=True),
        },
    )
    raw = fake.channel_named(env.guild_id, "facilitators")
    assert raw is not None
    ow = {o["id"]: o for o in raw["permission_overwrites"]}
    assert int(ow[str(env.guild_id)]["deny"]) == VIEW_CHANNEL
    assert int(ow[str(role.id)]["allow"]) == VIEW_CHANNEL
    await eventually(lambda: guild.get_channel(channel.id) is not None)
    cached = guild.get_channel(channel.id)
    assert cached is not None and cached.overwrites_for(guild.default_role).view_channel is False

    member = guild.get_member(env.user_id)
    assert member is not None
    assert not fake.permissions_in(channel.id, env.user_id) & VIEW_CHANNEL
    await member.add_roles(role)
    assert str(role.id) in fake.member(env.guild_id, env.user_id)["roles"]
    assert fake.permissions_in(channel.id, env.user_id) & VIEW_CHANNEL
    await eventually(lambda: role in member.roles)

    await channel.set_permissions(member, send_messages=False)
    await eventually(lambda: cached.overwrites_for(member).send_messages is False)
    await channel.delete()
    await eventually(lambda: guild.get_channel(channel.id) is None)


async def test_role_hierarchy_is_enforced(env: Env) -> None:
    guild = env.bot.get_guild(env.guild_id)
    assert guild is not None
    high = env.fake.add_role(env.guild_id, "Admins", position=50)
    member = guild.get_member(env.user_id)
    assert member is not None
    with pytest.raises(discord.Forbidden) as exc_info:
        await member.add_roles(discord.Object(high))
    assert exc_info.value.code == 50013


async def test_closed_dms_raise_forbidden(env: Env) -> None:
    fake, bot = env.fake, env.bot
    fake.close_dms(env.user_id)
    user = await bot.fetch_user(env.user_id)
    with pytest.raises(discord.Forbidden) as exc_info:
        await user.send("hello")
    assert exc_info.value.code == 50007
    assert fake.dms_to(env.user_id) == []
    fake.open_dms(env.user_id)
    await user.send("hello again")
    assert [m["content"] for m in fake.dms_to(env.user_id)] == ["hello again"]


async def test_multipart_file_send(env: Env) -> None:
    fake, bot = env.fake, env.bot
    channel = bot.get_channel(fake.guilds[env.guild_id].general_channel_id)
    assert isinstance(channel, discord.TextChannel)
    msg = await channel.send(
        "see attached", file=discord.File(io.BytesIO(b"a,b\n1,2\n"), "report.csv")
    )
    assert msg.attachments[0].filename == "report.csv"
    rec = fake.requests_to("POST", r"/channels/\d+/messages")[-1]
    assert rec.json_body is not None and rec.json_body["content"] == "see attached"
    assert rec.files[0].filename == "report.csv" and rec.files[0].data == b"a,b\n1,2\n"
    stored = fake.messages_in(channel.id)[-1]
    assert stored["attachments"][0]["size"] == 8


async def test_global_rate_limit_storm_is_respected(env: Env) -> None:
    fake, bot = env.fake, env.bot
    channel = bot.get_channel(fake.guilds[env.guild_id].general_channel_id)
    assert isinstance(channel, discord.TextChannel)
    fake.global_rate_limit = 5
    fake.rate_limit_window = 0.2
    start = time.monotonic()
    msgs = await asyncio.gather(*(channel.send(f"m{i}") for i in range(12)))
    elapsed = time.monotonic() - start
    fake.global_rate_limit = None
    assert len({m.id for m in msgs}) == 12
    assert len(fake.messages_in(channel.id)) == 12
    assert fake.rate_limited_count > 0
    assert elapsed >= 0.35  # three windows were needed for 12 requests at 5/window


async def test_injected_route_429_is_retried(env: Env) -> None:
    fake, bot = env.fake, env.bot
    channel = bot.get_channel(fake.guilds[env.guild_id].general_channel_id)
    assert isinstance(channel, discord.TextChannel)
    fake.fail_next("POST", r"/channels/\d+/messages", status=429)
    await channel.send("after retry")
    recs = fake.requests_to("POST", r"/channels/\d+/messages")
    assert [r.status for r in recs] == [429, 200]
    fake.fail_next(
        "POST",
        r"/channels/\d+/messages",
        status=403,
        body={"code": 50013, "message": "Missing Permissions"},
    )
    with pytest.raises(discord.Forbidden):
        await channel.send("nope")


async def test_nonce_dedup(env: Env) -> None:
    fake, bot = env.fake, env.bot
    channel = bot.get_channel(fake.guilds[env.guild_id].general_channel_id)
    assert isinstance(channel, discord.TextChannel)
    first = await channel.send("once", nonce=424242)
    second = await channel.send("once", nonce=424242)
    assert first.id == second.id
    assert fake.requests_to("POST", r"/channels/\d+/messages")[0].json_body["enforce_nonce"] is True
    assert [m["content"] for m in fake.messages_in(channel.id)] == ["once"]


async def test_scheduled_event_limit(env: Env) -> None:
    fake, bot = env.fake, env.bot
    guild = bot.get_guild(env.guild_id)
    assert guild is not None
    start = discord.utils.utcnow() + timedelta(days=1)
    ev = await guild.create_scheduled_event(
        name="Meetup",
        start_time=start,
        end_time=start + timedelta(hours=1),
        entity_type=discord.EntityType.external,
        location="Library",
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    g = fake.guilds[env.guild_id]
    assert int(g.scheduled_events[ev.id]["entity_type"]) == 3
    template = g.scheduled_events[ev.id]
    for _ in range(99):
        eid = fake.next_id()
        g.scheduled_events[eid] = {**template, "id": str(eid)}
    with pytest.raises(discord.HTTPException) as exc_info:
        await guild.create_scheduled_event(
            name="One too many",
            start_time=start,
            end_time=start + timedelta(hours=1),
            entity_type=discord.EntityType.external,
            location="Library",
            privacy_level=discord.PrivacyLevel.guild_only,
        )
    assert exc_info.value.code == 30038


@pytest.mark.allow_schema_errors
async def test_invalid_body_is_reported_by_schema_validation(env: Env) -> None:
    fake = env.fake
    assert fake.spec is not None, "the vendored spec must be loaded in every run"
    channel_id = fake.guilds[env.guild_id].general_channel_id
    route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
    await env.bot.http.request(route, json={"content": "hi", "tts": "definitely"})
    assert len(fake.schema_errors) == 1
    err = fake.schema_errors[0]
    assert err.method == "POST" and err.path == f"/channels/{channel_id}/messages"
    assert "tts" in err.message
    with pytest.raises(AssertionError):
        fake.assert_no_schema_errors()


@pytest.mark.allow_schema_errors
async def test_unknown_route_is_404_and_recorded(env: Env) -> None:
    route = discord.http.Route("GET", "/guilds/{guild_id}/bans", guild_id=env.guild_id)
    with pytest.raises(discord.NotFound):
        await env.bot.http.request(route)
    assert [r.path for r in env.fake.unhandled_routes] == [f"/guilds/{env.guild_id}/bans"]


async def test_resume_after_dropped_connection(env: Env) -> None:
    fake, bot = env.fake, env.bot
    resumed = asyncio.Event()
    bot.add_listener(_set_on(resumed), "on_resumed")
    await fake.drop_connection()
    role_id = fake.add_role(env.guild_id, "Created while offline")
    await fake.dispatch(
        "GUILD_ROLE_CREATE",
        {"guild_id": str(env.guild_id), "role": fake.role(env.guild_id, role_id)},
    )
    await asyncio.wait_for(resumed.wait(), 5)
    assert fake.gateway_connects[-1][0] == "/resume-gateway"
    assert fake.gateway_ops[-1]["op"] == 6
    guild = bot.get_guild(env.guild_id)
    assert guild is not None
    await eventually(lambda: guild.get_role(role_id) is not None)
    assert len(fake.identify_payloads) == 1


async def test_invalid_session_triggers_reidentify(env: Env) -> None:
    fake = env.fake

    async def no_wait(shard_id: int | None, *, initial: bool = False) -> None:
        return None  # discord.py sleeps 5s before every non-initial IDENTIFY

    env.bot.before_identify_hook = no_wait  # type: ignore[method-assign]
    await fake.invalidate_session(resumable=False)
    await eventually(lambda: len(fake.identify_payloads) == 2, timeout=5)
    await eventually(lambda: fake.connected)


def _set_on(event: asyncio.Event) -> Callable[[], Coroutine[Any, Any, None]]:
    async def listener() -> None:
        event.set()

    return listener


async def test_missing_spec_fails_instead_of_skipping(tmp_path: Path) -> None:
    with pytest.raises(SpecMissing, match="not found"):
        FakeDiscord(spec_path=tmp_path / "nope.json")


def test_the_spec_is_vendored_with_its_licence() -> None:
    # A fresh clone (no ../shared beside it) validates too: the pinned copy is in the repo.
    assert DEFAULT_SPEC_PATH.is_file()
    assert "MIT License" in (DEFAULT_SPEC_PATH.parent / "LICENSE").read_text()
    assert load_spec().doc["openapi"].startswith("3.1")


async def test_slash_without_synced_commands_infers_option_types(env: Env) -> None:
    # Not synced: the fake infers str/int/bool from Python values and nests the subcommand.
    handle = await env.fake.slash(
        env.guild_id,
        env.user_id,
        "family",
        "event",
        "create",
        options={"title": "Tea", "slots": 2, "public": True},
    )
    option = handle.payload["data"]["options"][0]
    assert option["type"] == 2 and option["options"][0]["type"] == 1
    assert [o["type"] for o in option["options"][0]["options"]] == [3, 4, 5]
    body = await handle.wait_response()
    assert body["data"]["content"] == "Tea:2:True:int"
    assert not handle.ephemeral


def test_every_route_is_listed_once_and_specific_paths_win() -> None:
    # Each resource module lists its own routes; together they must not shadow one another.
    fake = FakeDiscord(validate_schema=False)
    names = [r.name for r in fake.routes]
    assert len(names) == len(set(names)) == 49
    me = fake.match_route("GET", "/users/@me")
    assert me is not None and me[0].template == "/users/@me"
    other = fake.match_route("GET", "/users/42")
    assert other is not None and other[0].template == "/users/{user_id}"
    fake.add_route("GET", "/users/{user_id}", fake._get_me)
    assert fake.match_route("GET", "/users/42")[0] is fake.routes[0]  # type: ignore[index]


def test_the_fake_is_one_small_module_per_resource() -> None:
    package = Path(inspect.getfile(FakeDiscord)).parent  # tests/support/fake_discord/
    sizes = {p.name: len(p.read_text().splitlines()) for p in package.glob("*.py")}
    assert {"guilds.py", "channels.py", "members.py", "roles.py", "messages.py"} <= set(sizes)
    assert max(sizes.values()) <= 400, sizes
    flat = sorted(p.name for p in package.parent.glob("fake_discord_*.py"))
    assert flat == [], "the flat fake_discord_*.py modules are gone; import the package's"
