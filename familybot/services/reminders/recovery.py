"""Finding interrupted sends in Discord: one history scan per place, not one per reminder.

A reminder left `sending` beyond Discord's nonce memory must be looked for before it is
sent again (sender.py). After a crash during a burst, many such reminders share a channel
(or a person's DMs); asking Discord once per reminder read the same history again and again
(3.1 reads per interrupted send in the crash test). Within one dispatch run, a Recovery
reads each place's history once, for every interrupted reminder of that place it knows
of, and what it finds is stored at once (`remember`), so a crash right after the read
does not make the next run read it again.

Any message an earlier attempt made exists before this run's read: the run has not sent
those reminders again yet (it sends each one only after its lookup answered).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta

from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.repositories.reminders import ReminderRepository
from familybot.models.reminders import ReminderTarget
from familybot.services.reminders.ports import ReminderPort

log = logging.getLogger(__name__)

# A message made by an earlier attempt is at least this much older than the attempt's record
# (the record is written just before the send; clocks of the bot and Discord differ a little).
SLACK = timedelta(seconds=5)

# Stores what a read found: (ledger id, message id, sent late) for each.
Remember = Callable[[list[tuple[int, int, bool]]], Awaitable[None]]


def looks_from(first_attempt: datetime) -> datetime:
    return first_attempt - SLACK


class Recovery:
    """Per dispatch run: the interrupted reminders to look for, grouped by place."""

    def __init__(self, discord: ReminderPort, remember: Remember | None = None) -> None:
        self._discord = discord
        self._remember = remember
        # place -> ledger id -> earliest instant its message can have been made
        self._wanted: dict[ReminderTarget, dict[int, datetime]] = {}
        self._late: dict[int, bool] = {}
        # place -> the read covering those ids (its result: ledger id -> message id)
        self._reads: dict[ReminderTarget, tuple[frozenset[int], asyncio.Task[dict[int, int]]]] = {}
        self.reads = 0

    @classmethod
    def storing(
        cls, discord: ReminderPort, db: Database, ledger: ReminderRepository, clock: Clock
    ) -> Recovery:
        """A Recovery that marks what it finds as sent in the ledger, in one transaction."""

        async def remember(found: list[tuple[int, int, bool]]) -> None:
            async with db.transaction():
                await ledger.mark_sent(found, clock.now())

        return cls(discord, remember)

    def note(self, wanted: Iterable[tuple[ReminderTarget, int, datetime, bool]]) -> None:
        """Interrupted reminders (place, ledger id, first attempt, late) to look for."""
        for target, ledger_id, first, late in wanted:
            self._wanted.setdefault(target, {})[ledger_id] = looks_from(first)
            self._late[ledger_id] = late

    async def find(
        self, target: ReminderTarget, ledger_id: int, first: datetime, late: bool = False
    ) -> int | None:
        """The message an earlier attempt made for `ledger_id`, if Discord has it.

        Raises when Discord cannot be asked (not knowing is not "not sent")."""
        wanted = self._wanted.setdefault(target, {})
        wanted.setdefault(ledger_id, looks_from(first))
        self._late.setdefault(ledger_id, late)
        read = self._reads.get(target)
        if read is None or ledger_id not in read[0]:
            ids = frozenset(wanted)
            task = asyncio.ensure_future(self._read(target, ids, min(wanted.values())))
            read = (ids, task)
            self._reads[target] = read
        found = await asyncio.shield(read[1])
        return found.get(ledger_id)

    async def _read(
        self, target: ReminderTarget, ids: frozenset[int], after: datetime
    ) -> dict[int, int]:
        self.reads += 1
        # Ledger ids only (no place, no person): the crash tests hold each process life to
        # at most one read per interrupted reminder it looked for.
        log.info(
            "reading history for interrupted reminders count=%d ledger=%s",
            len(ids),
            ",".join(map(str, sorted(ids))),
        )
        found = await self._discord.find_reminders(target, ids, after)
        if found and self._remember is not None:
            try:
                await self._remember(
                    [(i, found[i], self._late.get(i, False)) for i in sorted(found)]
                )
            except Exception:  # the run's own record stores them later
                log.warning("could not store reminders found after an interrupted send")
        return found
