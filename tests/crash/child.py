"""The real FamilyBot in a process of its own, pointed at a fake Discord (crash-test child).

Run from the repository root as ``python -m tests.crash.child`` with the bot's usual settings
in the environment (DISCORD_TOKEN, DATABASE_PATH, DEV_GUILD_ID, ...) plus:

* CRASH_API_BASE and CRASH_GATEWAY_URL: the fake's REST base and Gateway URL. discord.py has
  no setting for these, so the two class attributes are patched here, as the in-process
  harness does (tests/support/fake_discord/server.py point_discord_py_at).
* CRASH_NONCE_MEMORY_S (optional): how long the bot assumes Discord remembers a nonce. The
  crash test shortens it (and the fake's memory with it) so that a run of a minute exercises
  both recovery paths: resending with the same nonce, and looking for the message first.
* CRASH_DAILY_JOBS_EVERY_S (optional, test-only, a divisor of 60): the database-wide daily
  jobs (bot.PRIMARY_ONLY_JOBS) fire every that many seconds on the wall clock (a cron on the
  second) instead of once a day, so a run of a minute has many "days", the same ones in
  every process. Patched here, not in familybot/bot.py: production never reads it.

The clock is the real one: the parent seeds the schedule relative to the moment it starts,
so time passes for the bot while it is dead, exactly as in production. Nothing here sleeps.
SIGTERM closes the bot cleanly (exit 0); SIGKILL is the point of the exercise.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import discord
import yarl
from apscheduler.triggers.cron import CronTrigger

from familybot.bot import PRIMARY_ONLY_JOBS, FamilyBot
from familybot.config import Settings, load_settings
from familybot.logging_setup import configure_logging
from familybot.services.reminders import sender as reminder_sender


async def run(settings: Settings) -> int:
    bot = FamilyBot(settings)
    # discord.py waits 2 s after the last GUILD_CREATE before READY; the fake has one guild.
    bot._connection.guild_ready_timeout = 0.05
    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task[None]] = set()

    def stop() -> None:
        task = loop.create_task(bot.shutdown())
        closing.add(task)
        task.add_done_callback(closing.discard)

    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, stop)
    async with bot:
        # The fake's token is not shaped like a real one, so require_token() would refuse it.
        await bot.start(settings.discord_token or "")
    print("crash-child: stopped cleanly", file=sys.stderr, flush=True)
    return 0


def daily_jobs_every(seconds: int) -> None:
    """Make FamilyBot fire its database-wide daily jobs every `seconds` (see above)."""
    assert 60 % seconds == 0, "CRASH_DAILY_JOBS_EVERY_S must divide 60"
    add_daily_jobs = FamilyBot._add_daily_jobs

    def often(self: FamilyBot) -> None:
        add_daily_jobs(self)
        for job_id in PRIMARY_ONLY_JOBS:
            # Each `seconds` window is the job's period too: once per window (job_runs).
            trigger = CronTrigger(second=f"*/{seconds}", timezone="UTC")
            job = self.leadership.jobs[job_id]
            job.trigger, job.period = trigger, timedelta(seconds=seconds)
            self.scheduler.reschedule_job(job_id, trigger=trigger)

    FamilyBot._add_daily_jobs = often  # type: ignore[method-assign]


def main() -> int:
    # A stop that hangs: the parent sends SIGUSR1 and every thread's stack goes to the log.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    discord.http.Route.BASE = os.environ["CRASH_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["CRASH_GATEWAY_URL"])
    memory = os.environ.get("CRASH_NONCE_MEMORY_S")
    if memory:
        reminder_sender.NONCE_MEMORY = timedelta(seconds=float(memory))
    every = os.environ.get("CRASH_DAILY_JOBS_EVERY_S")
    if every:
        daily_jobs_every(int(every))
    settings = load_settings(Path(os.devnull), environ=dict(os.environ))
    configure_logging(settings.log_level)
    return asyncio.run(run(settings))


if __name__ == "__main__":
    sys.exit(main())
