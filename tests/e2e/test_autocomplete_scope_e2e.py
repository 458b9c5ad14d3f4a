"""Autocomplete shows only what the command itself would show that person (issue 10, item 6).

One test walks the whole command tree and asks every autocompleted option, as a plain member
of this server who belongs to nothing and as a member of another server; the rest pin the
member-only and facilitator-only suggestions down one by one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import pytest
from discord import app_commands

from familybot.checks import FACILITATOR_MARK
from tests.e2e.harness import World, custom_ids, open_database, rows
from tests.support.fake_discord import FakeDiscord

pytestmark = pytest.mark.asyncio
NY = ZoneInfo("America/New_York")
SESSION_TITLE = "Secret weekly check-in"
PENDING_TITLE = "Pending unvetted guide"
APPROVED_TITLE = "Approved family guide"
ARCHIVED_GROUP = "Old archived circle"
TYPED = ("", "s", "se", "p", "c", "o", "a", "2")


class Worlds(World):
    other_guild: int = 0
    outsider: int = 0  # on another server only
    fac2: int = 0  # holds the facilitator role, facilitates no group


@pytest.fixture
async def aw(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[Worlds]:
    w = Worlds(fake=fake_discord, tmp=tmp_path)
    w.populate()
    w.other_guild = fake_discord.add_guild("Elsewhere")
    w.outsider = fake_discord.add_member(w.other_guild, name="outsider")
    w.fac2 = fake_discord.add_member(w.guild_id, name="fac2", roles=[w.facilitator_role])
    await w.start_bot()
    await w.configure()
    for name, mode in (
        ("Parents Circle", "open"),
        ("Siblings Circle", "approval"),
        (ARCHIVED_GROUP, "open"),
    ):
        await w.run_to_end(
            w.facilitator,
            "group",
            "create",
            name=name,
            description="A circle",
            focus="families",
            join_mode=mode,
        )
    await w.run_to_end(w.facilitator, "group", "archive", name=ARCHIVED_GROUP)
    h = await w.run(w.alice, "group", "join", name="Parents Circle")
    click = await w.fake.click(
        w.guild_id, w.alice, custom_ids(h.callback)[0], message_id=w.fake.next_id()
    )
    await click.wait_response()
    day = (datetime.now(NY) + timedelta(days=3)).date()
    h = await w.run(
        w.facilitator,
        "session",
        "schedule",
        group="Parents Circle",
        title=SESSION_TITLE,
        date=day.isoformat(),
        time="18:00",
        repeat="weekly",
        duration=60,
    )
    assert "Scheduled" in h.content, h.content
    await w.run(w.facilitator, "faq", "add", question="Where do we meet?", answer="Online.")
    # The library: one vetted resource, one still waiting for review.
    db = await open_database(w)
    try:
        for title, status, category in (
            (APPROVED_TITLE, "approved", "Reading"),
            (PENDING_TITLE, "pending", "Secret category"),
        ):
            await db.execute(
                "INSERT INTO resources (guild_id, title, url, category, category_key, "
                "description, status, suggested_by, suggested_at) "
                "VALUES (?, ?, 'https://example.org', ?, ?, 'd', ?, ?, 0)",
                (w.guild_id, title, category, category.casefold(), status, w.bob),
            )
    finally:
        await db.close()
    yield w
    await w.stop_bot()


async def suggestions(
    w: World, guild: int, user: int, names: list[str], option: str, typed: str, **extra: Any
) -> list[dict[str, Any]]:
    h = await w.fake.autocomplete(
        guild, user, *names, focused=option, options={option: typed, **extra}
    )
    body = await h.wait_response()
    assert body["type"] == 8, body
    return list(body["data"]["choices"] or [])


def autocompleted(w: World) -> list[tuple[app_commands.Command[Any, ..., Any], str]]:
    assert w.bot is not None
    found = []
    for command in w.bot.tree.walk_commands():
        if isinstance(command, app_commands.Command):
            for p in command.parameters:
                if p.autocomplete:
                    found.append((command, p.display_name))
    return found


async def public_for_a_plain_member(w: World) -> set[str]:
    """What a member of server A who belongs to nothing can see there anyway, read straight
    from the database (not through the bot): active group names (/group list), the vetted
    library (/resource list), the FAQ (/faq ask), and the world's time zones."""
    seen = set(available_timezones())
    for r in await rows(
        w, "SELECT name FROM groups WHERE guild_id = ? AND status = 'active'", w.guild_id
    ):
        seen.add(r["name"])
    for r in await rows(
        w,
        "SELECT id, title, category FROM resources WHERE guild_id = ? AND status = 'approved'",
        w.guild_id,
    ):
        seen |= {r["title"], r["category"]}
    for r in await rows(w, "SELECT question FROM faq WHERE guild_id = ?", w.guild_id):
        seen.add(r["question"])
    return seen


async def secrets_of_a(w: World) -> set[str]:
    """What server A holds that a plain member may not see: its sessions (titles), what the
    library hasn't vetted, groups no longer listed."""
    return {SESSION_TITLE, PENDING_TITLE, ARCHIVED_GROUP, "Secret category"}


class Accepted:
    """Records whether a command run answered with an error (the tree's one error path)."""

    def __init__(self, w: World) -> None:
        assert w.bot is not None
        self.errors = 0
        tree = w.bot.tree
        original = tree.on_error

        async def counting(interaction: Any, error: Any) -> None:
            self.errors += 1
            await original(interaction, error)

        tree.on_error = counting  # type: ignore[method-assign]


async def test_every_autocomplete_offers_only_what_its_command_would_show(aw: Worlds) -> None:
    w = aw
    options = autocompleted(w)
    assert len(options) >= 20, [(c.qualified_name, o) for c, o in options]
    public = await public_for_a_plain_member(w)
    secrets = await secrets_of_a(w)
    a_names = public - set(available_timezones())
    series = str((await rows(w, "SELECT id FROM session_series"))[0]["id"])
    accepted = Accepted(w)
    problems: list[str] = []
    for command, option in options:
        names = command.qualified_name.split()
        guarded = getattr(command.callback, FACILITATOR_MARK, None)
        extra = (
            {"session": series}
            if option != "session" and any(p.display_name == "session" for p in command.parameters)
            else {}
        )
        where = f"/{command.qualified_name} {option}"
        for typed in TYPED:
            mine = await suggestions(w, w.guild_id, w.carol, names, option, typed, **extra)
            theirs = await suggestions(w, w.other_guild, w.outsider, names, option, typed, **extra)
            if guarded and (mine or theirs):
                problems.append(f"{where}: a {guarded} command suggests {mine or theirs}")
            for who, offered in (("a plain member", mine), ("another server's member", theirs)):
                dumped = json.dumps(offered)
                if leaked := [s for s in secrets if s in dumped]:
                    problems.append(f"{where} shows {who} {leaked}")
            if bad := [c["name"] for c in mine if not {c["name"], c["value"]} & public]:
                problems.append(f"{where} offers a plain member {bad}")
            if bad := [c["name"] for c in theirs if c["name"] in a_names]:
                problems.append(f"{where} offers another server's member {bad}")
        # A group name offered must be one the command accepts from this person.
        offered_groups = {
            c["value"] for c in await suggestions(w, w.guild_id, w.carol, names, option, "")
        } & a_names
        group_option = option in ("name", "group") and names[0] in ("group", "session")
        if group_option and not guarded:
            for value in sorted(offered_groups):
                before = accepted.errors
                await w.run(w.carol, *names, **{option: value})
                if accepted.errors != before:
                    problems.append(f"{where} offers {value!r}, which the command then refuses")
    assert not problems, "\n".join(problems)


def values(choices: list[dict[str, Any]]) -> list[str]:
    return [str(c["value"]) for c in choices]


async def test_session_titles_are_suggested_to_facilitators_only(aw: Worlds) -> None:
    w = aw
    series = str((await rows(w, "SELECT id FROM session_series"))[0]["id"])
    shown = await suggestions(w, w.guild_id, w.facilitator, ["session", "cancel"], "session", "")
    assert values(shown) == [series] and SESSION_TITLE in shown[0]["name"]
    for user in (w.alice, w.carol):  # a member of the group, and someone in no group
        for names in (["session", "cancel"], ["session", "attendance"], ["session", "reschedule"]):
            assert await suggestions(w, w.guild_id, user, names, "session", "sec") == []
        dates = await suggestions(
            w, w.guild_id, user, ["session", "cancel"], "date", "", session=series
        )
        assert dates == []
    dates = await suggestions(
        w, w.guild_id, w.facilitator, ["session", "cancel"], "date", "", session=series
    )
    assert dates  # the facilitator's own view is unchanged


async def test_member_only_group_options_suggest_your_own_groups(aw: Worlds) -> None:
    w = aw
    leave = ["group", "leave"]
    listing = ["session", "list"]
    assert values(await suggestions(w, w.guild_id, w.alice, leave, "name", "")) == [
        "Parents Circle"
    ]
    assert values(await suggestions(w, w.guild_id, w.alice, listing, "group", "")) == [
        "Parents Circle"
    ]
    assert await suggestions(w, w.guild_id, w.carol, leave, "name", "") == []
    assert await suggestions(w, w.guild_id, w.carol, listing, "group", "") == []
    # Facilitators may list any group's sessions; the public /group join lists every group.
    assert sorted(
        values(await suggestions(w, w.guild_id, w.facilitator, listing, "group", ""))
    ) == [
        "Parents Circle",
        "Siblings Circle",
    ]
    assert sorted(
        values(await suggestions(w, w.guild_id, w.carol, ["group", "join"], "name", ""))
    ) == [
        "Parents Circle",
        "Siblings Circle",
    ]
    # Facilitator commands offer their groups to facilitators and nothing to anyone else.
    edit = ["group", "edit"]
    assert len(await suggestions(w, w.guild_id, w.facilitator, edit, "name", "")) == 2
    assert await suggestions(w, w.guild_id, w.alice, edit, "name", "") == []
    assert await suggestions(w, w.other_guild, w.outsider, ["group", "join"], "name", "") == []


async def test_own_facilitator_views_suggest_only_the_groups_you_facilitate(aw: Worlds) -> None:
    """/group stats and /session rsvps serve a group's own facilitators (and admins) only."""
    w = aw
    series = str((await rows(w, "SELECT id FROM session_series"))[0]["id"])
    stats, rsvps = ["group", "stats"], ["session", "rsvps"]
    assert await suggestions(w, w.guild_id, w.fac2, stats, "name", "") == []
    assert await suggestions(w, w.guild_id, w.fac2, rsvps, "session", "") == []
    mine = sorted(values(await suggestions(w, w.guild_id, w.facilitator, stats, "name", "")))
    assert mine == ["Parents Circle", "Siblings Circle"]
    assert values(await suggestions(w, w.guild_id, w.facilitator, rsvps, "session", "")) == [series]
    assert len(await suggestions(w, w.guild_id, w.admin, stats, "name", "")) == 2
