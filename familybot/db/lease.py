"""The leader on SQLite: a lease row, so exactly one process leads on one host (issue 16).

PostgreSQL elects the leader with an advisory lock (familybot/db/peers.py). SQLite has no
server to hold one, and two processes may run the same shards on one file (a standby, a
restart overlapping the old process): "the process running shard 0 leads" would make both
lead. Instead the leader holds the row of leader_lease: its token and an expiry LEASE ahead,
renewed at each try (every LEADER_RETRY, so one late try does not lose it). Another process
takes the row only once it has expired, so a killed leader's work passes on within
LEASE + LEADER_RETRY; a leader that stops cleanly gives it up at once.

A leader whose renewal fails (the file locked for a moment) keeps leading until its own
expiry, and no longer: by then another process may hold the row.
"""

from __future__ import annotations

import logging

from familybot.clock import Clock, SystemClock
from familybot.db.connection import Database
from familybot.db.peers import LEADER_RETRY, Peers, PostgresPeers
from familybot.models import to_unix
from familybot.sharding import ALL, ShardFilter

log = logging.getLogger(__name__)

LEASE = 2 * LEADER_RETRY
_NAME = "leader"


class LeasePeers(Peers):
    """One host (SQLite): the leader holds an unexpired lease row in the database."""

    def __init__(
        self,
        db: Database,
        *,
        token: int | None = None,
        shards: ShardFilter = ALL,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(leads=False, token=token, shards=shards)
        self._db = db
        self._clock: Clock = clock or SystemClock()
        self._expires = 0  # unix seconds: the end of this process's lease, as last renewed

    def _now(self) -> int:
        return to_unix(self._clock.now())

    async def start(self) -> None:
        await self.try_lead()

    async def try_lead(self) -> bool:
        now = self._now()
        try:
            async with self._db.transaction():
                await self._db.execute(
                    "INSERT INTO leader_lease (name, holder, expires_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                    "expires_at = excluded.expires_at "
                    "WHERE leader_lease.holder = excluded.holder OR leader_lease.expires_at <= ?",
                    (_NAME, self.token, now + int(LEASE.total_seconds()), now),
                )
                row = await self._db.fetchone(
                    "SELECT holder, expires_at FROM leader_lease WHERE name = ?", (_NAME,)
                )
        except Exception as exc:
            leading = self.leading and now < self._expires
            if self.leading and not leading:
                log.warning("lost the database-wide jobs error=%s", exc.__class__.__name__)
            self.leading = leading
            return leading
        held = row is not None and int(row["holder"]) == self.token
        if held and not self.leading:
            log.info("this process now runs the database-wide jobs token=%d", self.token)
        elif self.leading and not held:
            log.warning("lost the database-wide jobs: another process holds the lease")
        self.leading = held
        self._expires = int(row["expires_at"]) if held and row is not None else 0
        return held

    async def alive(self, token: int) -> bool:
        """This process, or the holder of the unexpired lease: only the leader claims jobs,
        so any other claimant is a leader whose lease ran out (dead, or stalled past it)."""
        if token == self.token:
            return True
        holder = await self._db.fetchval(
            "SELECT holder FROM leader_lease WHERE name = ? AND expires_at > ?",
            (_NAME, self._now()),
        )
        return holder is not None and int(holder) == token

    async def close(self) -> None:
        """Give the lease up: another process leads at its next try, not after LEASE."""
        if not self.leading:
            return
        self.leading = False
        try:
            await self._db.execute(
                "DELETE FROM leader_lease WHERE name = ? AND holder = ?", (_NAME, self.token)
            )
        except Exception as exc:  # it then simply expires
            log.warning("could not give up the lease error=%s", exc.__class__.__name__)


def peers_for(db: Database, database_url: str | None, shards: ShardFilter) -> Peers:
    """PostgreSQL: liveness and the leader by advisory locks. SQLite: the leader's lease."""
    if database_url:
        return PostgresPeers(database_url, shards=shards)
    return LeasePeers(db, shards=shards)
