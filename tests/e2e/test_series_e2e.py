"""Series with an end and an explicit monthly week, the "last Thursday" trap, and
`/session edit`, end to end against the fake Discord with a moved clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from familybot.services.reminders.planner import PLAN_HORIZON
from tests.e2e.harness import World, custom_ids, eventually, read_sync, rows, text_of
from tests.e2e.test_sessions_e2e import (
    at,
    reminders_in,
    schedule_weekly,
    session_day,
    setup_group,
    start_of,
    wake,
)
from tests.unit.test_calendar_clients import read_with_vobject

LONDON = ZoneInfo("Europe/London")


def future_fourth_and_last_thursday() -> date:
    """A Thursday at least a week ahead that is both the 4th and the last of its month."""
    day = datetime.now(UTC).date() + timedelta(days=7)
    while not (
        day.weekday() == 3 and 22 <= day.day <= 28 and (day + timedelta(days=7)).month != day.month
    ):
        day += timedelta(days=1)
    return day


async def schedule(world: World, **options: Any) -> Any:
    base = {
        "group": "Parents Circle",
        "title": "Monthly evening",
        "time": "19:30",
        "duration": 90,
        "timezone": "Europe/London",
    }
    base.update(options)
    return await world.run(world.facilitator, "session", "schedule", **base)


async def test_monthly_last_week_with_until_is_stated_and_stored(world: World) -> None:
    await setup_group(world)
    day = future_fourth_and_last_thursday()
    until = date(day.year + 1, 6, 30)
    h = await schedule(
        world, date=day.isoformat(), repeat="monthly", week="last", until=until.isoformat()
    )
    assert h.ephemeral
    assert (
        f"every month on the last Thursday at 19:30 (Europe/London), until 30 June {until.year}"
        in h.content
    ), h.content
    assert "4th" not in h.content  # no trap note: the week was given
    [series] = await rows(world, "SELECT * FROM session_series")
    assert series["monthly_week"] == -1
    assert series["until_local"] == f"{until.isoformat()}T23:59:00"


async def test_the_last_thursday_trap_is_stated(world: World) -> None:
    await setup_group(world)
    day = future_fourth_and_last_thursday()
    h = await schedule(world, date=day.isoformat(), repeat="monthly")
    assert "every month on the 4th Thursday at 19:30 (Europe/London)" in h.content
    assert "both the 4th and the last Thursday" in h.content
    assert "week: last" in h.content
    [series] = await rows(world, "SELECT * FROM session_series")
    assert series["monthly_week"] is None  # the 4th, derived from the date as before


async def test_week_refused_kindly_unless_monthly_and_on_that_week(world: World) -> None:
    await setup_group(world)
    day = future_fourth_and_last_thursday()
    h = await schedule(world, date=day.isoformat(), repeat="weekly", week="last")
    assert h.ephemeral and "The week option is for monthly sessions" in h.content
    second = day.replace(day=day.day - 14)  # the 2nd Thursday of the same month
    if second > datetime.now(UTC).date() + timedelta(days=1):
        h = await schedule(world, date=second.isoformat(), repeat="monthly", week="last")
        assert h.ephemeral and f"start on {day.isoformat()}" in h.content, h.content
    h = await schedule(world, date=day.isoformat(), repeat="once", until="2099-01-01")
    assert h.ephemeral and "An end date is for repeating sessions" in h.content
    h = await schedule(world, date=day.isoformat(), repeat="weekly", until="2001-01-01")
    assert h.ephemeral and "before the first session" in h.content
    assert await rows(world, "SELECT * FROM session_series") == []


async def test_biweekly_until_lists_only_sessions_up_to_the_end(world: World) -> None:
    await setup_group(world)
    day = datetime.now(LONDON).date() + timedelta(days=3)
    h = await schedule(
        world,
        date=day.isoformat(),
        repeat="biweekly",
        until=(day + timedelta(days=14)).isoformat(),
        title="Fortnightly",
    )
    weekday = day.strftime("%A")
    assert f"every other week on {weekday} at 19:30 (Europe/London), until" in h.content
    h = await world.run(world.alice, "session", "list")
    listed = text_of(h.callback)

    def stamp(d: date) -> str:
        local = datetime.combine(d, datetime.min.time().replace(hour=19, minute=30), LONDON)
        return f"<t:{int(local.timestamp())}:F>"

    assert stamp(day) in listed and stamp(day + timedelta(days=14)) in listed
    assert stamp(day + timedelta(days=28)) not in listed  # after the end date


# --------------------------------------------------------------------------- /session edit

NY = ZoneInfo("America/New_York")


def ny(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, datetime.min.time().replace(hour=hour, minute=minute), NY)


def stamp(instant: datetime) -> str:
    return f"<t:{int(instant.timestamp())}:F>"


async def weekly_with_replies(world: World) -> tuple[int, date, dict[str, Any]]:
    """A weekly 18:00 series; its 24h reminder went out; Alice said Going, Bob Maybe,
    Carol (who joins) Can't make it. Returns (channel, day, the reminder message)."""
    channel = await setup_group(world)
    h = await world.run(world.carol, "group", "join", name="Parents Circle")
    click = await world.fake.click(
        world.guild_id, world.carol, custom_ids(h.callback)[0], message_id=world.fake.next_id()
    )
    await click.wait_response()
    day = session_day()
    await schedule_weekly(world, day)
    with at(start_of(day) - timedelta(hours=24)):
        await wake(world)
        await eventually(lambda: reminders_in(world, channel))
    message = reminders_in(world, channel)[0]
    for user, answer in ((world.alice, "going"), (world.bob, "maybe"), (world.carol, "no")):
        button = next(i for i in custom_ids(message) if i.split(":")[4] == answer)
        with at(start_of(day) - timedelta(hours=23)):
            c = await world.fake.click(
                world.guild_id, user, button, message_id=int(message["id"]), channel_id=channel
            )
            await c.wait_response()
    return channel, day, message


def nothing_due(world: World, instant: datetime) -> bool:
    """No reminder due by `instant` is still waiting (read with the test's own connection)."""
    ahead = instant + PLAN_HORIZON
    ((count,),) = read_sync(
        world,
        "SELECT COUNT(*) FROM reminder_ledger WHERE state IN ('pending', 'sending') "
        "AND due_at <= ?",
        (int(instant.timestamp()),),
    )
    # ... and the planner has planned what falls due within its horizon.
    ((behind,),) = read_sync(
        world,
        "SELECT COUNT(*) FROM session_series WHERE status = 'active' AND next_due <= ? "
        "AND planned_until < ?",
        (int(ahead.timestamp()), int(ahead.timestamp())),
    )
    return bool(count == 0 and behind == 0)


async def wake_at(world: World, instant: datetime) -> None:
    """Move the clock, wake the scheduler and wait until everything due has been handled."""
    with at(instant):
        await wake(world)
        await eventually(lambda: nothing_due(world, instant))


def sent_reminders(world: World, channel: int, needle: str) -> list[dict[str, Any]]:
    return [m for m in reminders_in(world, channel) if needle in text_of(m)]


def change_dms(world: World, user: int) -> list[dict[str, Any]]:
    return [m for m in world.fake.dms_to(user) if "session changed" in text_of(m)]


async def edit(world: World, user: int | None = None, **options: Any) -> Any:
    [series] = await rows(world, "SELECT id FROM session_series WHERE status = 'active'")
    return await world.run_to_end(
        user or world.facilitator, "session", "edit", session=str(series["id"]), **options
    )


async def test_edit_time_ten_minutes_before_a_reminder_replans_it_once(world: World) -> None:
    channel, day, _ = await weekly_with_replies(world)
    old, new = start_of(day), ny(day, 19)
    # Ten minutes before the 1h reminder of 18:00 was due (already in the ledger, waiting),
    # the group moves to 19:00.
    await wake_at(world, old - timedelta(hours=1, minutes=10))
    waiting = await rows(world, "SELECT due_at FROM reminder_ledger WHERE state = 'pending'")
    assert [r["due_at"] for r in waiting] == [int((old - timedelta(hours=1)).timestamp())]
    with at(old - timedelta(hours=1, minutes=10)):
        h = await edit(world, time="19:00")
        assert h.ephemeral
        reply = text_of(h.followups[-1]) if h.followups else h.content
        weekday = day.strftime("%A")
        assert f"every week on {weekday} at 19:00 (America/New_York)" in reply, reply
        assert f"Next session: {stamp(new)}" in reply
    # Told once, by DM, old -> new; Carol (can't make it) is not told.
    for user in (world.alice, world.bob):
        [dm] = change_dms(world, user)
        assert f"{stamp(old)} → {stamp(new)}" in text_of(dm)
    assert change_dms(world, world.carol) == []
    # The old 1h reminder does not go out; the new one goes out once, an hour before 19:00.
    await wake_at(world, old - timedelta(hours=1))
    await wake_at(world, old - timedelta(minutes=30))
    assert sent_reminders(world, channel, stamp(old)) == [reminders_in(world, channel)[0]]
    with at(new - timedelta(hours=1)):
        await wake(world)
        await eventually(lambda: sent_reminders(world, channel, stamp(new)))
    with at(new - timedelta(minutes=30)):
        await wake(world)
        await world.restart()
        await wake(world)
    assert len(sent_reminders(world, channel, stamp(new))) == 1
    assert len(reminders_in(world, channel)) == 2  # the 24h one before, the 1h one after
    assert len(change_dms(world, world.alice)) == 1  # still once


async def test_edit_after_a_reminder_went_out_does_not_send_it_again(world: World) -> None:
    channel, day, message = await weekly_with_replies(world)
    old, new = start_of(day), ny(day, 20)
    # The 24h reminder went out; 22h before, the session moves two hours later, so a
    # "24h before" for 20:00 would fall due in the future: it must not go out again.
    with at(old - timedelta(hours=22, minutes=30)):
        await edit(world, time="20:00")
    await wake_at(world, new - timedelta(hours=24))
    await wake_at(world, new - timedelta(hours=23))
    assert len(reminders_in(world, channel)) == 1
    with at(new - timedelta(hours=1)):
        await wake(world)
        await eventually(lambda: sent_reminders(world, channel, stamp(new)))
    assert len(reminders_in(world, channel)) == 2
    # The Going button of the reminder sent before the edit answers the moved session.
    going = next(i for i in custom_ids(message) if i.split(":")[4] == "going")
    with at(new - timedelta(minutes=50)):
        c = await world.fake.click(
            world.guild_id, world.alice, going, message_id=int(message["id"]), channel_id=channel
        )
        await c.wait_response()
    [series] = await rows(world, "SELECT id FROM session_series WHERE status = 'active'")
    replies = await rows(world, "SELECT series_id, occurrence_key, user_id, response FROM rsvps")
    assert {(r["series_id"], r["user_id"]) for r in replies} == {
        (series["id"], world.alice),
        (series["id"], world.bob),
        (series["id"], world.carol),
    }


async def test_edit_title_just_before_a_reminder_keeps_it_once(world: World) -> None:
    channel, day, _ = await weekly_with_replies(world)
    old = start_of(day)
    await wake_at(world, old - timedelta(hours=1, minutes=10))
    waiting = await rows(world, "SELECT due_at FROM reminder_ledger WHERE state = 'pending'")
    assert [r["due_at"] for r in waiting] == [int((old - timedelta(hours=1)).timestamp())]
    with at(old - timedelta(hours=1, minutes=10)):
        await edit(world, title="Thursday circle")
    with at(old - timedelta(hours=1)):
        await wake(world)
        await eventually(lambda: len(reminders_in(world, channel)) == 2)
    with at(old - timedelta(minutes=30)):
        await wake(world)
    later = reminders_in(world, channel)
    assert len(later) == 2 and "Thursday circle" in text_of(later[1])
    assert stamp(old) in text_of(later[1])
    # Same time, new title: Going/Maybe members are told once what changed.
    [dm] = change_dms(world, world.alice)
    assert "same time" in text_of(dm)


async def test_edit_day_zone_repeat_and_until_split_the_series(world: World) -> None:
    channel, day, _ = await weekly_with_replies(world)
    old = start_of(day)
    world.fake.close_dms(world.bob)
    target = (day.weekday() + 2) % 7
    names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    until = day + timedelta(days=60)
    with at(old - timedelta(hours=20)):
        h = await edit(
            world,
            day=names[target],
            timezone="Europe/London",
            repeat="biweekly",
            until=until.isoformat(),
        )
    reply = text_of(h.followups[-1])
    assert (
        f"every other week on {names[target].title()} at 18:00 (Europe/London), until "
        f"{until.day} {until.strftime('%B')} {until.year}"
    ) in reply, reply
    assert "couldn't be reached by DM" in reply  # Bob's DMs are closed
    series = await rows(world, "SELECT * FROM session_series ORDER BY id")
    assert [s["status"] for s in series] == ["ended", "active"]
    assert series[1]["previous_series_id"] == series[0]["id"]
    # The old series kept nothing past (none had started), the new one starts after "now".
    first_new = date.fromisoformat(series[1]["first_local"][:10])
    assert first_new.weekday() == target and series[1]["tz"] == "Europe/London"
    new = datetime.combine(first_new, datetime.min.time().replace(hour=18), LONDON)
    [dm] = change_dms(world, world.alice)
    assert f"{stamp(old)} → {stamp(new)}" in text_of(dm)
    failures = await rows(world, "SELECT kind FROM dm_failures WHERE user_id = ?", world.bob)
    assert [f["kind"] for f in failures] == ["session-change"]
    # The channel hears the new rule; nobody's name is in it.
    notice = [m for m in world.fake.messages_in(channel) if "Changed:" in text_of(m)]
    assert len(notice) == 1 and "Europe/London" in text_of(notice[0])


async def test_edit_refused_for_members_and_other_groups_facilitators(world: World) -> None:
    await weekly_with_replies(world)
    h = await edit(world, world.alice, time="19:00")
    assert h.ephemeral and "facilitator" in (h.content or "").lower()
    other = world.fake.add_member(world.guild_id, name="fac2", roles=[world.facilitator_role])
    await world.run_to_end(
        other,
        "group",
        "create",
        name="Siblings Circle",
        description="For siblings",
        focus="siblings",
        join_mode="open",
    )
    h = await edit(world, other, time="19:00")
    reply = text_of(h.followups[-1]) if h.followups else (h.content or "")
    assert "Only the facilitators of “Parents Circle”" in reply, reply
    series = await rows(world, "SELECT * FROM session_series")
    assert len(series) == 1 and series[0]["status"] == "active"
    assert world.fake.dms_to(world.alice) == []


async def test_edit_keeps_past_attendance_and_carries_a_cancelled_date(world: World) -> None:
    await setup_group(world)
    day = session_day()
    await schedule_weekly(world, day)
    [old] = await rows(world, "SELECT id FROM session_series")
    week2, week3 = day + timedelta(days=7), day + timedelta(days=14)
    await world.run_to_end(
        world.facilitator, "session", "cancel", session="Weekly check-in", date=week2.isoformat()
    )
    names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    after_first = start_of(day) + timedelta(hours=3)
    with at(after_first):
        await edit(world, day=names[(day.weekday() + 1) % 7])
        # The first session (before the edit) can still have its attendance taken.
        h = await world.run(
            world.facilitator,
            "session",
            "attendance",
            session="Weekly check-in",
            date=day.isoformat(),
        )
        assert h.ephemeral and "Attendance for" in h.content, h.content
        assert custom_ids(h.callback) == [f"fb:attend:{old['id']}:{day.isoformat()}"]
        listed = text_of((await world.run(world.alice, "session", "list")).callback)
    # The cancelled second week stays cancelled on its new day; the third week is there.
    assert stamp(ny(week2 + timedelta(days=1), 18)) not in listed
    assert stamp(ny(week3 + timedelta(days=1), 18)) in listed
    overrides = await rows(
        world, "SELECT series_id, occurrence_key, status FROM occurrence_overrides"
    )
    assert {(o["occurrence_key"], o["status"]) for o in overrides} == {
        (week2.isoformat(), "cancelled"),
        ((week2 + timedelta(days=1)).isoformat(), "cancelled"),
    }


async def test_calendar_file_follows_an_edit_read_by_another_parser(world: World) -> None:
    await setup_group(world)
    day = session_day()
    await schedule_weekly(world, day)
    with at(start_of(day) + timedelta(hours=3)):
        await edit(world, time="19:00")
        await world.run(world.alice, "my", "calendar")
    (upload,) = [r for r in world.fake.requests if r.files and "callback" in r.path]
    window = (start_of(day) - timedelta(days=1), start_of(day) + timedelta(days=40))
    read = read_with_vobject(upload.files[0].data, *window)
    got = sorted(s for instants in read.values() for s, _ in instants)
    want = [start_of(day)] + [ny(day + timedelta(days=7 * k), 19) for k in range(1, 6)]
    assert got == [w.astimezone(UTC) for w in want if w < window[1]]
    assert len(read) == 2  # the series before the edit (its past session) and after it
