"""Sessions and reminders end to end: the real bot, the fake Discord, and moved clocks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.e2e.harness import (
    World,
    custom_ids,
    eventually,
    read_sync,
    reminder_cards,
    rows,
    text_of,
)

NY = ZoneInfo("America/New_York")


def session_day() -> date:
    """A date a few days ahead of the real clock, so the test never ages."""
    return (datetime.now(NY) + timedelta(days=5)).date()


def start_of(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time().replace(hour=18), NY).astimezone(UTC)


@contextmanager
def at(instant: datetime) -> Iterator[None]:
    with time_machine.travel(instant, tick=False):
        yield


async def wake(world: World) -> None:
    assert world.bot is not None
    world.bot.scheduler.wakeup()


async def setup_group(world: World) -> int:
    await world.configure()
    await world.run_to_end(
        world.facilitator,
        "group",
        "create",
        name="Parents Circle",
        description="Weekly circle",
        focus="parents",
        join_mode="open",
    )
    for user in (world.alice, world.bob):
        h = await world.run(user, "group", "join", name="Parents Circle")
        click = await world.fake.click(
            world.guild_id, user, custom_ids(h.callback)[0], message_id=world.fake.next_id()
        )
        await click.wait_response()
    group = (await rows(world, "SELECT * FROM groups"))[0]
    return int(group["channel_id"])


async def schedule_weekly(world: World, day: date) -> Any:
    h = await world.run(
        world.facilitator,
        "session",
        "schedule",
        group="Parents Circle",
        title="Weekly check-in",
        date=day.isoformat(),
        time="18:00",
        repeat="weekly",
        duration=90,
    )
    assert h.ephemeral, h.content
    return h


def reminders_in(world: World, channel_id: int) -> list[dict[str, Any]]:
    return [m for m in world.fake.messages_in(channel_id) if "Reminder:" in text_of(m)]


async def test_weekly_reminders_reach_channel_and_dms_once(world: World) -> None:
    channel = await setup_group(world)
    day = session_day()
    start = start_of(day)
    h = await schedule_weekly(world, day)
    assert f"<t:{int(start.timestamp())}:F>" in h.content
    await world.run(world.alice, "my", "reminders", dm="on")
    await world.run(world.bob, "my", "reminders", dm="on", offsets="1h")
    world.fake.close_dms(world.bob)

    with at(start - timedelta(hours=24)):
        await wake(world)
        await eventually(lambda: reminders_in(world, channel))
        await eventually(lambda: world.fake.dms_to(world.alice))
    first = reminders_in(world, channel)[0]
    body = text_of(first)
    assert f"<t:{int(start.timestamp())}:F>" in body and f"<t:{int(start.timestamp())}:R>" in body
    assert "Going: 0 · Maybe: 0 · Can't make it: 0" in body
    ids = custom_ids(first)
    assert [i.split(":")[4] for i in ids] == ["going", "maybe", "no"]
    posted = world.fake.requests_to("POST", rf"/channels/{channel}/messages")
    assert posted[0].json_body["allowed_mentions"] == {"parse": []}
    assert (
        posted[0].json_body["nonce"].startswith("fbr")
        and posted[0].json_body["enforce_nonce"] is True
    )
    assert world.fake.dms_to(world.bob) == []  # Bob asked for 1h only

    with at(start - timedelta(hours=1)):
        await wake(world)
        await eventually(lambda: len(reminders_in(world, channel)) == 2)
        await eventually(lambda: len(world.fake.dms_to(world.alice)) == 2)
        await eventually(lambda: "undeliverable" in ledger_states(world))
    # Nothing twice, even after another wake-up and a restart.
    with at(start - timedelta(minutes=30)):
        await wake(world)
        await world.restart()
        await wake(world)
    assert len(reminders_in(world, channel)) == 2
    assert len(world.fake.dms_to(world.alice)) == 2
    ledger = await rows(
        world, "SELECT target, offset_minutes, state FROM reminder_ledger ORDER BY id"
    )
    assert sorted((r["target"], r["state"]) for r in ledger) == sorted(
        [
            ("channel", "sent"),
            ("channel", "sent"),
            (f"dm:{world.alice}", "sent"),
            (f"dm:{world.alice}", "sent"),
            (f"dm:{world.bob}", "undeliverable"),
        ]
    )
    # Bob is told privately the next time he uses the bot, in his Discord's language (Spanish
    # here); nothing went to the channel about him.
    h = await world.fake.slash(world.guild_id, world.bob, "my", "schedule", locale="es-ES")
    notice = (await h.wait_for("followup"))[0]
    assert "no pude enviarle un mensaje privado" in notice["content"]
    assert "`/mi recordatorios md:desactivar`" in notice["content"] and int(notice["flags"]) & 64
    assert all(str(world.bob) not in str(m) for m in world.fake.messages_in(channel))


def ledger_states(world: World) -> list[str]:
    """Read the ledger synchronously (for polling inside `eventually`)."""
    return [r[0] for r in read_sync(world, "SELECT state FROM reminder_ledger ORDER BY id")]


async def test_rsvp_buttons_work_after_restart_and_show_counts_only(world: World) -> None:
    channel = await setup_group(world)
    day = session_day()
    start = start_of(day)
    await schedule_weekly(world, day)
    with at(start - timedelta(hours=24)):
        await wake(world)
        await eventually(lambda: reminders_in(world, channel))
        message = reminders_in(world, channel)[0]
        await world.restart()
        going = next(i for i in custom_ids(message) if i.split(":")[4] == "going")
        click = await world.fake.click(
            world.guild_id, world.alice, going, message_id=int(message["id"]), channel_id=channel
        )
        body = await click.wait_response()
        assert body["type"] == 7
        assert "Going: 1 · Maybe: 0" in text_of(body)
        assert str(world.alice) not in str(body)
        thanks = (await click.wait_for("followup"))[0]
        assert "you're down as **going**" in thanks["content"] and int(thanks["flags"]) & 64
        # Someone outside the group cannot reply.
        nope = await world.fake.click(
            world.guild_id, world.carol, going, message_id=int(message["id"]), channel_id=channel
        )
        await nope.wait_response()
        assert nope.ephemeral and "Only the group's members" in nope.content
    stored = await rows(world, "SELECT user_id, response FROM rsvps")
    assert stored == [{"user_id": world.alice, "response": "going"}]


async def test_cancel_tells_going_members_and_stops_reminders(world: World) -> None:
    channel = await setup_group(world)
    day = session_day()
    start = start_of(day)
    await schedule_weekly(world, day)
    series_id = (await rows(world, "SELECT id FROM session_series"))[0]["id"]
    with at(start - timedelta(hours=24)):
        await wake(world)
        await eventually(lambda: reminders_in(world, channel))
        message = reminders_in(world, channel)[0]
        going = next(i for i in custom_ids(message) if i.split(":")[4] == "going")
        click = await world.fake.click(
            world.guild_id, world.alice, going, message_id=int(message["id"]), channel_id=channel
        )
        await click.wait_response()
        h = await world.run_to_end(
            world.facilitator,
            "session",
            "cancel",
            session=str(series_id),
            date=day.isoformat(),
            reason="Snow day",
        )
        assert "1 member who planned to come was told by DM" in h.responses[-1]["body"]["content"]
        dm = await eventually(lambda: world.fake.dms_to(world.alice))
        assert "Snow day" in text_of(dm[-1])
        assert world.fake.dms_to(world.bob) == []
    with at(start - timedelta(minutes=60)):
        await wake(world)
        await world.restart()
        await wake(world)
    assert len(reminders_in(world, channel)) == 1
    cancelled = [m for m in world.fake.messages_in(channel) if "won't take place" in text_of(m)]
    assert cancelled and "<@" not in str(cancelled[0])


async def test_kill_between_send_and_commit_sends_nothing_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = await setup_group(world)
    day = session_day()
    start = start_of(day)
    await schedule_weekly(world, day)
    assert world.bot is not None
    reminders_repo = world.bot.services.reminders

    commits: list[object] = []

    async def killed(*args: object, **kwargs: object) -> None:
        commits.append(args)
        raise RuntimeError("process killed before commit")

    monkeypatch.setattr(reminders_repo, "mark_sent", killed)
    with at(start - timedelta(hours=24)):
        await wake(world)
        await eventually(lambda: reminders_in(world, channel))
        await eventually(lambda: ledger_states(world)[:1] == ["sending"])
        # The commit was attempted (and "killed"): the results are written in chunks after
        # the send, so without this wait a slow commit could come after the undo below.
        await eventually(lambda: commits)
    monkeypatch.undo()
    with at(start - timedelta(hours=24) + timedelta(seconds=30)):
        await world.restart()
        await wake(world)
        await eventually(lambda: ledger_states(world)[:1] == ["sent"])
    posts = world.fake.requests_to("POST", rf"/channels/{channel}/messages")
    reminder_posts = [p for p in posts if "Reminder:" in str(p.json_body)]
    assert len(reminder_posts) == 2  # the resend carried the same nonce...
    assert reminder_posts[0].json_body["nonce"] == reminder_posts[1].json_body["nonce"]
    assert len(reminders_in(world, channel)) == 1  # ...so Discord kept one message


async def test_session_commands_bad_input(world: World) -> None:
    await setup_group(world)
    h = await world.run(
        world.alice,
        "session",
        "schedule",
        group="Parents Circle",
        title="x",
        date="2030-01-01",
        time="18:00",
        repeat="weekly",
        duration=60,
    )
    assert h.ephemeral and "Only facilitators" in h.content
    h = await world.run(
        world.facilitator,
        "session",
        "schedule",
        group="Nope",
        title="x",
        date="2030-01-01",
        time="18:00",
        repeat="weekly",
        duration=60,
    )
    assert h.ephemeral and "couldn't find a group" in h.content
    h = await world.run(
        world.facilitator,
        "session",
        "schedule",
        group="Parents Circle",
        title="x",
        date="2030-01-01",
        time="noonish",
        repeat="weekly",
        duration=60,
    )
    assert h.ephemeral and "couldn't read" in h.content
    h = await world.run(
        world.facilitator,
        "session",
        "schedule",
        group="Parents Circle",
        title="x",
        date="2001-01-01",
        time="18:00",
        repeat="weekly",
        duration=60,
    )
    assert h.ephemeral and "already passed" in h.content
    h = await world.run_to_end(world.facilitator, "session", "cancel", session="nothing like this")
    assert "couldn't find an upcoming session" in h.responses[-1]["body"]["content"]
    h = await world.run(world.alice, "my", "reminders", dm="on", offsets="whenever")
    assert h.ephemeral and "couldn't read" in h.content
    h = await world.run(world.alice, "my", "timezone", tz="Moon/Crater")
    assert h.ephemeral and "don't know the time zone" in h.content
    assert await rows(world, "SELECT * FROM session_series") == []
    assert await rows(world, "SELECT * FROM member_prefs") == []


async def test_list_schedule_calendar_and_attendance(world: World) -> None:
    await setup_group(world)
    day = session_day()
    start = start_of(day)
    await schedule_weekly(world, day)
    series_id = (await rows(world, "SELECT id FROM session_series"))[0]["id"]
    h = await world.run(world.alice, "session", "list")
    assert h.ephemeral and "Weekly check-in" in text_of(h.callback)
    h = await world.run(world.carol, "session", "list", group="Parents Circle")
    assert h.ephemeral and "shown to its members" in h.content
    h = await world.run(world.alice, "my", "schedule")
    assert f"<t:{int(start.timestamp())}:F>" in text_of(h.callback)
    h = await world.run(world.alice, "my", "calendar")
    assert h.ephemeral
    (upload,) = [r for r in world.fake.requests if r.files and "callback" in r.path]
    ics = upload.files[0].data.decode()
    assert ics.startswith("BEGIN:VCALENDAR") and "RRULE:FREQ=WEEKLY" in ics
    h = await world.fake.autocomplete(
        world.guild_id,
        world.facilitator,
        "session",
        "cancel",
        focused="session",
        options={"session": "weekly"},
    )
    body = await h.wait_response()
    assert body["data"]["choices"][0]["value"] == str(series_id)
    with at(start + timedelta(minutes=30)):
        h = await world.run(
            world.facilitator, "session", "attendance", session=str(series_id), date=day.isoformat()
        )
        assert h.ephemeral
        (select_id,) = custom_ids(h.callback)
        pick = await world.fake.select(
            world.guild_id, world.facilitator, select_id, [world.alice], component_type=5
        )
        result = await pick.wait_response()
        assert "1 present" in result["data"]["content"]
    h = await world.run(world.facilitator, "group", "members", name="Parents Circle")
    assert "attended 1/1" in text_of(h.callback)


async def test_reminder_burst_stays_under_discords_global_limit(world: World) -> None:
    from familybot.discord.notices import DiscordNotices
    from familybot.discord.reminders import DiscordReminders
    from familybot.models.reminders import ReminderTarget

    assert world.bot is not None
    world.fake.global_rate_limit = 45  # what the bot allows itself, counted on arrival
    start = datetime.now(UTC) + timedelta(days=1)
    io = DiscordReminders(world.bot, DiscordNotices(world.bot))
    cards = reminder_cards(120, start)
    target = ReminderTarget(channel_id=world.alerts_channel)
    results = await asyncio.gather(
        *(io.send_reminder(target, c, nonce=f"fbr{c.ledger_id}") for c in cards)
    )
    assert all(r.ok for r in results)
    assert world.fake.rate_limited_count == 0
    assert len(world.fake.messages_in(world.alerts_channel)) == 120


async def test_reminder_times_use_the_one_duration_parser(world: World) -> None:
    h = await world.run(world.alice, "my", "reminders", dm="on", offsets="1 day, 1h30m")
    assert h.ephemeral and "1 day and 90 minutes" in h.content
    (prefs,) = await rows(world, "SELECT dm_offsets FROM member_prefs")
    assert prefs["dm_offsets"] == "1440,90"
    h = await world.run(world.alice, "my", "reminders", dm="on", offsets="tomorrow")
    assert h.ephemeral and "90m, 1h30m, 2 hours, 1d or 1w" in h.content
    (prefs,) = await rows(world, "SELECT dm_offsets FROM member_prefs")
    assert prefs["dm_offsets"] == "1440,90"  # unchanged
