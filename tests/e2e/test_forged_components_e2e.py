"""Buttons and menus whose custom_id names another server's group or session, or a session of
a group the presser isn't in (issue 10, item 6): they change nothing, reveal nothing, and the
presser gets a kind private reply. Every custom_id here is forged, as an attacker would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.harness import World, custom_ids, eventually, rows, text_of
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_discord.permissions import MANAGE_GUILD

pytestmark = pytest.mark.asyncio
NY = ZoneInfo("America/New_York")
USER_SELECT = 5
# What the presser is told (written out here, so the test reads what people read).
GROUP_NOT_HERE = (
    "I couldn't find that group on this server, so nothing was changed. "
    "`/group list` shows the groups here."
)
NOT_YOUR_SESSION = (
    "Only the group's members can reply to its sessions, so nothing was saved. "
    "`/my schedule` shows the sessions of your groups."
)
SESSION_NOT_HERE = "I couldn't find that session on this server, so nothing was saved."


class TwoServers(World):
    other_guild: int = 0
    mallory: int = 0  # an admin (so a facilitator) of her own server, B; not on server A


@pytest.fixture
async def tw(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[TwoServers]:
    w = TwoServers(fake=fake_discord, tmp=tmp_path)
    w.populate()
    w.other_guild = fake_discord.add_guild("Elsewhere")
    w.mallory = fake_discord.add_member(w.other_guild, name="mallory", permissions=MANAGE_GUILD)
    await w.start_bot()
    await w.configure()
    await w.run_to_end(
        w.facilitator,
        "group",
        "create",
        name="Parents Circle",
        description="A weekly circle",
        focus="parents",
        join_mode="approval",
    )
    yield w
    await w.stop_bot()


async def press(w: World, guild: int, user: int, custom_id: str, **kw: Any) -> Any:
    h = await w.fake.click(guild, user, custom_id, message_id=w.fake.next_id(), **kw)
    await h.wait_response()
    return h


async def request_join(w: World, user: int) -> str:
    """The user asks to join; returns the Approve button's custom_id from the alert."""
    h = await w.run(user, "group", "join", name="Parents Circle")
    await press(w, w.guild_id, user, custom_ids(h.callback)[0])
    alert = await eventually(
        lambda: [m for m in w.fake.messages_in(w.alerts_channel) if f"<@{user}>" in m["content"]]
    )
    return custom_ids(alert[-1])[0]


async def test_approval_and_consent_from_another_server_do_nothing(tw: TwoServers) -> None:
    w = tw
    group_id = int((await rows(w, "SELECT id FROM groups"))[0]["id"])
    approve_id = await request_join(w, w.alice)
    assert approve_id == f"fb:approval:{group_id}:{w.alice}:approve"
    before = await rows(w, "SELECT user_id, status FROM memberships ORDER BY user_id")

    for forged in (
        approve_id,
        f"fb:approval:{group_id}:{w.alice}:deny",
        f"fb:approval:{group_id}:{w.mallory}:approve",
        f"fb:consent:{group_id}:1",
    ):
        h = await press(w, w.other_guild, w.mallory, forged)
        assert h.ephemeral and h.content == GROUP_NOT_HERE, (forged, h.content)
    # A group that doesn't exist at all gets the very same words.
    h = await press(w, w.other_guild, w.mallory, f"fb:approval:{group_id + 99}:{w.alice}:approve")
    assert h.content == GROUP_NOT_HERE

    assert await rows(w, "SELECT user_id, status FROM memberships ORDER BY user_id") == before
    assert await rows(w, "SELECT * FROM join_reviews") == []
    assert w.fake.dms_to(w.alice) == []
    # The real button, on the real server, still works.
    ok = await press(w, w.guild_id, w.facilitator, approve_id, channel_id=w.alerts_channel)
    assert "approved by" in ok.callback["data"]["content"]


async def _schedule(w: World) -> tuple[int, str, str]:
    """A weekly session of the group; returns (series id, next date, the date after)."""
    day = (datetime.now(NY) + timedelta(days=3)).date()
    h = await w.run(
        w.facilitator,
        "session",
        "schedule",
        group="Parents Circle",
        title="Secret weekly check-in",
        date=day.isoformat(),
        time="18:00",
        repeat="weekly",
        duration=60,
    )
    assert "Scheduled" in h.content, h.content
    series = int((await rows(w, "SELECT id FROM session_series"))[0]["id"])
    return series, day.isoformat(), (day + timedelta(days=7)).isoformat()


async def test_rsvp_by_a_non_member_reveals_nothing(tw: TwoServers) -> None:
    w = tw
    approve_id = await request_join(w, w.alice)
    await press(w, w.guild_id, w.facilitator, approve_id, channel_id=w.alerts_channel)
    series, day, later = await _schedule(w)
    h = await w.run_to_end(
        w.facilitator, "session", "cancel", session=str(series), date=later, reason="Holiday"
    )
    assert "Cancelled" in h.responses[-1]["body"]["content"]

    # Carol (in no group) presses forged buttons: an upcoming session, a cancelled one, a day
    # it doesn't meet, a session that doesn't exist. One answer for all, naming nothing.
    forged = [
        f"fb:rsvp:{series}:{day}:going",
        f"fb:rsvp:{series}:{later}:maybe",
        f"fb:rsvp:{series}:2000-01-01:no",
        f"fb:rsvp:{series + 99}:{day}:going",
    ]
    replies = set()
    for custom_id in forged:
        h = await press(w, w.guild_id, w.carol, custom_id)
        assert h.ephemeral, custom_id
        replies.add(text_of(h.callback))
    assert replies == {NOT_YOUR_SESSION}
    assert "Parents Circle" not in NOT_YOUR_SESSION and "Secret" not in NOT_YOUR_SESSION
    # Mallory, on her own server, the same.
    h = await press(w, w.other_guild, w.mallory, forged[0])
    assert h.ephemeral and h.content == NOT_YOUR_SESSION
    # Alice, on server A, but pressing as if from server B: nothing either.
    w.fake.add_member(w.other_guild, w.alice)
    h = await press(w, w.other_guild, w.alice, forged[0])
    assert h.ephemeral and h.content == NOT_YOUR_SESSION
    assert await rows(w, "SELECT * FROM rsvps") == []

    # Alice, a member, pressing on server A: saved, and she is told about the cancellation.
    h = await press(w, w.guild_id, w.alice, forged[0])
    assert "going" in text_of(h.callback)
    h = await press(w, w.guild_id, w.alice, forged[1])
    assert "cancelled" in h.content
    assert [r["user_id"] for r in await rows(w, "SELECT * FROM rsvps")] == [w.alice]


async def test_attendance_picker_from_another_server_saves_nothing(tw: TwoServers) -> None:
    w = tw
    approve_id = await request_join(w, w.alice)
    await press(w, w.guild_id, w.facilitator, approve_id, channel_id=w.alerts_channel)
    series, day, _ = await _schedule(w)
    w.fake.add_member(w.other_guild, w.alice)
    h = await w.fake.select(
        w.other_guild,
        w.mallory,
        f"fb:attend:{series}:{day}",
        [w.alice],
        component_type=USER_SELECT,
        message_id=w.fake.next_id(),
    )
    await h.wait_response()
    assert h.ephemeral and h.content == SESSION_NOT_HERE
    # On the right server, a day the session never meets is refused too.
    h = await w.fake.select(
        w.guild_id,
        w.facilitator,
        f"fb:attend:{series}:2000-01-01",
        [w.alice],
        component_type=USER_SELECT,
        message_id=w.fake.next_id(),
    )
    await h.wait_response()
    assert h.ephemeral and "doesn't meet on 2000-01-01" in h.content
    assert await rows(w, "SELECT * FROM attendance") == []
