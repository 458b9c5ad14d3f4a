"""A burst larger than one page of the ledger is prepared before its instant (issue 15).

Real SQLite and the real planner and dispatcher; "now" is a FakeClock. The dispatcher is
called before the instant, as its scheduler job is; its wait for the instant is replaced by
one that moves the clock and lasts as long as preparing needs (at most 2 s of real time):
the lead was long enough. Every reminder due at the instant must be marked as sending
before the first one goes out, whatever the page size.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from familybot.db.connection import Database
from familybot.models import from_unix, to_unix
from familybot.models.reminders import Delivery, ReminderCard, ReminderTarget
from familybot.services.reminders import service as reminders_module
from familybot.wiring import Services
from tests.support.circle import weekly_circle
from tests.support.fakes import FakeClock, RecordingPort

GUILD = 1
FAC = 10
MEMBERS = tuple(range(21, 31))  # ten members with DM reminders, and the group's channel


class WatchingPort(RecordingPort):
    """Records, at each send, the clock and how many rows of the burst were not yet prepared."""

    db: Database
    clock: FakeClock
    instant: int = 0
    seen: list[tuple[int, int]]

    async def send_reminder(
        self, target: ReminderTarget, card: ReminderCard, nonce: str
    ) -> Delivery:
        unprepared = await self.db.fetchval(
            "SELECT count(*) FROM reminder_ledger WHERE state = 'pending' AND due_at = ?",
            (self.instant,),
        )
        self.seen.append((to_unix(self.clock.now()), int(unprepared or 0)))
        return await super().send_reminder(target, card, nonce)


async def test_a_burst_of_many_pages_is_all_prepared_before_its_instant(
    services: Services, db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await weekly_circle(services, clock, members=MEMBERS, dm_reminders=MEMBERS)
    # Ten minutes before the first reminder instant (one per member and the channel).
    await services.planner.plan()
    next_due = await db.fetchval("SELECT next_due FROM session_series")
    clock.set(from_unix(int(next_due)) - timedelta(minutes=10))
    await services.planner.plan()
    instant = await db.fetchval("SELECT min(due_at) FROM reminder_ledger WHERE state = 'pending'")
    assert instant is not None
    burst = await db.fetchval(
        "SELECT count(*) FROM reminder_ledger WHERE state = 'pending' AND due_at = ?", (instant,)
    )
    assert burst == len(MEMBERS) + 1

    port = WatchingPort()
    port.db, port.clock, port.instant, port.seen = db, clock, int(instant), []
    services.dispatcher._discord = port
    monkeypatch.setattr(reminders_module, "DISPATCH_BATCH", 3)  # four pages

    async def lead(seconds: float) -> None:
        # The time before the instant: long enough for the preparing to finish.
        clock.advance(seconds=seconds)
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            pending = await db.fetchval(
                "SELECT count(*) FROM reminder_ledger WHERE state = 'pending' AND due_at = ?",
                (instant,),
            )
            if not pending:
                return
            await asyncio.sleep(0.005)

    services.dispatcher.sleep = lead
    clock.set(from_unix(int(instant)) - timedelta(seconds=2))  # the scheduler's lead
    report = await services.dispatcher.dispatch(from_unix(int(instant)))

    assert report.sent == burst and report.late == 0
    assert len(port.seen) == burst
    # Every one went out at the instant, and the whole burst was ready before the first.
    assert port.seen == [(int(instant), 0)] * burst, port.seen
    states = await db.fetchall("SELECT state, count(*) AS n FROM reminder_ledger GROUP BY state")
    assert {r["state"]: r["n"] for r in states} == {"sent": burst}
