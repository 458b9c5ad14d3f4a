"""Series with an end and an explicit monthly week, the "last Thursday" trap, and
`/session edit`, end to end against the fake Discord with a moved clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.harness import World, rows, text_of
from tests.e2e.test_sessions_e2e import setup_group

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
