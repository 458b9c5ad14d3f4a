"""Walk the whole command tree: names, descriptions, Discord's limits, and guards."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord import app_commands

from familybot.bot import COGS, FamilyBot
from familybot.checks import FACILITATOR_MARK
from familybot.config import load_settings
from familybot.db.connection import Database
from familybot.db.migrate import migrate
from familybot.wiring import build_services
from tests.support.fakes import FakeClock, RecordingPort

NAME_RE = re.compile(r"^[-_\w]{1,32}$")

# PRODUCT.md's contract: commands and subcommands a plain member must not be able to run.
FACILITATOR_ONLY = {
    "group create",
    "group members",
    "group edit",
    "group remove",
    "group add-facilitator",
    "group archive",
    "group stats",
    "session schedule",
    "session cancel",
    "session reschedule",
    "session edit",
    "session attendance",
    "session rsvps",
    "faq add",
    "faq remove",
    "resource review",
    "resource add",
    "resource retire",
    "resource reviewed",
    # /mod is facilitator-only as a whole.
    *(
        f"mod {name}"
        for name in (
            *("warn", "timeout", "untimeout", "kick", "ban", "unban", "purge"),
            *("slowmode", "lock", "unlock", "note", "history", "case", "reason"),
        )
    ),
}
ADMIN_ONLY_PREFIXES = ("setup ", "resource allow-http")
# Admin commands that must exist (guarded by the "setup " prefix above).
ADMIN_COMMANDS = {
    "setup show",
    "setup audit",
    "setup safety-watch",
    "setup automod",
    "setup welcome",
    "setup language",
}
MEMBER_COMMANDS = {
    "group list",
    "group info",
    "group join",
    "group leave",
    "session list",
    "my schedule",
    "my timezone",
    "my reminders",
    "my calendar",
    "my data",
    "my forget",
    "my language",
    "about",
    "faq ask",
    "crisis",
    "help",
    "ask",
    "resource suggest",
    "resource search",
    "resource list",
    "resource share",
}


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[FamilyBot]:
    settings = load_settings(
        tmp_path / "none.env", environ={"DATABASE_PATH": str(tmp_path / "t.db")}
    )
    instance = FamilyBot(settings, clock=FakeClock(), sync_commands=False)
    db = await Database.open(tmp_path / "t.db")
    await migrate(db)
    instance.services = build_services(db, RecordingPort(), FakeClock(), "UTC")
    for ext in COGS:
        await instance.load_extension(ext)
    yield instance
    await db.close()


def walk(commands: list[Any]) -> list[app_commands.Command[Any, ..., Any]]:
    out: list[app_commands.Command[Any, ..., Any]] = []
    for command in commands:
        if isinstance(command, app_commands.Group):
            out.extend(walk(command.commands))
        elif isinstance(command, app_commands.Command):
            out.append(command)
    return out


def text_size(payload: dict[str, Any]) -> int:
    size = len(payload["name"]) + len(payload.get("description", ""))
    for choice in payload.get("choices") or []:
        size += len(choice["name"]) + len(str(choice["value"]))
    return size + sum(text_size(o) for o in payload.get("options", []))


def check_payload(payload: dict[str, Any], depth: int = 0) -> None:
    assert NAME_RE.match(payload["name"]) and payload["name"] == payload["name"].lower(), payload[
        "name"
    ]
    if payload.get("type", 1) == 1:
        assert 1 <= len(payload["description"]) <= 100, payload["name"]
    options = payload.get("options", [])
    assert len(options) <= 25
    names = [o["name"] for o in options]
    assert len(names) == len(set(names)), f"duplicate option names in {payload['name']}"
    seen_optional = False
    for option in options:
        if option["type"] in (1, 2):
            assert depth < 2
            check_payload(option, depth + 1)
            continue
        assert NAME_RE.match(option["name"])
        assert 1 <= len(option["description"]) <= 100, option["name"]
        assert len(option.get("choices") or []) <= 25
        if option.get("required"):
            assert not seen_optional, f"required option after optional in {payload['name']}"
        else:
            seen_optional = True
        if "max_length" in option:
            assert option["max_length"] <= 6000


async def test_tree_shape_and_limits(bot: FamilyBot) -> None:
    top = bot.tree.get_commands(type=discord.AppCommandType.chat_input)
    names = [c.name for c in top]
    assert len(names) == len(set(names))
    assert len(top) <= 100
    payloads = [c.to_dict(bot.tree) for c in top]
    for payload in payloads:
        check_payload(payload)
    for payload in payloads:
        # Discord caps a command's names, descriptions and choices at 4000 characters in all.
        assert text_size(payload) <= 4000, payload["name"]
    qualified = {c.qualified_name for c in walk(top)}
    assert qualified >= FACILITATOR_ONLY | MEMBER_COMMANDS | ADMIN_COMMANDS
    # /setup is hidden from members by Discord itself, too.
    setup_payload = next(p for p in payloads if p["name"] == "setup")
    assert int(setup_payload["default_member_permissions"]) == (
        discord.Permissions(manage_guild=True).value
    )
    assert setup_payload["contexts"] == [0]
    # /mod too: Discord hides it from members without Timeout Members.
    mod_payload = next(p for p in payloads if p["name"] == "mod")
    assert int(mod_payload["default_member_permissions"]) == (
        discord.Permissions(moderate_members=True).value
    )
    assert mod_payload["contexts"] == [0]
    # /help and /crisis answer anyone, in the server and in a DM with the bot.
    for name in ("help", "crisis"):
        payload = next(p for p in payloads if p["name"] == name)
        assert sorted(payload["contexts"]) == [0, 1], name
        assert payload.get("default_member_permissions") is None, name


def member_interaction(bot: FamilyBot, *, manage_guild: bool = False) -> Any:
    user = SimpleNamespace(id=4242, roles=[])
    return SimpleNamespace(
        client=bot,
        guild_id=1,
        user=user,
        permissions=discord.Permissions(manage_guild=manage_guild),
    )


async def run_checks(command: app_commands.Command[Any, ..., Any], interaction: Any) -> bool:
    try:
        for check in command.checks:
            result = check(interaction)
            if hasattr(result, "__await__"):
                result = await result
            if not result:
                return False
    except app_commands.CheckFailure:
        return False
    return True


async def test_every_guarded_command_refuses_a_plain_member(bot: FamilyBot) -> None:
    plain = member_interaction(bot)
    admin = member_interaction(bot, manage_guild=True)
    for command in walk(bot.tree.get_commands()):
        name = command.qualified_name
        mark = getattr(command.callback, FACILITATOR_MARK, None)
        guarded = name in FACILITATOR_ONLY or name.startswith(ADMIN_ONLY_PREFIXES)
        assert (mark is not None) == guarded, (
            f"{name}: guard mark {mark!r}, expected guarded={guarded}"
        )
        assert await run_checks(command, plain) is not guarded, name
        assert await run_checks(command, admin), name


async def test_facilitator_role_unlocks_facilitator_commands(bot: FamilyBot) -> None:
    await bot.services.setup.set_facilitator_role(1, 77)
    facilitator = member_interaction(bot)
    facilitator.user.roles = [SimpleNamespace(id=77)]
    for command in walk(bot.tree.get_commands()):
        name = command.qualified_name
        if name in FACILITATOR_ONLY:
            assert await run_checks(command, facilitator), name
        if name.startswith(ADMIN_ONLY_PREFIXES):
            assert not await run_checks(command, facilitator), name


# Message context menus (names may have spaces and capitals); anyone may use them.
MEMBER_CONTEXT_MENUS = {"Report to facilitators"}


async def test_context_menus_are_for_everyone_in_a_server(bot: FamilyBot) -> None:
    menus = [
        *bot.tree.get_commands(type=discord.AppCommandType.message),
        *bot.tree.get_commands(type=discord.AppCommandType.user),
    ]
    assert {m.name for m in menus} >= MEMBER_CONTEXT_MENUS
    plain = member_interaction(bot)
    for menu in menus:
        payload = menu.to_dict(bot.tree)
        assert 1 <= len(menu.name) <= 32 and "description" not in payload, menu.name
        assert payload["contexts"] == [0], menu.name  # servers only
        if menu.name in MEMBER_CONTEXT_MENUS:
            assert payload.get("default_member_permissions") is None, menu.name
            assert getattr(menu.callback, FACILITATOR_MARK, None) is None, menu.name
            assert await run_checks(menu, plain), menu.name  # type: ignore[arg-type]


async def test_help_examples_name_real_commands_and_options(bot: FamilyBot) -> None:
    """Every `/help` example is a command that exists, with options it really has."""
    from familybot.ui.help import (
        ADMIN_ENTRIES,
        FACILITATOR_ENTRIES,
        FACILITATOR_SESSION_ENTRIES,
        MEMBER_GROUP_ENTRIES,
        MEMBER_SUPPORT_ENTRIES,
    )

    commands = {c.qualified_name: c for c in walk(bot.tree.get_commands())}
    entries = (
        *MEMBER_GROUP_ENTRIES,
        *MEMBER_SUPPORT_ENTRIES,
        *FACILITATOR_ENTRIES,
        *FACILITATOR_SESSION_ENTRIES,
        *ADMIN_ENTRIES,
    )
    checked = 0
    for entry in entries:
        if not entry.example.startswith("/"):
            continue  # the message menu, named as Discord shows it
        head = entry.example[1:].split(":", 1)[0].rsplit(" ", 1)
        path = entry.example[1:] if ":" not in entry.example else head[0]
        command = commands.get(path)
        assert command is not None, entry.example
        options = set(re.findall(r"(?:^|\s)([-\w]+):", entry.example))
        known = {p.display_name for p in command.parameters}
        assert options <= known, (entry.example, options - known)
        checked += 1
    assert checked >= 20


async def test_every_drawn_component_is_answered_by_an_item_a_cog_registers(
    bot: FamilyBot,
) -> None:
    """ui/ only draws persistent buttons and menus; each feature's cog registers the items
    that answer them (by custom_id template, so old messages keep working). Every custom_id
    drawn matches exactly one registered item, and what was drawn is not held in memory."""
    from datetime import UTC, datetime

    from familybot.models import Group, GroupStatus, JoinMode
    from familybot.models.groups import GroupListPage, GroupSummary
    from familybot.ui.reports import report_prompt_view
    from familybot.ui.resources import review_view
    from familybot.ui.sessions import attendance_view, rsvp_view
    from familybot.ui.views import approval_view, consent_view, group_list_view
    from familybot.ui.welcome import find_group_reply, panel_view

    store = bot._connection._view_store  # discord.py keeps registered items here
    registered = dict(store._dynamic_items)
    group = Group(
        id=7, guild_id=1, name="Parents", description="", focus="teens", capacity=None,
        join_mode=JoinMode.OPEN, guidelines="Be kind", guidelines_version=2, role_id=None,
        channel_id=None, status=GroupStatus.ACTIVE, created_by=3,
        created_at=datetime(2026, 1, 1, tzinfo=UTC), archived_at=None,
    )  # fmt: skip
    summary = GroupSummary(group, 0, None)
    _, find_view = find_group_reply([summary])
    assert find_view is not None
    page_view = group_list_view(GroupListPage([summary], page=1, pages=3, total=25))
    assert page_view is not None
    views = [
        consent_view(7, 2),
        approval_view(7, 42),
        page_view,
        rsvp_view(5, "2026-01-06", 9),
        rsvp_view(5, "2026-01-06"),
        attendance_view(5, "2026-01-06", [42]),
        review_view(11),
        report_prompt_view(1, 2, 3),
        panel_view(),
        find_view,
    ]
    answered: set[type[Any]] = set()
    for view in views:
        assert not view.is_dispatchable()  # answered by the registered items, not kept
        for child in view.children:
            custom_id = getattr(child, "custom_id", None)
            if custom_id is None or (getattr(child, "disabled", False) and ":at" in custom_id):
                continue  # the "Page n of m" label answers nothing
            matches = [cls for p, cls in registered.items() if p.fullmatch(custom_id)]
            assert len(matches) == 1, custom_id
            answered.add(matches[0])
    assert answered == set(registered.values()) and len(answered) == 9
    for ext in COGS:
        await bot.unload_extension(ext)
    assert store._dynamic_items == {}  # the cogs took them away again


def _discord_name_ok(name: str) -> bool:
    """Discord's rule for chat-input names: ^[-_\\p{L}\\p{N}]{1,32}$, lowercase where the
    script has case."""
    return (
        1 <= len(name) <= 32
        and all(ch in "-_" or unicodedata.category(ch)[0] in "LN" for ch in name)
        and name == name.lower()
    )


def _check_localized(payload: dict[str, Any], locale: str, path: str) -> None:
    """Every name and description of this command, its options and choices has a
    translation for `locale` that Discord accepts, and names stay unique among siblings."""
    name = payload["name_localizations"].get(locale)
    assert name is not None, f"{path}: no {locale} name"
    if payload.get("type", 1) == 1:
        assert _discord_name_ok(name), f"{path}: {name!r}"
        description = payload["description_localizations"].get(locale)
        assert description and len(description) <= 100, f"{path}: {description!r}"
    else:  # a context menu: spaces and capitals allowed
        assert 1 <= len(name) <= 32, f"{path}: {name!r}"
    children = payload.get("options") or []
    names = [c["name_localizations"][locale] for c in children if c.get("name_localizations")]
    assert len(names) == len(children), f"{path}: an option or subcommand lacks a {locale} name"
    assert len(set(names)) == len(names), f"{path}: two {locale} names alike: {names}"
    for child in children:
        here = f"{path} {child['name']}"
        if child["type"] in (1, 2):
            _check_localized(child, locale, here)
            continue
        assert _discord_name_ok(child["name_localizations"][locale]), here
        text = child["description_localizations"].get(locale)
        assert text and 1 <= len(text) <= 100, f"{here}: {text!r}"
        for choice in child.get("choices") or []:
            shown = (choice.get("name_localizations") or {}).get(locale)
            assert shown and 1 <= len(shown) <= 100, f"{here} choice {choice['name']!r}"


async def test_every_command_string_has_a_valid_spanish_translation(bot: FamilyBot) -> None:
    """The payloads the bot syncs, through the translator installed on the tree."""
    from familybot.i18n_discord import FamilyTranslator

    translator = FamilyTranslator()
    await translator.load()
    payloads = [
        await c.get_translated_payload(bot.tree, translator) for c in bot.tree.get_commands()
    ]
    for locale in ("es-ES", "es-419"):
        top = [p["name_localizations"][locale] for p in payloads if p.get("type", 1) == 1]
        assert len(top) == len(set(top)), top
        for payload in payloads:
            _check_localized(payload, locale, payload["name"])
        # Other locales fall back to the English names (no half translation shown).
        assert all("pt-BR" not in p["name_localizations"] for p in payloads)
    my = next(p for p in payloads if p["name"] == "my")
    assert my["name_localizations"]["es-ES"] == "mi"
    language = next(o for o in my["options"] if o["name"] == "language")
    assert language["name_localizations"]["es-419"] == "idioma"
