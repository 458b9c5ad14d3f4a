"""Which process reads a member's messages when several processes run the same shard.

Discord sends every event of a shard to every connection running it: with two processes on
one shard (a standby, a rolling restart) both would run the safety watch and automod on each
message, and a person at risk would get the crisis lines twice and facilitators two alerts.
Interactions are claimed in the database (familybot/interaction_gate.py); messages are not,
for they are many and a claim would store who wrote what matched. Instead every process
knows which live processes run each shard (on PostgreSQL, the holders of the shard's lock,
db/peers.py) and the member's messages go to one of them, chosen by rendezvous hashing of
the member's id over the processes' tokens: every process computes the same choice, the
same person's messages always reach the same process (so its per-person cooldown holds),
and when a process comes or goes only the members it had move.

Only a process that can read counts: it joins the readers (PostgreSQL: a shared lock per
shard, db/peers.py READER_LOCK_SPACE) once connected to Discord with the Message Content
intent on, not when it starts, so no member is handed to a process still starting. The view
is refreshed every ROUTING_EVERY. In between, a process that has just joined reads the
messages of its part while the others still read everyone's (a message may be read twice for
those seconds). A process that stops leaves the readers first and goes on reading every
message for HANDOVER, long enough for the others to look again, before it disconnects: no
message goes unread. Only a process that dies leaves its part unread, until the others' next
refresh (at most ROUTING_EVERY). Whenever the view is unknown (SQLite, where each process
runs shards of its own; the database unreachable; this process not in it) a process reads
every message of its shards, as a single process does: a second answer is better than none.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from familybot.db.peers import RECOUNT, Peers, shard_key
from familybot.sharding import shard_of

log = logging.getLogger(__name__)

ROUTING_EVERY = RECOUNT
# How long a stopping process reads every message after leaving the readers: the others'
# recount interval and a margin for a late one.
HANDOVER = RECOUNT + timedelta(seconds=2)


def _weight(token: int, member_id: int) -> bytes:
    return hashlib.blake2b(f"{token}:{member_id}".encode(), digest_size=8).digest()


def reader_of(tokens: frozenset[int], member_id: int) -> int:
    """The process (token) that reads `member_id`'s messages among `tokens` (not empty)."""
    return max(tokens, key=lambda token: _weight(token, member_id))


class MessageRouting:
    def __init__(self, peers: Peers) -> None:
        self._peers = peers
        # shard_key(count, shard) -> the tokens of the live processes running it.
        self._view: dict[int, frozenset[int]] | None = None
        self.read = 0  # messages this process read, and left to another (counts only)
        self.left = 0
        self.leaving = False  # stopping: reads every message until it disconnects
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep  # (tests hold it)

    async def join(self) -> None:
        """Connected, and able to read messages: take a part of the members from now on."""
        await self._peers.start_reading()

    async def leave(self) -> None:
        """Stopping: give the part back, and read everyone's messages until the others have
        looked again (only if others read these shards; otherwise nobody is waiting)."""
        self.leaving = True
        shared = any(
            len(tokens) > 1 and self._peers.token in tokens
            for tokens in (self._view or {}).values()
        )
        await self._peers.stop_reading()
        if shared:
            log.info("handing this process's members over seconds=%d", HANDOVER.total_seconds())
            await self.sleep(HANDOVER.total_seconds())

    async def refresh(self) -> None:
        view = await self._peers.shard_members()
        if view != self._view:
            log.info(
                "message routing now processes_per_shard=%s",
                {key: len(tokens) for key, tokens in sorted((view or {}).items())},
            )
        self._view = view

    def reads(self, guild_id: int, member_id: int) -> bool:
        """Whether this process reads this member's messages in this server."""
        mine = self._reader(guild_id, member_id)
        if mine:
            self.read += 1
        else:
            self.left += 1
        return mine

    def _reader(self, guild_id: int, member_id: int) -> bool:
        if self.leaving or not self._view:
            return True
        count = self._peers.shards.count
        tokens = self._view.get(shard_key(count, shard_of(guild_id, count)))
        if not tokens or self._peers.token not in tokens:
            return True
        return reader_of(tokens, member_id) == self._peers.token
