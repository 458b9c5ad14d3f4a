"""PostgreSQL's peers (familybot/db/peers.py) keep their locks on one dedicated connection.
Jobs run concurrently (the leader tick, a dispatch run's liveness check, a database-wide
job's own check, the rate share): used at once, that connection must not be dropped, or
this process loses its leadership and its liveness lock for nothing. Found by the two-shard
e2e test on PostgreSQL (tests/e2e/test_sharding_e2e.py), whose time jumps fire several jobs
at one instant: "lost the database-wide jobs error=InterfaceError", then a reminder run
refused for 15 s."""

from __future__ import annotations

import asyncio

from familybot.db.peers import PostgresPeers
from tests.support import backends


async def test_concurrent_checks_keep_the_connection_and_the_leadership() -> None:
    url = backends.url_for(await backends.SERVER.clean_database())
    peers = PostgresPeers(url)
    try:
        await peers.start()
        assert peers.leading
        token, pid = peers.token, peers.backend_pid
        results = await asyncio.gather(
            peers.try_lead(), peers.ensure_alive(), peers.rate_share(50), peers.try_lead()
        )
        assert results == [True, None, 50, True]
        assert peers.leading and (peers.token, peers.backend_pid) == (token, pid)
    finally:
        await peers.close()
