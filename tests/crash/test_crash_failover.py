"""Failover on PostgreSQL: two or three bot processes for the same shards, SIGKILLed in turn.

All run against one PostgreSQL database and the fake Discord, whose global rate limit (50
requests in any rolling second, for the bot token across every process) is on. At each
cycle one of them is killed at a random moment (after some reminder sends, or at once)
while the others keep running; the dead one is started again before the next is killed.
Each reminder is claimed by one process (ReminderRepository.claim); a claim of a dead
process passes to a live one, which resends with the same nonce or finds the message
first. The processes share the rate budget (familybot/db/peers.py rate_share), so none of
their requests is refused. At the end all but one stop (a clean SIGTERM, leaving what they
had claimed to the last), and: every reminder posted exactly once, the ledger agrees with
Discord, no request answered 429, every change a person was told was done is stored.

People use the bot meanwhile (tests/crash/commands.py: time zones, DM settings, FAQ entries,
RSVPs): each interaction goes to every process on its shard, one claims it (familybot/
interaction_gate.py) and answers. One the killed process had claimed is never answered; its
person sends nothing more (a person has at most one command in flight, so their changes stay
ordered), and the others go on. Knobs as the single-process
crash test: FAMILYBOT_CRASH_FAILOVER_CYCLES (two processes, default 10),
FAMILYBOT_CRASH_FAILOVER3_CYCLES (three processes, default 10), FAMILYBOT_CRASH_SEED.

The leader's database-wide daily jobs fire every global_jobs.EVERY seconds here: each such
window ran each job at most once across the processes, and at least once where a process
lived through it (tests/crash/global_jobs.py says what a kill mid-job is allowed to leave).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from familybot.db.peers import RECOUNT, SETTLE
from tests.crash import global_jobs
from tests.crash.child_process import ChildBot
from tests.crash.commands import CommandDriver
from tests.crash.store import CrashStore, crash_store
from tests.crash.test_crash_safety import (
    BOT_NONCE_MEMORY_S,
    FAKE_NONCE_MEMORY_S,
    KILL_TIMEOUT,
    SEED,
    RequestTally,
    catch_up_seconds,
    history_reads,
    is_reminder_post,
    looked_for,
    reminder_messages,
    unresolved_rows,
)
from tests.crash.workload import Workload, seed
from tests.support.fake_discord import FakeDiscord

CYCLES = {
    2: int(os.environ.get("FAMILYBOT_CRASH_FAILOVER_CYCLES", "10")),
    3: int(os.environ.get("FAMILYBOT_CRASH_FAILOVER3_CYCLES", "10")),
}
# Discord's global limit, per bot token: the processes together must never reach it.
DISCORD_GLOBAL_LIMIT = 50
# How long a process started just now may take to be up (connected to the Gateway).
UP_TIMEOUT = 60.0
# What the bot logs once connected (familybot/bot.py on_ready).
READY_LINE = "familybot.bot: ready user="


def window_seconds(cycles: int) -> int:
    """Seconds of reminders: enough that sends keep happening through the kill cycles."""
    return max(20, int(cycles * 2.5))


async def wait_up(bot: ChildBot) -> None:
    """Until the child is connected. A SIGTERM earlier can end it otherwise than cleanly:
    before its handler is set, or (seen) while discord.py asks for the Gateway's address
    after setup_hook, where closing the HTTP session makes bot.start() raise (exit 1)."""
    deadline = time.monotonic() + UP_TIMEOUT
    while bot.log_path is None or READY_LINE not in bot.log_path.read_text(errors="replace"):
        bot.check_alive()
        assert time.monotonic() < deadline, f"the bot did not come up:\n{bot.tail()}"
        await asyncio.sleep(0.05)


async def kill_in_turn(
    bots: list[ChildBot], cycles: int, rng: random.Random, sends: RequestTally
) -> None:
    """Each cycle: after a random number of reminder sends (0 to 15, from any process), the
    next process in turn is SIGKILLed and started again at once."""
    for cycle in range(cycles):
        victim = bots[cycle % len(bots)]
        want = rng.randint(0, 15)
        start, at = sends.update(), time.monotonic()
        while sends.update() - start < want and time.monotonic() - at < KILL_TIMEOUT:
            for bot in bots:
                bot.check_alive()
            await asyncio.sleep(0.005)
        await victim.kill()
        await victim.spawn()


async def survivor_catches_up(
    survivor: ChildBot, work: Workload, store: CrashStore, fake: FakeDiscord
) -> None:
    """Alone, the survivor sends what is left, the others' unfinished claims included. It sees
    the others gone at its next recount (within RECOUNT; a process restarted just now
    first settles for SETTLE) and then paces at the whole budget."""
    slack = (RECOUNT + SETTLE).total_seconds()
    deadline = time.monotonic() + catch_up_seconds(work, fake, datetime.now(UTC)) + slack
    while True:
        survivor.check_alive()
        posted = reminder_messages(fake, work)
        if set(work.expected) <= set(posted) and await unresolved_rows(store, work.end) == 0:
            return
        assert time.monotonic() < deadline, (
            f"not caught up: {len(set(work.expected) - set(posted))} never posted, "
            f"{await unresolved_rows(store, work.end)} ledger rows unresolved"
        )
        await asyncio.sleep(0.1)


async def survivor_runs_the_global_jobs(survivor: ChildBot) -> None:
    """A quiet stretch: the survivor runs each global job in a later window, alone."""
    assert survivor.log_path is not None
    after = int(time.time()) // global_jobs.EVERY + 1
    deadline = time.monotonic() + 3 * global_jobs.EVERY + 15
    while {r.job for r in global_jobs.read_runs([survivor.log_path]) if r.window >= after} != set(
        global_jobs.JOBS
    ):
        survivor.check_alive()
        assert time.monotonic() < deadline, "the survivor ran no global job when alone"
        await asyncio.sleep(0.1)
    await asyncio.sleep(global_jobs.HOLD)  # so that this window counts as covered


async def assert_each_reminder_once(store: CrashStore, fake: FakeDiscord, work: Workload) -> None:
    posted = reminder_messages(fake, work)
    twice = {k: v for k, v in posted.items() if len(v) > 1}
    assert not twice, f"{len(twice)} reminders posted more than once, e.g. {list(twice)[:5]}"
    assert set(posted) == set(work.expected)
    ledger = {
        (r[0], r[1]): (r[2], r[3])
        for r in await store.rows(
            "SELECT series_id, target, state, message_id FROM reminder_ledger WHERE due_at <= ?",
            (int(work.end.timestamp()),),
        )
    }
    wrong = [k for k in work.expected if ledger.get(k) != ("sent", int(posted[k][0]))]
    assert not wrong, f"{len(wrong)} ledger rows disagree with Discord, e.g. {wrong[:5]}"
    nonces = Counter(m["nonce"] for ms in fake.messages.values() for m in ms if m.get("nonce"))
    assert max(nonces.values()) == 1


def assert_global_jobs(bots: list[ChildBot]) -> tuple[int, int, int]:
    """At most once per window, at least once per covered window; (runs, cut, covered)."""
    ended = [e for bot in bots for e in bot.ended]
    runs = global_jobs.read_runs([log for log, _ in ended])
    doubled = global_jobs.twice(runs)
    assert not doubled, f"global jobs finished twice in one window: {doubled}"
    covered = global_jobs.covered_windows(global_jobs.lives(ended))
    assert covered, "no window in which a process lived long enough"
    started = {(r.job, r.window) for r in runs}
    missed = [(j, w) for w in covered for j in global_jobs.JOBS if (j, w) not in started]
    assert not missed, f"global jobs that did not run in a covered window: {missed}"
    return len(runs), sum(not r.finished for r in runs), len(covered)


@pytest.mark.parametrize("processes", [2, 3], ids=["two", "three"])
async def test_processes_for_the_same_shards_killed_in_turn_send_each_reminder_once(
    tmp_path: Path, processes: int
) -> None:
    cycles = CYCLES[processes]
    async with crash_store("postgres", tmp_path) as store:
        rng = random.Random(f"{SEED}:failover" if processes == 2 else f"{SEED}:failover{processes}")
        fake = FakeDiscord()
        fake.time_based_ids = True
        fake.nonce_window_seconds = FAKE_NONCE_MEMORY_S
        await fake.start()
        env = {
            "DISCORD_TOKEN": fake.token,
            **store.env(),
            "DEFAULT_TIMEZONE": "America/New_York",
            "LOG_LEVEL": "INFO",
            "BACKUP_DIR": str(tmp_path / "backups"),
            "CRASH_NONCE_MEMORY_S": str(BOT_NONCE_MEMORY_S),
            "CRASH_DAILY_JOBS_EVERY_S": str(global_jobs.EVERY),
        }
        dirs = [tmp_path / "abc"[i] for i in range(processes)]
        for d in dirs:
            d.mkdir()
        bots = [ChildBot(fake, d, dict(env)) for d in dirs]
        began = time.monotonic()
        driver: CommandDriver | None = None
        try:
            now = datetime.now(UTC)
            work = await seed(
                store.target, fake, rng, now=now, window_seconds=window_seconds(cycles)
            )
            fake.global_rate_limit = DISCORD_GLOBAL_LIMIT  # rolling 1 s, every process's requests
            for bot in bots:
                bot.env["DEV_GUILD_ID"] = str(work.guild_id)
                await bot.spawn()
            driver = CommandDriver(fake, work, random.Random(rng.random()))
            driver.start()
            sends = RequestTally(fake, is_reminder_post)
            await kill_in_turn(bots, cycles, rng, sends)
            killed_at = time.monotonic()
            # The last stretch on the one started last: the others stop cleanly (once up, see
            # wait_up) with reminders claimed and not yet sent.
            survivor = bots[(cycles - 1) % processes]
            for bot in bots:
                if bot is not survivor:
                    await wait_up(bot)
                    await bot.stop()
            await survivor_catches_up(survivor, work, store, fake)
            caught_up = time.monotonic()
            await driver.stop()
            for _ in range(250):  # answers already on their way: up to 5 s to arrive
                if not driver.in_flight():
                    break
                await asyncio.sleep(0.02)
            await survivor_runs_the_global_jobs(survivor)
            await survivor.stop()
        finally:
            if driver is not None:
                await driver.stop()
            for bot in bots:
                await bot.ensure_dead()
            await fake.stop()

        await assert_each_reminder_once(store, fake, work)
        assert driver is not None
        acknowledged, lost = await driver.verify(store)
        assert not lost, f"{len(lost)} acknowledged changes lost: {lost[:5]}"
        assert acknowledged > 0, "no command was ever acknowledged: the test exercised nothing"
        refused = Counter(r.route_name for r in fake.requests if r.status == 429)
        assert fake.rate_limited_count == 0, (
            f"{fake.rate_limited_count} requests refused: {refused}"
        )
        runs, unfinished, covered = assert_global_jobs(bots)
        # At most one history read per interrupted send, across the processes too.
        reads, lookups = history_reads(fake), sum(looked_for(d) for d in dirs)
        assert reads <= lookups, f"{reads} history reads for {lookups} interrupted sends"
        print(
            f"\ncrash failover (postgres, {processes} processes): kill cycles={cycles} "
            f"reminders={len(work.expected)} posted once each (POSTs incl. resends="
            f"{sends.update()}) busiest 1 s={fake.busiest_window(1.0)} 429s=0; "
            f"kills {killed_at - began:.1f}s, catch-up {caught_up - killed_at:.1f}s, "
            f"duration={time.monotonic() - began:.1f}s; global jobs: "
            f"{runs} runs ({unfinished} cut by a kill), {covered} windows covered; "
            f"history reads={reads} for {lookups} interrupted sends; commands issued="
            f"{len(driver.issued)} acknowledged={acknowledged}"
        )
