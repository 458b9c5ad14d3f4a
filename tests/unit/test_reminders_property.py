"""Property: over any sequence of schedule, cancel, reschedule, restart and clock-advance
steps, every due reminder is sent exactly once and a cancelled one never.

A hypothesis state machine drives the real services over a real SQLite file, a FakeClock and
a RecordingPort that emulates Discord: a send carrying a nonce Discord still remembers
(`fakes.NONCE_WINDOW`) returns the first message and posts nothing new, and `find_reminders`
looks through what reached Discord, like the channel history the bot searches.

The machine keeps its own model of what is wanted (series, cancelled and moved occurrences,
offsets, who takes DM reminders), computed with `familybot.services.sessions.recurrence` only, and
checks every message that reaches "Discord" against it:

1. no (series, occurrence key, start, offset, target) reaches Discord more than once;
2. nothing reaches Discord that is not wanted at that moment (cancelled occurrence or series,
   an occurrence's old time after a move, a DM nobody asked for), early, or after the start;
3. after every planner + dispatcher pass at time T, each reminder that fell due while the
   clock passed over it, and stayed wanted, has reached Discord if its session starts after
   T. (If the clock jumped past the start first, it is skipped and must not be sent.)
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from familybot.db.connection import Database
from familybot.db.migrate import migrate
from familybot.errors import UserFacingError
from familybot.models import JoinMode, from_unix
from familybot.models.sessions import Occurrence
from familybot.services.reminders import service as reminders_module
from familybot.services.sessions.recurrence import (
    Repeat,
    SeriesRule,
    from_utc,
    occurrence_for_key,
    occurrences,
    reminder_instants,
    to_utc,
)
from familybot.wiring import Services, build_services
from tests.support.fakes import FakeClock, ProcessKilled, RecordingPort, where

GUILD = 1
FAC = 10
USERS = (101, 102, 103, 104, 105)
ZONES = ("America/New_York", "Europe/London")
# Starting instants a few weeks before spring-forward and fall-back in both zones
# (US: 2026-03-08 / 2026-11-01, UK: 2026-03-29 / 2026-10-25), so first dates 2-40 days
# ahead land on both sides of, and on, the transitions.
STARTS = (
    datetime(2026, 2, 20, 15, 0, tzinfo=UTC),
    datetime(2026, 10, 1, 9, 30, tzinfo=UTC),
)
# Wall times around the 01:00-03:00 DST edges, and ordinary ones.
TIMES = ("00:30", "01:00", "01:30", "02:00", "02:30", "03:00", "09:15", "18:00", "23:45")
GROUP_OFFSETS = ((1440, 60), (2880, 30), (180,))
DM_OFFSETS = (5, 30, 60, 90, 1440, 2880, 10080)
SEND_OUTCOMES = ("ok", "fail", "refuse", "raise", "lost_raise", "lost_fail")
MAX_ATTEMPTS = reminders_module.MAX_ATTEMPTS
STEP_TIMEOUT = 20  # seconds of real time for one step's coroutine

# (series id, occurrence key, occurrence start, offset minutes, target)
Key = tuple[int, str, datetime, int, str]


@dataclass
class MGroup:
    id: int
    name: str
    channel_id: int
    offsets: tuple[int, ...]
    members: tuple[int, ...]


@dataclass
class MSeries:
    id: int
    group: MGroup
    rule: SeriesRule
    active: bool = True
    # key -> None (cancelled) or the new UTC start (moved)
    overrides: dict[str, datetime | None] = field(default_factory=dict)


@dataclass
class Obligation:
    """A reminder the clock passed over while it was wanted."""

    due: datetime
    start: datetime
    excused: bool = False  # stopped being wanted at some point before it was delivered
    faults: int = 0  # injected failures / kills on its sends


minutes = st.one_of(
    st.integers(1, 59),  # minutes
    st.integers(1, 47).map(lambda h: h * 60),  # hours
    st.integers(2, 6).map(lambda d: d * 1440),  # days
)
seconds = st.sampled_from((0, 0, 0, 30, 59))
# Where a clock step lands: None for a plain jump by `minutes`, else minutes after the next
# reminder the model expects (negative: just before it), to hit due instants often.
aims = st.none() | st.sampled_from((0, 0, 1, 2, 3, 10, -1, 90))


class ReminderMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp(prefix="familybot-prop-"))
        self.ready = False
        self.db: Database | None = None
        self.groups: list[MGroup] = []
        self.series: dict[int, MSeries] = {}
        self.prefs: dict[int, tuple[bool, tuple[int, ...] | None]] = {}
        self.obligations: dict[Key, Obligation] = {}
        self.delivered: Counter[Key] = Counter()
        self.problems: list[str] = []
        self.seen_messages = 0
        self.seen_attempts = 0
        self.key_of_ledger: dict[int, Key] = {}
        self.faulted_now: set[Key] = set()

    # --- plumbing ----------------------------------------------------------------------------
    def run(self, coro):  # type: ignore[no-untyped-def]
        # A step that hangs (a lost future, a held lock) fails instead of stalling the run.
        return self.loop.run_until_complete(asyncio.wait_for(coro, STEP_TIMEOUT))

    @property
    def now(self) -> datetime:
        return self.clock.now()

    async def _open(self) -> None:
        self.db = await Database.open(self.tmp / "familybot.db")
        await migrate(self.db)
        self.services: Services = build_services(self.db, self.port, self.clock, ZONES[0])

    def restart(self) -> None:
        """A new process: new connection, new services, nothing carried over in memory."""
        assert self.db is not None
        self.run(self.db.close())
        self.run(self._open())

    @initialize(
        start=st.sampled_from(STARTS),
        n_groups=st.integers(2, 3),
        members=st.lists(
            st.lists(st.sampled_from(USERS), min_size=1, max_size=3, unique=True),
            min_size=3,
            max_size=3,
        ),
    )
    def setup(self, start: datetime, n_groups: int, members: list[list[int]]) -> None:
        self.clock = FakeClock(start)
        self.port = RecordingPort(clock=self.clock)
        self.run(self._open())
        for i in range(n_groups):
            name = f"Circle {i}"
            group = self.run(
                self.services.groups.create(
                    guild_id=GUILD,
                    actor_id=FAC,
                    name=name,
                    description="A weekly circle",
                    focus="parents",
                    capacity=None,
                    join_mode=JoinMode.OPEN,
                )
            )
            self.run(
                self.services.groups.edit(
                    guild_id=GUILD, name=name, reminder_offsets=GROUP_OFFSETS[i]
                )
            )
            for user in members[i]:
                g = self.run(self.services.groups.prepare_join(GUILD, user, name))
                self.run(
                    self.services.groups.consent_and_join(
                        g.id, user, g.guidelines_version, guild_id=GUILD
                    )
                )
            assert group.channel_id is not None
            self.groups.append(
                MGroup(
                    group.id, name, group.channel_id, GROUP_OFFSETS[i], tuple(sorted(members[i]))
                )
            )
        self.ready = True

    def teardown(self) -> None:
        try:
            if self.ready and not self.problems:
                # The last word: a fresh process catches up on everything due by now.
                self.restart()
                self.full_cycle()
                assert not self.problems, "\n".join(self.problems)
                self.check_counts()
        finally:
            if self.db is not None:
                self.run(self.db.close())
            self.loop.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- the model ---------------------------------------------------------------------------
    def pairs(self, group: MGroup) -> set[tuple[str, int]]:
        """(target, offset) wanted for a group's sessions: its channel and opted-in DMs."""
        out = {("channel", off) for off in group.offsets}
        for user in group.members:
            on, personal = self.prefs.get(user, (False, None))
            if on:
                out |= {(f"dm:{user}", off) for off in (personal or group.offsets)}
        return out

    def model_occurrences(
        self, s: MSeries, lo: datetime, hi: datetime
    ) -> list[tuple[str, datetime]]:
        """(key, start) of the series' effective occurrences starting in [lo, hi)."""
        found = [
            (o.key, o.start_utc) for o in occurrences(s.rule, lo, hi) if o.key not in s.overrides
        ]
        found += [(k, new) for k, new in s.overrides.items() if new is not None and lo <= new < hi]
        return sorted(found, key=lambda pair: pair[1])

    def wanted(self, key: Key) -> bool:
        sid, occ_key, start, offset, target = key
        s = self.series.get(sid)
        if s is None or not s.active:
            return False
        if occ_key in s.overrides:
            if s.overrides[occ_key] != start:  # cancelled (None) or moved elsewhere
                return False
        else:
            occ = occurrence_for_key(s.rule, occ_key)
            if occ is None or occ.start_utc != start:
                return False
        return (target, offset) in self.pairs(s.group)

    def excuse_unwanted(self) -> None:
        for key, ob in self.obligations.items():
            if not ob.excused and not self.delivered[key] and not self.wanted(key):
                ob.excused = True

    def advance_to(self, t1: datetime) -> None:
        """Move the clock; every wanted reminder due in (now, t1] becomes an obligation."""
        t0 = self.now
        for s in self.series.values():
            if not s.active:
                continue
            pairs = self.pairs(s.group)
            offs = [off for _, off in pairs]
            if not offs:
                continue
            lo = t0 + timedelta(minutes=min(offs))
            hi = t1 + timedelta(minutes=max(offs), seconds=1)
            for occ_key, start in self.model_occurrences(s, lo, hi):
                for target, off in pairs:
                    # recurrence.reminder_instants: real minutes before the UTC start.
                    ((_, due),) = reminder_instants(Occurrence(occ_key, start, start), [off])
                    if t0 < due <= t1:
                        key = (s.id, occ_key, start, off, target)
                        self.obligations.setdefault(key, Obligation(due, start))
        self.clock.set(t1)

    def next_due(self) -> datetime | None:
        """The earliest wanted reminder instant after now, by the model."""
        best: datetime | None = None
        for s in self.series.values():
            if not s.active:
                continue
            for occ_key, start in self.model_occurrences(
                s, self.now, self.now + timedelta(days=50)
            ):
                for _, off in self.pairs(s.group):
                    ((_, due),) = reminder_instants(Occurrence(occ_key, start, start), [off])
                    if due > self.now and (best is None or due < best):
                        best = due
        return best

    def step_clock(self, by: int, secs: int, aim: int | None) -> None:
        target = self.now + timedelta(minutes=by, seconds=secs)
        due = self.next_due() if aim is not None else None
        if aim is not None and due is not None:
            target = max(
                due + timedelta(minutes=aim, seconds=secs), self.now + timedelta(seconds=1)
            )
        self.advance_to(target)

    def absorb(self) -> None:
        """Check every message that reached Discord since the last look, at its send time."""
        for outcome, card in self.port.reminder_attempts[self.seen_attempts :]:
            if outcome != "ok":
                key = self.run(self.key_for(card.ledger_id))
                self.faulted_now.add(key)
                if key in self.obligations:
                    self.obligations[key].faults += 1 if outcome != "refuse" else MAX_ATTEMPTS
        self.seen_attempts = len(self.port.reminder_attempts)
        for message in self.port.reminders[self.seen_messages :]:
            key = self.run(self.key_for(message.card.ledger_id))
            sid, _, start, offset, target = key
            s = self.series[sid]
            expected = f"channel:{s.group.channel_id}" if target == "channel" else target
            if where(message.target) != expected or message.card.start != start:
                self.problems.append(f"message {message} does not match ledger row {key}")
            due = start - timedelta(minutes=offset)
            if not self.wanted(key):
                self.problems.append(
                    f"sent at {message.at} although not wanted (cancelled, moved or "
                    f"unsubscribed): {fmt(key)}"
                )
            if not due <= message.at < start:
                self.problems.append(
                    f"sent at {message.at}, outside [due {due}, start {start}): {fmt(key)}"
                )
            self.delivered[key] += 1
        self.seen_messages = len(self.port.reminders)

    async def key_for(self, ledger_id: int) -> Key:
        if ledger_id not in self.key_of_ledger:
            assert self.db is not None
            row = await self.db.fetchone(
                "SELECT series_id, occurrence_key, occurrence_start, offset_minutes, target "
                "FROM reminder_ledger WHERE id = ?",
                (ledger_id,),
            )
            assert row is not None, f"a message for a ledger row that does not exist: {ledger_id}"
            self.key_of_ledger[ledger_id] = (
                row["series_id"],
                row["occurrence_key"],
                from_unix(row["occurrence_start"]),
                row["offset_minutes"],
                row["target"],
            )
        return self.key_of_ledger[ledger_id]

    def must_have_delivered(self) -> None:
        """After a full planner + dispatcher pass: everything due, wanted and not started."""
        now = self.now
        for key, ob in self.obligations.items():
            if (
                ob.start > now
                and not ob.excused
                and not self.delivered[key]
                and key not in self.faulted_now
                and ob.faults < MAX_ATTEMPTS - 1
            ):
                self.problems.append(
                    f"due at {ob.due}, still not sent at {now} (starts {ob.start}): {fmt(key)}"
                )

    def full_cycle(self, *, plan: bool = True, twice: bool = False) -> None:
        self.faulted_now = set()
        if plan:
            self.run(self.services.planner.plan())
        self.run(self.services.dispatcher.dispatch())
        self.absorb()
        if twice:  # the same job firing again: finds everything sent, sends nothing
            self.port.reminder_script.clear()
            calls = len(self.port.calls)
            faulted = bool(self.faulted_now)
            self.run(self.services.dispatcher.dispatch())
            self.absorb()
            new_sends = [c for c in self.port.calls[calls:] if c[0] == "send_reminder"]
            if new_sends and not faulted:
                self.problems.append(f"a second dispatch at {self.now} sent again: {new_sends}")
        self.port.reminder_script.clear()
        if plan:
            self.must_have_delivered()

    def check_counts(self) -> None:
        twice = {fmt(k): n for k, n in self.delivered.items() if n > 1}
        assert not twice, f"delivered more than once: {twice}"

    # --- rules -------------------------------------------------------------------------------
    @rule(
        g=st.integers(0, 2),
        repeat=st.sampled_from(list(Repeat)),
        tz=st.sampled_from(ZONES),
        at=st.sampled_from(TIMES),
        days=st.integers(2, 40),
        duration=st.sampled_from((45, 60, 90)),
    )
    def schedule(self, g: int, repeat: Repeat, tz: str, at: str, days: int, duration: int) -> None:
        group = self.groups[g % len(self.groups)]
        day = from_utc(self.now, tz).date() + timedelta(days=days)
        outcome = self.run(
            self.services.sessions.schedule(
                guild_id=GUILD,
                actor_id=FAC,
                group_name=group.name,
                title=f"Session {len(self.series) + 1}",
                date_text=day.isoformat(),
                time_text=at,
                repeat=repeat,
                duration_minutes=duration,
                tz=tz,
            )
        )
        rule_ = SeriesRule(tz, datetime.combine(day, time.fromisoformat(at)), repeat, duration)
        self.series[outcome.series.id] = MSeries(outcome.series.id, group, rule_)

    def upcoming(self, s: MSeries) -> list[tuple[str, datetime]]:
        return [
            (k, start)
            for k, start in self.model_occurrences(s, self.now, self.now + timedelta(days=60))
            if start > self.now
        ]

    @precondition(lambda self: self.ready and any(s.active for s in self.series.values()))
    @rule(data=st.data(), whole=st.booleans())
    def cancel(self, data: st.DataObject, whole: bool) -> None:
        active = [s for s in self.series.values() if s.active]
        s = data.draw(st.sampled_from(active), label="series")
        upcoming = self.upcoming(s)
        listed = self.run(self.services.sessions.occurrence_dates(GUILD, str(s.id)))
        if not upcoming:
            return
        if whole:
            self.run(
                self.services.sessions.changes.cancel(guild_id=GUILD, actor_id=FAC, ref=str(s.id))
            )
            s.active = False
        else:
            key, _ = data.draw(st.sampled_from(upcoming[:5]), label="occurrence")
            assert key in listed, f"{key} missing from occurrence_dates {listed}"
            self.run(
                self.services.sessions.changes.cancel(
                    guild_id=GUILD, actor_id=FAC, ref=str(s.id), date_text=key
                )
            )
            s.overrides[key] = None
        self.excuse_unwanted()

    @precondition(lambda self: self.ready and any(s.active for s in self.series.values()))
    @rule(data=st.data(), days=st.integers(0, 20), at=st.sampled_from(TIMES))
    def reschedule(self, data: st.DataObject, days: int, at: str) -> None:
        active = [s for s in self.series.values() if s.active]
        s = data.draw(st.sampled_from(active), label="series")
        upcoming = self.upcoming(s)
        if not upcoming:
            return
        key, start = data.draw(st.sampled_from(upcoming[:5]), label="occurrence")
        new_day: date = from_utc(self.now, s.rule.tz).date() + timedelta(days=days)
        new_start = to_utc(datetime.combine(new_day, time.fromisoformat(at)), s.rule.tz)
        call = self.services.sessions.changes.reschedule(
            guild_id=GUILD,
            actor_id=FAC,
            ref=str(s.id),
            date_text=key,
            new_date_text=new_day.isoformat(),
            new_time_text=at,
        )
        if new_start <= self.now or new_start == start:
            with pytest.raises(UserFacingError):
                self.run(call)
            return
        self.run(call)
        s.overrides[key] = new_start
        self.excuse_unwanted()

    @precondition(lambda self: self.ready)
    @rule(
        user=st.sampled_from(USERS),
        on=st.booleans(),
        offsets=st.none() | st.lists(st.sampled_from(DM_OFFSETS), min_size=1, max_size=3),
    )
    def toggle_dm(self, user: int, on: bool, offsets: list[int] | None) -> None:
        text = ", ".join(spoken(m) for m in offsets) if offsets else None
        self.run(self.services.sessions.set_my_reminders(GUILD, user, on, text))
        self.prefs[user] = (on, tuple(sorted(set(offsets), reverse=True)) if offsets else None)
        self.excuse_unwanted()

    @precondition(lambda self: self.ready)
    @rule(
        by=minutes,
        secs=seconds,
        aim=aims,
        skip_planner=st.booleans() | st.just(False),
        twice=st.booleans(),
        faults=st.lists(st.sampled_from(SEND_OUTCOMES), max_size=3) | st.just([]),
    )
    def advance(
        self,
        by: int,
        secs: int,
        aim: int | None,
        skip_planner: bool,
        twice: bool,
        faults: list[str],
    ) -> None:
        self.step_clock(by, secs, aim)
        self.port.reminder_script[:] = faults
        self.full_cycle(plan=not skip_planner, twice=twice)

    @precondition(lambda self: self.ready)
    @rule(startup=st.booleans())
    def restart_process(self, startup: bool) -> None:
        self.restart()
        if startup:  # ReminderScheduler.start: plan now, overdue jobs fire at once
            self.full_cycle()

    @precondition(lambda self: self.ready)
    @rule(by=minutes, secs=seconds, aim=aims, where_=st.sampled_from(("send", "commit")))
    def crash_between_send_and_commit(
        self, by: int, secs: int, aim: int | None, where_: str
    ) -> None:
        """Advance, plan, dispatch; the first send reaches Discord, then the process dies."""
        self.step_clock(by, secs, aim)
        self.faulted_now = set()
        self.run(self.services.planner.plan())
        repo = self.services.dispatcher._reminders
        if where_ == "send":
            self.port.reminder_script[:] = ["kill"]
        else:

            async def die(*_args: object, **_kwargs: object) -> None:
                raise ProcessKilled("killed before committing the sent rows (test)")

            repo.mark_sent = die  # type: ignore[method-assign]
        with contextlib.suppress(ProcessKilled):
            self.run(self.services.dispatcher.dispatch())
        self.port.reminder_script.clear()
        self.absorb()
        self.restart()  # nothing is dispatched until the next step

    @invariant()
    def sent_at_most_once_and_only_when_wanted(self) -> None:
        if not self.ready:
            return
        assert not self.problems, "\n".join(self.problems)
        self.check_counts()


def spoken(m: int) -> str:
    """Minutes as a person types them in /my reminders: 7d, 1h, 30m."""
    if m % 1440 == 0:
        return f"{m // 1440}d"
    return f"{m // 60}h" if m % 60 == 0 else f"{m}m"


def fmt(key: Key) -> str:
    sid, occ_key, start, offset, target = key
    return f"series={sid} occurrence={occ_key} start={start:%Y-%m-%d %H:%M}Z offset={offset}m target={target}"


ReminderMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    report_multiple_bugs=False,
)
TestReminderProperty = ReminderMachine.TestCase


# --- deterministic regressions for what the machine found ----------------------------------

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # FakeClock's default start


async def _weekly_session(
    services: Services, clock: FakeClock, repeat: Repeat
) -> tuple[int, datetime]:
    await services.groups.create(
        guild_id=GUILD,
        actor_id=FAC,
        name="Circle",
        description="A weekly circle",
        focus="parents",
        capacity=None,
        join_mode=JoinMode.OPEN,
    )  # reminder offsets: 24h and 1h before, in the group's channel
    outcome = await services.sessions.schedule(
        guild_id=GUILD,
        actor_id=FAC,
        group_name="Circle",
        title="Evening circle",
        date_text="2026-11-29",
        time_text="18:00",
        repeat=repeat,
        duration_minutes=60,
        tz="America/New_York",
    )
    return outcome.series.id, outcome.first.start_utc  # 2026-11-29 23:00 UTC


def _restart(services: Services, port: RecordingPort, clock: FakeClock) -> Services:
    """New Planner/Dispatcher/repositories on the same database: what a restart keeps."""
    return build_services(services.db, port, clock, ZONES[0])


async def test_second_interruption_does_not_send_the_reminder_twice(
    services: Services, port: RecordingPort, clock: FakeClock
) -> None:
    port.clock = clock
    _, start = await _weekly_session(services, clock, Repeat.WEEKLY)
    clock.set(start - timedelta(hours=24))
    await services.planner.plan()
    port.reminder_script[:] = ["kill"]  # reaches Discord, then the process dies
    with pytest.raises(ProcessKilled):
        await services.dispatcher.dispatch()
    assert len(port.reminders) == 1

    # Restart 10 minutes later: the dispatcher finds the message (beyond the nonce
    # memory) but the process dies again before it commits.
    clock.advance(minutes=10)
    services = _restart(services, port, clock)

    async def die(*_args: object, **_kwargs: object) -> None:
        raise ProcessKilled("killed before committing (test)")

    services.dispatcher._reminders.mark_sent = die  # type: ignore[method-assign]
    with pytest.raises(ProcessKilled):
        await services.dispatcher.dispatch()

    clock.advance(minutes=1)
    services = _restart(services, port, clock)
    await services.dispatcher.dispatch()
    assert len(port.reminders) == 1, [(m.message_id, m.at) for m in port.reminders]


async def test_ambiguous_send_failure_is_not_resent_after_the_nonce_is_forgotten(
    services: Services, port: RecordingPort, clock: FakeClock
) -> None:
    port.clock = clock
    _, start = await _weekly_session(services, clock, Repeat.WEEKLY)
    clock.set(start - timedelta(hours=24))
    await services.planner.plan()
    port.reminder_script[:] = ["lost_raise"]  # stored by Discord, response lost
    await services.dispatcher.dispatch()
    assert len(port.reminders) == 1
    # The next planner tick (PLAN_INTERVAL) schedules the overdue row again.
    clock.advance(minutes=10)
    await services.planner.plan()
    await services.dispatcher.dispatch()
    assert len(port.reminders) == 1, [(m.message_id, m.at) for m in port.reminders]


async def test_one_off_session_can_be_cancelled_after_its_last_reminder_is_planned(
    services: Services, port: RecordingPort, clock: FakeClock
) -> None:
    port.clock = clock
    series_id, start = await _weekly_session(services, clock, Repeat.ONCE)
    clock.set(start - timedelta(minutes=80))  # the 1h reminder is due within the horizon
    await services.planner.plan()
    assert await services.sessions.occurrence_dates(GUILD, str(series_id)) == ["2026-11-29"]
    await services.sessions.changes.cancel(guild_id=GUILD, actor_id=FAC, ref=str(series_id))
    clock.set(start - timedelta(minutes=60))
    await services.dispatcher.dispatch()
    assert [m.card.start for m in port.reminders] == []  # nothing after the cancellation


async def test_crash_between_send_and_commit_is_recovered_within_and_beyond_nonce_memory(
    services: Services, port: RecordingPort, clock: FakeClock
) -> None:
    """The designed path works: one interruption, resent within or looked up beyond it."""
    port.clock = clock
    _, start = await _weekly_session(services, clock, Repeat.WEEKLY)
    for due, later in ((start - timedelta(hours=24), 1), (start - timedelta(hours=1), 30)):
        clock.set(due)
        await services.planner.plan()
        port.reminder_script[:] = ["kill"]
        with pytest.raises(ProcessKilled):
            await services.dispatcher.dispatch()
        clock.advance(minutes=later)
        services = _restart(services, port, clock)
        await services.planner.plan()
        report = await services.dispatcher.dispatch()
        assert report.sent == 1
    assert len(port.reminders) == 2
    assert [c[0] for c in port.calls].count("find_reminders") == 1  # only beyond the memory
