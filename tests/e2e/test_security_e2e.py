"""Security review as tests, through the real bot and the fake Discord.

* every facilitator/admin command (walked from the tree) refuses a plain member kindly,
  privately, and changes nothing;
* the bot token and interaction tokens never reach the logs, even at LOG_LEVEL=DEBUG;
* hypothesis feeds odd text into every command's string options through the real handlers:
  no crash, no ping, no Discord limit exceeded, no SQL error shown;
* the shared care check (harness.privacy_violations) really does catch a leak.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from familybot.checks import FACILITATOR_MARK, NOT_A_FACILITATOR, NOT_AN_ADMIN
from familybot.logging_setup import configure_logging
from familybot.tree import GENERIC_ERROR
from tests.e2e.harness import World, privacy_violations, tables_sync, text_of
from tests.support.fake_discord import ChannelOpt, FakeDiscord, RoleOpt, UserOpt, moderation
from tests.support.fake_discord.permissions import (
    BAN_MEMBERS,
    DEFAULT_BOT_PERMISSIONS,
    KICK_MEMBERS,
    MODERATE_MEMBERS,
)

OPT = discord.AppCommandOptionType
CALLBACK = r"/interactions/\d+/[^/]+/callback"


def leaf_commands(world: World) -> list[app_commands.Command[Any, ..., Any]]:
    assert world.bot is not None
    return [c for c in world.bot.tree.walk_commands() if isinstance(c, app_commands.Command)]


def guard_of(command: app_commands.Command[Any, ..., Any]) -> str | None:
    return getattr(command.callback, FACILITATOR_MARK, None)


def minimal_options(world: World, command: app_commands.Command[Any, ..., Any]) -> dict[str, Any]:
    """Valid-looking values for the required options (the check runs before they matter)."""
    out: dict[str, Any] = {}
    for p in command.parameters:
        if not p.required:
            continue
        if p.choices:
            out[p.display_name] = p.choices[0].value
        elif p.type is OPT.string:
            out[p.display_name] = "x" * max(1, int(p.min_value or 1))
        elif p.type in (OPT.integer, OPT.number):
            out[p.display_name] = int(p.min_value or 1)
        elif p.type is OPT.boolean:
            out[p.display_name] = True
        elif p.type is OPT.user:
            out[p.display_name] = UserOpt(world.bob)
        elif p.type is OPT.channel:
            out[p.display_name] = ChannelOpt(world.alerts_channel)
        elif p.type is OPT.role:
            out[p.display_name] = RoleOpt(world.facilitator_role)
        elif p.type is OPT.mentionable:
            out[p.display_name] = UserOpt(world.bob)
        else:
            raise AssertionError(f"/{command.qualified_name}: no minimal value for {p.type}")
    return out


async def test_every_guarded_command_refuses_a_plain_member(world: World) -> None:
    await world.configure()
    guarded = [c for c in leaf_commands(world) if guard_of(c)]
    assert len(guarded) >= 20, [c.qualified_name for c in guarded]  # the walk found them
    for command in guarded:
        before_db = tables_sync(world)
        before = len(world.fake.requests)
        h = await world.run(
            world.carol, *command.qualified_name.split(), **minimal_options(world, command)
        )
        name = command.qualified_name
        assert h.ephemeral, name
        expected = NOT_AN_ADMIN if guard_of(command) == "admin" else NOT_A_FACILITATOR
        assert h.content == expected, (name, h.content)
        await asyncio.sleep(0.05)  # anything the command might still do, it would do now
        made = [r for r in world.fake.requests[before:] if not re.fullmatch(CALLBACK, r.path)]
        assert made == [], (name, [(r.method, r.path) for r in made])
        after_db = tables_sync(world)
        # The refusal is audited, and every interaction claimed (its id only, no person). The
        # leader's lease is renewed every 30 s whatever happens (SQLite, familybot/db/lease.py).
        bookkeeping = ("interaction_claims", "leader_lease")
        changed = [
            t
            for t in after_db
            if after_db[t] != before_db.get(t) and "audit" not in t and t not in bookkeeping
        ]
        assert changed == [], (name, changed)


# --- logs ------------------------------------------------------------------------------------


@pytest.fixture
def debug_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    names = ("discord", "discord.http", "discord.gateway", "discord.client", "apscheduler")
    levels = {n: logging.getLogger(n).level for n in names}
    out = io.StringIO()
    configure_logging("DEBUG", stream=out)
    yield out
    root.handlers[:] = handlers
    root.setLevel(level)
    for n, old in levels.items():
        logging.getLogger(n).setLevel(old)


async def test_tokens_never_reach_the_logs_even_at_debug(
    fake_discord: FakeDiscord, tmp_path: Path, debug_logs: io.StringIO
) -> None:
    for name in ("discord", "discord.http", "discord.gateway", "discord.client"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.INFO, name
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    await w.start_bot(LOG_LEVEL="DEBUG")
    try:
        await w.configure()
        await w.run(w.alice, "crisis")
        await w.run(w.facilitator, "faq", "add", question="Where do we meet?", answer="Online.")
        await w.run(w.carol, "setup", "show")  # refused
    finally:
        await w.stop_bot()
    logged = debug_logs.getvalue()
    assert logging.getLogger().getEffectiveLevel() == logging.DEBUG and logged
    assert fake_discord.token not in logged
    tokens = [h.token for h in fake_discord.interactions.values()]
    assert tokens and not [t for t in tokens if t in logged or t[:40] in logged]
    assert "Authorization" not in logged


# --- the care check itself can fail ----------------------------------------------------------


async def test_the_care_check_catches_a_public_mention_and_a_name(world: World) -> None:
    assert world.bot is not None
    general = world.fake.guild(world.guild_id).general_channel_id
    await world.bot.http.send_message(general, params=_params(f"Going: <@{world.alice}>"))
    problems = privacy_violations(world)
    assert any("a mention" in p for p in problems) and any("a member id" in p for p in problems)
    world.public_log.clear()  # so this test's own teardown passes


def _params(content: str) -> Any:
    from discord.http import handle_message_parameters

    return handle_message_parameters(
        content=content, allowed_mentions=discord.AllowedMentions.none()
    )


# --- fuzzing every command's text through the real handlers ----------------------------------

TRICKY = st.sampled_from(
    [
        "@everyone",
        "@here",
        "<@1>",
        "<@&1>",
        "'; DROP TABLE groups; --",
        '" OR 1=1 --',
        "%s %d {0} {name}",
        "\u202e\u200b\ufeff",
        "🙂" * 30,
        "x" * 4000,
        "2026-02-30",
        "25:99",
        "-1",
        "https://",
        "javascript:alert(1)",
        "   ",
        "\n\n",
        "`/crisis` **bold** ||spoiler||",
    ]
)
FUZZ_TEXT = st.one_of(TRICKY, st.text(min_size=1, max_size=300), st.text(max_size=40))
LIMITS = {"title": 256, "description": 4096, "footer": 2048, "author": 256}


def _fits(text: str, p: app_commands.Parameter) -> str:
    lo, hi = int(p.min_value or 1), int(p.max_value or 6000)  # Range[str, lo, hi]
    text = text[:hi]
    return text if len(text) >= lo else (text + "x" * lo)[:hi]


def check_body(body: Any, inputs: list[str], allowed_roles: set[int]) -> list[str]:
    """Discord's limits and no-ping rule for one message body the bot sent.

    The one ping allowed is the bot's own, of the facilitator role (e.g. to add the
    facilitators to a private /ask thread); never @everyone, @here or any other role."""
    if not isinstance(body, dict):
        return []
    data = body.get("data") if isinstance(body.get("data"), dict) else body
    if not (data.get("content") or data.get("embeds")):
        return []
    problems: list[str] = []
    mentions = data.get("allowed_mentions")
    if mentions is None:
        problems.append("no allowed_mentions")
    else:
        roles = {int(r) for r in mentions.get("roles") or []}
        if {"everyone", "roles"} & set(mentions.get("parse") or []) or roles - allowed_roles:
            problems.append(f"could ping: {mentions}")
        for uid in mentions.get("users") or []:
            if any(str(uid) in text for text in inputs):
                problems.append(f"pings a user named in the input: {uid}")
    if len(str(data.get("content") or "")) > 2000:
        problems.append("content over 2000")
    embeds = data.get("embeds") or []
    if len(embeds) > 10:
        problems.append("over 10 embeds")
    total = 0
    for e in embeds:
        for key, limit in LIMITS.items():
            value = e.get(key)
            value = value.get("text") or value.get("name") if isinstance(value, dict) else value
            if value and len(str(value)) > limit:
                problems.append(f"embed {key} over {limit}")
            total += len(str(value or ""))
        fields = e.get("fields") or []
        if len(fields) > 25:
            problems.append("over 25 fields")
        for f in fields:
            if len(str(f.get("name"))) > 256 or len(str(f.get("value"))) > 1024:
                problems.append("field over its limit")
            total += len(str(f.get("name"))) + len(str(f.get("value")))
    if total > 6000:
        problems.append("embeds over 6000 in total")
    return problems


@pytest.fixture
async def fuzz_world(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    moderation.install(fake_discord)
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    g = fake_discord.guild(w.guild_id)
    g.roles[g.bot_role_id]["permissions"] = str(
        DEFAULT_BOT_PERMISSIONS | KICK_MEMBERS | BAN_MEMBERS | MODERATE_MEMBERS
    )
    g.roles[g.bot_role_id]["position"] = 3
    await w.start_bot()
    await w.configure()
    await w.run_to_end(
        w.facilitator,
        "group",
        "create",
        name="Parents Circle",
        description="Weekly circle",
        focus="parents",
        join_mode="open",
    )
    yield w
    await w.stop_bot()


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("familybot") or record.name.startswith("cogs"):
            self.records.append(record)


async def test_fuzzed_text_through_every_command(fuzz_world: World) -> None:
    w = fuzz_world
    commands = [
        c
        for c in leaf_commands(w)
        if any(p.type is OPT.string for p in c.parameters) and c.qualified_name != "crisis"
    ]
    assert len(commands) >= 15, [c.qualified_name for c in commands]
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    loop = asyncio.get_running_loop()
    examples: list[tuple[str, dict[str, Any]]] = []

    # Hypothesis draws the inputs; the bot runs them afterwards on this test's event loop.
    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        command = data.draw(st.sampled_from(commands))
        options = minimal_options(w, command)
        for p in command.parameters:
            if p.type is not OPT.string or p.choices:
                continue
            if p.required or data.draw(st.booleans()):
                options[p.display_name] = _fits(data.draw(FUZZ_TEXT), p)
        examples.append((command.qualified_name, options))

    draw()
    assert loop is asyncio.get_running_loop()
    assert len(examples) >= 100 and len({n for n, _ in examples}) >= 10
    problems: list[str] = []
    for name, options in examples:
        before = len(w.fake.requests)
        h = await w.fake.slash(w.guild_id, w.facilitator, *name.split(), options=options)
        await h.wait_response()
        if h.response_type == 5:
            await _settled(h)
        await asyncio.sleep(0)
        inputs = [v for v in options.values() if isinstance(v, str)]
        for r in w.fake.requests[before:]:
            for problem in check_body(r.json_body, inputs, {w.facilitator_role}):
                problems.append(f"/{name}: {problem}")
        for body in h.all_bodies():
            text = text_of(body) if isinstance(body, dict) else ""
            if str(GENERIC_ERROR) in text:
                problems.append(f"/{name} crashed with {options!r}"[:300])
            if re.search(r"sqlite|OperationalError|IntegrityError|syntax error", text, re.I):
                problems.append(f"/{name} showed a database error: {text[:200]}")
    logging.getLogger().removeHandler(errors)
    problems += [f"error logged: {r.getMessage()[:200]}" for r in errors.records]
    assert not problems, "\n".join(sorted(set(problems))[:30])
    assert not w.fake.handler_errors


async def _settled(h: Any) -> None:
    for _ in range(300):
        if any(r["kind"] in ("followup", "edit") for r in h.responses):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"deferred interaction {h.id} never finished")
