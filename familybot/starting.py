"""Start-up as a task of its own, so that a stop asked for while the bot starts is clean.

SIGTERM or Ctrl-C can arrive while `setup_hook` is still migrating, reading the database or
loading cogs. If `close()` then closed the database under it, start-up failed with
"the database cannot be reached" and the process exited with an error, though it was only
asked to stop (a service manager restarting it, an operator pressing Ctrl-C). Instead,
`close()` first lets start-up finish (it is short) or, if it hangs past a few seconds,
cancels it; then it shuts down what start-up built, and the process exits cleanly.

After start-up, discord.py logs in and looks up the Gateway: a stop then closes its HTTP
session under that call, which raises "Session is closed" or "Connector is closed"
(RuntimeError) or an aiohttp error. `connecting` takes that for the stop it is. Discord's own
refusals (a bad token, intents, a closed Gateway connection) and anything raised when no
stop was asked for still end the process with their message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

# How long a stop lets start-up finish before cancelling it (a normal start takes ~1 s).
FINISH_TIMEOUT = 5.0


class Startup:
    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # A stop asked for from outside (SIGTERM, Ctrl-C: FamilyBot.shutdown), not a close()
        # discord.py makes itself before raising an error of its own.
        self.asked = False

    async def run(self, work: Coroutine[Any, Any, None]) -> None:
        """Run start-up; returns quietly when `stop()` cancelled it."""
        self._task = asyncio.create_task(work, name="familybot-startup")
        try:
            await self._task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not self._stopping or (current is not None and current.cancelling()):
                raise  # cancelled from outside, not by a stop: not ours to swallow
            log.info("start-up stopped part-way: shutting down")

    async def stop(self) -> None:
        """Before shutting down: let start-up finish for up to FINISH_TIMEOUT s, then cancel it."""
        self._stopping = True
        task = self._task
        if task is None or task.done() or task is asyncio.current_task():
            return
        log.info("stop asked for during start-up: letting it finish first")
        done, _ = await asyncio.wait({task}, timeout=FINISH_TIMEOUT)
        if not done:
            task.cancel()
            await asyncio.wait({task})  # its error, if any, is for run() to raise


async def connecting(work: Coroutine[Any, Any, None], asked: Callable[[], bool]) -> None:
    """Log in and connect (`work`); the closed HTTP session's error after a stop someone asked
    for (`asked`) is none. discord.py also closes the client itself before raising an error
    of its own: that error still ends the process as a failure."""
    try:
        await work
    except (RuntimeError, aiohttp.ClientError) as error:
        if not asked():
            raise
        log.info("stopped while connecting to Discord (%s)", type(error).__name__)
