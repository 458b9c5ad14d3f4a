"""Several processes sending one database's reminders (issue 16): each is sent exactly once.

Two service stacks, each with its own connection pool, process token (familybot/db/peers.py)
and "Discord" (a RecordingPort), share one PostgreSQL database and run the SAME shards, as
two processes on two hosts would. At every due instant both dispatch at once; whatever they
read, each reminder must reach Discord once, from one of them. Counted at the ports (every
send attempt, not only what Discord's nonce memory would let through) and in the ledger.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
import time_machine
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from familybot.db.connection import Database, DatabaseUnavailable
from familybot.db.migrate import migrate
from familybot.db.peers import Peers, PostgresPeers
from familybot.models import from_unix
from familybot.models.reminders import Delivery, ReminderCard, ReminderTarget
from familybot.scheduler.reminders import ReminderScheduler
from familybot.services.reminders import service as reminders_module
from familybot.wiring import Services, build_services
from tests.support import backends
from tests.support.circle import weekly_circle
from tests.support.fakes import FakeClock, RecordingPort

GUILD = 1
FAC = 10
GROUPS = (("Parents Circle", "18:00", range(100, 112)), ("Teens Circle", "18:30", range(200, 209)))
ROUNDS = 24  # due instants both processes dispatch at once


class YieldingPort(RecordingPort):
    """A send that takes a loop step, as a network round trip does: the two processes'
    sends interleave instead of one finishing before the other starts."""

    async def send_reminder(
        self, target: ReminderTarget, card: ReminderCard, nonce: str
    ) -> Delivery:
        await asyncio.sleep(0)
        return await super().send_reminder(target, card, nonce)


@dataclass
class Process:
    db: Database
    peers: Peers
    port: YieldingPort
    services: Services


async def _process(url: str, clock: FakeClock, peers: Peers) -> Process:
    db = await Database.connect(url)
    await peers.start()
    port = YieldingPort()
    services = build_services(db, port, clock, "America/New_York", peers=peers)
    return Process(db, peers, port, services)


@pytest.fixture
async def pg_url() -> str:
    return backends.url_for(await backends.SERVER.clean_database())


@pytest.fixture
async def pair(pg_url: str, clock: FakeClock) -> AsyncIterator[tuple[Process, Process]]:
    a = await _process(pg_url, clock, PostgresPeers(pg_url))
    b = await _process(pg_url, clock, PostgresPeers(pg_url))
    try:
        yield a, b
    finally:
        for p in (a, b):
            await p.peers.close()
            await p.db.close()


async def _groups_with_sessions(services: Services, clock: FakeClock) -> None:
    for name, at, members in GROUPS:
        await weekly_circle(
            services,
            clock,
            guild_id=GUILD,
            facilitator=FAC,
            name=name,
            members=members,
            dm_reminders=members,
            time_text=at,
        )


async def _next_instant(processes: tuple[Process, ...], clock: FakeClock) -> int:
    """Move the clock to just before the next reminders, let every process plan them."""
    db = processes[0].db
    next_due = await db.fetchval("SELECT min(next_due) FROM session_series")
    if clock.now() < from_unix(int(next_due)) - timedelta(minutes=10):
        clock.set(from_unix(int(next_due)) - timedelta(minutes=10))
    await asyncio.gather(*(p.services.planner.plan() for p in processes))
    instant = await db.fetchval("SELECT min(due_at) FROM reminder_ledger WHERE state = 'pending'")
    assert instant is not None
    return int(instant)


def _attempts(processes: tuple[Process, ...]) -> Counter[int]:
    return Counter(card.ledger_id for p in processes for _, card in p.port.reminder_attempts)


async def test_two_processes_on_the_same_shards_send_each_reminder_once(
    pair: tuple[Process, Process], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    # Small pages: the two processes' reads, claims and sends interleave page by page.
    monkeypatch.setattr(reminders_module, "DISPATCH_BATCH", 4)
    await _groups_with_sessions(a.services, clock)
    per_instant = [len(members) + 1 for _, _, members in GROUPS]
    sent_by = Counter[str]()
    for _ in range(ROUNDS):
        instant = await _next_instant(pair, clock)
        clock.set(from_unix(instant))
        reports = await asyncio.gather(
            a.services.dispatcher.dispatch(from_unix(instant)),
            b.services.dispatcher.dispatch(from_unix(instant)),
        )
        assert sum(r.sent for r in reports) in per_instant
        sent_by.update({"a": reports[0].sent, "b": reports[1].sent})

    attempts = _attempts(pair)
    doubles = {ledger_id: n for ledger_id, n in attempts.items() if n > 1}
    assert not doubles, f"{len(doubles)} reminders sent more than once"
    rows = await a.db.fetchall(
        "SELECT state, attempts, count(*) AS n FROM reminder_ledger GROUP BY 1, 2"
    )
    assert {(r["state"], r["attempts"]): r["n"] for r in rows} == {("sent", 1): len(attempts)}
    assert len(attempts) == sum(sent_by.values()) >= ROUNDS * min(per_instant)
    # Both took part: the claims split the work rather than one process doing it all.
    assert sent_by["a"] > 0 and sent_by["b"] > 0, sent_by


async def test_a_dead_process_s_claims_pass_to_the_living(
    pair: tuple[Process, Process], clock: FakeClock, pg_url: str
) -> None:
    a, b = pair
    await _groups_with_sessions(a.services, clock)
    instant = await _next_instant(pair, clock)
    clock.set(from_unix(instant))
    # Process a claims the burst, and every send fails in a way worth retrying: the rows
    # stay `sending`, claimed by a, which is alive and will try them again.
    a.port.fail.add("send_reminder")
    first = await a.services.dispatcher.dispatch(from_unix(instant))
    assert first.retried > 0 and first.sent == 0
    claimed = await a.db.fetchval(
        "SELECT count(*) FROM reminder_ledger WHERE state = 'sending' AND claimed_by = ?",
        (a.peers.token,),
    )
    assert claimed == first.retried
    # While a lives, b leaves a's reminders alone.
    assert (await b.services.dispatcher.dispatch(from_unix(instant))).sent == 0
    assert not b.port.reminder_attempts
    # a's host dies: its connection is cut, its liveness lock goes with it.
    await _cut_off(a, pg_url)
    await _gone((a,), b)
    report = await b.services.dispatcher.dispatch(from_unix(instant))
    assert report.sent == first.retried
    assert Counter(c.ledger_id for _, c in b.port.reminder_attempts) == Counter(
        {i: 1 for i in _attempts((b,))}
    )
    states = await b.db.fetchall("SELECT state, claimed_by FROM reminder_ledger")
    assert {(r["state"], r["claimed_by"]) for r in states} == {("sent", b.peers.token)}


async def test_on_sqlite_a_restarted_process_takes_over_its_predecessor_s_claims(
    tmp_path: Path, clock: FakeClock
) -> None:
    """One host: processes run shards of their own, so a claim by any other token is a
    process that is gone (the one before a restart), whose reminders are this one's now."""
    path = tmp_path / "familybot.db"
    db = await Database.open(path)
    await migrate(db)
    try:
        peers, port = Peers(), YieldingPort()
        port.fail.add("send_reminder")
        old = Process(db, peers, port, build_services(db, port, clock, "UTC", peers=peers))
        await _groups_with_sessions(old.services, clock)
        instant = await _next_instant((old,), clock)
        clock.set(from_unix(instant))
        first = await old.services.dispatcher.dispatch(from_unix(instant))
        assert first.retried > 0
        new_port = YieldingPort()
        new = build_services(db, new_port, clock, "America/New_York", peers=Peers())
        report = await new.dispatcher.dispatch(from_unix(instant))
        assert report.sent == first.retried
        assert len(new_port.reminder_attempts) == first.retried
    finally:
        await db.close()


async def test_a_process_claims_only_while_it_holds_its_liveness_lock(
    pair: tuple[Process, Process], clock: FakeClock, pg_url: str
) -> None:
    a, b = pair
    pid = await _cut_off(a, pg_url)
    # Its next run takes the lock again (same token) before it claims anything.
    await a.services.dispatcher.dispatch(clock.now())
    assert a.peers.backend_pid not in (None, pid)  # type: ignore[attr-defined]
    live = {int(r[0]) for r in await b.db.fetchall(b.db.dialect.live_claimants())}
    assert a.peers.token in live
    # A process that cannot hold it does not claim: the run fails and is retried later.
    cut_off = PostgresPeers("postgresql://postgres@127.0.0.1:1/familybot")
    stack = build_services(a.db, YieldingPort(), clock, "America/New_York", peers=cut_off)
    with pytest.raises(DatabaseUnavailable):
        await stack.dispatcher.dispatch(clock.now())


async def _cut_off(p: Process, pg_url: str) -> int:
    """Cuts the process's connection, as when its host dies (its liveness lock goes with
    it); the server process it had."""
    pid = p.peers.backend_pid  # type: ignore[attr-defined]
    assert pid is not None
    admin = await asyncpg.connect(pg_url)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    return int(pid)


async def _gone(processes: tuple[Process, ...], living: Process) -> None:
    """Until the server has freed the liveness locks of `processes` (no clock involved)."""
    tokens = {p.peers.token for p in processes}
    for _ in range(500):
        live = {int(r[0]) for r in await living.db.fetchall(living.db.dialect.live_claimants())}
        if not tokens & live:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server kept the locks of processes that are gone")


async def test_reminders_two_processes_claimed_and_left_unsent_go_out_from_the_third(
    pg_url: str, clock: FakeClock
) -> None:
    """Three processes on the same shards; two claim reminders and go before sending them
    (one stops, one is cut off), after the third's runs for those instants passed over their
    claims. No later instant falls due: the third sends them all soon, each once, without
    waiting for its next planning pass (10 minutes)."""
    a, b, c = [await _process(pg_url, clock, PostgresPeers(pg_url)) for _ in range(3)]
    scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
    try:
        await _groups_with_sessions(a.services, clock)
        # a claims the first instant's reminders and b the next one's; their sends fail, so
        # the rows stay `sending`, claimed by processes that still live.
        claimed: dict[str, set[int]] = {}
        for name, p in (("a", a), ("b", b)):
            instant = await _next_instant((a, b, c), clock)
            clock.set(from_unix(instant))
            p.port.fail.add("send_reminder")
            report = await p.services.dispatcher.dispatch(from_unix(instant))
            assert report.retried > 0 and report.sent == 0
            rows = await c.db.fetchall(
                "SELECT id FROM reminder_ledger WHERE state = 'sending' AND claimed_by = ?",
                (p.peers.token,),
            )
            claimed[name] = {int(r["id"]) for r in rows}
            assert len(claimed[name]) == report.retried
        with time_machine.travel(clock.now(), tick=False) as traveller:
            # c runs as in the bot: a running APScheduler on the same (moved) wall clock.
            scheduler.start()
            timers = ReminderScheduler(
                scheduler, c.services.planner, c.services.dispatcher, c.services.reminders, clock
            )
            await timers.start()
            assert timers.first_pass is not None
            await asyncio.wait_for(timers.first_pass, 10)
            for _ in range(500):  # its runs for both instants, due now, pass over the claims
                if not timers._running and not any(
                    j.id.startswith("reminders-due:") for j in scheduler.get_jobs()
                ):
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("c's runs for the instants did not end")
            assert not c.port.reminder_attempts
            # a stops (as on SIGTERM); b's connection is cut (a host gone, a SIGKILL).
            await a.peers.close()
            await _cut_off(b, pg_url)
            await _gone((a, b), c)
            # One look alone takes nothing over (a live process's connection may have dropped
            # for a moment): no run is added for their reminders.
            await timers.take_over()
            assert not timers._again
            assert not any(j.id.startswith("reminders-due:") for j in scheduler.get_jobs())
            # Twice eleven seconds pass (two looks find the claims of processes gone: a
            # moment's drop of a live process's connection is not taken for its end), and
            # nothing else falls due.
            for _ in range(2):
                later = clock.now() + timedelta(seconds=11)
                traveller.move_to(later)
                clock.set(later)
                scheduler.wakeup()
                await asyncio.sleep(0.2)  # the look runs
            for _ in range(500):
                left = await c.db.fetchval(
                    "SELECT count(*) FROM reminder_ledger WHERE state IN ('pending', 'sending')"
                )
                if left == 0 and not timers._running:
                    break
                await asyncio.sleep(0.01)
        ledger = {
            (int(r["id"]), int(r["message_id"]))
            for r in await c.db.fetchall(
                "SELECT id, message_id FROM reminder_ledger WHERE state = 'sent' AND claimed_by = ?",
                (c.peers.token,),
            )
        }
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        for p in (a, b, c):
            await p.peers.close()
            await p.db.close()

    assert left == 0, f"{left} reminders of the processes that went were not sent"
    sent_by_c = Counter(card.ledger_id for _, card in c.port.reminder_attempts)
    assert sent_by_c == Counter({i: 1 for i in claimed["a"] | claimed["b"]})
    # What Discord got is what the ledger says was sent, by c.
    posted = {r.card.ledger_id: r.message_id for r in c.port.reminders}
    assert set(posted) == claimed["a"] | claimed["b"]
    assert {(i, m) for i, m in posted.items()} == ledger
