"""The domain-event bus, and what wiring.py subscribes to it (real SQLite, fake clock)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from familybot.db.connection import Database
from familybot.events import EventBus, GroupChanged, SeriesChanged, UnbanScheduled
from familybot.models import JoinMode
from familybot.scheduler.reminders import JOB_DEFAULTS
from familybot.scheduler.unbans import unban_job_id
from familybot.services.moderation.rules import Action, BotSelf, Person
from familybot.services.moderation.service import ModRequest
from familybot.services.sessions.recurrence import Repeat
from familybot.wiring import Services, build_services
from tests.support.fakes import FakeClock, RecordingPort
from tests.support.moderation_fakes import ModerationPort

pytestmark = pytest.mark.asyncio

GUILD, FAC_ID, MODLOG = 1, 10, 500
FAC = Person(user_id=FAC_ID, top_position=5)
ALICE = Person(user_id=20, top_position=1)
BOT = BotSelf(user_id=99, top_position=8, permissions=(1 << 41) - 1 & ~(1 << 3))


async def test_subscribers_run_in_order_awaited_or_not() -> None:
    bus = EventBus()
    seen: list[str] = []

    async def first(event: SeriesChanged) -> None:
        seen.append(f"first {event.series_ids}")

    bus.subscribe(SeriesChanged, first)
    bus.subscribe(SeriesChanged, lambda e: seen.append(f"second {e.series_ids}"))
    bus.subscribe(GroupChanged, lambda e: seen.append("group"))  # another kind: not called
    await bus.publish(SeriesChanged((3, 4)))
    assert seen == ["first (3, 4)", "second (3, 4)"]
    await bus.publish(GroupChanged((7,)))
    assert seen[-1] == "group" and len(seen) == 3


async def test_a_failing_subscriber_reaches_the_publisher_and_stops_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """As the chained callbacks did: a re-plan that fails is the command's error, and the
    Events panel is not synced for a change that did not go through."""
    bus = EventBus()
    later: list[GroupChanged] = []

    async def replan(event: GroupChanged) -> None:
        raise RuntimeError("database is locked")

    bus.subscribe(GroupChanged, replan)
    bus.subscribe(GroupChanged, later.append)
    with (
        caplog.at_level(logging.WARNING, logger="familybot.events"),
        pytest.raises(RuntimeError, match="locked"),
    ):
        await bus.publish(GroupChanged((42,)))
    assert later == []
    assert "event=GroupChanged(group_ids=(42,))" in caplog.text
    assert "replan" in caplog.text


async def _group_with_series(services: Services) -> tuple[int, int]:
    group = await services.groups.create(
        guild_id=GUILD,
        actor_id=FAC_ID,
        name="Parents Circle",
        description="A weekly circle",
        focus="parents of teens",
        capacity=None,
        join_mode=JoinMode.OPEN,
    )
    outcome = await services.sessions.schedule(
        guild_id=GUILD,
        actor_id=FAC_ID,
        group_name="Parents Circle",
        title="Check-in",
        # The fake clock says 07:00 in New York: the 1-hour reminder is due within the
        # planner's 30-minute horizon.
        date_text="2026-11-27",
        time_text="08:15",
        repeat=Repeat.WEEKLY,
        duration_minutes=60,
        tz="America/New_York",
    )
    return group.id, outcome.series.id


async def test_wiring_replans_a_series_and_its_group_through_events(
    db: Database, port: RecordingPort, clock: FakeClock
) -> None:
    services = build_services(db, port, clock, "America/New_York")
    seen: list[object] = []
    services.bus.subscribe(SeriesChanged, seen.append)
    services.bus.subscribe(GroupChanged, seen.append)
    group_id, series_id = await _group_with_series(services)
    assert seen == [SeriesChanged((series_id,))]  # published by sessions on scheduling
    seen.clear()
    # Joining changes who is seated: the group's change becomes its series' change.
    group = await services.groups.prepare_join(GUILD, ALICE.user_id, "Parents Circle")
    await services.groups.consent_and_join(
        group.id, ALICE.user_id, group.guidelines_version, guild_id=GUILD
    )
    # (Wiring's subscribers come first: the series' change is published while the group's
    # is handled, before this test's own subscriber sees the group's.)
    assert seen == [SeriesChanged((series_id,)), GroupChanged((group_id,))]
    # The services plan nothing themselves: the wired re-plan stored Alice's reminders.
    assert await services.reminders.pending_instants(clock.now() + timedelta(days=30))


async def test_timed_ban_jobs_follow_the_rows_through_events(
    db: Database, clock: FakeClock
) -> None:
    scheduler = AsyncIOScheduler(job_defaults=JOB_DEFAULTS)  # not started: jobs can be read
    services = build_services(db, ModerationPort(), clock, "UTC", scheduler=scheduler)
    await services.setup.set_modlog_channel(GUILD, MODLOG)
    published: list[UnbanScheduled] = []
    services.bus.subscribe(UnbanScheduled, published.append)

    def ban(length: timedelta | None) -> ModRequest:
        return ModRequest(
            guild_id=GUILD,
            action=Action.BAN,
            actor=FAC,
            bot=BOT,
            target=ALICE,
            reason="Please be kind",
            length=length,
        )

    timed = await services.moderation.act(ban(timedelta(days=3)))
    job = scheduler.get_job(unban_job_id(timed.case.id))
    assert job is not None
    due: datetime = job.trigger.run_date
    assert due == clock.now() + timedelta(days=3)
    assert published == [UnbanScheduled(timed.case.id, clock.now() + timedelta(days=3))]
    # A ban without an end replaces the timed one: its job goes with it.
    await services.moderation.act(ban(None))
    assert scheduler.get_job(unban_job_id(timed.case.id)) is None
