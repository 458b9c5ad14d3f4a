"""What a hostile review of the merged series edit found, each held by a test."""

from __future__ import annotations

from datetime import UTC, date, datetime

import vobject  # type: ignore[import-untyped,unused-ignore]

from familybot.models import JoinMode, Rsvp
from familybot.services.sessions.options import parse_rule_change
from familybot.services.sessions.recurrence import Repeat
from familybot.services.sessions.series_edit import RuleChange
from familybot.wiring import Services
from tests.support.fakes import FakeClock, RecordingPort
from tests.unit.test_calendar_clients import read_with_vobject
from tests.unit.test_facilitator_views import ALICE, FAC, GROUP, GUILD, actor, at, join, story


def new_time(text: str) -> RuleChange:
    return parse_rule_change(
        day=None,
        time_text=text,
        tz_text=None,
        repeat=None,
        duration=None,
        until_text=None,
        week_text=None,
    )


async def weekly_group(services: Services, clock: FakeClock) -> int:
    await services.setup.set_facilitator_role(GUILD, 77)
    clock.set(at("2026-09-01"))
    await services.groups.create(
        guild_id=GUILD,
        actor_id=FAC,
        name=GROUP,
        description="d",
        focus="f",
        capacity=8,
        join_mode=JoinMode.OPEN,
    )
    await join(services, ALICE)
    out = await services.sessions.schedule(
        guild_id=GUILD,
        actor_id=FAC,
        group_name=GROUP,
        title="Check-in",
        date_text="2026-09-03",
        time_text="18:00",
        repeat=Repeat.WEEKLY,
        duration_minutes=60,
        tz="America/New_York",
    )
    return out.series.id


async def test_a_removed_member_is_not_told_the_new_times(
    services: Services, clock: FakeClock, port: RecordingPort
) -> None:
    sid = await weekly_group(services, clock)
    await services.sessions.attendance.rsvp(sid, "2026-09-10", ALICE, Rsvp.GOING, guild_id=GUILD)
    await services.groups.remove_member(GUILD, GROUP, ALICE)
    port.dms.clear()
    out = await services.sessions.editor.edit(
        guild_id=GUILD, actor=actor(FAC), ref=str(sid), change=new_time("19:30")
    )
    assert [n for user, n in port.dms if user == ALICE] == []
    # Nor when the series they had said Going to is cancelled.
    await services.sessions.changes.cancel(
        guild_id=GUILD, actor_id=FAC, ref=str(out.series.id), date_text=None
    )
    assert [n for user, n in port.dms if user == ALICE] == []


async def test_a_past_date_moved_ahead_stays_in_calendars_and_out_of_stats(
    services: Services, clock: FakeClock
) -> None:
    sid = await weekly_group(services, clock)
    clock.set(at("2026-10-27"))
    await services.sessions.changes.reschedule(
        guild_id=GUILD,
        actor_id=FAC,
        ref=str(sid),
        date_text="2026-10-29",
        new_date_text="2026-11-20",
        new_time_text="18:00",
    )
    clock.set(at("2026-11-06"))
    await services.sessions.editor.edit(
        guild_id=GUILD, actor=actor(FAC), ref=str(sid), change=new_time("19:30")
    )
    moved = datetime(2026, 11, 20, 23, tzinfo=UTC)  # 18:00 in New York
    ics, _ = await services.sessions.calendar_for(GUILD, ALICE)
    vobject.readOne(ics.decode())  # well-formed for another parser
    starts = [s for rows in read_with_vobject(ics, *YEAR).values() for s, _ in rows]
    assert starts.count(moved) == 1  # once, not lost and not twice
    assert datetime(2026, 10, 29, 22, tzinfo=UTC) not in starts  # the old date is gone
    stats = await services.facilitator_views.stats(GUILD, actor(FAC), GROUP, 8)
    assert date(2026, 10, 29) not in [s.day for s in stats.sessions]


async def test_rsvps_of_a_date_from_before_an_edit(services: Services, clock: FakeClock) -> None:
    sid = await story(services, clock)  # now 2026-11-06; Alice said Going for 2026-11-05
    out = await services.sessions.editor.edit(
        guild_id=GUILD, actor=actor(FAC), ref=str(sid), change=new_time("19:00")
    )
    roster = await services.facilitator_views.rsvps(
        GUILD, actor(FAC), str(out.series.id), "2026-11-05"
    )
    assert ALICE in roster.going


YEAR = (datetime(2026, 9, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
