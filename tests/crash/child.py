"""The real FamilyBot in a process of its own, pointed at a fake Discord (crash-test child).

Run from the repository root as ``python -m tests.crash.child`` with the bot's usual settings
in the environment (DISCORD_TOKEN, DATABASE_PATH, DEV_GUILD_ID, ...) plus:

* CRASH_API_BASE and CRASH_GATEWAY_URL: the fake's REST base and Gateway URL. discord.py has
  no setting for these, so the two class attributes are patched here, as the in-process
  harness does (tests/support/fake_discord/server.py point_discord_py_at).
* CRASH_NONCE_MEMORY_S (optional): how long the bot assumes Discord remembers a nonce. The
  crash test shortens it (and the fake's memory with it) so that a run of a minute exercises
  both recovery paths: resending with the same nonce, and looking for the message first.

The clock is the real one: the parent seeds the schedule relative to the moment it starts,
so time passes for the bot while it is dead, exactly as in production. Nothing here sleeps.
SIGTERM closes the bot cleanly (exit 0); SIGKILL is the point of the exercise.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import discord
import yarl

from familybot.bot import FamilyBot
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
        task = loop.create_task(bot.close())
        closing.add(task)
        task.add_done_callback(closing.discard)

    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, stop)
    async with bot:
        # The fake's token is not shaped like a real one, so require_token() would refuse it.
        await bot.start(settings.discord_token or "")
    print("crash-child: stopped cleanly", file=sys.stderr, flush=True)
    return 0


def main() -> int:
    discord.http.Route.BASE = os.environ["CRASH_API_BASE"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["CRASH_GATEWAY_URL"])
    memory = os.environ.get("CRASH_NONCE_MEMORY_S")
    if memory:
        reminder_sender.NONCE_MEMORY = timedelta(seconds=float(memory))
    settings = load_settings(Path(os.devnull), environ=dict(os.environ))
    configure_logging(settings.log_level)
    return asyncio.run(run(settings))


if __name__ == "__main__":
    sys.exit(main())
