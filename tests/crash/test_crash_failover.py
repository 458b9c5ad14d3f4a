"""Failover on PostgreSQL: two bot processes for the same shards, SIGKILLed in turn.

Both run against one PostgreSQL database and the fake Discord. At each cycle one of them
is killed at a random moment (after some reminder sends, or at once) while the other keeps
running; the dead one is started again before the other is killed. Each reminder is
claimed by one process (ReminderRepository.claim); a claim of a dead process passes to
the live one, which resends with the same nonce or finds the message first. At the end:
every reminder posted exactly once, the ledger agrees with Discord.

No commands here: two live processes on the same shards would both answer each interaction
(README "Several processes": an overlap is for hand-overs only). Knobs as the single-process
crash test: FAMILYBOT_CRASH_FAILOVER_CYCLES (default 10), FAMILYBOT_CRASH_SEED.

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

from familybot.db.peers import LEADER_RETRY, SETTLE
from tests.crash import global_jobs
from tests.crash.child_process import ChildBot
from tests.crash.store import crash_store
from tests.crash.test_crash_safety import (
    BOT_NONCE_MEMORY_S,
    FAKE_NONCE_MEMORY_S,
    KILL_TIMEOUT,
    SEED,
    RequestTally,
    catch_up_seconds,
    is_reminder_post,
    reminder_messages,
    unresolved_rows,
)
from tests.crash.workload import seed
from tests.support.fake_discord import FakeDiscord

CYCLES = int(os.environ.get("FAMILYBOT_CRASH_FAILOVER_CYCLES", "10"))
WINDOW = max(20, int(CYCLES * 2.5))


async def test_two_processes_for_the_same_shards_killed_in_turn_send_each_reminder_once(
    tmp_path: Path,
) -> None:
    async with crash_store("postgres", tmp_path) as store:
        rng = random.Random(f"{SEED}:failover")
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
        dirs = [tmp_path / "a", tmp_path / "b"]
        for d in dirs:
            d.mkdir()
        bots = [ChildBot(fake, d, dict(env)) for d in dirs]
        began = time.monotonic()
        try:
            work = await seed(store.target, fake, rng, now=datetime.now(UTC), window_seconds=WINDOW)
            for bot in bots:
                bot.env["DEV_GUILD_ID"] = str(work.guild_id)
                await bot.spawn()
            sends = RequestTally(fake, is_reminder_post)
            for cycle in range(CYCLES):
                victim = bots[cycle % 2]
                want = rng.randint(0, 15)
                start, at = sends.update(), time.monotonic()
                while sends.update() - start < want and time.monotonic() - at < KILL_TIMEOUT:
                    for bot in bots:
                        bot.check_alive()
                    await asyncio.sleep(0.005)
                await victim.kill()
                await victim.spawn()
            # The last stretch on one process: once it sees the other gone (at its next
            # recount, within LEADER_RETRY; a process restarted just now first settles for
            # SETTLE), it paces at the whole budget.
            survivor, other = bots[(CYCLES - 1) % 2], bots[CYCLES % 2]
            await other.stop()  # the one not restarted just now: its SIGTERM handler is set
            slack = (LEADER_RETRY + SETTLE).total_seconds()
            deadline = time.monotonic() + catch_up_seconds(work, fake, datetime.now(UTC)) + slack
            while True:
                survivor.check_alive()
                posted = reminder_messages(fake, work)
                if (
                    set(work.expected) <= set(posted)
                    and await unresolved_rows(store, work.end) == 0
                ):
                    break
                assert time.monotonic() < deadline, (
                    f"not caught up: {len(set(work.expected) - set(posted))} never posted"
                )
                await asyncio.sleep(0.1)
            # A quiet stretch: the survivor runs each global job in a later window, alone.
            assert survivor.log_path is not None
            after = int(time.time()) // global_jobs.EVERY + 1
            deadline = time.monotonic() + 3 * global_jobs.EVERY + 15
            while {
                r.job for r in global_jobs.read_runs([survivor.log_path]) if r.window >= after
            } != set(global_jobs.JOBS):
                survivor.check_alive()
                assert time.monotonic() < deadline, "the survivor ran no global job when alone"
                await asyncio.sleep(0.1)
            await asyncio.sleep(global_jobs.HOLD)  # so that this window counts as covered
            await survivor.stop()
        finally:
            for bot in bots:
                await bot.ensure_dead()
            await fake.stop()

        posted = reminder_messages(fake, work)
        twice = {k: v for k, v in posted.items() if len(v) > 1}
        assert not twice, f"{len(twice)} reminders posted more than once, e.g. {list(twice)[:5]}"
        assert set(posted) == set(work.expected)
        ledger = {
            (r[0], r[1]): (r[2], r[3])
            for r in await store.rows(
                "SELECT series_id, target, state, message_id FROM reminder_ledger "
                "WHERE due_at <= ?",
                (int(work.end.timestamp()),),
            )
        }
        wrong = [k for k in work.expected if ledger.get(k) != ("sent", int(posted[k][0]))]
        assert not wrong, f"{len(wrong)} ledger rows disagree with Discord, e.g. {wrong[:5]}"
        ended = [e for bot in bots for e in bot.ended]
        runs = global_jobs.read_runs([log for log, _ in ended])
        doubled = global_jobs.twice(runs)
        assert not doubled, f"global jobs finished twice in one window: {doubled}"
        covered = global_jobs.covered_windows(global_jobs.lives(ended))
        assert covered, "no window in which a process lived long enough"
        started = {(r.job, r.window) for r in runs}
        missed = [(j, w) for w in covered for j in global_jobs.JOBS if (j, w) not in started]
        assert not missed, f"global jobs that did not run in a covered window: {missed}"
        unfinished = sum(not r.finished for r in runs)
        nonces = Counter(m["nonce"] for ms in fake.messages.values() for m in ms if m.get("nonce"))
        assert max(nonces.values()) == 1
        print(
            f"\ncrash failover (postgres, two processes): kill cycles={CYCLES} "
            f"reminders={len(work.expected)} posted once each (POSTs incl. resends="
            f"{sends.update()}) duration={time.monotonic() - began:.1f}s; global jobs: "
            f"{len(runs)} runs ({unfinished} cut by a kill), {len(covered)} windows covered"
        )
