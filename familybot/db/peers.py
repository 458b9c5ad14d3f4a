"""This process among the others sharing one database: which of them are alive, which leads.

Every process has a random *token*. It marks the reminders it claims (reminder_ledger.
claimed_by), so another process sharing the database leaves them alone while their
claimant lives, and takes them over once it is gone.

On PostgreSQL (several processes, maybe on several hosts) liveness is a session-level
advisory lock, held on a connection of its own, not one of the pool's:

* the process holds `(CLAIM_LOCK_SPACE, token)` for as long as it lives; the lock goes
  when its connection closes (the process exits, is killed, or its host drops off the
  network and the server notices), so "alive" is "its lock is in pg_locks"
  (dialect.live_claimants);
* the process that holds LEADER_LOCK_KEY is the *leader*: it alone runs the work over the
  whole database (backup, link check, review digest, command sync, retention's global
  part). The others try to take the lock every LEADER_RETRY, so when the leader dies
  another process leads within that time, and a global job asks once more when it fires.

On SQLite (one host) there is no server to hold locks: every process runs shards of its
own, so any reminder claim that is not this process's belongs to a process that is gone,
and the leader is the holder of a lease row (familybot/db/lease.py).

Whoever leads, each database-wide job runs once per period: the leader claims the run in
job_runs first (familybot/db/repositories/job_runs.py); `alive` says whether a claimant is
still there, so an unfinished run of a process gone is taken over.

Discord's global rate limit is per bot token: each process paces itself to its part of
one budget (`rate_share`). Each shard's part (budget / SHARD_COUNT) is split between the
live processes running that shard (on PostgreSQL, the holders of its shared lock), so two
processes running the same shards do not each take the whole of it. The lock names the
SHARD_COUNT too: while processes with different SHARD_COUNTs run (a move to more shards),
the budget is split between the SHARD_COUNTs first.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from familybot.db.base import DatabaseUnavailable
from familybot.db.dialect import CLAIM_LOCK_SPACE
from familybot.sharding import ALL, ShardFilter

log = logging.getLogger(__name__)

# The leader's lock, one 64-bit key: "FBOTlead".
LEADER_LOCK_KEY = 0x46424F546C656164
# Each process holds a shared lock (SHARD_LOCK_SPACE, shard_key(count, shard)) per shard it
# runs: "FBsh".
SHARD_LOCK_SPACE = 0x46427368
_COUNT_SHIFT = 16  # shard_key: SHARD_COUNT in the high bits, the shard in the low ones
# A process that reads its shards' messages (connected, with the Message Content intent) holds
# a shared lock (READER_LOCK_SPACE, shard_key) per shard too, from ready until it stops:
# familybot/routing.py shares members' messages between these holders only. "FBrd".
READER_LOCK_SPACE = 0x46427264


def shard_key(count: int, shard: int) -> int:
    """The second key of a shard's lock: shard 0 of 1 and shard 0 of 2 are other locks."""
    return (count << _COUNT_SHIFT) | shard


# How often a process that does not lead tries to (and the leader checks its connection).
LEADER_RETRY = timedelta(seconds=30)
# How often every process recounts the processes per shard (its rate part, and who reads
# which member's messages: familybot/routing.py).
RECOUNT = timedelta(seconds=5)
# How long a newcomer takes no shared part: twice the others' recount interval, so one late
# recount (a busy loop, a slow query) still finds it settled before it takes its half.
SETTLE = 2 * RECOUNT
CONNECT_TIMEOUT_S = 5.0
# Every query on the liveness connection, and its close, ends within this: a connection that
# stalls (the network hangs without closing) fails the leader's try, which drops it (its locks
# go with it), rather than hanging the tick while keeping the lead from every other process.
LIVENESS_TIMEOUT_S = 3.0
# A host that vanishes (power cut, network gone) closes nothing: the server frees its locks
# only once it notices. Asked of the server for the liveness connection: probe it after 10 s
# of silence, every 5 s, 3 times, so a dead host's locks go within 25 s (the OS default is
# over two hours). Ignored on a Unix socket (same host: the kernel closes it).
KEEPALIVE = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
}


# Each reader lock's holder with the token it holds (both locks are taken by one connection).
_SHARD_MEMBERS = (
    "SELECT s.objid::bigint AS shard, c.objid::bigint AS token "
    "FROM pg_locks s JOIN pg_locks c ON c.pid = s.pid AND c.database = s.database "
    "WHERE s.locktype = 'advisory' AND s.granted AND s.classid = $1 AND s.objsubid = 2 "
    "AND c.locktype = 'advisory' AND c.granted AND c.classid = $2 AND c.objsubid = 2 "
    "AND s.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def new_token() -> int:
    """A process token: positive, and within a signed 32-bit int (an advisory lock key)."""
    return 1 + secrets.randbelow(2**31 - 2)


class Peers:
    """One host (SQLite): no liveness to share; the leader is the process running shard 0."""

    def __init__(
        self, *, leads: bool = True, token: int | None = None, shards: ShardFilter = ALL
    ) -> None:
        self.token = token if token is not None else new_token()
        self.leading = leads
        self.shards = shards

    async def start(self) -> None:
        """Join the others (on PostgreSQL: take the locks). Errors are logged, not raised."""

    async def close(self) -> None:
        """Leave: the leadership (if held) passes to another process at its next try."""

    async def try_lead(self) -> bool:
        """Lead if no live process does; True when this process leads now."""
        return self.leading

    async def ensure_alive(self) -> None:
        """Before claiming: this process's claims must stand (its liveness lock held)."""

    async def alive(self, token: int) -> bool:
        """Whether the process `token` is still there (its claims stand). One host without
        a lease: only this process is."""
        return token == self.token

    async def rate_share(self, budget: int) -> int | None:
        """This process's part of `budget` (requests/s for the whole bot), None if unknown.
        One host: every process runs shards of its own (ShardFilter.share)."""
        return self.shards.share(budget)

    async def shard_members(self) -> dict[int, frozenset[int]] | None:
        """The processes (tokens) reading each shard's messages (by shard_key), None if
        unknown. One host: every process runs shards of its own, so no process shares one."""
        return None

    async def start_reading(self) -> None:
        """This process now reads its shards' messages (connected to Discord)."""

    async def stop_reading(self) -> None:
        """This process stops reading its shards' messages (stopping)."""


class PostgresPeers(Peers):
    """Liveness and leadership by advisory locks on a dedicated connection."""

    def __init__(
        self,
        url: str,
        *,
        token: int | None = None,
        shards: ShardFilter = ALL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(leads=False, token=token, shards=shards)
        self._url = url
        self._conn: Any = None  # asyncpg.Connection, opened by start()
        self._monotonic = monotonic
        self._joined = -math.inf  # when this process last took its shard locks
        self._reading = False  # holds its reader locks (start_reading .. stop_reading)
        # One operation at a time on the connection: asyncpg refuses a second one meanwhile,
        # and the refusal would drop the connection and with it this process's locks.
        self._use = asyncio.Lock()

    async def start(self) -> None:
        await self.try_lead()

    async def close(self) -> None:
        try:  # let a round trip under way finish, but never hang the shutdown on it
            await asyncio.wait_for(self._use.acquire(), timeout=LIVENESS_TIMEOUT_S)
        except TimeoutError:
            held = False
        else:
            held = True
        try:
            conn, self._conn = self._conn, None
            self.leading = False
            if conn is not None and not conn.is_closed():
                try:
                    await conn.close(timeout=LIVENESS_TIMEOUT_S)
                except Exception:
                    conn.terminate()
        finally:
            if held:
                self._use.release()

    async def try_lead(self) -> bool:
        """Called every LEADER_RETRY and before each global job. A leader whose connection
        broke no longer leads (its lock went with the connection): it reconnects, takes its
        token again and tries for the leadership like any other process."""
        async with self._use:
            return await self._try_lead()

    async def _try_lead(self) -> bool:
        try:
            conn = await self._connection()
            if self.leading:
                await conn.fetchval("SELECT 1")  # still connected: the lock is still ours
            else:
                self.leading = bool(
                    await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK_KEY)
                )
                if self.leading:
                    log.info("this process now runs the database-wide jobs token=%d", self.token)
        except Exception as exc:
            if self.leading:
                log.warning("lost the database-wide jobs error=%s", exc.__class__.__name__)
            self.leading = False
            await self._drop()
        return self.leading

    async def ensure_alive(self) -> None:
        """Claims are safe only while the liveness lock is held: check the connection (one
        round trip per dispatch run), reconnect once if it broke, or refuse with
        DatabaseUnavailable (the run is retried) rather than claim unprotected."""
        async with self._use:
            await self._ensure_alive()

    async def _ensure_alive(self) -> None:
        for attempt in range(2):
            try:
                conn = await self._connection()
                await conn.fetchval("SELECT 1")
                return
            except Exception as exc:
                await self._drop()
                self.leading = False
                if attempt:
                    raise DatabaseUnavailable(
                        "This process cannot hold its liveness lock.", kind="down"
                    ) from exc

    async def alive(self, token: int) -> bool:
        """Its liveness lock is held. Unknown (no connection) counts as alive: a claim is
        then left alone rather than taken from a process that may still run it."""
        if token == self.token:
            return True
        async with self._use:
            try:
                conn = await self._connection()
                return bool(
                    await conn.fetchval(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND classid = $1 AND objid = $2 AND objsubid = 2 AND database = "
                        "(SELECT oid FROM pg_database WHERE datname = current_database())",
                        CLAIM_LOCK_SPACE,
                        token,
                    )
                )
            except Exception as exc:
                log.warning("could not tell whether a process lives error=%s", type(exc).__name__)
                await self._drop()
                return True

    async def _connection(self) -> Any:
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        import asyncpg

        self.leading = False  # a new connection holds no lock yet
        conn = await asyncpg.connect(
            self._url,
            timeout=CONNECT_TIMEOUT_S,
            command_timeout=LIVENESS_TIMEOUT_S,
            server_settings=KEEPALIVE,
        )
        try:
            # The same token again after a reconnect, unless (improbably) another has it.
            while not await conn.fetchval(
                "SELECT pg_try_advisory_lock($1, $2)", CLAIM_LOCK_SPACE, self.token
            ):
                self.token = new_token()
            await self._lock_shards(conn, SHARD_LOCK_SPACE)
            if self._reading:
                await self._lock_shards(conn, READER_LOCK_SPACE)
        except BaseException:
            conn.terminate()
            raise
        self._conn = conn
        self._joined = self._monotonic()
        return conn

    async def rate_share(self, budget: int) -> int | None:
        """Each of this process's shards gives budget / SHARD_COUNT, split between the live
        processes running it (and between the SHARD_COUNTs running, when they differ). For
        SETTLE after joining, a shard that others run too (or any, while another
        SHARD_COUNT runs) gives nothing: they still pace to their part from before this
        process came (they look again every RECOUNT), so the sum never passes the
        budget."""
        async with self._use:
            try:
                conn = await self._connection()
                rows = await conn.fetch(
                    "SELECT objid::bigint AS shard, count(*) AS n FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND classid = $1 AND objsubid = 2 "
                    "AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                    "GROUP BY objid",
                    SHARD_LOCK_SPACE,
                )
            except Exception as exc:
                log.warning(
                    "could not count the processes per shard error=%s", exc.__class__.__name__
                )
                await self._drop()
                return None
        holders = {int(r["shard"]): int(r["n"]) for r in rows}
        # Processes with another SHARD_COUNT serve the same servers in other slices: each
        # SHARD_COUNT running gets an equal part of the budget, so together they keep to it.
        counts = {key >> _COUNT_SHIFT for key in holders} | {self.shards.count}
        settling = self._monotonic() - self._joined < SETTLE.total_seconds()
        parts = 0.0
        for shard in self.shards.ids:
            n = max(1, holders.get(shard_key(self.shards.count, shard), 1))
            if (n == 1 and len(counts) == 1) or not settling:
                parts += 1 / n
        return max(1, math.floor(budget * parts / self.shards.count / len(counts) + 1e-9))

    async def _lock_shards(self, conn: Any, space: int, verb: str = "lock") -> None:
        for shard in sorted(self.shards.ids):
            await conn.execute(
                f"SELECT pg_advisory_{verb}_shared($1, $2)",
                space,
                shard_key(self.shards.count, shard),
            )

    async def start_reading(self) -> None:
        async with self._use:
            if self._reading:
                return
            self._reading = True
            try:
                if self._conn is None or self._conn.is_closed():
                    await self._connection()  # takes them, with the others
                else:
                    await self._lock_shards(self._conn, READER_LOCK_SPACE)
            except Exception as exc:  # taken again with the connection, when it is back
                log.warning("could not join the readers error=%s", exc.__class__.__name__)
                await self._drop()

    async def stop_reading(self) -> None:
        async with self._use:
            if not self._reading:
                return
            self._reading = False
            conn = self._conn
            if conn is None or conn.is_closed():
                return
            try:
                await self._lock_shards(conn, READER_LOCK_SPACE, verb="unlock")
            except Exception:  # the connection's end frees them (and the rest) as well
                await self._drop()

    async def shard_members(self) -> dict[int, frozenset[int]] | None:
        """Each shard's readers, named by the token each holds (familybot/routing.py)."""
        async with self._use:
            try:
                conn = await self._connection()
                rows = await conn.fetch(_SHARD_MEMBERS, READER_LOCK_SPACE, CLAIM_LOCK_SPACE)
            except Exception as exc:
                log.warning(
                    "could not list the processes per shard error=%s", exc.__class__.__name__
                )
                await self._drop()
                return None
        members: dict[int, set[int]] = {}
        for r in rows:
            members.setdefault(int(r["shard"]), set()).add(int(r["token"]))
        return {key: frozenset(tokens) for key, tokens in members.items()}

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()

    @property
    def backend_pid(self) -> int | None:
        """The server process of the dedicated connection (tests end it to play a crash)."""
        if self._conn is None or self._conn.is_closed():
            return None
        pid: int = self._conn.get_server_pid()
        return pid
