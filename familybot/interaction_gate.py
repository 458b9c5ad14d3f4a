"""Each interaction handled by one process, however many run its shard (issue 16).

Discord sends every Gateway event, interactions included, to every connection of a shard:
two processes running the same shard (a standby, a rolling restart) would both run each
slash command, button and form (both write; one answer fails, "already acknowledged"). So
before discord.py parses an INTERACTION_CREATE, the process claims the interaction's id in
the shared database (one insert-if-absent, InteractionClaimRepository.claim): only the
process whose insert went in handles it; the others drop it. SQLite does the same: there is
usually one process, and a claim costs it well under a millisecond. Autocomplete and the
crisis lines are not claimed (`receive`).

The parse also starts the interaction in that person's language: discord.py creates the
callback and listener tasks while it parses, and a task keeps its creator's context.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from familybot import i18n
from familybot.clock import Clock
from familybot.db.connection import Database, DatabaseUnavailable
from familybot.db.repositories.interaction_claims import InteractionClaimRepository
from familybot.scheduler.reminders import JOB_DEFAULTS

log = logging.getLogger(__name__)

# How long an interaction waits for its claim before it is handled anyway: Discord wants the
# first answer within 3 s, the command may then wait up to 2 s for a busy database itself,
# and a claim takes well under 10 ms (bench/interaction_claims.py).
CLAIM_WAIT_S = 0.5
# An interaction can be answered for 15 minutes; a RESUME replays only what a connection
# missed. Claims older than this protect nothing.
KEEP = timedelta(hours=1)
PRUNE_EVERY = timedelta(minutes=10)
# When the process stops, how long what it took last may still run, at most, before its
# connections close (interactions it had not taken go to another process on the shard).
CLOSE_GRACE_S = 1.5
# The crisis lines (/crisis, the start-here panel's button) are answered from memory and are
# never claimed: they never wait for the database nor leave a row there. When two processes
# run the shard both answer; Discord keeps the first and refuses the other (40060, logged
# quietly by familybot/tree.py), so the person sees one answer.
FROM_MEMORY_COMMANDS = frozenset({"crisis"})
FROM_MEMORY_BUTTONS = frozenset({"fb:panel:crisis"})
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE = 2, 3, 4


def answered_from_memory(data: Any) -> bool:
    inner = data.get("data") or {}
    if data.get("type") == APPLICATION_COMMAND:
        return inner.get("name") in FROM_MEMORY_COMMANDS
    if data.get("type") == MESSAGE_COMPONENT:
        return inner.get("custom_id") in FROM_MEMORY_BUTTONS
    return False


class InteractionGate:
    """Wraps discord.py's INTERACTION_CREATE parser: claim, then parse (in the language)."""

    def __init__(self, parsers: dict[str, Any]) -> None:
        self._parse = parsers["INTERACTION_CREATE"]
        parsers["INTERACTION_CREATE"] = self.receive
        self._claims: InteractionClaimRepository | None = None
        self._clock: Clock | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        # Interactions this process handled, and those it left to another process.
        self.handled = 0
        self.dropped = 0
        self._closing = False
        # The tasks each handled interaction set off (its command, button or form callback):
        # a stopping process waits for them before its connections close.
        self._running: set[asyncio.Task[Any]] = set()

    def open(self, db: Database, clock: Clock, scheduler: BaseScheduler) -> None:
        """Claim from now on (the database is open); prune old claims every 10 minutes."""
        self._claims = InteractionClaimRepository(db)
        self._clock = clock
        scheduler.add_job(
            self.prune,
            IntervalTrigger(seconds=PRUNE_EVERY.total_seconds()),
            id="interaction-claims-prune",
            replace_existing=True,
            **JOB_DEFAULTS,
        )

    def receive(self, data: Any) -> None:
        """The parser discord.py calls for each INTERACTION_CREATE."""
        if self._claims is None or answered_from_memory(data):  # nothing to claim (in)
            self._handle(data)
            return
        if self._closing:  # this process is stopping: left to another one on the shard
            self.dropped += 1
            log.debug("interaction left to another process while stopping id=%s", data.get("id"))
            return
        if data.get("type") == AUTOCOMPLETE:
            # Not claimed: suggestions change nothing, and come with each keystroke (a claim
            # would be a database write per keystroke protecting nothing). Two processes on
            # the shard both suggest; Discord shows the first answer and refuses the other
            # (40060, logged quietly: familybot/tree.py).
            self._handle(data)
            return
        self._keep(asyncio.create_task(self._claim_then_handle(data)))

    async def close(self) -> None:
        """When the process stops: claim nothing more (another process on the shard takes
        what comes), and give what it took up to CLOSE_GRACE_S to be answered before the
        bot's connections close (a command answers within a few hundred ms)."""
        self._closing = True
        loop = asyncio.get_running_loop()
        until = loop.time() + CLOSE_GRACE_S
        if self._pending:  # claims still deciding
            await asyncio.wait(set(self._pending), timeout=CLOSE_GRACE_S)
        if self._running:
            await asyncio.wait(set(self._running), timeout=max(until - loop.time(), 0.01))

    async def _claim_then_handle(self, data: Any) -> None:
        interaction_id = int(data["id"])
        if await self._won(interaction_id):
            self.handled += 1
            self._handle(data)
        else:
            self.dropped += 1
            log.debug("interaction taken by another process id=%d", interaction_id)

    async def _won(self, interaction_id: int) -> bool:
        """Whether this process handles the interaction. When the claim cannot be made (the
        database down, locked or slow) it is handled anyway: the person must get an answer,
        and a double one, should another process run the shard too, is better than none."""
        assert self._claims is not None and self._clock is not None
        claim = asyncio.create_task(self._claims.claim(interaction_id, self._clock.now()))
        try:
            return await asyncio.wait_for(asyncio.shield(claim), CLAIM_WAIT_S)
        except TimeoutError:
            self._keep(claim, late=True)  # it ends on its own; its answer no longer matters
            log.warning(
                "interaction claim slower than %.1f s; handled anyway id=%d",
                CLAIM_WAIT_S,
                interaction_id,
            )
        except Exception as exc:
            log.warning(
                "interaction claim failed (%s); handled anyway id=%d",
                type(exc).__name__,
                interaction_id,
            )
        return True

    def _handle(self, data: Any) -> None:
        loop = asyncio.get_running_loop()
        before = asyncio.all_tasks(loop)
        token = i18n.activate(i18n.for_payload(data))
        try:
            self._parse(data)
        finally:
            i18n.reset(token)
        for task in asyncio.all_tasks(loop) - before:  # what the parse set off
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    def _keep(self, future: asyncio.Future[Any], *, late: bool = False) -> None:
        """Holds a task until it ends (the loop keeps only weak references)."""
        self._pending.add(future)

        def ended(done: asyncio.Future[Any]) -> None:
            self._pending.discard(done)
            error = None if done.cancelled() else done.exception()
            if error is None:
                return
            if late:  # its interaction was handled already, and that was logged
                log.debug("late interaction claim failed (%s)", type(error).__name__)
            else:  # an error in discord.py's parse: here, not "never retrieved"
                log.error("interaction parse failed", exc_info=error)

        future.add_done_callback(ended)

    async def prune(self) -> None:
        """Forget claims older than KEEP (every process does it; it is one indexed delete)."""
        if self._claims is None or self._clock is None:
            return
        try:
            gone = await self._claims.prune(self._clock.now() - KEEP)
        except DatabaseUnavailable as exc:
            log.warning("interaction claims not pruned (%s); next time", exc.kind or "error")
            return
        log.debug("interaction claims pruned count=%d", gone)
