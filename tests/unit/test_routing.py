"""Rendezvous routing of members' messages between processes on one shard (familybot/routing.py)."""

from __future__ import annotations

from familybot.db.peers import Peers
from familybot.routing import MessageRouting, reader_of
from familybot.sharding import ShardFilter

MEMBERS = range(10_000, 12_000)
PINNED = [22, 22, 33, 33, 22, 33, 11, 33]  # the readers of members 10,000-10,007


def test_every_process_picks_the_same_reader_and_shares_the_members() -> None:
    tokens = frozenset({11, 22, 33})
    picks = [reader_of(tokens, m) for m in MEMBERS]
    # Pinned: the choice must not depend on the process (no salted hash()), nor change
    # between versions running side by side in a rolling restart.
    assert picks[:8] == PINNED
    for token in tokens:  # each about a third of 2,000
        assert 550 < picks.count(token) < 780


def test_when_a_process_goes_only_its_members_move() -> None:
    before = {m: reader_of(frozenset({11, 22, 33}), m) for m in MEMBERS}
    after = {m: reader_of(frozenset({11, 33}), m) for m in MEMBERS}
    moved = [m for m in MEMBERS if before[m] != after[m]]
    assert moved and all(before[m] == 22 for m in moved)


class _Seen(Peers):
    def __init__(self, token: int, view: dict[int, frozenset[int]] | None) -> None:
        super().__init__(token=token, shards=ShardFilter(count=1, ids=frozenset({0})))
        self.view = view

    async def shard_members(self) -> dict[int, frozenset[int]] | None:
        return self.view


async def test_an_unknown_view_reads_everything_and_a_known_one_its_part() -> None:
    peers = _Seen(11, None)
    routing = MessageRouting(peers)
    await routing.refresh()
    assert all(routing.reads(1, m) for m in MEMBERS)  # SQLite / database unreachable
    peers.view = {1 << 16: frozenset({22, 33})}  # shard 0 of 1, without this process
    await routing.refresh()
    assert all(routing.reads(1, m) for m in MEMBERS)
    peers.view = {1 << 16: frozenset({11, 22})}
    await routing.refresh()
    mine = [m for m in MEMBERS if routing.reads(1, m)]
    assert mine == [m for m in MEMBERS if reader_of(frozenset({11, 22}), m) == 11]
    assert routing.read == 2 * len(MEMBERS) + len(mine)
    assert routing.left == len(MEMBERS) - len(mine)
