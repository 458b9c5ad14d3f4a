"""Reminders planned for an instant whose run is already under way (found in review).

Start-up gives the ledger's rows their jobs at once and plans in the background: an overdue
instant's run can be handing its reminders over while the first planning pass adds more
reminders due at that same instant (a series the last pass before the stop had not reached
yet). The run read its rows before they existed, and the pass gave them no job of their
own (a job for a running instant would be a twin APScheduler refuses): they waited for the
next planning pass, 10 minutes later, or were skipped if the session started meanwhile.

Real database, real Planner, Dispatcher and ReminderScheduler on a running APScheduler."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from familybot.models import from_unix
from familybot.models.reminders import Delivery, ReminderCard, ReminderTarget
from familybot.scheduler.reminders import JOB_DEFAULTS, ReminderScheduler
from familybot.wiring import Services
from tests.support.circle import weekly_circle
from tests.support.fakes import FakeClock, RecordingPort


class GatedPort(RecordingPort):
    """Discord that holds the first send until the test lets it go."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock)
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    async def send_reminder(
        self, target: ReminderTarget, card: ReminderCard, nonce: str
    ) -> Delivery:
        self.entered.set()
        await self.gate.wait()
        return await super().send_reminder(target, card, nonce)


async def test_reminders_planned_while_their_instant_runs_still_go_out(
    services: Services, clock: FakeClock
) -> None:
    await weekly_circle(
        services, clock, titles=("First circle", "Second circle"), duration_minutes=60
    )
    await services.planner.plan()
    instant = from_unix(int(await services.db.fetchval("SELECT min(next_due) FROM session_series")))
    # The last planning pass before the stop did not reach the instant yet; a facilitator's
    # change to the first series planned its reminders then (a replan looks 30 minutes ahead
    # from the change). Then the bot stopped, before the next pass planned the second's.
    clock.set(instant - timedelta(minutes=25))
    first = await services.db.fetchval("SELECT id FROM session_series WHERE title = 'First circle'")
    await services.planner.replan([int(first)])
    assert await services.db.fetchval("SELECT count(DISTINCT series_id) FROM reminder_ledger") == 1
    clock.set(instant)  # back up at the instant: its rows are due now

    port = GatedPort(clock)
    services.dispatcher._discord = port
    # A running APScheduler, as in the bot (a job's instant is long past in real time, so
    # it fires at once): one run per job at a time (max_instances), as the bot configures.
    scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
    scheduler.start()
    timers = ReminderScheduler(
        scheduler, services.planner, services.dispatcher, services.reminders, clock
    )
    # The first pass is slow (1 s of recurrence maths at 1M sessions): it gets going only
    # once the overdue instant's run has read its rows.
    plan, run_read = services.planner.plan, asyncio.Event()

    async def slow_plan(now: datetime | None = None) -> int:
        await run_read.wait()
        return await plan(now)

    services.planner.plan = slow_plan  # type: ignore[method-assign]
    try:
        await timers.start()
        await asyncio.wait_for(port.entered.wait(), 10)  # the instant's run is handing over...
        run_read.set()
        assert timers.first_pass is not None
        await asyncio.wait_for(timers.first_pass, 10)  # ...while the first pass plans more
        assert await services.db.fetchval(
            "SELECT count(*) FROM reminder_ledger WHERE state = 'pending'"
        )
        port.gate.set()
        # Wait (not for time to pass: for the jobs already due) until nothing is left to send.
        for _ in range(200):
            left = await services.db.fetchval(
                "SELECT count(*) FROM reminder_ledger WHERE state IN ('pending', 'sending')"
            )
            if not left and not timers._running:
                break
            await asyncio.sleep(0.05)
    finally:
        scheduler.shutdown(wait=False)

    titles = sorted({r.card.title for r in port.reminders})
    assert titles == ["First circle", "Second circle"]
    assert left == 0


async def test_a_replan_between_a_jobs_hand_over_and_its_start_adds_no_twin(
    services: Services, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """APScheduler takes a date job out of its store when it hands it to the executor, a
    moment before the run starts. A replan landing in that moment found neither the job nor
    a running instant, and added a twin, which APScheduler refused with a warning (seen once
    in the PostgreSQL crash test on a loaded CI machine). The moment is widened here: the
    job's run waits at its first step until the replan is done."""
    await weekly_circle(services, clock, titles=("First circle",), duration_minutes=60)
    await services.planner.plan()
    instant = from_unix(int(await services.db.fetchval("SELECT min(next_due) FROM session_series")))
    clock.set(instant - timedelta(minutes=25))
    await services.planner.plan()
    clock.set(instant)

    port = RecordingPort(clock=clock)
    services.dispatcher._discord = port
    scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), job_defaults=JOB_DEFAULTS)
    scheduler.start()
    timers = ReminderScheduler(
        scheduler, services.planner, services.dispatcher, services.reminders, clock
    )
    handed_over, replanned = asyncio.Event(), asyncio.Event()
    dispatch = timers.dispatch

    async def late_start(due_unix: int | None = None) -> None:
        handed_over.set()
        await replanned.wait()
        await dispatch(due_unix)

    timers.dispatch = late_start  # type: ignore[method-assign]
    try:
        with caplog.at_level(logging.WARNING, logger="apscheduler"):
            await timers._schedule_due()  # the instant's job, due now: handed over at once
            await asyncio.wait_for(handed_over.wait(), 10)
            timers.dispatch = dispatch  # type: ignore[method-assign]
            await timers._schedule_due()  # a replan in the moment before the run starts
            await asyncio.sleep(0.2)  # a twin, if added, is due at once: let it be refused
            replanned.set()
            for _ in range(200):
                left = await services.db.fetchval(
                    "SELECT count(*) FROM reminder_ledger WHERE state IN ('pending', 'sending') "
                    "AND due_at <= ?",
                    (int(instant.timestamp()),),
                )
                if not left and not timers._running:
                    break
                await asyncio.sleep(0.05)
    finally:
        scheduler.shutdown(wait=False)
    refused = [r for r in caplog.records if "maximum number of running instances" in r.message]
    assert not refused, refused[0].getMessage()
    assert left == 0
    assert [r.card.title for r in port.reminders] == ["First circle"]


async def test_reminders_are_taken_over_only_from_a_process_gone_at_two_looks_in_a_row(
    services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Process 7 seems gone at one look and process 8 at the next (two connections that
    dropped for a moment, each back by its next look): neither is taken over. Process 8 still
    gone at a third look is. (What counts as gone is tests/unit/test_multiproc_claims.py's.)"""
    due = clock.now() - timedelta(minutes=1)
    looks = iter([{7: due}, {8: due}, {8: due}])

    async def orphaned(*args: object, **kwargs: object) -> dict[int, datetime]:
        return next(looks)

    monkeypatch.setattr(services.reminders, "orphaned", orphaned)
    scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop(), job_defaults=JOB_DEFAULTS)
    scheduler.start(paused=True)  # jobs are added, none runs
    timers = ReminderScheduler(
        scheduler, services.planner, services.dispatcher, services.reminders, clock
    )
    try:
        runs = []
        for _ in range(3):
            await timers.take_over()
            runs.append([j.id for j in scheduler.get_jobs() if j.id.startswith("reminders-due:")])
    finally:
        scheduler.shutdown(wait=False)
    assert runs == [[], [], [f"reminders-due:{int(due.timestamp())}"]]
