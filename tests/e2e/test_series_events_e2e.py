"""The Events panel shows a series as one recurring event when Discord can say it truly
(checked against the pinned API schema and Discord's documented limits), and one session
at a time when it can't: a zone that changes its clocks, a "last <weekday>", an end date,
a cancelled or moved session ahead."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday  # type: ignore[import-untyped]

from tests.e2e.harness import World, rows, text_of
from tests.support.fake_discord.errors import ApiError
from tests.support.fake_discord.scheduled_events import validate_recurrence

EVENTS = r"/guilds/\d+/scheduled-events$"
ONE_EVENT = r"/guilds/\d+/scheduled-events/\d+"
KOLKATA = ZoneInfo("Asia/Kolkata")


async def group_with_series(world: World, tz: str, **schedule: Any) -> date:
    await world.configure()
    await world.run_to_end(
        world.facilitator,
        "group",
        "create",
        name="Parents Circle",
        description="A weekly circle",
        focus="parents",
        join_mode="open",
    )
    first = date.today() + timedelta(days=7)
    options: dict[str, Any] = {
        "group": "Parents Circle",
        "title": "Evening circle",
        "date": first.isoformat(),
        "time": "18:30",
        "repeat": "weekly",
        "duration": 60,
        "timezone": tz,
    }
    options.update(schedule)
    h = await world.run_to_end(world.facilitator, "session", "schedule", **options)
    assert "Scheduled" in text_of(h.callback), h.callback
    return date.fromisoformat(str(options["date"]))


def expand(rule: dict[str, Any], count: int) -> list[datetime]:
    """Read a Discord recurrence rule with dateutil, in UTC as Discord does (not our code)."""
    start = datetime.fromisoformat(rule["start"]).astimezone(UTC)
    if rule["frequency"] == 2:
        days = [weekday(d) for d in rule["by_weekday"]]
        found = rrule(WEEKLY, interval=rule["interval"], byweekday=days, dtstart=start, count=count)
    else:
        (nth,) = rule["by_n_weekday"]
        found = rrule(MONTHLY, byweekday=weekday(nth["day"])(nth["n"]), dtstart=start, count=count)
    return list(found)


async def events_on(world: World) -> dict[str, Any]:
    await world.run_to_end(world.admin, "setup", "events", state="on")
    (created,) = await world.fake.wait_for_request("POST", EVENTS)
    assert created.status == 200
    return dict(created.json_body)


async def test_weekly_series_is_one_recurring_event_with_a_valid_rule(world: World) -> None:
    first = await group_with_series(world, "Asia/Kolkata")
    body = await events_on(world)
    rule = body["recurrence_rule"]
    assert rule["frequency"] == 2 and rule["interval"] == 1
    assert rule["start"] == body["scheduled_start_time"]
    assert "end" not in rule and "count" not in rule
    # Every session Discord will show is at 18:30 in Kolkata on the right weekday.
    for at in expand(rule, 20):
        local = at.astimezone(KOLKATA)
        assert (local.weekday(), local.hour, local.minute) == (first.weekday(), 18, 30)
    assert local.date() == first + timedelta(weeks=19)
    # The body passed the pinned schema, and the fake's Discord limits; no member in it.
    world.fake.assert_no_schema_errors()
    assert body["name"] == "Parents Circle: Evening circle"
    assert str(world.alice) not in str(body) and "<@" not in str(body)
    [mirror] = await rows(world, "SELECT recurring FROM scheduled_event_mirror")
    assert mirror["recurring"] == 1
    # Cancelling the second session: Discord can't be trusted with the exception, so the
    # panel shows one session at a time until that date has passed.
    second = first + timedelta(weeks=1)
    await world.run_to_end(
        world.facilitator, "session", "cancel", session="Evening circle", date=second.isoformat()
    )
    await world.fake.wait_for_request("POST", EVENTS, count=2)
    replaced = world.fake.requests_to("POST", EVENTS)[-1]
    assert replaced.json_body.get("recurrence_rule") is None
    assert world.fake.requests_to("DELETE", ONE_EVENT)
    assert len(world.fake.guilds[world.guild_id].scheduled_events) == 1


async def test_biweekly_and_monthly_nth_are_recurring_last_and_dst_zones_are_not(
    world: World,
) -> None:
    first = await group_with_series(world, "Asia/Kolkata", repeat="biweekly")
    body = await events_on(world)
    assert body["recurrence_rule"]["interval"] == 2
    # Edit to monthly on the same week as the next session: one nth weekday, every month.
    h = await world.run_to_end(
        world.facilitator, "session", "edit", session="Evening circle", repeat="monthly"
    )
    assert "every month on the" in text_of(h.followups[-1])
    patched = (await world.fake.wait_for_request("PATCH", ONE_EVENT))[-1].json_body
    rule = patched["recurrence_rule"]
    n = (first.day - 1) // 7 + 1
    if n <= 4:
        assert rule["frequency"] == 1 and rule["by_n_weekday"] == [{"n": n, "day": first.weekday()}]
        for at in expand(rule, 12):
            local = at.astimezone(KOLKATA)
            assert (local.weekday(), (local.day - 1) // 7 + 1, local.hour) == (
                first.weekday(),
                n,
                18,
            )
    # The last <weekday> of the month: Discord has no "last", so one session at a time.
    await world.run_to_end(
        world.facilitator, "session", "edit", session="Evening circle", week="last"
    )

    def latest() -> dict[str, Any]:
        sent = [
            r
            for r in world.fake.requests
            if r.status and (r.matches("POST", EVENTS) or r.matches("PATCH", ONE_EVENT))
        ]
        return dict(sent[-1].json_body)

    await world.fake.wait_for_request("POST", EVENTS, count=2)
    assert latest().get("recurrence_rule") is None
    # A zone with daylight saving: Discord repeats at a fixed UTC time, an hour off for
    # half the year, so a New York series is mirrored one session at a time too.
    await world.run_to_end(
        world.facilitator,
        "session",
        "edit",
        session="Evening circle",
        repeat="weekly",
        timezone="America/New_York",
    )
    await world.fake.wait_for_request("PATCH", ONE_EVENT, count=2)
    assert latest().get("recurrence_rule") is None
    new_york = datetime.fromisoformat(latest()["scheduled_start_time"]).astimezone(
        ZoneInfo("America/New_York")
    )
    assert (new_york.hour, new_york.minute) == (18, 30)
    world.fake.assert_no_schema_errors()


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"frequency": 2, "interval": 1, "by_weekday": [0, 2]}, "by_weekday"),
        ({"frequency": 2, "interval": 3, "by_weekday": [0]}, "interval"),
        ({"frequency": 1, "interval": 1, "by_weekday": [0]}, "by_n_weekday"),
        (
            {"frequency": 1, "interval": 1, "by_n_weekday": [{"n": 1, "day": 0}], "count": 3},
            "count",
        ),
        (
            {"frequency": 2, "interval": 1, "by_weekday": [0], "end": "2030-01-01T00:00:00+00:00"},
            "end",
        ),
    ],
)
def test_fake_discord_refuses_rules_discord_refuses(rule: dict[str, Any], field: str) -> None:
    start = datetime(2030, 1, 7, 13, tzinfo=UTC)
    with pytest.raises(ApiError) as refused:
        validate_recurrence({"start": start.isoformat(), **rule}, start)
    assert field in str(refused.value.errors)
    validate_recurrence(
        {"start": start.isoformat(), "frequency": 2, "interval": 2, "by_weekday": [0]}, start
    )
