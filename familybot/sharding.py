"""Which servers this process looks after when the bot runs as several processes (shards).

Discord assigns every server to one gateway shard: ``(guild_id >> 22) % shard_count``
(https://discord.com/developers/docs/events/gateway#sharding). A process that runs some of
the shards receives events only for their servers, so its scheduled work must also touch
only their servers: otherwise two processes sharing one database would each send the same
reminder. Work that is database-wide rather than per server (backups, link checks) runs in
one process only, the leader: on PostgreSQL chosen by an advisory lock (familybot/db/peers.py),
on SQLite by a lease row (familybot/db/lease.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# The bits below bit 22 of a snowflake are worker/process/increment; Discord shards on the rest.
SNOWFLAKE_TIMESTAMP_SHIFT = 22


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord delivers this server's events on."""
    if shard_count < 1:
        raise ValueError("shard_count must be at least 1")
    return (guild_id >> SNOWFLAKE_TIMESTAMP_SHIFT) % shard_count


@dataclass(frozen=True)
class ShardFilter:
    """The shards this process runs, out of `count`. `ALL` (the default) is every server."""

    count: int = 1
    ids: frozenset[int] = frozenset({0})

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("count must be at least 1")
        if not self.ids:
            raise ValueError("a process must run at least one shard")
        bad = sorted(i for i in self.ids if not 0 <= i < self.count)
        if bad:
            raise ValueError(f"shard ids {bad} are outside 0..{self.count - 1}")

    @classmethod
    def of(cls, count: int | None, ids: Iterable[int] | None) -> ShardFilter:
        """From settings: no count means one process for everything; no ids means all of them."""
        if count is None:
            return cls()
        chosen = frozenset(ids) if ids is not None else frozenset(range(count))
        return cls(count, chosen)

    @property
    def owns_all(self) -> bool:
        """True when this process runs every shard: nothing needs filtering."""
        return len(self.ids) == self.count

    @property
    def primary(self) -> bool:
        """The process running shard 0: it runs the calendar feed server. (The database-wide
        jobs run in the leader, familybot/db/peers.py and lease.py, whatever its shards.)"""
        return 0 in self.ids

    def share(self, budget: int) -> int:
        """This process's part of a budget for the whole bot, in proportion to its shards.

        Discord's global rate limit is per bot token, not per process: processes that each
        keep to `share(45)` keep together to 45 (rounded down; at least 1 each). A fixed
        share needs no round trip to the database, at the cost of leaving an idle
        process's part unused (README "Several processes")."""
        return max(1, budget * len(self.ids) // self.count)

    def owns(self, guild_id: int) -> bool:
        return self.owns_all or shard_of(guild_id, self.count) in self.ids

    def sql(self, column: str) -> tuple[str, tuple[int, ...]]:
        """A WHERE fragment (and its parameters) keeping rows whose `column` server is ours.

        `column` is a trusted column name from the repository, never user input. When this
        process owns everything the fragment is a constant true, so SQLite plans the query
        exactly as it would without sharding.
        """
        if self.owns_all:
            return "1 = 1", ()
        ids = tuple(sorted(self.ids))
        marks = ",".join("?" * len(ids))
        return f"(({column} >> {SNOWFLAKE_TIMESTAMP_SHIFT}) % ?) IN ({marks})", (self.count, *ids)

    def describe(self) -> str:
        """For logs: e.g. 'shards 0,1 of 4' (ids only, nothing about servers)."""
        if self.count == 1:
            return "one shard"
        return f"shards {','.join(str(i) for i in sorted(self.ids))} of {self.count}"


ALL = ShardFilter()
