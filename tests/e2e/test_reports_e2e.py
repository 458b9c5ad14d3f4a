"""Reports and /ask end to end: the real bot against the fake Discord, which models private
threads (who can see them, who a mention brings in). Every request body is checked against
Discord's schema at teardown, and no private content may reach a channel @everyone sees."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    World,
    custom_ids,
    public_channel_posts,
    rows,
    stored_bytes,
    text_of,
)
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_discord.interactions import EPHEMERAL
from tests.support.fake_discord.permissions import (
    CREATE_PRIVATE_THREADS,
    DEFAULT_BOT_PERMISSIONS,
    VIEW_CHANNEL,
)
from tests.support.fake_discord.threads import install
from tests.support.fakes import FakeClock

pytestmark = pytest.mark.asyncio

MENU = "Report to facilitators"


def set_bot_permissions(world: World, permissions: int) -> None:
    g = world.fake.guild(world.guild_id)
    g.roles[g.bot_role_id]["permissions"] = str(permissions)


@pytest.fixture
async def rw(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    install(fake_discord)
    w = World(fake=fake_discord, tmp=tmp_path, clock=FakeClock(datetime.now(UTC)))
    w.populate()
    set_bot_permissions(w, DEFAULT_BOT_PERMISSIONS | CREATE_PRIVATE_THREADS)
    await w.start_bot()
    await w.configure()
    yield w
    await w.stop_bot()
    for cid, body in public_channel_posts(w):
        assert "<@" not in str(body), f"public channel {cid} got {str(body)[:200]}"


def post_in_general(world: World, author: int, content: str) -> int:
    fake = world.fake
    general = fake.guild(world.guild_id).general_channel_id
    message = fake.store_message(
        fake.message_payload(general, {"content": content}, author_id=author)
    )
    return int(message["id"])


async def report(world: World, reporter: int, message_id: int, category: str) -> Any:
    """Use the message menu, then choose a category; returns the select's handle."""
    fake = world.fake
    menu = await fake.context_menu(world.guild_id, reporter, MENU, message_id=message_id)
    await menu.wait_response()
    assert menu.ephemeral, "the 'what is wrong?' prompt must be private"
    (custom_id,) = custom_ids(menu.callback)
    prompt = menu.original_message
    assert prompt is not None
    choice = await fake.select(
        world.guild_id, reporter, custom_id, [category], message_id=int(prompt["id"])
    )
    await choice.wait_response()
    await choice.wait_for("followup")
    return choice


def private(body: dict[str, Any]) -> bool:
    return bool(int(body.get("flags") or 0) & EPHEMERAL)


def threads_created(world: World) -> list[Any]:
    return world.fake.requests_to("POST", r"/channels/\d+/threads")


async def test_a_report_opens_a_private_thread_that_excludes_everyone_else(rw: World) -> None:
    fake = rw.fake
    general = fake.guild(rw.guild_id).general_channel_id
    message_id = post_in_general(rw, rw.alice, "an unkind thing to say")
    choice = await report(rw, rw.bob, message_id, "unkind")

    (create,) = threads_created(rw)
    assert create.path == f"/channels/{general}/threads"
    assert create.json_body["type"] == 12 and create.json_body["invitable"] is False
    assert create.json_body["name"] == "private-report-1"  # nobody's name in it
    thread_id = int(
        fake.requests_to("PUT", r"/channels/\d+/thread-members/\d+")[0].path.split("/")[2]
    )
    assert fake.requests_to("PUT", rf"/channels/{thread_id}/thread-members/{rw.bob}")

    # Who is in it, and who can see it: the reporter, the facilitators, the bot. Nobody else.
    assert fake.thread_members[thread_id] == {fake.bot_user_id, rw.bob, rw.facilitator}
    can_see = {
        uid
        for uid in (rw.alice, rw.bob, rw.carol, rw.facilitator, rw.admin)
        if fake.permissions_in(thread_id, uid) & VIEW_CHANNEL
    }
    assert can_see == {rw.bob, rw.facilitator}

    # The opening message: the role is the only mention let through; the author stays inert.
    opening, *rest = fake.requests_to("POST", rf"/channels/{thread_id}/messages")
    assert rest == []
    assert opening.json_body["allowed_mentions"]["parse"] == []
    assert [int(r) for r in opening.json_body["allowed_mentions"]["roles"]] == [rw.facilitator_role]
    assert not opening.json_body["allowed_mentions"].get("users")
    text = opening.json_body["content"]
    assert f"<@&{rw.facilitator_role}>" in text and "Unkind or harassing" in text
    assert f"https://discord.com/channels/{rw.guild_id}/{general}/{message_id}" in text
    assert f"<@{rw.alice}>" in text and "an unkind thing" not in text

    # The facilitators' alerts channel gets a link; the reporter a private reply with the link.
    (alert,) = fake.requests_to("POST", rf"/channels/{rw.alerts_channel}/messages")
    assert f"<#{thread_id}>" in text_of(alert.json_body) and "<@" not in text_of(alert.json_body)
    reply = choice.responses[-1]["body"]
    assert private(reply) and f"<#{thread_id}>" in reply["content"]
    assert "Crisis lines" not in text_of(reply)
    assert not fake.requests_to("POST", rf"/channels/{general}/messages")

    (row,) = await rows(rw, "SELECT * FROM reports")
    assert (row["kind"], row["category"], row["number"]) == ("report", "unkind", 1)
    assert (row["reporter_id"], row["reported_author_id"]) == (rw.bob, rw.alice)
    assert (row["reported_message_id"], row["thread_id"]) == (message_id, thread_id)
    assert row["private_channel"] == 0
    assert b"unkind thing" not in await stored_bytes(rw)


async def test_at_risk_shows_the_reporter_the_crisis_lines(rw: World) -> None:
    message_id = post_in_general(rw, rw.alice, "i can't go on")
    choice = await report(rw, rw.bob, message_id, "at_risk")
    reply = choice.responses[-1]["body"]
    assert private(reply)
    shown = text_of(reply)
    assert "Crisis lines" in shown and "988" in shown
    assert "aren't an emergency service" in shown
    (thread_id,) = list(rw.fake.thread_members)
    opening = rw.fake.requests_to("POST", rf"/channels/{thread_id}/messages")[0]
    assert "Someone may be at risk" in opening.json_body["content"]


async def test_ask_puts_the_members_words_in_the_thread_with_mentions_off(rw: World) -> None:
    fake = rw.fake
    words = f"@everyone <@{rw.carol}> I'm finding this week very hard"
    h = await rw.run_to_end(rw.alice, "ask", message=words)
    assert private(h.responses[-1]["body"])
    (create,) = threads_created(rw)
    assert create.json_body["name"] == "ask-1"
    (thread_id,) = list(fake.thread_members)
    assert f"<#{thread_id}>" in h.responses[-1]["body"]["content"]
    opening, question = fake.requests_to("POST", rf"/channels/{thread_id}/messages")
    assert [int(r) for r in opening.json_body["allowed_mentions"]["roles"]] == [rw.facilitator_role]
    assert question.json_body["allowed_mentions"] == {"parse": []}
    assert "very hard" in question.json_body["content"]
    assert "@everyone" not in question.json_body["content"]  # defused for the eye too
    # Carol was mentioned in the text, but a mention that isn't allowed brings nobody in.
    assert fake.thread_members[thread_id] == {fake.bot_user_id, rw.alice, rw.facilitator}
    (row,) = await rows(rw, "SELECT kind, category, reporter_id FROM reports")
    assert row == {"kind": "ask", "category": None, "reporter_id": rw.alice}
    assert b"very hard" not in await stored_bytes(rw)


async def test_without_thread_permission_a_private_channel_stands_in(rw: World) -> None:
    fake = rw.fake
    set_bot_permissions(rw, DEFAULT_BOT_PERMISSIONS)  # no Create Private Threads
    await rw.restart()
    h = await rw.run_to_end(rw.alice, "ask", message="Could we talk?")
    assert threads_created(rw) == []  # checked before asking Discord
    (create,) = fake.requests_to("POST", rf"/guilds/{rw.guild_id}/channels")
    assert create.json_body["name"] == "ask-1"
    channel_id = int(fake.channel_named(rw.guild_id, "ask-1")["id"])  # type: ignore[index]
    can_see = {
        uid
        for uid in (rw.alice, rw.bob, rw.carol, rw.facilitator, fake.bot_user_id)
        if fake.permissions_in(channel_id, uid) & VIEW_CHANNEL
    }
    assert can_see == {rw.alice, rw.facilitator, fake.bot_user_id}
    assert "private channel" in h.responses[-1]["body"]["content"]
    (row,) = await rows(rw, "SELECT thread_id, private_channel FROM reports")
    assert row == {"thread_id": channel_id, "private_channel": 1}


async def test_a_refused_thread_falls_back_to_a_private_channel(rw: World) -> None:
    fake = rw.fake
    fake.fail_next(
        "POST", r"/channels/\d+/threads", 403, {"code": 50013, "message": "Missing Permissions"}
    )
    message_id = post_in_general(rw, rw.alice, "spam link")
    choice = await report(rw, rw.bob, message_id, "spam")
    assert fake.channel_named(rw.guild_id, "private-report-1") is not None
    assert "private channel" in choice.responses[-1]["body"]["content"]


async def test_a_report_about_a_facilitator_is_kept_from_them(rw: World) -> None:
    fake = rw.fake
    other = fake.add_member(rw.guild_id, name="fac2", roles=[rw.facilitator_role])
    message_id = post_in_general(rw, rw.facilitator, "something a facilitator said")
    choice = await report(rw, rw.bob, message_id, "unkind")
    # No thread: the role mention would have brought the reported facilitator in.
    assert threads_created(rw) == []
    channel = fake.channel_named(rw.guild_id, "private-report-1")
    assert channel is not None
    channel_id = int(channel["id"])
    can_see = {
        uid
        for uid in (rw.alice, rw.bob, rw.carol, rw.facilitator, other)
        if fake.permissions_in(channel_id, uid) & VIEW_CHANNEL
    }
    assert can_see == {rw.bob, other}
    assert "private channel" in choice.responses[-1]["body"]["content"]


async def test_refusals_change_nothing(rw: World) -> None:
    fake = rw.fake
    own = post_in_general(rw, rw.bob, "my own words")
    menu = await fake.context_menu(rw.guild_id, rw.bob, MENU, message_id=own)
    await menu.wait_response()
    assert menu.ephemeral and "your own message" in (menu.content or "")
    # Three an hour, then a kind refusal (with /crisis) and nothing opened. (Not Carol: she is
    # the fixture's probe for what a plain member can see.)
    for n in range(3):
        await rw.run_to_end(rw.bob, "ask", message=f"question {n}")
    h = await rw.run(rw.bob, "ask", message="one more")
    assert h.ephemeral and "last hour" in (h.content or "") and "/crisis" in (h.content or "")
    assert len(threads_created(rw)) == 3
    assert len(await rows(rw, "SELECT id FROM reports")) == 3


async def test_no_facilitator_role_means_a_kind_reply_and_nothing_opened(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    install(fake_discord)
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    await w.start_bot()
    try:
        message_id = post_in_general(w, w.alice, "hello")
        menu = await fake_discord.context_menu(w.guild_id, w.bob, MENU, message_id=message_id)
        await menu.wait_response()
        assert menu.ephemeral and "/setup facilitator-role" in (menu.content or "")
        h = await w.run(w.bob, "ask", message="hello?")
        assert h.ephemeral and "/setup facilitator-role" in (h.content or "")
        assert threads_created(w) == []
        assert not fake_discord.requests_to("POST", rf"/guilds/{w.guild_id}/channels")
    finally:
        await w.stop_bot()
