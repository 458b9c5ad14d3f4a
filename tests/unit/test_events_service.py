"""Discord's Events panel: each group's next session mirrored, on real SQLite with a fake clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from familybot.db.connection import Database
from familybot.models import JoinMode
from familybot.models.events import EventSpec
from familybot.models.notices import Notice
from familybot.services.sessions.event_specs import LOCATION
from familybot.services.sessions.recurrence import Repeat
from familybot.services.sessions.scheduled_events import MAX_EVENTS, SyncResult
from familybot.wiring import Services, build_services
from tests.support.fakes import FakeClock, RecordingPort

GUILD = 1
FAC = 10
TZ = "America/New_York"
# The fake clock starts on Friday 2026-11-27 12:00 UTC; sessions are Tuesdays 18:00 New York.
FIRST = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


@dataclass
class EventsPort(RecordingPort):
    notices: list[tuple[int, Notice]] = field(default_factory=list)

    async def post_notice(self, channel_id: int, notice: Notice) -> bool:
        self.notices.append((channel_id, notice))
        return True

    def event_calls(self) -> list[str]:
        return [n for n in self.names() if n.endswith("_scheduled_event")]

    def only_event(self) -> tuple[int, int, EventSpec]:
        ((event_id, (guild_id, spec)),) = self.scheduled_events.items()
        return event_id, guild_id, spec


@pytest.fixture
def port() -> EventsPort:
    return EventsPort()


@pytest.fixture
async def services(db: Database, port: EventsPort, clock: FakeClock) -> Services:
    # Subscribed as the bot has it (wiring.py): re-planning first, then the background sync.
    return build_services(db, port, clock, TZ, events_panel=True)


async def make_group(services: Services, name: str = "Parents Circle") -> int:
    group = await services.groups.create(
        guild_id=GUILD,
        actor_id=FAC,
        name=name,
        description="A weekly circle",
        focus="parents of teens in IOP",
        capacity=None,
        join_mode=JoinMode.OPEN,
    )
    return group.id


async def schedule(
    services: Services,
    group: str = "Parents Circle",
    title: str = "Weekly check-in",
    date: str = "2026-12-01",
    time: str = "18:00",
    repeat: Repeat = Repeat.WEEKLY,
    voice_channel_id: int | None = None,
) -> int:
    outcome = await services.sessions.schedule(
        guild_id=GUILD,
        actor_id=FAC,
        group_name=group,
        title=title,
        date_text=date,
        time_text=time,
        repeat=repeat,
        duration_minutes=60,
        tz=TZ,
        voice_channel_id=voice_channel_id,
    )
    await services.events.settle()
    return outcome.series.id


async def turn_on(services: Services) -> None:
    await services.events.set_enabled(GUILD, True)
    await services.events.settle()


async def test_off_by_default_nothing_is_mirrored(services: Services, port: EventsPort) -> None:
    await make_group(services)
    await schedule(services)
    assert port.event_calls() == []
    assert not await services.events.enabled(GUILD)


async def test_turning_on_mirrors_the_next_session(services: Services, port: EventsPort) -> None:
    gid = await make_group(services)
    series_id = await schedule(services)
    report = await services.events.set_enabled(GUILD, True)
    assert report.shown == 1 and report.failed == 0
    event_id, guild_id, spec = port.only_event()
    assert guild_id == GUILD
    assert spec.name == "Parents Circle: Weekly check-in"
    assert spec.start == FIRST and spec.end == FIRST + timedelta(hours=1)
    assert spec.channel_id is None and spec.location == LOCATION
    assert "Parents Circle" in spec.description and "/group join" in spec.description
    assert len(spec.description) <= 1000
    (mirror,) = await services.events.mirrored(GUILD)
    assert (mirror.group_id, mirror.event_id, mirror.series_id) == (gid, event_id, series_id)
    assert mirror.occurrence_key == "2026-12-01" and mirror.start == FIRST


async def test_scheduling_creates_and_syncing_again_changes_nothing(
    services: Services, port: EventsPort
) -> None:
    await make_group(services)
    await turn_on(services)
    assert port.event_calls() == []  # no sessions yet, nothing to show
    await schedule(services)
    assert port.event_calls() == ["create_scheduled_event"]
    before = len(port.calls)
    assert await services.events.sync_guild(GUILD) is not None
    assert len(port.calls) == before


async def test_voice_channel_sessions_point_at_the_channel(
    services: Services, port: EventsPort
) -> None:
    await make_group(services)
    await turn_on(services)
    await schedule(services, voice_channel_id=777)
    _, _, spec = port.only_event()
    assert spec.channel_id == 777 and spec.location is None


async def test_cancelled_next_session_skips_to_the_one_after(
    services: Services, port: EventsPort
) -> None:
    await make_group(services)
    await turn_on(services)
    series_id = await schedule(services)
    event_id, _, _ = port.only_event()
    await services.sessions.changes.cancel(
        guild_id=GUILD, actor_id=FAC, ref=str(series_id), date_text="2026-12-01"
    )
    await services.events.settle()
    assert port.event_calls() == ["create_scheduled_event", "edit_scheduled_event"]
    same_id, _, spec = port.only_event()
    assert same_id == event_id and spec.start == FIRST + WEEK
    (mirror,) = await services.events.mirrored(GUILD)
    assert mirror.occurrence_key == "2026-12-08"


async def test_moved_occurrence_becomes_the_next_one(services: Services, port: EventsPort) -> None:
    await make_group(services)
    await turn_on(services)
    series_id = await schedule(services)
    # The second session is brought forward to before the first one.
    await services.sessions.changes.reschedule(
        guild_id=GUILD,
        actor_id=FAC,
        ref=str(series_id),
        date_text="2026-12-08",
        new_date_text="2026-11-30",
        new_time_text="17:00",
    )
    await services.events.settle()
    _, _, spec = port.only_event()
    assert spec.start == datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
    (mirror,) = await services.events.mirrored(GUILD)
    assert mirror.occurrence_key == "2026-12-08"  # the moved occurrence keeps its key
    # Moving the next session later hands the slot to the following one.
    await services.sessions.changes.reschedule(
        guild_id=GUILD,
        actor_id=FAC,
        ref=str(series_id),
        date_text="2026-11-30",
        new_date_text="2026-12-20",
        new_time_text="18:00",
    )
    await services.events.settle()
    _, _, spec = port.only_event()
    assert spec.start == FIRST
    assert port.event_calls().count("create_scheduled_event") == 1


async def test_cancelling_the_series_deletes_the_event(
    services: Services, port: EventsPort
) -> None:
    await make_group(services)
    await turn_on(services)
    series_id = await schedule(services)
    await services.sessions.changes.cancel(guild_id=GUILD, actor_id=FAC, ref=str(series_id))
    await services.events.settle()
    assert port.event_calls()[-1] == "delete_scheduled_event"
    assert port.scheduled_events == {}
    assert await services.events.mirrored(GUILD) == []


async def test_archiving_the_group_deletes_the_event(services: Services, port: EventsPort) -> None:
    await make_group(services)
    await turn_on(services)
    await schedule(services)
    await services.groups.archive(GUILD, "Parents Circle")
    await services.events.settle()
    assert port.scheduled_events == {}
    assert await services.events.mirrored(GUILD) == []


async def test_renaming_the_group_edits_the_event(services: Services, port: EventsPort) -> None:
    await make_group(services)
    await turn_on(services)
    await schedule(services)
    await services.groups.edit(guild_id=GUILD, name="Parents Circle", new_name="Parents Room")
    await services.events.settle()
    _, _, spec = port.only_event()
    assert spec.name == "Parents Room: Weekly check-in"
    assert port.event_calls().count("edit_scheduled_event") == 1


async def test_turning_off_deletes_every_mirrored_event(
    services: Services, port: EventsPort
) -> None:
    await make_group(services)
    await make_group(services, "Siblings")
    await turn_on(services)
    await schedule(services)
    await schedule(services, group="Siblings", title="Siblings talk", date="2026-12-02")
    assert len(port.scheduled_events) == 2
    report = await services.events.set_enabled(GUILD, False)
    assert report.removed == 2
    assert port.scheduled_events == {}
    await schedule(services, title="Extra", date="2026-12-03", repeat=Repeat.ONCE)
    assert port.scheduled_events == {}


async def test_one_event_per_group_for_the_earliest_of_its_series(
    services: Services, port: EventsPort
) -> None:
    await make_group(services)
    await turn_on(services)
    await schedule(services)
    await schedule(services, title="Monthly open night", date="2026-11-28", time="10:00")
    _, _, spec = port.only_event()
    assert spec.name == "Parents Circle: Monthly open night"
    assert spec.start == datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


async def test_started_session_rolls_on_to_the_next(
    services: Services, port: EventsPort, clock: FakeClock
) -> None:
    await make_group(services)
    await turn_on(services)
    await schedule(services)
    first_id, _, _ = port.only_event()
    before = len(port.calls)
    await services.events.sync_due()  # the first run reconciles everything: nothing to do
    assert len(port.calls) == before
    assert await services.events.sync_due() == 0
    clock.set(FIRST + timedelta(minutes=5))
    assert await services.events.sync_due() == 1
    next_id, _, spec = port.only_event()
    assert next_id != first_id and spec.start == FIRST + WEEK
    assert port.event_calls()[-2:] == ["delete_scheduled_event", "create_scheduled_event"]


async def test_a_one_off_session_is_removed_once_it_has_started(
    services: Services, port: EventsPort, clock: FakeClock
) -> None:
    await make_group(services)
    await turn_on(services)
    await schedule(services, repeat=Repeat.ONCE)
    clock.set(FIRST + timedelta(minutes=1))
    await services.events.sync_due()
    assert port.scheduled_events == {}
    assert await services.events.mirrored(GUILD) == []


async def test_event_deleted_on_discord_is_created_again(
    services: Services, port: EventsPort
) -> None:
    await make_group(services)
    await turn_on(services)
    series_id = await schedule(services)
    port.scheduled_events.clear()  # someone deleted it in Discord
    await services.sessions.changes.cancel(
        guild_id=GUILD, actor_id=FAC, ref=str(series_id), date_text="2026-12-01"
    )
    await services.events.settle()
    assert port.event_calls()[-2:] == ["edit_scheduled_event", "create_scheduled_event"]
    event_id, _, spec = port.only_event()
    assert spec.start == FIRST + WEEK
    (mirror,) = await services.events.mirrored(GUILD)
    assert mirror.event_id == event_id


async def test_discord_failure_never_reaches_the_command_and_is_retried(
    services: Services, port: EventsPort
) -> None:
    await make_group(services)
    await turn_on(services)
    port.fail.add("create_scheduled_event")
    await schedule(services)  # does not raise
    assert port.scheduled_events == {}
    assert await services.events.mirrored(GUILD) == []
    port.fail.clear()
    assert await services.events.sync_due() == 1  # the failed group is tried again
    assert len(port.scheduled_events) == 1
    assert await services.events.sync_due() == 0


async def test_failed_delete_keeps_the_row_to_try_again(
    services: Services, port: EventsPort
) -> None:
    await make_group(services)
    await turn_on(services)
    await schedule(services)
    port.fail.add("delete_scheduled_event")
    report = await services.events.set_enabled(GUILD, False)
    assert report.failed == 1 and len(port.scheduled_events) == 1
    port.fail.clear()
    await services.events.sync_due()
    assert port.scheduled_events == {}
    assert await services.events.mirrored(GUILD) == []


async def test_never_more_than_discords_limit(
    services: Services, port: EventsPort, db: Database, clock: FakeClock
) -> None:
    await make_group(services)
    await turn_on(services)
    # The server already shows MAX_EVENTS mirrored sessions (of other groups).
    now = int(clock.now().timestamp())
    for i in range(MAX_EVENTS):
        cursor = await db.execute(
            "INSERT INTO groups (guild_id, name, name_key, description, focus, join_mode, "
            "guidelines, status, created_by, created_at) "
            "VALUES (?, ?, ?, 'd', 'f', 'open', 'g', 'active', ?, ?)",
            (GUILD, f"Other {i}", f"other {i}", FAC, now),
        )
        await db.execute(
            "INSERT INTO scheduled_event_mirror (group_id, guild_id, event_id, start, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (cursor.lastrowid, GUILD, 900000 + i, now + 86400, now),
        )
    await schedule(services)
    assert "create_scheduled_event" not in port.names()
    group = await services.groups.info(GUILD, "Parents Circle")
    assert await services.events.sync_group(group.group.id) is SyncResult.SKIPPED


async def test_first_periodic_run_after_a_restart_catches_up(
    services: Services, port: EventsPort, db: Database, clock: FakeClock
) -> None:
    await make_group(services)
    await turn_on(services)
    port.fail.add("create_scheduled_event")
    await schedule(services)
    port.fail.clear()
    restarted = build_services(
        db, port, clock, TZ, events_panel=True
    )  # the in-memory retry list is gone
    assert await restarted.events.sync_due() == 1
    assert len(port.scheduled_events) == 1
    assert await restarted.events.sync_due() == 0


async def test_forgetting_a_member_of_three_groups_syncs_each_group_once(
    services: Services, port: EventsPort, monkeypatch: pytest.MonkeyPatch
) -> None:
    """#15: /my forget's GroupChanged and the SeriesChanged it sets off both named every
    group; a group a background sync will still reach is not queued again. A change after
    that is still mirrored."""
    names = ["Circle A", "Circle B", "Circle C"]
    for name in names:
        await make_group(services, name)
        await schedule(services, group=name)
    await turn_on(services)
    member = 555
    for name in names:
        group = await services.groups.prepare_join(GUILD, member, name)
        await services.groups.consent_and_join(
            group.id, member, group.guidelines_version, guild_id=GUILD
        )
    await services.events.settle()
    synced: list[int] = []
    real_sync = services.events.sync_group

    async def counting_sync(group_id: int) -> SyncResult:
        synced.append(group_id)
        return await real_sync(group_id)

    monkeypatch.setattr(services.events, "sync_group", counting_sync)
    await services.privacy.forget_user(member)
    await services.events.settle()
    assert sorted(synced) == sorted(set(synced)) and len(synced) == 3
    assert len(port.scheduled_events) == 3  # still shown
    synced.clear()
    await services.groups.edit(guild_id=GUILD, name="Circle B", new_name="Circle Bee")
    await services.events.settle()
    assert len(synced) == 1
    assert sorted(spec.name for _, spec in port.scheduled_events.values()) == [
        "Circle A: Weekly check-in",
        "Circle Bee: Weekly check-in",
        "Circle C: Weekly check-in",
    ]
