"""A TCP proxy in front of PostgreSQL that a test controls: the network between the bot
and its database, broken on purpose.

* `cut()`: every connection through it is closed at once (a dropped network, a server that
  went away); new connections are still accepted.
* `stall()` / `flow()`: stop passing bytes either way, leaving every connection open (a
  network that hangs rather than closes); what is sent meanwhile is held and passed on by
  `flow()`. A side that closes its end meanwhile still closes the other.
* `refuse()` / `accept()`: stop listening (connection refused, as during a failover) and
  listen again on the same port.
* `cut_when(marker)`: close the next connection whose client sends bytes containing
  `marker` (say b"INSERT INTO faq"), before the server sees them (`deliver=False`), or after
  the server answered them, dropping the answer (`deliver=True`: the server did the work,
  the client never hears of it).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

# The server's ReadyForQuery message: it finished the last query it was sent.
READY_FOR_QUERY = b"Z\x00\x00\x00\x05"


@dataclass
class _Trap:
    marker: bytes
    deliver: bool
    then: bytes | None = None  # after `marker`, wait on that connection for this
    pair: _Pair | None = None
    sprung: asyncio.Event = field(default_factory=asyncio.Event)


class _Pair:
    def __init__(self, client: asyncio.StreamWriter, server: asyncio.StreamWriter) -> None:
        self.client, self.server = client, server
        self.mute = False  # drop what the server says (the connection is about to be cut)
        self.answered = asyncio.Event()  # the server finished what it was sent while muted
        self.muted = b""
        self.held_up = bytearray()  # sent while stalled, to the server
        self.held_down = bytearray()  # and to the client

    def close(self) -> None:
        for w in (self.client, self.server):
            with contextlib.suppress(Exception):
                w.transport.abort()


class PgProxy:
    def __init__(self, upstream_host: str = "127.0.0.1", upstream_port: int = 5432) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pairs: set[_Pair] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._traps: list[_Trap] = []
        self.connections = 0  # accepted so far
        self.refused = False
        self.stalled = False

    async def start(self) -> int:
        await self.accept()
        return self.port

    async def accept(self) -> None:
        """Listen (again, on the same port)."""
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.refused = False

    async def refuse(self) -> None:
        """Stop listening and cut every connection: connecting is refused until accept()."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()
        self.refused = True
        self.cut()

    def stall(self) -> None:
        """Pass no bytes either way until flow(); every connection stays open."""
        self.stalled = True

    def flow(self) -> None:
        """Pass bytes again, first what was held."""
        self.stalled = False
        for pair in self._pairs:
            up, down = bytes(pair.held_up), bytes(pair.held_down)
            pair.held_up.clear()
            pair.held_down.clear()
            with contextlib.suppress(Exception):
                pair.server.write(up)
                pair.client.write(down)

    def cut(self) -> int:
        """Close every connection through the proxy; returns how many there were."""
        pairs = list(self._pairs)
        for pair in pairs:
            pair.close()
        self._pairs.clear()
        return len(pairs)

    def cut_when(
        self, marker: bytes, *, then: bytes | None = None, deliver: bool = False
    ) -> asyncio.Event:
        """Cut the connection that next sends `marker` (or, with `then`, the next `then` that
        connection sends after `marker`); the event is set when it happened."""
        trap = _Trap(marker, deliver, then)
        self._traps.append(trap)
        return trap.sprung

    async def stop(self) -> None:
        await self.refuse()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        pair = _Pair(writer, up_writer)
        self._pairs.add(pair)
        for coro in (self._upward(reader, pair), self._downward(up_reader, pair)):
            task = asyncio.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _upward(self, reader: asyncio.StreamReader, pair: _Pair) -> None:
        try:
            while data := await reader.read(65536):
                if self.stalled:
                    pair.held_up += data
                    continue
                trap = self._sprung_by(pair, data)
                if trap is None:
                    pair.server.write(data)
                    await pair.server.drain()
                    continue
                self._traps.remove(trap)
                if trap.deliver:
                    pair.mute = True  # the client never hears the answer
                    pair.server.write(data)
                    await pair.server.drain()
                    # The server answers once it did the work; the answer is dropped.
                    await asyncio.wait_for(pair.answered.wait(), timeout=10)
                self._pairs.discard(pair)
                pair.close()
                trap.sprung.set()
                return
        except (ConnectionError, OSError):
            pass
        finally:
            self._pairs.discard(pair)
            pair.close()

    def _sprung_by(self, pair: _Pair, data: bytes) -> _Trap | None:
        for trap in self._traps:
            if trap.then is None:
                if trap.marker in data:
                    return trap
            elif trap.pair is pair:
                if trap.then in data:
                    return trap
            elif trap.pair is None and trap.marker in data:
                trap.pair = pair  # armed: this connection's next `then` springs it
                if trap.then in data.split(trap.marker, 1)[1]:
                    return trap
        return None

    async def _downward(self, reader: asyncio.StreamReader, pair: _Pair) -> None:
        try:
            while data := await reader.read(65536):
                if self.stalled:
                    pair.held_down += data
                    continue
                if pair.mute:
                    pair.muted += data
                    if READY_FOR_QUERY in pair.muted:  # done with what it was sent
                        pair.answered.set()
                    continue
                pair.client.write(data)
                await pair.client.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._pairs.discard(pair)
            pair.close()
