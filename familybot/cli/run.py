"""`familybot run`: start the bot, retrying while the network is away."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable

from familybot.cli import EXIT_CONFIG
from familybot.clock import Clock, SystemClock
from familybot.config import Settings

log = logging.getLogger("familybot")


async def _run(
    settings: Settings,
    token: str,
    *,
    clock: Clock | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> int:
    """Run the bot until stopped. Without a network: one line, then retry with backoff.

    clock and sleep are for tests (controlled time); by default the wait between tries
    ends early when SIGINT/SIGTERM asks the bot to stop.
    """
    from familybot.gc_quiet import quiet_imports

    with quiet_imports():  # issue 15: start-up
        import discord

        from familybot.bot import FamilyBot
        from familybot.connect_retry import (
            NETWORK_ERRORS,
            database_retry_message,
            retry_delays,
            retry_message,
        )
        from familybot.db.connection import DatabaseUnavailable
        from familybot.services.crisis.service import CrisisDataError

    clock = clock or SystemClock()
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    tasks: set[asyncio.Task[None]] = set()
    bot: FamilyBot | None = None

    def request_stop(signame: str) -> None:
        if not stopping.is_set():
            log.info("received %s, shutting down", signame)
            stopping.set()
            if bot is not None:
                task = loop.create_task(bot.shutdown())
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    async def wait_or_stop(delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), delay)

    pause = sleep or wait_or_stop
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows has no signal handlers
            loop.add_signal_handler(sig, request_stop, sig.name)
    connected = asyncio.Event()  # reached Discord's gateway in this try

    async def note_connected() -> None:
        connected.set()

    delays = retry_delays()
    attempt = 0
    while not stopping.is_set():
        attempt += 1
        bot = FamilyBot(settings)  # a fresh client each try: a closed one cannot start again
        bot.add_listener(note_connected, "on_ready")
        try:
            async with bot:
                await bot.start(token)
        except discord.LoginFailure:
            print(
                "Discord did not accept the DISCORD_TOKEN in your .env. It may have been reset or "
                "copied incompletely. Open https://discord.com/developers/applications, choose "
                "your application, go to 'Bot', press 'Reset Token', and paste the new token "
                "into .env.",
                file=sys.stderr,
            )
            return EXIT_CONFIG
        except discord.PrivilegedIntentsRequired:
            print(
                "Discord refused an intent FamilyBot asked for (MESSAGE_CONTENT_INTENT or "
                "MEMBERS_INTENT is on in your .env): either turn it off, or enable 'Message "
                "Content Intent' / 'Server Members Intent' on the Bot page of your application "
                "at https://discord.com/developers/applications.",
                file=sys.stderr,
            )
            return EXIT_CONFIG
        except DatabaseUnavailable as exc:
            if stopping.is_set():
                break
            if settings.database_url and exc.kind in ("down", "locked"):
                # PostgreSQL booting, restarting or failing over: wait for it, as for the network.
                delay = next(delays)
                log.warning(database_retry_message(exc, delay, clock.now(), attempt))
                await pause(delay)
                continue
            where = "DATABASE_URL" if settings.database_url else "DATABASE_PATH"
            print(f"{exc} Check {where} in your .env.", file=sys.stderr)
            return EXIT_CONFIG
        except CrisisDataError as exc:
            print(f"The crisis-lines file is malformed: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        except NETWORK_ERRORS as exc:
            if stopping.is_set():
                break
            if connected.is_set():  # it had been connected: a new outage, a new backoff
                connected.clear()
                delays, attempt = retry_delays(), 1
            delay = next(delays)
            log.warning(retry_message(exc, delay, clock.now(), attempt))
            await pause(delay)
            continue
        break
    log.info("stopped cleanly")
    return 0


def cmd_run(settings: Settings) -> int:
    token = settings.require_token()
    from familybot.logging_setup import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    return asyncio.run(_run(settings, token))
