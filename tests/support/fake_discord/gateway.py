"""The Gateway: sessions (IDENTIFY, RESUME, shards), event dispatch, member chunks, the
connection faults tests provoke, and GET /gateway(/bot).

One session per IDENTIFY. A session that identified with `shard: [id, count]` receives only
the events of servers on that shard (and DMs on shard 0), as Discord does; one without a shard
field receives everything. Several sessions may be live at once, several for one shard too
(two processes running the same shard): each gets every event of its shard, as on Discord."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .common import JSON
from .guilds import GuildsMixin
from .routing import Req, RouteSpec

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT = 0, 1, 2, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11


def _op(op: int, data: Any = None) -> JSON:
    """A frame that is not a DISPATCH (no sequence number, no event name)."""
    return {"op": op, "d": data, "s": None, "t": None}


@dataclass
class _GatewaySession:
    """One IDENTIFY: its shard, its socket (while connected) and its events for RESUME."""

    session_id: str
    shard: tuple[int, int] | None  # (shard id, shard count); None: every server
    ws: web.WebSocketResponse | None
    live: bool = False
    seq: int = 0
    log: list[JSON] = field(default_factory=list)

    def owns(self, guild_id: int | None) -> bool:
        if self.shard is None:
            return True
        shard_id, count = self.shard
        if guild_id is None:
            return shard_id == 0  # Discord sends DMs (no server) on shard 0
        return (guild_id >> 22) % count == shard_id


def _event_guild(event: str, data: JSON) -> int | None:
    if data.get("guild_id"):
        return int(data["guild_id"])
    if event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE") and data.get("id"):
        return int(data["id"])
    return None


class GatewayMixin(GuildsMixin):
    #: The shard count GET /gateway/bot recommends (a bot without SHARD_COUNT uses it).
    recommended_shards: int = 1

    def __init__(self, *, bot_name: str = "FamilyBot") -> None:
        super().__init__(bot_name=bot_name)
        self.heartbeat_interval_ms = 41250
        self.session_id: str | None = None  # the latest session's
        self._sessions: dict[str, _GatewaySession] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self.identify_payloads: list[JSON] = []
        self.gateway_ops: list[JSON] = []  # every frame the bot sent (except heartbeats)
        self.gateway_connects: list[tuple[str, dict[str, str]]] = []  # (path, query)
        self.heartbeats = 0
        self.identified = asyncio.Event()
        self.resumed = asyncio.Event()

    def route_table(self) -> list[RouteSpec]:
        return [
            *super().route_table(),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
        ]

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/resume-gateway"

    def add_gateway_routes(self, app: web.Application) -> None:
        app.router.add_get("/gateway", self._handle_gateway)
        app.router.add_get("/resume-gateway", self._handle_gateway)

    async def close_gateway_sockets(self) -> None:
        for ws in list(self._sockets):
            if not ws.closed:
                await ws.close(code=1001)

    async def wait_until_identified(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await asyncio.wait_for(self.identified.wait(), timeout)

    @property
    def connected(self) -> bool:
        return any(s.live for s in self._sessions.values())

    @property
    def live_shards(self) -> list[tuple[int, int] | None]:
        """(shard id, shard count) of every live session; None for an unsharded one."""
        return [s.shard for s in self._sessions.values() if s.live]

    # sending ------------------------------------------------------------------------------
    async def _send(self, ws: web.WebSocketResponse, frame: JSON) -> None:
        if not ws.closed:
            # A client killed mid-send leaves a closing transport: like Discord, drop the
            # frame (the session log keeps it for a RESUME) instead of failing the request.
            with contextlib.suppress(ConnectionResetError):
                await ws.send_str(json.dumps(frame))

    async def _send_to(self, session: _GatewaySession, event: str, data: JSON) -> None:
        session.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.log.append(frame)  # kept for RESUME replay while the session is offline
        if session.live and session.ws is not None:
            await self._send(session.ws, frame)

    async def dispatch(self, event: str, data: JSON) -> None:
        """Sends a DISPATCH (op 0) event to the session(s) of the event's server's shard."""
        guild_id = _event_guild(event, data)
        for session in list(self._sessions.values()):
            if session.owns(guild_id):
                await self._send_to(session, event, data)

    # faults -------------------------------------------------------------------------------
    def _targets(self, shard: int | None) -> list[_GatewaySession]:
        return [
            s
            for s in self._sessions.values()
            if s.live and (shard is None or (s.shard or (0, 1))[0] == shard)
        ]

    async def drop_connection(self, code: int = 4000, *, shard: int | None = None) -> None:
        """Closes the socket(s) abnormally; discord.py should RESUME via resume_gateway_url."""
        for session in self._targets(shard):
            session.live = False
            if session.ws is not None:
                await session.ws.close(code=code)

    async def send_reconnect(self, *, shard: int | None = None) -> None:
        """op 7 RECONNECT."""
        for session in self._targets(shard):
            if session.ws is not None:
                await self._send(session.ws, _op(RECONNECT))

    async def invalidate_session(
        self, resumable: bool = False, *, shard: int | None = None
    ) -> None:
        """op 9 INVALID_SESSION; the bot re-IDENTIFYs when not resumable."""
        for session in self._targets(shard):
            if session.ws is not None:
                await self._send(session.ws, _op(INVALID_SESSION, resumable))

    # the socket ---------------------------------------------------------------------------
    async def _handle_gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        self.gateway_connects.append((request.path, dict(request.query)))
        self._sockets.add(ws)
        await self._send(ws, _op(HELLO, {"heartbeat_interval": self.heartbeat_interval_ms}))
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_gateway_frame(ws, json.loads(msg.data))
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            self._sockets.discard(ws)
            for session in self._sessions.values():
                if session.ws is ws:
                    session.live = False
        return ws

    async def _on_gateway_frame(self, ws: web.WebSocketResponse, frame: JSON) -> None:
        op = frame.get("op")
        if op == HEARTBEAT:
            self.heartbeats += 1
            await self._send(ws, _op(HEARTBEAT_ACK))
            return
        self.gateway_ops.append(frame)
        if op == IDENTIFY:
            await self._identify(ws, frame["d"])
        elif op == RESUME:
            await self._resume(ws, frame["d"])
        elif op == REQUEST_MEMBERS:
            await self._request_members(frame["d"])

    def _token_ok(self, data: JSON) -> bool:
        return data.get("token") in (self.token, f"Bot {self.token}")

    async def _identify(self, ws: web.WebSocketResponse, data: JSON) -> None:
        if not self._token_ok(data):
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        raw_shard = data.get("shard")
        shard: tuple[int, int] | None = None
        if raw_shard is not None:
            shard_id, count = int(raw_shard[0]), int(raw_shard[1])
            if not 0 <= shard_id < count:
                await ws.close(code=4010, message=b"Invalid shard.")
                return
            shard = (shard_id, count)
        self.identify_payloads.append(data)
        # As on Discord, a new IDENTIFY starts a session of its own: another connection for
        # the same shard (a second process running it) keeps its session, and both get that
        # shard's events, interactions included. Only this socket's earlier session ends.
        for old_id, old in list(self._sessions.items()):
            if old.ws is ws:
                del self._sessions[old_id]
        session = _GatewaySession(uuid.uuid4().hex, shard, ws, live=True)
        self._sessions[session.session_id] = session
        self.session_id = session.session_id
        guilds = [g for g in self.guilds if session.owns(g)]
        await self._send_to(
            session,
            "READY",
            {
                "v": 10,
                "user": self.bot_user_payload(),
                "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
                "session_id": session.session_id,
                "session_type": "normal",
                "resume_gateway_url": self.resume_gateway_url,
                "shard": list(shard or (0, 1)),
                "application": {"id": str(self.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "user_settings": {},
                "_trace": ["fake-discord"],
            },
        )
        for gid in guilds:
            await self._send_to(session, "GUILD_CREATE", self.guild_payload(gid))
        self.identified.set()

    async def _resume(self, ws: web.WebSocketResponse, data: JSON) -> None:
        session = self._sessions.get(str(data.get("session_id")))
        if session is None or not self._token_ok(data):
            await self._send(ws, _op(INVALID_SESSION, False))
            return
        if session.ws is not None and session.ws is not ws and not session.ws.closed:
            await session.ws.close(code=4000)
        session.ws, session.live = ws, True
        last = int(data.get("seq") or 0)
        for frame in list(session.log):
            if frame["s"] > last:
                await self._send(ws, frame)
        await self._send_to(session, "RESUMED", {"_trace": ["fake-discord"]})
        self.resumed.set()

    async def _request_members(self, data: JSON) -> None:
        gid = int(data["guild_id"])
        if gid not in self.guilds:
            return
        members = list(self.guilds[gid].members.values())
        if data.get("user_ids"):
            wanted = {str(u) for u in data["user_ids"]}
            members = [m for m in members if m["user"]["id"] in wanted]
        elif data.get("query"):
            members = [m for m in members if m["user"]["username"].startswith(data["query"])]
        chunk: JSON = {
            "guild_id": str(gid),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # REST ---------------------------------------------------------------------------------
    async def _get_gateway(self, req: Req) -> JSON:
        return {"url": self.gateway_url}

    async def _get_gateway_bot(self, req: Req) -> JSON:
        return {
            "url": self.gateway_url,
            "shards": self.recommended_shards,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14400000,
                "max_concurrency": 1,
            },
        }
