"""A removed member comes back only through the facilitators (issue 10, item 3), end to end.

The real bot against the fake Discord, with the bot's clock moved across the 7-day wait."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.harness import World, custom_ids, eventually, rows, text_of
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_discord.permissions import VIEW_CHANNEL
from tests.support.fakes import FakeClock

pytestmark = pytest.mark.asyncio
NAME = "Parents Circle"


@pytest.fixture
async def cw(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    w = World(fake=fake_discord, tmp=tmp_path, clock=FakeClock(datetime.now(UTC)))
    w.populate()
    await w.start_bot()
    await w.configure()
    yield w
    await w.stop_bot()


async def press(w: World, user: int, custom_id: str, channel: int | None = None) -> object:
    h = await w.fake.click(
        w.guild_id, user, custom_id, message_id=w.fake.next_id(), channel_id=channel
    )
    await h.wait_response()
    return h


async def statuses(w: World) -> dict[int, str]:
    return {r["user_id"]: r["status"] for r in await rows(w, "SELECT * FROM memberships")}


async def alerts(w: World) -> list[dict[str, object]]:
    """Every join request posted for the facilitators (decided ones included)."""
    return [m for m in w.fake.messages_in(w.alerts_channel) if "would like to join" in m["content"]]


async def test_removed_member_rejoins_only_through_the_facilitators(cw: World) -> None:
    w = cw
    assert isinstance(w.clock, FakeClock)
    await w.run_to_end(
        w.facilitator,
        "group",
        "create",
        name=NAME,
        description="A weekly circle",
        focus="parents",
        join_mode="open",
    )
    channel = int((await rows(w, "SELECT channel_id FROM groups"))[0]["channel_id"])
    h = await w.run(w.alice, "group", "join", name=NAME)
    (old_consent,) = custom_ids(h.callback)
    click = await press(w, w.alice, old_consent)
    assert "You're now a member" in click.callback["data"]["content"]  # type: ignore[attr-defined]

    h = await w.run(w.facilitator, "group", "remove", member=w.alice, name=NAME)
    assert h.ephemeral and "Removed" in h.content
    await eventually(lambda: not w.fake.permissions_in(channel, w.alice) & VIEW_CHANNEL)

    # Her old "I agree" button no longer seats her: it asks the facilitators.
    w.clock.advance(minutes=10)
    click = await press(w, w.alice, old_consent)
    reply = click.callback["data"]["content"]  # type: ignore[attr-defined]
    assert click.ephemeral or click.callback["type"] == 7  # type: ignore[attr-defined]
    assert "is with the facilitators" in reply and "now a member" not in reply
    assert await statuses(w) == {w.alice: "pending"}
    assert not w.fake.permissions_in(channel, w.alice) & VIEW_CHANNEL
    (alert,) = await eventually(lambda: alerts(w))
    assert f"<@{w.alice}>" in alert["content"] and "removed them" in str(alert["content"])
    approve_id, deny_id = custom_ids(alert)

    # Only one request at a time: a fresh /group join says it is pending.
    h = await w.run(w.alice, "group", "join", name=NAME)
    assert h.ephemeral and "already with the facilitators" in h.content
    assert len(await alerts(w)) == 1

    # Bob, never removed, still joins the open group at once.
    h = await w.run(w.bob, "group", "join", name=NAME)
    click = await press(w, w.bob, custom_ids(h.callback)[0])
    assert "You're now a member" in click.callback["data"]["content"]  # type: ignore[attr-defined]

    denied_at = w.clock.now()
    await press(w, w.facilitator, deny_id, w.alerts_channel)
    assert await statuses(w) == {w.bob: "member"}
    again = int(denied_at.timestamp()) + 7 * 24 * 3600
    dm = await eventually(lambda: w.fake.dms_to(w.alice))
    assert f"<t:{again}:F>" in text_of(dm[-1])

    # Within 7 days: a kind, private "not yet", saying when, as Discord timestamps.
    w.clock.advance(days=7, seconds=-1)
    for attempt in ("command", "old button"):
        if attempt == "command":
            h = await w.run(w.alice, "group", "join", name=NAME)
            text = h.content
        else:
            h = await press(w, w.alice, old_consent)
            text = text_of(h.callback)  # type: ignore[attr-defined]
        assert h.ephemeral, attempt  # type: ignore[attr-defined]
        assert f"<t:{again}:F>" in text and f"<t:{again}:R>" in text, attempt
        assert "ask again" in text
    assert await statuses(w) == {w.bob: "member"}
    assert len(await alerts(w)) == 1

    # At the 7-day mark, one new request goes to the facilitators; approval seats her.
    w.clock.advance(seconds=1)
    h = await w.run(w.alice, "group", "join", name=NAME)
    assert "What is shared here stays here" in text_of(h.callback)
    click = await press(w, w.alice, custom_ids(h.callback)[0])
    assert "is with the facilitators" in click.callback["data"]["content"]  # type: ignore[attr-defined]

    async def second_request() -> list[dict[str, object]]:
        found = await alerts(w)
        return found if len(found) == 2 else []

    fresh = await eventually(second_request)
    approve_id = custom_ids(fresh[-1])[0]
    ok = await press(w, w.facilitator, approve_id, w.alerts_channel)
    assert "approved by" in ok.callback["data"]["content"]  # type: ignore[attr-defined]
    assert await statuses(w) == {w.bob: "member", w.alice: "member"}
    await eventually(lambda: w.fake.permissions_in(channel, w.alice) & VIEW_CHANNEL)
    assert await rows(w, "SELECT * FROM join_reviews") == []
