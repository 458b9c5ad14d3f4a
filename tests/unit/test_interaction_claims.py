"""Interaction claims (issue 16): of every process on one database, one handles each
interaction; when the claim cannot be made, the interaction is handled anyway.

The repository on both backends, through two connections as two processes have them; the
gate (familybot/interaction_gate.py) with a parser that records what it was given in place
of discord.py's.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from familybot import interaction_gate
from familybot.db.connection import Database
from familybot.db.repositories.interaction_claims import InteractionClaimRepository
from familybot.interaction_gate import InteractionGate
from familybot.tree import ALREADY_ANSWERED, ANSWERED_ELSEWHERE
from tests.support import backends
from tests.support.fakes import FakeClock

BASE = 1_300_000_000_000_000_000  # interaction ids are snowflakes: beyond 32 bits


@pytest.fixture
async def other(db: Database) -> AsyncIterator[Database]:
    """A second connection (pool) to the same database: another process's."""
    second = await Database.connect(getattr(db, "url", None) or db.path)
    yield second
    await second.close()


class Parser:
    """Stands in for discord.py's INTERACTION_CREATE parser: records what it parsed."""

    def __init__(self) -> None:
        self.parsed: list[int] = []
        self.seen = asyncio.Event()

    def __call__(self, data: Any) -> None:
        self.parsed.append(int(data["id"]))
        self.seen.set()


def gate_on(db: Database, clock: FakeClock) -> tuple[InteractionGate, Parser]:
    parser = Parser()
    gate = InteractionGate({"INTERACTION_CREATE": parser})
    gate.open(db, clock, AsyncIOScheduler())
    return gate, parser


def payload(n: int) -> dict[str, Any]:
    return {"id": str(BASE + n), "type": 2, "member": {"user": {"id": "42"}}, "locale": "en-US"}


async def settled(*gates: InteractionGate) -> None:
    while any(g._pending for g in gates):
        await asyncio.gather(*(f for g in gates for f in g._pending), return_exceptions=True)


async def test_two_processes_claiming_the_same_interactions_at_once_each_win_half_once(
    db: Database, other: Database, clock: FakeClock
) -> None:
    a, b = InteractionClaimRepository(db), InteractionClaimRepository(other)
    ids = [BASE + n for n in range(40)]
    won = await asyncio.gather(
        *(repo.claim(i, clock.now()) for i in ids for repo in ((a, b) if i % 2 else (b, a)))
    )
    pairs = list(zip(won[::2], won[1::2], strict=True))
    assert all(x != y for x, y in pairs), "an interaction claimed by both, or by neither"
    stored = await db.fetchall("SELECT interaction_id FROM interaction_claims")
    assert sorted(int(r[0]) for r in stored) == ids
    assert await a.claim(ids[0], clock.now()) is False  # delivered again later: still taken


async def test_each_delivery_of_an_interaction_is_parsed_by_one_process(
    db: Database, other: Database, clock: FakeClock
) -> None:
    (gate_a, parsed_a), (gate_b, parsed_b) = gate_on(db, clock), gate_on(other, clock)
    for n in range(10):  # Discord sends each to both connections of the shard
        gate_a.receive(payload(n))
        gate_b.receive(payload(n))
    await settled(gate_a, gate_b)
    assert sorted(parsed_a.parsed + parsed_b.parsed) == [BASE + n for n in range(10)]
    assert gate_a.handled + gate_b.handled == 10 and gate_a.dropped + gate_b.dropped == 10


async def test_claims_older_than_an_hour_are_pruned(db: Database, clock: FakeClock) -> None:
    gate, parser = gate_on(db, clock)
    gate.receive(payload(1))
    await settled(gate)
    clock.advance(minutes=50)
    gate.receive(payload(2))
    await settled(gate)
    clock.advance(minutes=11)
    await gate.prune()
    left = await db.fetchall("SELECT interaction_id, claimed_at FROM interaction_claims")
    assert [int(r[0]) for r in left] == [BASE + 2]
    assert parser.parsed == [BASE + 1, BASE + 2]


async def test_with_the_database_down_every_interaction_is_still_handled(
    tmp_path: Path, backend: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    target = (
        backends.url_for(await backends.SERVER.clean_database()) if backend == "postgres" else ""
    )
    db = await Database.connect(target or tmp_path / "down.db")
    gate, parser = gate_on(db, clock)
    await db.close()  # the server gone, the file unreadable: the claim raises
    with caplog.at_level(logging.WARNING, logger="familybot.interaction_gate"):
        gate.receive(payload(7))
        await settled(gate)
    assert parser.parsed == [BASE + 7]  # /crisis answers; a double answer beats none
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("interaction claim failed") and line.endswith(f"id={BASE + 7}")


@pytest.mark.sqlite_only
async def test_a_claim_stuck_behind_another_writer_is_handled_anyway_in_time(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interaction_gate, "CLAIM_WAIT_S", 0.05)
    gate, parser = gate_on(db, clock)
    holder = sqlite3.connect(str(db.path), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing (busy timeout 2 s)
    try:
        gate.receive(payload(3))
        # Handled well before the 2 s the claim itself waits for the lock.
        await asyncio.wait_for(parser.seen.wait(), 1.0)
        assert parser.parsed == [BASE + 3]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await settled(gate)  # the late claim goes in once the writer is done
    stored = await db.fetchall("SELECT interaction_id FROM interaction_claims")
    assert [int(r[0]) for r in stored] == [BASE + 3]
    assert gate.handled == 1 and gate.dropped == 0


async def test_the_crisis_lines_are_handled_at_once_and_never_claimed(
    db: Database, clock: FakeClock
) -> None:
    gate, parser = gate_on(db, clock)
    crisis = {**payload(1), "data": {"name": "crisis", "type": 1}}
    panel = {**payload(2), "type": 3, "data": {"custom_id": "fb:panel:crisis", "component_type": 2}}
    gate.receive(crisis)
    gate.receive(panel)
    assert parser.parsed == [BASE + 1, BASE + 2]  # parsed in the same step: nothing awaited
    assert not gate._pending
    assert await db.fetchall("SELECT * FROM interaction_claims") == []


async def test_autocomplete_is_answered_by_every_process_and_never_claimed(
    db: Database, other: Database, clock: FakeClock
) -> None:
    """A keystroke's suggestions change nothing and Discord shows the first answer: no
    database write per keystroke. The command typed then is claimed as before."""
    (gate_a, parsed_a), (gate_b, parsed_b) = gate_on(db, clock), gate_on(other, clock)
    typing = {**payload(1), "type": 4, "data": {"name": "faq", "type": 1}}
    gate_a.receive(typing)
    gate_b.receive(typing)
    assert parsed_a.parsed == parsed_b.parsed == [BASE + 1]  # at once, by both
    assert not gate_a._pending and not gate_b._pending
    assert await db.fetchall("SELECT * FROM interaction_claims") == []
    gate_a.receive(payload(2))  # the command itself
    gate_b.receive(payload(2))
    await settled(gate_a, gate_b)
    assert sorted(parsed_a.parsed + parsed_b.parsed) == [BASE + 1, BASE + 1, BASE + 2]
    stored = await db.fetchall("SELECT interaction_id FROM interaction_claims")
    assert [int(r[0]) for r in stored] == [BASE + 2]
    await gate_a.close()  # stopping: what comes now is the other process's, suggestions too
    gate_a.receive({**typing, "id": str(BASE + 3)})
    gate_b.receive({**typing, "id": str(BASE + 3)})
    assert BASE + 3 not in parsed_a.parsed and parsed_b.parsed[-1] == BASE + 3


async def test_a_claim_cut_off_while_its_connection_opens_leaves_no_thread(
    tmp_path: Path,
) -> None:
    """SQLite opens the claims' own connection on the first claim. A claim the gate gave up
    on while it opened, or one still opening when the bot closed the database, once left an
    aiosqlite thread running (not a daemon), which kept the process from exiting after
    "stopped cleanly" (a crash test's stop timed out)."""
    import threading

    from familybot.db.migrate import migrate

    db = await Database.connect(str(tmp_path / "claims.db"))
    await migrate(db)
    repo = InteractionClaimRepository(db)
    before = set(threading.enumerate())
    # Given up on at once (as the gate does after its time limit), then the database closes
    # while the connection may still be opening.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(repo.claim(1, FakeClock().now()), timeout=0)
    late = asyncio.create_task(repo.claim(2, FakeClock().now()))
    await asyncio.sleep(0)
    await db.close()
    outcome = await asyncio.gather(late, return_exceptions=True)
    await asyncio.sleep(0.1)
    left = [t for t in set(threading.enumerate()) - before if t.is_alive() and not t.daemon]
    assert not left, f"threads left running after close: {left}, claim: {outcome}"


class _Response:
    """What discord.HTTPException reads of an HTTP response."""

    status, reason = 400, "Bad Request"


def test_of_autocomplete_errors_only_already_answered_is_quietened(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """discord.py logs any failed autocomplete as an error with its traceback. Refused as
    already answered (another process on the shard suggested first) it is one INFO line;
    any other failure stays an error."""
    logger = logging.getLogger("discord.app_commands.tree")
    logger.addFilter(ANSWERED_ELSEWHERE)  # what FamilyTree does
    try:
        with caplog.at_level(logging.INFO):
            for code in (ALREADY_ANSWERED, 50035):
                try:
                    raise discord.HTTPException(_Response(), {"code": code, "message": "no"})  # type: ignore[arg-type]
                except discord.HTTPException:
                    logger.exception("Ignoring exception in autocomplete for %r", "faq ask")
    finally:
        logger.removeFilter(ANSWERED_ELSEWHERE)
    seen = [(r.name, r.levelno, r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert seen == [
        ("familybot.tree", logging.INFO, "interaction answered elsewhere in autocomplete", False),
        (
            "discord.app_commands.tree",
            logging.ERROR,
            "Ignoring exception in autocomplete for 'faq ask'",
            True,
        ),
    ]
