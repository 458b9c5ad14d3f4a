"""The real FamilyBot against the fake Discord: sessions mirrored in the Events panel."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.harness import World, eventually, text_of
from tests.support.fake_discord.channels import CHANNEL_VOICE

pytestmark = pytest.mark.asyncio

EVENTS = r"/guilds/\d+/scheduled-events"
ONE_EVENT = r"/guilds/\d+/scheduled-events/\d+"
NY = ZoneInfo("America/New_York")


def ny_time(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def starts(body: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(body["scheduled_start_time"]))


async def prepare(world: World, **schedule: object) -> date:
    """A group with a weekly session starting a week from today (real time: the fake checks)."""
    await world.configure()
    await world.run_to_end(
        world.facilitator,
        "group",
        "create",
        name="Parents Circle",
        description="A weekly circle for parents",
        focus="parents of teens in IOP",
        join_mode="open",
    )
    first = date.today() + timedelta(days=7)
    options: dict[str, object] = {
        "group": "Parents Circle",
        "title": "Weekly check-in",
        "date": first.isoformat(),
        "time": "18:00",
        "repeat": "weekly",
        "duration": 60,
        "timezone": "America/New_York",
    }
    options.update(schedule)
    h = await world.run_to_end(world.facilitator, "session", "schedule", **options)
    assert h.ephemeral and "Scheduled" in text_of(h.callback), h.callback
    return first


async def test_events_follow_schedule_cancel_move_and_off(world: World) -> None:
    first = await prepare(world)
    assert world.fake.requests_to("POST", EVENTS) == []  # off by default

    h = await world.run_to_end(world.admin, "setup", "events", state="on")
    assert h.ephemeral
    (reply,) = h.followups
    assert "Events panel" in text_of(reply) and "1 group" in text_of(reply)
    (created,) = await world.fake.wait_for_request("POST", EVENTS)
    body = created.json_body
    assert created.status == 200 and created.path == f"/guilds/{world.guild_id}/scheduled-events"
    assert body["name"] == "Parents Circle: Weekly check-in"
    assert body["privacy_level"] == 2 and body["entity_type"] == 3
    assert body["entity_metadata"] == {"location": "Private group channel on this server"}
    assert starts(body) == ny_time(first, 18)
    assert datetime.fromisoformat(body["scheduled_end_time"]) == ny_time(first, 19)
    assert "<@" not in str(body) and "/group join" in body["description"]
    events = world.fake.guilds[world.guild_id].scheduled_events
    (event_id,) = events

    # Cancelling the next session moves the event on to the one after.
    h = await world.run_to_end(
        world.facilitator, "session", "cancel", session="Weekly check-in", date=first.isoformat()
    )
    (patched,) = await world.fake.wait_for_request("PATCH", ONE_EVENT)
    assert patched.path == f"/guilds/{world.guild_id}/scheduled-events/{event_id}"
    assert starts(patched.json_body) == ny_time(first + timedelta(days=7), 18)
    assert patched.status == 200

    # Moving that one follows the move.
    second = first + timedelta(days=7)
    await world.run_to_end(
        world.facilitator,
        "session",
        "reschedule",
        session="Weekly check-in",
        date=second.isoformat(),
        new_date=(second + timedelta(days=2)).isoformat(),
        new_time="19:30",
    )
    found = await world.fake.wait_for_request("PATCH", ONE_EVENT, count=2)
    assert starts(found[-1].json_body) == ny_time(second + timedelta(days=2), 19, 30)
    assert list(events) == [event_id]  # still one event for the group

    # Turning the feature off removes it.
    h = await world.run_to_end(world.admin, "setup", "events", state="off")
    (reply,) = h.followups
    assert "removed" in text_of(reply) and "1 event" in text_of(reply)
    (deleted,) = await world.fake.wait_for_request("DELETE", ONE_EVENT)
    assert deleted.path == f"/guilds/{world.guild_id}/scheduled-events/{event_id}"
    assert events == {}
    assert len(world.fake.requests_to("POST", EVENTS)) == 1


async def test_voice_sessions_and_archiving(world: World) -> None:
    voice = world.fake.add_text_channel(world.guild_id, "Circle room", type=CHANNEL_VOICE)
    await world.fake.dispatch("CHANNEL_CREATE", dict(world.fake.channel(voice)))
    await world.run_to_end(world.admin, "setup", "events", state="on")
    first = await prepare(world, voice_channel=voice)
    (created,) = await world.fake.wait_for_request("POST", EVENTS)
    body = created.json_body
    assert body["entity_type"] == 2 and body["channel_id"] == str(voice)
    assert starts(body) == ny_time(first, 18)
    events = world.fake.guilds[world.guild_id].scheduled_events
    assert len(events) == 1

    await world.run_to_end(world.facilitator, "group", "archive", name="Parents Circle")
    await world.fake.wait_for_request("DELETE", ONE_EVENT)
    await eventually(lambda: events == {})


async def test_missing_manage_events_is_told_to_the_admin_and_commands_still_work(
    world: World,
) -> None:
    missing = {"code": 50013, "message": "Missing Permissions"}
    world.fake.fail_next("POST", EVENTS, status=403, body=missing, times=2)
    await world.run_to_end(world.admin, "setup", "events", state="on")
    await prepare(world)  # the session is scheduled all the same
    await world.fake.wait_for_request("POST", EVENTS)
    assert world.fake.guilds[world.guild_id].scheduled_events == {}
    h = await world.run_to_end(world.admin, "setup", "events", state="on")
    (reply,) = h.followups
    assert "Manage Events" in text_of(reply)
