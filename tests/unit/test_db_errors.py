"""A locked or full database: a kind private reply, one ids-only log line, nothing lost.

Real SQLite files throughout. "Locked" is another connection holding BEGIN EXCLUSIVE past
the bot's busy timeout (what a backup or the sqlite3 shell does); "full" is
`PRAGMA max_page_count` capped at the file's current size on the bot's own connection.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from familybot.db import sqlite as connection_module
from familybot.db.connection import Database
from familybot.db.migrate import migrate
from familybot.models import JoinMode, from_unix
from familybot.scheduler.reminders import DISPATCH_RETRY, ReminderScheduler, due_job_id
from familybot.services.sessions.recurrence import Repeat
from familybot.tree import DATABASE_BUSY, GENERIC_ERROR, database_error_kind, report_error
from familybot.wiring import Services, build_services
from tests.support.fakes import FakeClock, RecordingPort

GUILD, FAC, USER = 1, 10, 4242
# Together bigger than one 4 KiB page: the row needs a new (overflow) page.
LONG_QUESTION = "What should I bring to my first family session at the program, and when?"
LONG_ANSWER = "a" * 4000


@contextmanager
def exclusive_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process holding the write lock (as a backup or the sqlite3 shell can)."""
    other = sqlite3.connect(path, isolation_level=None, timeout=5)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield other
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.fixture
async def quick_db(tmp_path: Path) -> Any:
    database = await Database.open(tmp_path / "familybot.db", busy_timeout_ms=50)
    await migrate(database)
    yield database
    await database.close()


@pytest.fixture
def quick_services(quick_db: Database, port: RecordingPort, clock: FakeClock) -> Services:
    return build_services(quick_db, port, clock, "America/New_York")


# --- the error handler's mapping and reply ---------------------------------------------------


@dataclass
class _User:
    id: int


@dataclass
class _Response:
    sent: list[tuple[str, bool]] = field(default_factory=list)

    def is_done(self) -> bool:
        return bool(self.sent)

    async def send_message(self, text: str, *, ephemeral: bool = False) -> None:
        self.sent.append((text, ephemeral))


@dataclass
class _Interaction:
    """Just what report_error reads: ids, and a response that records what was sent."""

    id: int = 777
    guild_id: int = GUILD
    channel_id: int = 55
    user: _User = field(default_factory=lambda: _User(USER))
    response: _Response = field(default_factory=_Response)


def test_a_locked_write_gives_up_in_time_for_the_kind_reply() -> None:
    # Discord drops an interaction not answered within 3 s: the wait for a lock must end
    # sooner, with room left to send the "try again" reply.
    assert connection_module.BUSY_TIMEOUT_MS <= 2000


def test_only_busy_and_full_sqlite_errors_are_mapped() -> None:
    busy = sqlite3.OperationalError("database is locked")
    full = sqlite3.OperationalError("database or disk is full")
    other = sqlite3.OperationalError("no such table: nope")
    assert database_error_kind(busy) == "locked"
    assert database_error_kind(full) == "full"
    assert database_error_kind(other) is None
    assert database_error_kind(ValueError("database is locked")) is None


async def test_locked_write_is_refused_kindly_and_logged_once(
    quick_services: Services, quick_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with exclusive_lock(quick_db.path), pytest.raises(sqlite3.OperationalError) as raised:
        await quick_services.faq.add(GUILD, FAC, "How do I join a group?", "Use /group join.")
    assert database_error_kind(raised.value) == "locked"

    interaction = _Interaction()
    caplog.set_level(logging.DEBUG)
    await report_error(interaction, raised.value, "command 'faq add'")  # type: ignore[arg-type]

    assert interaction.response.sent == [(DATABASE_BUSY, True)]
    assert "nothing was changed" in str(DATABASE_BUSY) and "try again" in str(DATABASE_BUSY)
    lines = [r for r in caplog.records if r.name == "familybot.tree"]
    assert len(lines) == 1
    line = lines[0].getMessage()
    assert "database locked" in line and "'faq add'" in line
    assert f"guild={GUILD}" in line and f"user={USER}" in line and "interaction=777" in line
    assert lines[0].exc_info is None  # one line, no traceback
    assert "join a group" not in line  # never the text people typed

    # Nothing was stored, and once the lock is gone the same write works.
    assert await quick_db.fetchval("SELECT count(*) FROM faq") == 0
    await quick_services.faq.add(GUILD, FAC, "How do I join a group?", "Use /group join.")
    assert await quick_db.fetchval("SELECT count(*) FROM faq") == 1


async def test_full_disk_is_refused_kindly_and_nothing_half_written(
    quick_services: Services, quick_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    pages = await quick_db.fetchval("PRAGMA page_count")
    await quick_db.connection.execute(f"PRAGMA max_page_count = {int(pages)}")
    with pytest.raises(sqlite3.OperationalError) as raised:
        await quick_services.faq.add(GUILD, FAC, LONG_QUESTION, LONG_ANSWER)
    assert database_error_kind(raised.value) == "full"

    interaction = _Interaction()
    caplog.set_level(logging.DEBUG)
    await report_error(interaction, raised.value, "command 'faq add'")  # type: ignore[arg-type]
    assert interaction.response.sent == [(DATABASE_BUSY, True)]
    lines = [r.getMessage() for r in caplog.records if r.name == "familybot.tree"]
    assert len(lines) == 1 and "database full" in lines[0]

    assert await quick_db.fetchval("SELECT count(*) FROM faq") == 0
    await quick_db.connection.execute("PRAGMA max_page_count = 1073741823")
    await quick_services.faq.add(GUILD, FAC, LONG_QUESTION, LONG_ANSWER)
    assert await quick_db.fetchval("SELECT count(*) FROM faq") == 1


async def test_other_sqlite_errors_stay_generic(caplog: pytest.LogCaptureFixture) -> None:
    interaction = _Interaction()
    error = sqlite3.OperationalError("no such column: secret_thing")
    await report_error(interaction, error, "command 'x'")  # type: ignore[arg-type]
    assert interaction.response.sent == [(GENERIC_ERROR, True)]


# --- the reminder dispatcher ------------------------------------------------------------------


async def _due_reminder(services: Services, clock: FakeClock) -> None:
    await services.groups.create(
        guild_id=GUILD,
        actor_id=FAC,
        name="Circle",
        description="A weekly circle",
        focus="parents",
        capacity=None,
        join_mode=JoinMode.OPEN,
    )
    outcome = await services.sessions.schedule(
        guild_id=GUILD,
        actor_id=FAC,
        group_name="Circle",
        title="Evening circle",
        date_text="2026-11-29",
        time_text="18:00",
        repeat=Repeat.ONCE,
        duration_minutes=60,
        tz="America/New_York",
    )
    clock.set(outcome.first.start_utc - timedelta(hours=24))
    await services.planner.plan()


async def ledger_states(db: Database) -> list[str]:
    return [r["state"] for r in await db.fetchall("SELECT state FROM reminder_ledger")]


async def test_locked_database_before_sending_loses_no_reminder(
    quick_services: Services, quick_db: Database, port: RecordingPort, clock: FakeClock
) -> None:
    port.clock = clock
    await _due_reminder(quick_services, clock)
    with exclusive_lock(quick_db.path), pytest.raises(sqlite3.OperationalError):
        await quick_services.dispatcher.dispatch()
    assert port.reminders == []
    assert "sent" not in await ledger_states(quick_db)

    clock.advance(minutes=10)  # the next planner pass re-runs the dispatch
    await quick_services.dispatcher.dispatch()
    assert len(port.reminders) == 1
    assert await ledger_states(quick_db) == ["sent"]


async def test_locked_database_after_sending_does_not_send_twice(
    quick_services: Services, quick_db: Database, port: RecordingPort, clock: FakeClock
) -> None:
    """The message reached Discord but its result could not be stored: the row stays
    `sending`, and the retry reuses the nonce, so Discord keeps one message."""
    port.clock = clock
    await _due_reminder(quick_services, clock)
    holder: list[sqlite3.Connection] = []
    real_send = port.send_reminder

    async def send_then_lock(*args: Any, **kwargs: Any) -> Any:
        delivery = await real_send(*args, **kwargs)
        if not holder:  # a backup grabs the lock just as Discord answers
            other = sqlite3.connect(quick_db.path, isolation_level=None)
            other.execute("BEGIN EXCLUSIVE")
            holder.append(other)
        return delivery

    port.send_reminder = send_then_lock  # type: ignore[method-assign]
    try:
        with pytest.raises(sqlite3.OperationalError):
            await quick_services.dispatcher.dispatch()
    finally:
        for other in holder:
            other.execute("ROLLBACK")
            other.close()
    assert len(port.reminders) == 1
    assert await ledger_states(quick_db) == ["sending"]

    clock.advance(minutes=1)
    await quick_services.dispatcher.dispatch()
    assert len(port.reminders) == 1, "the retry posted a second message"
    assert await ledger_states(quick_db) == ["sent"]


async def test_a_reminder_run_that_meets_a_lock_is_retried_soon(
    quick_services: Services, quick_db: Database, port: RecordingPort, clock: FakeClock
) -> None:
    """Not at the next planning pass (minutes away): a retry of the same instant in 15 s."""
    port.clock = clock
    await _due_reminder(quick_services, clock)
    scheduler = AsyncIOScheduler()  # not started: jobs wait in it and can be inspected
    reminders = ReminderScheduler(
        scheduler,
        quick_services.planner,
        quick_services.dispatcher,
        quick_services.reminders,
        clock,
    )
    due = int(clock.now().timestamp())
    with exclusive_lock(quick_db.path):
        await reminders.dispatch(due)  # logs and reschedules instead of raising
    job = scheduler.get_job(due_job_id(from_unix(due)))
    assert job is not None and job.args == (due,)
    assert job.trigger.run_date == clock.now() + DISPATCH_RETRY
    assert port.reminders == []

    await reminders.dispatch(due)  # the retry, with the lock gone
    assert len(port.reminders) == 1
    assert await ledger_states(quick_db) == ["sent"]
