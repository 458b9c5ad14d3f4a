"""The reminder ledger stays the same size over a year of weekly sessions (issue 15).

Real SQLite, the real planner, dispatcher and retention job, time moved by the FakeClock from
one event to the next: a planner tick (every PLAN_INTERVAL, as the bot runs it), a due
instant, or the daily retention run. Every reminder must go out at its due instant.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from familybot.config import load_settings
from familybot.db.connection import Database
from familybot.db.migrate import migrate
from familybot.db.repositories.privacy import PrivacyRepository
from familybot.errors import ConfigError
from familybot.models import from_unix
from familybot.models.reminders import Delivery, ReminderCard, ReminderTarget
from familybot.services.privacy.retention import RetentionService
from familybot.services.reminders.planner import PLAN_HORIZON, PLAN_INTERVAL
from familybot.wiring import Services, build_services
from tests.support.circle import weekly_circle
from tests.support.fakes import FakeClock, RecordingPort

GUILD = 1
FAC = 10
MEMBERS = (21, 22, 23)


async def ledger_rows(db: Database) -> int:
    return int(await db.fetchval("SELECT count(*) FROM reminder_ledger"))


async def a_year_of_weekly_sessions(
    services: Services, db: Database, clock: FakeClock, port: RecordingPort, keep_days: int
) -> tuple[list[int], list[tuple[float, bool]]]:
    """Returns the ledger's size each week and, per reminder sent, how many minutes before
    its session it went out and whether it was a DM."""
    # Reminders by DM too for the first member.
    await weekly_circle(services, clock, members=MEMBERS, dm_reminders=MEMBERS[:1], days_ahead=1)
    # When each reminder went out, by the clock: (minutes before its session, DM or not).
    sent_before: list[tuple[float, bool]] = []
    send = port.send_reminder

    async def timed_send(target: ReminderTarget, card: ReminderCard, nonce: str) -> Delivery:
        lead = (card.start - clock.now()).total_seconds() / 60
        sent_before.append((lead, target.user_id is not None))
        assert not card.late
        return await send(target, card, nonce)

    port.send_reminder = timed_send  # type: ignore[method-assign]
    retention = RetentionService(
        services.privacy,
        PrivacyRepository(db),
        clock,
        ledger_keep_days=keep_days,
        check_members=False,
        pace_seconds=0,
    )
    end = clock.now() + timedelta(days=365)
    next_retention = clock.now().replace(hour=3, minute=0) + timedelta(days=1)
    weekly: list[int] = []
    next_week = clock.now() + timedelta(days=7)
    # The planner job runs at start-up and every PLAN_INTERVAL after, as in the bot. A tick
    # at which no series owes a reminder within PLAN_HORIZON writes nothing, so the
    # simulation moves straight to the first tick that will (the same ticks, fewer steps).
    next_tick = clock.now()
    while clock.now() < end:
        if clock.now() >= next_tick:
            await services.planner.plan()
            next_tick += PLAN_INTERVAL
            owed = await db.fetchval(
                "SELECT min(next_due) FROM session_series WHERE status = 'active'"
            )
            if owed is not None:
                behind = from_unix(owed) - PLAN_HORIZON - next_tick
                if behind > timedelta(0):
                    next_tick += PLAN_INTERVAL * math.ceil(behind / PLAN_INTERVAL)
        due = await db.fetchval("SELECT min(due_at) FROM reminder_ledger WHERE state = 'pending'")
        step: datetime = min(next_tick, next_retention, end)
        if due is not None:
            step = min(step, from_unix(due))
        clock.set(max(step, clock.now()))
        await services.dispatcher.dispatch()
        if clock.now() >= next_retention:
            await retention.run()
            next_retention += timedelta(days=1)
        if clock.now() >= next_week:
            weekly.append(await ledger_rows(db))
            next_week += timedelta(days=7)
    return weekly, sent_before


async def test_the_ledger_stays_flat_over_a_year_and_sends_the_same_reminders(
    services: Services, db: Database, clock: FakeClock, port: RecordingPort, tmp_path: Path
) -> None:
    start = clock.now()
    weekly, sent = await a_year_of_weekly_sessions(services, db, clock, port, keep_days=14)
    # The same year on a second database with the records kept ten years: no pruning.
    other_db = await Database.open(tmp_path / "unpruned.db")
    try:
        await migrate(other_db)
        other_port, other_clock = RecordingPort(), FakeClock(start)
        other = build_services(other_db, other_port, other_clock, "America/New_York")
        kept, kept_sent = await a_year_of_weekly_sessions(
            other, other_db, other_clock, other_port, keep_days=3650
        )
    finally:
        await other_db.close()
    assert len(weekly) == len(kept) == 52
    # Every 24-hour and 1-hour reminder of the year went out at its due instant, to the
    # channel and to the member with DMs on; none late, none skipped.
    on_time = Counter((round(lead, 6), dm) for lead, dm in sent)
    assert set(on_time) == {(1440, False), (1440, True), (60, False), (60, True)}, on_time
    assert all(n >= 52 for n in on_time.values()), on_time
    # Pruning took nothing still needed: the unpruned year sent exactly the same.
    assert sent == kept_sent, (len(sent), len(kept_sent))
    # Unpruned, the ledger grows every week; pruned, it settles within the first month.
    assert kept[-1] > 5 * kept[3], kept
    settled = weekly[4:]
    assert max(settled) <= max(weekly[:5]) and max(settled) - min(settled) <= 4, weekly
    assert max(settled) * 5 < kept[-1], (weekly, kept)


def test_the_setting_is_read_and_checked(tmp_path: Path) -> None:
    base = {"DISCORD_TOKEN": "x", "DATABASE_PATH": str(tmp_path / "db")}
    assert load_settings(tmp_path / "none.env", environ=base).ledger_keep_days == 14
    set_ = load_settings(tmp_path / "none.env", environ={**base, "REMINDER_LEDGER_KEEP_DAYS": "30"})
    assert set_.ledger_keep_days == 30
    with pytest.raises(ConfigError, match="REMINDER_LEDGER_KEEP_DAYS"):
        load_settings(tmp_path / "none.env", environ={**base, "REMINDER_LEDGER_KEEP_DAYS": "1"})
