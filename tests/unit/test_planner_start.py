"""Start-up and the first planning pass cost what the near-term window holds (issue 15).

Real database, real Planner and ReminderScheduler on an APScheduler that is not started (its
jobs can be inspected). Many series, few of them falling due within the horizon: the pass
reads and expands only those, through the (status, next_due) index; the scheduler's start
gives the ledger's rows their jobs at once and leaves the planning to the background."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from familybot.db.connection import Database
from familybot.models import JoinMode, from_unix, to_unix
from familybot.scheduler import reminders as timers_module
from familybot.scheduler.reminders import (
    DISPATCH_RETRY,
    FIRST_PASS_RETRY_JOB,
    ReminderScheduler,
    due_job_id,
)
from familybot.services.reminders import planner as planner_module
from familybot.services.reminders import rules
from familybot.services.sessions.recurrence import Repeat
from familybot.wiring import Services
from tests.support.fakes import FakeClock

GUILD, FAC = 1, 10
SERIES = 30


async def many_series(services: Services, db: Database, clock: FakeClock) -> None:
    """SERIES weekly series, one a day apart, all planned up to now."""
    await services.groups.create(
        guild_id=GUILD,
        actor_id=FAC,
        name="Parents Circle",
        description="A weekly circle",
        focus="parents",
        capacity=None,
        join_mode=JoinMode.OPEN,
    )
    for i in range(SERIES):
        await services.sessions.schedule(
            guild_id=GUILD,
            actor_id=FAC,
            group_name="Parents Circle",
            title=f"Session {i}",
            date_text=(clock.now() + timedelta(days=2 + i % 7)).date().isoformat(),
            time_text=f"{8 + i // 7:02d}:00",
            repeat=Repeat.WEEKLY,
            duration_minutes=60,
        )
    await services.planner.plan()


async def test_the_first_pass_expands_only_series_due_within_the_horizon(
    services: Services, db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await many_series(services, db, clock)
    first_due = int(await db.fetchval("SELECT min(next_due) FROM session_series"))
    soon = await db.fetchval(
        "SELECT count(*) FROM session_series WHERE next_due <= ?",
        (first_due + int(planner_module.PLAN_HORIZON.total_seconds()),),
    )
    assert 0 < soon < SERIES // 3
    clock.set(from_unix(first_due) - timedelta(minutes=1))
    expanded: list[int] = []
    real = rules.effective_occurrences

    def counting(series, overrides, start, end):  # type: ignore[no-untyped-def]
        expanded.append(series.id)
        return real(series, overrides, start, end)

    monkeypatch.setattr(planner_module, "effective_occurrences", counting)

    await services.planner.plan()

    assert len(expanded) == soon  # not one per series in the database


@pytest.mark.sqlite_only
async def test_the_first_pass_finds_its_series_through_the_index(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await many_series(services, db, clock)
    first_due = int(await db.fetchval("SELECT min(next_due) FROM session_series"))
    clock.set(from_unix(first_due) - timedelta(minutes=1))
    seen: list[str] = []
    await db.connection.set_trace_callback(seen.append)
    try:
        await services.planner.plan()
    finally:
        await db.connection.set_trace_callback(None)
    reads = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert any("FROM session_series" in s for s in reads)
    con = sqlite3.connect(db.path)
    try:
        scans = [
            (str(row[3]), sql[:100])
            for sql in reads
            for row in con.execute("EXPLAIN QUERY PLAN " + sql)
            if str(row[3]).startswith("SCAN")
        ]
    finally:
        con.close()
    assert scans == []


async def test_start_schedules_the_ledger_at_once_and_plans_in_the_background(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await many_series(services, db, clock)
    pending = await db.fetchall(
        "SELECT DISTINCT due_at FROM reminder_ledger WHERE state = 'pending' ORDER BY due_at"
    )
    first_due = int(await db.fetchval("SELECT min(next_due) FROM session_series"))
    # Restarted just before the next series' reminders are planned (as after a short stop).
    clock.set(from_unix(first_due) - timedelta(minutes=20))
    scheduler = AsyncIOScheduler()  # not started: jobs wait in it and can be inspected
    timers = ReminderScheduler(
        scheduler, services.planner, services.dispatcher, services.reminders, clock
    )
    planned_before = await db.fetchval("SELECT count(*) FROM reminder_ledger")

    await timers.start()

    # The ledger's own rows have their jobs when start() returns; the planning has not run.
    for row in pending:
        assert scheduler.get_job(due_job_id(from_unix(int(row["due_at"])))) is not None
    assert timers.first_pass is not None and not timers.first_pass.done()
    assert await db.fetchval("SELECT count(*) FROM reminder_ledger") == planned_before

    await asyncio.wait_for(timers.first_pass, 10)

    added = await db.fetchall(
        "SELECT DISTINCT due_at FROM reminder_ledger WHERE due_at > ? ORDER BY due_at",
        (to_unix(clock.now()),),
    )
    assert added  # the pass planned the next series' reminders, and they have jobs too
    for row in added:
        assert scheduler.get_job(due_job_id(from_unix(int(row["due_at"])))) is not None
    await timers.stop()


async def test_stop_ends_a_first_pass_still_running(
    services: Services, db: Database, clock: FakeClock
) -> None:
    scheduler = AsyncIOScheduler()
    timers = ReminderScheduler(
        scheduler, services.planner, services.dispatcher, services.reminders, clock
    )
    await timers.start()
    await timers.stop()
    assert timers.first_pass is not None and timers.first_pass.done()


async def test_a_failed_first_pass_is_tried_again_soon_not_at_the_next_planner_run(
    services: Services, db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database briefly locked at start: the first pass is retried in DISPATCH_RETRY
    (15 s), not PLAN_INTERVAL (10 min) later, when a reminder due meanwhile would be late."""
    scheduler = AsyncIOScheduler()
    timers = ReminderScheduler(
        scheduler, services.planner, services.dispatcher, services.reminders, clock
    )

    async def locked() -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(services.planner, "plan", locked)
    await timers.start()
    assert timers.first_pass is not None
    await asyncio.wait_for(timers.first_pass, 10)

    retry = scheduler.get_job(FIRST_PASS_RETRY_JOB)
    assert retry is not None
    assert retry.trigger.run_date == clock.now() + DISPATCH_RETRY
    assert retry.func == timers.plan_and_schedule


async def test_with_ready_the_first_pass_waits_for_it(
    services: Services, db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the bot, ready does not wait on the first pass nor share the CPU with it (#15):
    the ledger's rows get their jobs at start, the pass begins once ready is set."""
    await many_series(services, db, clock)
    first_due = int(await db.fetchval("SELECT min(next_due) FROM session_series"))
    clock.set(from_unix(first_due) - timedelta(minutes=20))
    monkeypatch.setattr(timers_module, "FIRST_PASS_WAIT", 0)
    planned: list[bool] = []
    plan = services.planner.plan

    async def recording(now=None):  # type: ignore[no-untyped-def]
        planned.append(True)
        return await plan(now)

    monkeypatch.setattr(services.planner, "plan", recording)
    scheduler = AsyncIOScheduler()
    timers = ReminderScheduler(
        scheduler, services.planner, services.dispatcher, services.reminders, clock
    )
    ready = asyncio.Event()
    await timers.start(ready)
    for _ in range(20):  # the loop runs on: the pass would have begun by now
        await asyncio.sleep(0)
    assert planned == [] and timers.first_pass is not None and not timers.first_pass.done()

    ready.set()
    await asyncio.wait_for(timers.first_pass, 10)

    assert planned == [True]
    added = await db.fetchall(
        "SELECT DISTINCT due_at FROM reminder_ledger WHERE due_at > ?", (to_unix(clock.now()),)
    )
    assert added
    for row in added:
        assert scheduler.get_job(due_job_id(from_unix(int(row["due_at"])))) is not None


async def test_the_first_pass_runs_without_ready_after_a_bound(
    services: Services, db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ready never comes (the Gateway down): the reminders are planned anyway."""
    await many_series(services, db, clock)
    first_due = int(await db.fetchval("SELECT min(next_due) FROM session_series"))
    clock.set(from_unix(first_due) - timedelta(minutes=20))
    monkeypatch.setattr(timers_module, "FIRST_PASS_LATEST", 0)
    before = await db.fetchval("SELECT count(*) FROM reminder_ledger")
    scheduler = AsyncIOScheduler()
    timers = ReminderScheduler(
        scheduler, services.planner, services.dispatcher, services.reminders, clock
    )
    await timers.start(asyncio.Event())  # never set
    assert timers.first_pass is not None
    await asyncio.wait_for(timers.first_pass, 10)
    assert await db.fetchval("SELECT count(*) FROM reminder_ledger") > before
