"""Sessions, the planner and the dispatcher on real SQLite with a movable clock."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from familybot.db.connection import Database
from familybot.errors import Conflict, NotAllowed, NotFound, UserFacingError
from familybot.models import JoinMode, Rsvp
from familybot.models.notices import Notice
from familybot.models.reminders import Delivery, ReminderCard, ReminderTarget
from familybot.services.reminders.sender import NONCE_MEMORY
from familybot.services.sessions.options import parse_offsets
from familybot.services.sessions.recurrence import Repeat
from familybot.wiring import Services, build_services
from tests.support.fakes import FakeClock, RecordingPort

GUILD = 1
FAC = 10
ALICE, BOB, CAROL = 101, 102, 103


@dataclass
class ReminderPort(RecordingPort):
    """Adds the reminder side of Discord: messages with nonce memory, per target."""

    sent: list[tuple[ReminderTarget, ReminderCard, int]] = field(default_factory=list)
    notices: list[tuple[int, Notice]] = field(default_factory=list)
    nonces: dict[str, int] = field(default_factory=dict)
    refuse_dm: set[int] = field(default_factory=set)
    fail_sends: int = 0
    next_message: int = 9000

    async def post_notice(self, channel_id: int, notice: Notice) -> bool:
        self.notices.append((channel_id, notice))
        return True

    async def send_reminder(
        self, target: ReminderTarget, card: ReminderCard, nonce: str
    ) -> Delivery:
        if target.user_id is not None and target.user_id in self.refuse_dm:
            return Delivery(ok=False, permanent=True)
        if self.fail_sends:
            self.fail_sends -= 1
            return Delivery(ok=False)
        if nonce in self.nonces:  # Discord returns the first message for a repeated nonce
            return Delivery(ok=True, message_id=self.nonces[nonce])
        self.next_message += 1
        self.nonces[nonce] = self.next_message
        self.sent.append((target, card, self.next_message))
        return Delivery(ok=True, message_id=self.next_message)

    async def find_reminders(
        self, target: ReminderTarget, ledger_ids: Collection[int], after: datetime
    ) -> dict[int, int]:
        return {
            card.ledger_id: message_id
            for t, card, message_id in reversed(self.sent)
            if t == target and card.ledger_id in ledger_ids
        }

    def to_channel(self) -> list[ReminderCard]:
        return [c for t, c, _ in self.sent if t.channel_id is not None]

    def to_user(self, user_id: int) -> list[ReminderCard]:
        return [c for t, c, _ in self.sent if t.user_id == user_id]


@pytest.fixture
def port() -> ReminderPort:
    return ReminderPort()


@pytest.fixture
def clock() -> FakeClock:
    # A Friday, 12:00 UTC (07:00 in New York).
    return FakeClock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))


async def seat(services: Services, user: int, name: str = "Parents Circle") -> None:
    group = await services.groups.prepare_join(GUILD, user, name)
    await services.groups.consent_and_join(group.id, user, group.guidelines_version, guild_id=GUILD)


@pytest.fixture
async def group(services: Services) -> int:
    g = await services.groups.create(
        guild_id=GUILD,
        actor_id=FAC,
        name="Parents Circle",
        description="d",
        focus="f",
        capacity=None,
        join_mode=JoinMode.OPEN,
    )
    for user in (ALICE, BOB):
        await seat(services, user)
    return g.id


async def weekly(
    services: Services,
    date: str = "2026-12-01",
    time: str = "18:00",
    repeat: Repeat = Repeat.WEEKLY,
) -> int:
    outcome = await services.sessions.schedule(
        guild_id=GUILD,
        actor_id=FAC,
        group_name="Parents Circle",
        title="Weekly check-in",
        date_text=date,
        time_text=time,
        repeat=repeat,
        duration_minutes=90,
    )
    return outcome.series.id


async def run(services: Services, clock: FakeClock, to: datetime) -> None:
    """Move time forward the way the scheduler would: plan, then send what is due."""
    step = timedelta(minutes=10)
    while clock.now() < to:
        clock.set(min(to, clock.now() + step))
        await services.planner.plan()
        await services.dispatcher.dispatch()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- scheduling -------------------------------------------------------------------------------
async def test_schedule_uses_server_timezone_and_validates(
    services: Services, group: int, clock: FakeClock, db: Database
) -> None:
    outcome = await services.sessions.schedule(
        guild_id=GUILD,
        actor_id=FAC,
        group_name="parents circle",
        title="  Check   in ",
        date_text="2026-12-01",
        time_text="6pm",
        repeat=Repeat.WEEKLY,
        duration_minutes=90,
    )
    assert outcome.series.title == "Check in"
    assert outcome.series.tz == "America/New_York"
    assert outcome.first.start_utc == at("2026-12-01T23:00:00")  # 18:00 EST
    bad = [
        ({"group_name": "Nope"}, NotFound, "couldn't find a group"),
        ({"date_text": "2026-11-01"}, UserFacingError, "already passed"),
        ({"date_text": "2029-01-04"}, UserFacingError, "more than two years away"),
        ({"time_text": "25:00"}, UserFacingError, "couldn't read “25:00”"),
        ({"date_text": "next tuesday"}, UserFacingError, "next tuesday"),
        ({"tz": "Mars/Base"}, UserFacingError, "don't know the time zone"),
        ({"duration_minutes": 5}, UserFacingError, "15 minutes"),
        ({"title": "   "}, UserFacingError, "title"),
    ]
    for change, error, text in bad:
        args = {
            "guild_id": GUILD,
            "actor_id": FAC,
            "group_name": "Parents Circle",
            "title": "T",
            "date_text": "2026-12-01",
            "time_text": "18:00",
            "repeat": Repeat.WEEKLY,
            "duration_minutes": 60,
        }
        args.update(change)
        with pytest.raises(error, match=text):
            await services.sessions.schedule(**args)  # type: ignore[arg-type]
    assert len(await services.sessions.list_for(GUILD, ALICE, False, None)) >= 1
    # Refusals stored nothing: only the first, good schedule is there.
    assert await db.fetchval("SELECT count(*) FROM session_series") == 1
    # A first date a year and more ahead works (it used to be stored, then crash).
    far = await services.sessions.schedule(
        guild_id=GUILD,
        actor_id=FAC,
        group_name="Parents Circle",
        title="Far",
        date_text="2028-01-06",
        time_text="18:00",
        repeat=Repeat.WEEKLY,
        duration_minutes=60,
    )
    assert far.first.key == "2028-01-06"


async def test_group_info_shows_next_session(services: Services, group: int) -> None:
    await weekly(services)
    info = await services.groups.info(GUILD, "Parents Circle")
    assert info.next_session == at("2026-12-01T23:00:00")


# --- reminders --------------------------------------------------------------------------------
async def test_weekly_reminders_go_out_once_at_24h_and_1h(
    services: Services, group: int, clock: FakeClock, port: ReminderPort
) -> None:
    await weekly(services)
    await run(services, clock, at("2026-12-01T22:59:00"))
    cards = port.to_channel()
    assert [(c.start, c.occurrence_key, c.late) for c in cards] == [
        (at("2026-12-01T23:00:00"), "2026-12-01", False),
        (at("2026-12-01T23:00:00"), "2026-12-01", False),
    ]
    ledger = await services.db.fetchall(
        "SELECT offset_minutes, state, due_at FROM reminder_ledger ORDER BY id"
    )
    assert [(r["offset_minutes"], r["state"]) for r in ledger] == [(1440, "sent"), (60, "sent")]
    # Running everything again sends nothing more.
    await services.planner.plan()
    await services.dispatcher.dispatch()
    await services.dispatcher.dispatch()
    assert len(port.sent) == 2
    # Next week too.
    await run(services, clock, at("2026-12-08T23:00:00"))
    assert [c.occurrence_key for c in port.to_channel()] == ["2026-12-01"] * 2 + ["2026-12-08"] * 2


async def test_dst_weekly_stays_local_and_reminders_are_real_hours(
    services: Services, group: int, clock: FakeClock, port: ReminderPort
) -> None:
    clock.set(at("2027-03-01T12:00:00"))
    await weekly(services, date="2027-03-09", time="18:00")  # DST starts 2027-03-14 in New York
    await run(services, clock, at("2027-03-16T00:00:00"))
    starts = sorted({c.start for c in port.to_channel()})
    # 18:00 EST before the change, 18:00 EDT after it (its 24h reminder is already out).
    assert starts == [at("2027-03-09T23:00:00"), at("2027-03-16T22:00:00")]
    rows = await services.db.fetchall(
        "SELECT occurrence_start, due_at, offset_minutes FROM reminder_ledger WHERE state = 'sent'"
    )
    for r in rows:
        assert r["occurrence_start"] - r["due_at"] == r["offset_minutes"] * 60
    await run(services, clock, at("2027-03-16T23:00:00"))
    assert at("2027-03-16T22:00:00") in {c.start for c in port.to_channel()}  # 18:00 EDT


async def test_missed_reminder_sent_late_or_skipped(
    services: Services, group: int, clock: FakeClock, port: ReminderPort
) -> None:
    await weekly(services)
    # The bot is down across the 24h reminder; it comes back 2h before the session.
    clock.set(at("2026-12-01T21:00:00"))
    await services.planner.plan()
    await services.dispatcher.dispatch()
    cards = port.to_channel()
    assert len(cards) == 1 and cards[0].late and cards[0].start == at("2026-12-01T23:00:00")
    # Down again across the 1h reminder and the start: skipped, not sent.
    clock.set(at("2026-12-01T23:30:00"))
    await services.planner.plan()
    report = await services.dispatcher.dispatch()
    assert report.skipped == 1
    assert len(port.sent) == 1
    states = [
        r["state"]
        for r in await services.db.fetchall("SELECT state FROM reminder_ledger ORDER BY id")
    ]
    assert states == ["sent", "skipped"]


async def test_cancel_one_occurrence_and_tell_going_and_maybe(
    services: Services, group: int, clock: FakeClock, port: ReminderPort
) -> None:
    sid = await weekly(services)
    await services.sessions.attendance.rsvp(sid, "2026-12-08", ALICE, Rsvp.GOING, guild_id=GUILD)
    await services.sessions.attendance.rsvp(sid, "2026-12-08", BOB, Rsvp.NO, guild_id=GUILD)
    outcome = await services.sessions.changes.cancel(
        guild_id=GUILD, actor_id=FAC, ref=str(sid), date_text="2026-12-08", reason="Holiday"
    )
    assert outcome.told == 1
    assert [u for u, _ in port.dms] == [ALICE]
    assert "Holiday" in port.dms[0][1].body
    assert port.notices and "won't take place" in port.notices[-1][1].body
    assert "<@" not in port.notices[-1][1].body  # the channel notice names nobody
    await run(services, clock, at("2026-12-16T00:00:00"))
    keys = {c.occurrence_key for c in port.to_channel()}
    assert keys == {"2026-12-01", "2026-12-15"}
    with pytest.raises(NotFound):
        await services.sessions.changes.cancel(
            guild_id=GUILD, actor_id=FAC, ref=str(sid), date_text="2026-12-09"
        )


async def test_cancel_after_planning_cancels_pending_rows(
    services: Services, group: int, clock: FakeClock, port: ReminderPort
) -> None:
    sid = await weekly(services)
    clock.set(at("2026-11-30T22:55:00"))
    await services.planner.plan()  # the 24h reminder is now in the ledger
    await services.sessions.changes.cancel(
        guild_id=GUILD, actor_id=FAC, ref=str(sid), date_text="2026-12-01"
    )
    await run(services, clock, at("2026-12-02T00:00:00"))
    assert port.sent == []


async def test_cancel_series_stops_everything(
    services: Services, group: int, clock: FakeClock, port: ReminderPort
) -> None:
    sid = await weekly(services)
    await services.sessions.attendance.rsvp(sid, "2026-12-15", BOB, Rsvp.MAYBE, guild_id=GUILD)
    await services.sessions.changes.cancel(
        guild_id=GUILD, actor_id=FAC, ref="weekly check", reason=None
    )
    assert [u for u, _ in port.dms] == [BOB]
    await run(services, clock, at("2026-12-20T00:00:00"))
    assert port.sent == []
    with pytest.raises(NotFound):
        await services.sessions.changes.cancel(guild_id=GUILD, actor_id=FAC, ref=str(sid))


async def test_reschedule_moves_reminders(
    services: Services, group: int, clock: FakeClock, port: ReminderPort
) -> None:
    sid = await weekly(services)
    await services.sessions.attendance.rsvp(sid, "2026-12-01", ALICE, Rsvp.GOING, guild_id=GUILD)
    outcome = await services.sessions.changes.reschedule(
        guild_id=GUILD,
        actor_id=FAC,
        ref=str(sid),
        date_text="2026-12-01",
        new_date_text="2026-12-02",
        new_time_text="19:30",
    )
    assert outcome.new_start == at("2026-12-03T00:30:00")
    assert port.dms and "now takes place" in port.dms[-1][1].body
    await run(services, clock, at("2026-12-03T00:29:00"))
    assert {(c.occurrence_key, c.start) for c in port.to_channel()} == {
        ("2026-12-01", at("2026-12-03T00:30:00"))
    }
    assert len(port.to_channel()) == 2
    # The moved one can be addressed by its new date too.
    sheet_date = "2026-12-02"
    clock.set(at("2026-12-03T01:00:00"))
    sheet = await services.sessions.attendance.attendance_sheet(GUILD, str(sid), sheet_date)
    assert sheet.occurrence.key == "2026-12-01"


async def test_reschedule_after_planning_replans(
    services: Services, group: int, clock: FakeClock, port: ReminderPort
) -> None:
    sid = await weekly(services)
    clock.set(at("2026-11-30T22:55:00"))
    await services.planner.plan()
    await services.sessions.changes.reschedule(
        guild_id=GUILD,
        actor_id=FAC,
        ref=str(sid),
        date_text="2026-12-01",
        new_date_text="2026-12-01",
        new_time_text="20:00",
    )
    await run(services, clock, at("2026-12-02T02:00:00"))
    assert sorted(c.start for c in port.to_channel()) == [at("2026-12-02T01:00:00")] * 2


async def test_rsvp_rules(services: Services, group: int, clock: FakeClock) -> None:
    sid = await weekly(services)
    outcome = await services.sessions.attendance.rsvp(
        sid, "2026-12-01", ALICE, Rsvp.GOING, guild_id=GUILD
    )
    assert (outcome.counts.going, outcome.counts.maybe) == (1, 0)
    outcome = await services.sessions.attendance.rsvp(
        sid, "2026-12-01", ALICE, Rsvp.MAYBE, guild_id=GUILD
    )
    assert (outcome.counts.going, outcome.counts.maybe) == (0, 1)
    with pytest.raises(NotAllowed, match="Only the group's members"):
        await services.sessions.attendance.rsvp(
            sid, "2026-12-01", CAROL, Rsvp.GOING, guild_id=GUILD
        )
    with pytest.raises(NotFound):
        await services.sessions.attendance.rsvp(
            sid, "2026-12-02", ALICE, Rsvp.GOING, guild_id=GUILD
        )
    clock.set(at("2026-12-02T01:00:00"))
    with pytest.raises(Conflict, match="over"):
        await services.sessions.attendance.rsvp(sid, "2026-12-01", ALICE, Rsvp.NO, guild_id=GUILD)


async def test_dm_reminders_custom_offsets_and_closed_dms(
    services: Services, group: int, clock: FakeClock, port: ReminderPort
) -> None:
    await weekly(services)
    await services.sessions.set_my_reminders(GUILD, ALICE, True, "2h")
    await services.sessions.set_my_reminders(GUILD, BOB, True, None)
    port.refuse_dm.add(BOB)
    await run(services, clock, at("2026-12-01T23:00:00"))
    assert [c.start - timedelta(minutes=120) for c in port.to_user(ALICE)] == [
        at("2026-12-01T21:00:00")
    ]
    assert port.to_user(BOB) == []
    states = await services.db.fetchall(
        "SELECT target, state FROM reminder_ledger WHERE target LIKE 'dm:%' ORDER BY id"
    )
    assert {(r["target"], r["state"]) for r in states} == {
        (f"dm:{ALICE}", "sent"),
        (f"dm:{BOB}", "undeliverable"),
    }
    # Bob is told privately once, the next time he uses the bot.
    assert await services.sessions.take_dm_failure_notice(BOB) is True
    assert await services.sessions.take_dm_failure_notice(BOB) is False
    assert await services.sessions.take_dm_failure_notice(ALICE) is False
    # Nothing private went to the channel instead.
    assert len(port.to_channel()) == 2


async def test_leaving_stops_dm_reminders(
    services: Services, group: int, clock: FakeClock, port: ReminderPort
) -> None:
    await weekly(services)
    await services.sessions.set_my_reminders(GUILD, ALICE, True, None)
    clock.set(at("2026-11-30T22:55:00"))
    await services.planner.plan()
    await services.groups.leave(GUILD, ALICE, "Parents Circle")
    await run(services, clock, at("2026-12-01T23:00:00"))
    assert port.to_user(ALICE) == []


async def test_group_offsets_change(
    services: Services, group: int, clock: FakeClock, port: ReminderPort
) -> None:
    await weekly(services)
    clock.set(at("2026-11-30T22:55:00"))
    await services.planner.plan()
    await services.groups.edit(guild_id=GUILD, name="Parents Circle", reminder_offsets=(120,))
    await run(services, clock, at("2026-12-01T23:00:00"))
    assert [c.start for c in port.to_channel()] == [at("2026-12-01T23:00:00")]
    rows = await services.db.fetchall(
        "SELECT offset_minutes, state FROM reminder_ledger ORDER BY id"
    )
    assert [(r["offset_minutes"], r["state"]) for r in rows] == [(1440, "cancelled"), (120, "sent")]


async def test_retry_then_give_up_is_recorded(
    services: Services, group: int, clock: FakeClock, port: ReminderPort
) -> None:
    await weekly(services, date="2026-11-28", time="12:00", repeat=Repeat.ONCE)
    port.fail_sends = 1
    await run(services, clock, at("2026-11-28T16:10:00"))  # 24h before is 17:00 UTC the day before
    assert len(port.to_channel()) == 2
    row = (await services.db.fetchall("SELECT attempts, state FROM reminder_ledger ORDER BY id"))[0]
    assert (row["attempts"], row["state"]) == (2, "sent")


async def test_crash_between_send_and_commit_recovers_without_duplicate(
    services: Services,
    group: int,
    clock: FakeClock,
    port: ReminderPort,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await weekly(services)
    clock.set(at("2026-11-30T23:00:00"))
    await services.planner.plan()

    async def crash(*args: object, **kwargs: object) -> None:
        # The process dies (or the disk fails) after Discord took the message, before commit.
        raise RuntimeError("killed before commit")

    monkeypatch.setattr(services.reminders, "mark_sent", crash)
    with pytest.raises(RuntimeError, match="killed before commit"):
        await services.dispatcher.dispatch()
    assert len(port.sent) == 1
    row = (await db.fetchall("SELECT state FROM reminder_ledger"))[0]
    assert row["state"] == "sending"
    # Restart long after Discord forgot the nonce: the bot looks for its message first.
    port.nonces.clear()
    clock.advance(seconds=NONCE_MEMORY.total_seconds() + 60)
    fresh = build_services(db, port, clock, "America/New_York")
    report = await fresh.dispatcher.dispatch()
    assert report.recovered == 1
    assert len(port.sent) == 1
    assert (await db.fetchall("SELECT state, message_id FROM reminder_ledger"))[0][
        "state"
    ] == "sent"


async def test_crash_then_quick_restart_relies_on_nonce(
    services: Services,
    group: int,
    clock: FakeClock,
    port: ReminderPort,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await weekly(services)
    clock.set(at("2026-11-30T23:00:00"))
    await services.planner.plan()

    async def crash(*args: object, **kwargs: object) -> None:
        # The process dies (or the disk fails) after Discord took the message, before commit.
        raise RuntimeError("killed before commit")

    monkeypatch.setattr(services.reminders, "mark_sent", crash)
    with pytest.raises(RuntimeError, match="killed before commit"):
        await services.dispatcher.dispatch()
    clock.advance(seconds=20)
    fresh = build_services(db, port, clock, "America/New_York")
    await fresh.dispatcher.dispatch()
    assert len(port.sent) == 1  # the resend carried the same nonce


async def test_attendance(services: Services, group: int, clock: FakeClock) -> None:
    sid = await weekly(services)
    with pytest.raises(Conflict, match="once the session has started"):
        await services.sessions.attendance.attendance_sheet(GUILD, str(sid), "2026-12-01")
    clock.set(at("2026-12-01T23:30:00"))
    sheet = await services.sessions.attendance.attendance_sheet(GUILD, "Weekly", "2026-12-01")
    assert sorted(sheet.member_ids) == [ALICE, BOB]
    marked, ignored = await services.sessions.attendance.mark_attendance(
        sid, "2026-12-01", [ALICE, CAROL], FAC, guild_id=GUILD
    )
    assert (marked, ignored) == (1, 1)
    roster = await services.groups.roster(GUILD, "Parents Circle")
    by_user = {e.user_id: (e.attended, e.sessions) for e in roster.members}
    assert by_user == {ALICE: (1, 1), BOB: (0, 1)}


async def test_list_for_members_only(services: Services, group: int) -> None:
    await weekly(services)
    items = await services.sessions.list_for(GUILD, ALICE, False, "Parents Circle")
    assert [i.occurrence.key for i in items][:2] == ["2026-12-01", "2026-12-08"]
    with pytest.raises(NotAllowed):
        await services.sessions.list_for(GUILD, CAROL, False, "Parents Circle")
    assert await services.sessions.list_for(GUILD, CAROL, False, None) == []
    assert len(await services.sessions.list_for(GUILD, FAC, True, None)) > 0
    mine = await services.sessions.my_schedule(GUILD, ALICE)
    assert [i.occurrence.key for i in mine] == ["2026-12-01", "2026-12-08"]


async def test_calendar_has_rule_and_exdate(services: Services, group: int) -> None:
    sid = await weekly(services)
    await services.sessions.changes.cancel(
        guild_id=GUILD, actor_id=FAC, ref=str(sid), date_text="2026-12-08"
    )
    data, count = await services.sessions.calendar_for(GUILD, ALICE)
    text = data.decode()
    assert count == 1
    assert "RRULE:FREQ=WEEKLY" in text and "EXDATE;TZID=America/New_York:20261208T180000" in text
    _, none = await services.sessions.calendar_for(GUILD, CAROL)
    assert none == 0


def test_parse_offsets() -> None:
    assert parse_offsets("24h, 1h") == (1440, 60)
    assert parse_offsets("2d 30m") == (2880, 30)
    assert parse_offsets("90") == (90,)
    for bad in ("soon", "1m", "30d", "1h,2h,3h,4h,5h", ""):
        with pytest.raises(UserFacingError):
            parse_offsets(bad)


async def test_repeated_autumn_hour_is_reminded_once(
    services: Services, group: int, clock: FakeClock, port: ReminderPort
) -> None:
    clock.set(at("2027-10-25T12:00:00"))
    await weekly(services, date="2027-10-31", time="01:30")  # New York falls back on 2027-11-07
    await run(services, clock, at("2027-11-08T12:00:00"))
    nov7 = [c for c in port.to_channel() if c.occurrence_key == "2027-11-07"]
    assert [c.start for c in nov7] == [at("2027-11-07T05:30:00")] * 2  # the first 01:30 (EDT), once
    assert len(port.to_channel()) == 4


async def test_skipped_spring_hour_moves_to_next_valid_time(
    services: Services, group: int, clock: FakeClock, port: ReminderPort
) -> None:
    clock.set(at("2027-03-01T12:00:00"))
    await weekly(services, date="2027-03-07", time="02:30")  # 2027-03-14 02:30 does not exist
    await run(services, clock, at("2027-03-15T00:00:00"))
    mar14 = [c.start for c in port.to_channel() if c.occurrence_key == "2027-03-14"]
    assert mar14 == [at("2027-03-14T07:30:00")] * 2  # 03:30 EDT


async def test_opting_in_late_sends_no_late_reminder_for_a_time_already_passed(
    services: Services, group: int, clock: FakeClock, port: ReminderPort
) -> None:
    await weekly(services)  # 2026-12-01 23:00 UTC
    await run(services, clock, at("2026-12-01T10:00:00"))
    # Alice asks for 20h and 1h before; the 20h time (03:00 UTC) has already passed.
    await services.sessions.set_my_reminders(GUILD, ALICE, True, "20h, 1h")
    await run(services, clock, at("2026-12-01T22:59:00"))
    assert [(c.start, c.late) for c in port.to_user(ALICE)] == [(at("2026-12-01T23:00:00"), False)]
