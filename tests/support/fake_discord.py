"""A local fake of Discord (REST under /api/v10 + Gateway websocket) for end-to-end tests.

Usage::

    fake = FakeDiscord()
    await fake.start()
    guild_id = fake.add_guild("Family", owner_id=fake.add_user(name="owner"))
    client = commands.Bot(command_prefix="!", intents=discord.Intents.default())
    async with fake.running(client):          # points discord.py at the fake, logs in, READY
        handle = await fake.slash(guild_id, some_user, "setup", "facilitator-role",
                                  options={"role": role_id})
        body = await handle.wait_response()
    await fake.stop()

The state/REST/interaction parts live in sibling modules; this one holds the HTTP server,
request recording, rate limiting/failure injection, schema validation and the Gateway.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import re
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
import yarl
from aiohttp import BodyPartReader, WSMsgType, web

from .discord_schema import DiscordSpec, load_spec
from .fake_discord_interactions import (
    ChannelOpt,
    InteractionHandle,
    InteractionMixin,
    MentionableOpt,
    RoleOpt,
    UserOpt,
)
from .fake_discord_rest import Req
from .fake_discord_state import JSON, ApiError, Recorded, RecordedFile, SchemaError

__all__ = [
    "ChannelOpt",
    "FakeDiscord",
    "InteractionHandle",
    "MentionableOpt",
    "Recorded",
    "RoleOpt",
    "SchemaError",
    "UserOpt",
    "point_discord_py_at",
]

log = logging.getLogger("tests.fake_discord")
API_PREFIX = "/api/v10"
_RECORDED_HEADERS = ("Authorization", "User-Agent", "X-Audit-Log-Reason", "Content-Type")


@dataclass
class _Failure:
    method: str
    path_regex: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int
    after_handling: bool = False  # the request takes effect, then the failure is answered


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


def point_discord_py_at(fake: FakeDiscord) -> Callable[[], None]:
    """Redirects discord.py REST + Gateway to ``fake``; returns an undo callable."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)

    def undo() -> None:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    return undo


def _json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py compares Content-Type to exactly "application/json" (no charset).
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(status=status, body=json.dumps(data).encode(), headers=hdrs)


class FakeDiscord(InteractionMixin):
    """In-memory Discord. See module docstring; all ids are ints on the Python side."""

    def __init__(
        self,
        *,
        bot_name: str = "FamilyBot",
        spec_path: Path | None = None,
        validate_schema: bool = True,
        heartbeat_interval_ms: int = 41250,
    ) -> None:
        super().__init__(bot_name=bot_name)
        self._init_rest()
        self._init_interaction_state()
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.port = 0
        self.requests: list[Recorded] = []
        self.unhandled_routes: list[Recorded] = []
        self.handler_errors: list[str] = []
        self.schema_errors: list[SchemaError] = []
        #: Set True in a test that provokes violations on purpose (fixture skips its check).
        self.expect_schema_errors = False
        self.unknown_spec_requests: list[tuple[str, str]] = []
        self.spec: DiscordSpec | None = None
        self.schema_skip_reason: str | None = None
        if validate_schema:
            self.spec = load_spec(spec_path)  # raises SpecMissing: a run never goes unchecked
        else:
            self.schema_skip_reason = "schema validation disabled by the test"
        # rate limiting / failure injection
        self.global_rate_limit: int | None = None
        self.rate_limit_window: float = 1.0
        self.rate_limited_count = 0
        self._accepted_at: collections.deque[float] = collections.deque()  # within the window
        self._failures: list[_Failure] = []
        # gateway
        self.session_id: str | None = None  # the latest session's
        self._sessions: dict[str, _GatewaySession] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self.identify_payloads: list[JSON] = []
        self.gateway_ops: list[JSON] = []  # every frame the bot sent (except heartbeats)
        self.gateway_connects: list[tuple[str, dict[str, str]]] = []  # (path, query)
        self.heartbeats = 0
        self.identified = asyncio.Event()
        self.resumed = asyncio.Event()
        self._request_seen = asyncio.Event()
        #: Called with each request once answered (tests snapshot state as it was then).
        self.request_hooks: list[Callable[[Recorded], None]] = []
        self._runner: web.AppRunner | None = None

    # lifecycle ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/resume-gateway"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._handle_gateway)
        app.router.add_get("/resume-gateway", self._handle_gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle_rest)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        for ws in list(self._sockets):
            if not ws.closed:
                await ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @contextlib.asynccontextmanager
    async def running(
        self,
        client: discord.Client,
        *,
        # Generous: the first start in a process validates the whole command sync against
        # the spec (~3.5 s with its localizations on a loaded 2-core machine); it only bounds
        # a hang.
        timeout: float = 15.0,  # noqa: ASYNC109
        guild_ready_timeout: float = 0.05,
    ) -> AsyncIterator[discord.Client]:
        """Points discord.py at the fake, starts ``client`` and waits for ``on_ready``.

        ``guild_ready_timeout`` (discord.py waits that long after the last GUILD_CREATE before
        READY; default 2s) is lowered so tests stay fast."""
        undo = point_discord_py_at(self)
        client._connection.guild_ready_timeout = guild_ready_timeout
        task = asyncio.create_task(client.start(self.token), name="fake-discord-client")
        try:
            ready = asyncio.create_task(client.wait_until_ready())
            done, _ = await asyncio.wait(
                {task, ready}, timeout=timeout, return_when="FIRST_COMPLETED"
            )
            if ready not in done:
                ready.cancel()
                if task in done:
                    task.result()  # re-raise the start() failure
                raise AssertionError(f"client not ready within {timeout}s")
            yield client
        finally:
            await client.close()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
            undo()

    # recording queries --------------------------------------------------------------------
    def requests_to(self, method: str, path_regex: str) -> list[Recorded]:
        return [r for r in self.requests if r.matches(method, path_regex)]

    async def wait_for_request(
        self,
        method: str,
        path_regex: str,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.requests_to(method, path_regex) if r.status]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {count}x {method} {path_regex} within {timeout}s")
            self._request_seen.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._request_seen.wait(), remaining)

    def assert_no_schema_errors(self, *, include_unknown_paths: bool = True) -> None:
        problems = [f"{e.method} {e.path}: {e.message}" for e in self.schema_errors]
        if include_unknown_paths:
            problems += [
                f"{m} {p}: path not in Discord's OpenAPI spec"
                for m, p in self.unknown_spec_requests
            ]
        assert not problems, "Discord schema violations:\n" + "\n".join(problems)

    def assert_no_unhandled_routes(self) -> None:
        assert not self.unhandled_routes, "fake has no route for: " + ", ".join(
            f"{r.method} {r.path}" for r in self.unhandled_routes
        )
        assert not self.handler_errors, "fake handler crashed:\n" + "\n".join(self.handler_errors)

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int = 500,
        body: Any = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
        *,
        after_handling: bool = False,
    ) -> None:
        """The next ``times`` matching requests fail with ``status``.

        ``after_handling=True``: the request takes effect first (e.g. the message is created)
        and only then is the failure answered, like a 5xx whose work was in fact done.

        status=429 without body → a per-route rate limit with retry_after 0.05s.  Note that
        discord.py sleeps 1+2n s before retrying a 500/502/504, so prefer 4xx in fast tests."""
        if body is None:
            body = (
                {"message": "You are being rate limited.", "retry_after": 0.05, "global": False}
                if status == 429
                else {"code": 0, "message": f"{status}: injected failure"}
            )
        hdrs = dict(headers or {})
        if status == 429:
            hdrs.setdefault("Retry-After", "1")
            hdrs.setdefault("X-RateLimit-Scope", "user")
            hdrs.setdefault("Via", "1.1 google")
        self._failures.append(
            _Failure(
                method.upper(), re.compile(path_regex), status, body, hdrs, times, after_handling
            )
        )

    # REST plumbing ------------------------------------------------------------------------
    async def _read_body(self, request: web.Request) -> tuple[Any, list[RecordedFile], bool]:
        files: list[RecordedFile] = []
        if request.content_type.startswith("multipart/"):
            body: Any = None
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue
                raw = await part.read(decode=False)
                name = part.name or ""
                if name == "payload_json":
                    body = json.loads(bytes(raw))
                else:
                    files.append(
                        RecordedFile(
                            field_name=name,
                            filename=part.filename or "",
                            content_type=part.headers.get(
                                "Content-Type", "application/octet-stream"
                            ),
                            data=bytes(raw),
                        )
                    )
            return body, files, True
        raw_body = await request.read()
        if not raw_body:
            return None, files, False
        try:
            return json.loads(raw_body), files, False
        except ValueError:
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from None

    def _rate_limited(self) -> web.Response | None:
        if not self.global_rate_limit:
            return None
        # A rolling window: at most global_rate_limit requests in any rate_limit_window seconds.
        now = time.monotonic()
        accepted = self._accepted_at
        while accepted and now - accepted[0] >= self.rate_limit_window:
            accepted.popleft()
        if len(accepted) < self.global_rate_limit:
            accepted.append(now)
            return None
        self.rate_limited_count += 1
        retry_after = max(0.001, accepted[0] + self.rate_limit_window - now)
        return _json_response(
            429,
            {
                "message": "You are being rate limited.",
                "retry_after": round(retry_after, 3),
                "global": True,
            },
            {
                "Retry-After": str(max(1, int(retry_after + 0.999))),
                "X-RateLimit-Global": "true",
                "X-RateLimit-Scope": "global",
                "Via": "1.1 google",  # discord.py treats a 429 without Via as a Cloudflare ban
            },
        )

    def _injected_failure(
        self, method: str, path: str, *, after_handling: bool = False
    ) -> web.Response | None:
        for failure in self._failures:
            if (
                failure.method == method
                and failure.path_regex.fullmatch(path)
                and failure.after_handling == after_handling
            ):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return _json_response(failure.status, failure.body, failure.headers)
        return None

    def _validate(self, rec: Recorded, multipart: bool) -> None:
        if self.spec is None:
            return
        op = self.spec.match(rec.method, rec.path)
        if op is None:
            self.unknown_spec_requests.append((rec.method, rec.path))
            return
        for message in self.spec.validate_body(op, rec.json_body, multipart=multipart):
            self.schema_errors.append(SchemaError(rec.method, rec.path, message))

    def _authorised(self, request: web.Request, path: str) -> bool:
        if path.startswith(("/webhooks/", "/interactions/")):
            return True
        return request.headers.get("Authorization") == f"Bot {self.token}"

    async def _handle_rest(self, request: web.Request) -> web.Response:
        method = request.method.upper()
        path = "/" + request.match_info["tail"]
        rec = Recorded(
            method=method,
            path=path,
            query=dict(request.query),
            json_body=None,
            files=[],
            headers={h: request.headers[h] for h in _RECORDED_HEADERS if h in request.headers},
        )
        self.requests.append(rec)
        try:
            response = await self._process(request, rec)
        except ApiError as exc:
            response = _json_response(exc.status, exc.body())
        rec.status = response.status
        for hook in self.request_hooks:
            hook(rec)
        self._request_seen.set()
        return response

    async def _process(self, request: web.Request, rec: Recorded) -> web.Response:
        body, files, multipart = await self._read_body(request)
        rec.json_body, rec.files = body, files
        matched = self.match_route(rec.method, rec.path)
        rec.route_name = matched[0].name if matched else None
        limited = self._rate_limited() or self._injected_failure(rec.method, rec.path)
        if limited is not None:
            return limited
        if not self._authorised(request, rec.path):
            return _json_response(401, {"message": "401: Unauthorized", "code": 0})
        self._validate(rec, multipart)
        if matched is None:
            self.unhandled_routes.append(rec)
            return _json_response(404, {"code": 0, "message": "404: Not Found"})
        route, params = matched
        req = Req(rec.method, rec.path, params, rec.query, body, files)
        try:
            result = await route.handler(req)
            late = self._injected_failure(rec.method, rec.path, after_handling=True)
            if late is not None:
                return late
        except ApiError:
            raise
        except Exception:
            self.handler_errors.append(f"{route.name}: {traceback.format_exc()}")
            log.exception("fake discord handler %s crashed", route.name)
            return _json_response(500, {"code": 0, "message": "500: Internal Server Error"})
        if result is None:
            return web.Response(status=204)
        if isinstance(result, tuple):
            return _json_response(result[0], result[1])
        return _json_response(200, result)

    # Gateway ------------------------------------------------------------------------------
    # One session per IDENTIFY. A session that identified with `shard: [id, count]` receives
    # only the events of servers on that shard (and DMs on shard 0), as Discord does; one
    # without a shard field receives everything. Several sessions may be live at once.
    async def wait_until_identified(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        await asyncio.wait_for(self.identified.wait(), timeout)

    @property
    def connected(self) -> bool:
        return any(s.live for s in self._sessions.values())

    @property
    def live_shards(self) -> list[tuple[int, int] | None]:
        """(shard id, shard count) of every live session; None for an unsharded one."""
        return [s.shard for s in self._sessions.values() if s.live]

    async def _send(self, ws: web.WebSocketResponse, frame: JSON) -> None:
        if not ws.closed:
            # A client killed mid-send leaves a closing transport: like Discord, drop the
            # frame (the session log keeps it for a RESUME) instead of failing the request.
            with contextlib.suppress(ConnectionResetError):
                await ws.send_str(json.dumps(frame))

    async def _send_to(self, session: _GatewaySession, event: str, data: JSON) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.log.append(frame)  # kept for RESUME replay while the session is offline
        if session.live and session.ws is not None:
            await self._send(session.ws, frame)

    @staticmethod
    def _event_guild(event: str, data: JSON) -> int | None:
        if data.get("guild_id"):
            return int(data["guild_id"])
        if event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE") and data.get("id"):
            return int(data["id"])
        return None

    async def dispatch(self, event: str, data: JSON) -> None:
        """Sends a DISPATCH (op 0) event to the session(s) of the event's server's shard."""
        guild_id = self._event_guild(event, data)
        for session in list(self._sessions.values()):
            if session.owns(guild_id):
                await self._send_to(session, event, data)

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
                await self._send(session.ws, {"op": 7, "d": None, "s": None, "t": None})

    async def invalidate_session(
        self, resumable: bool = False, *, shard: int | None = None
    ) -> None:
        """op 9 INVALID_SESSION; the bot re-IDENTIFYs when not resumable."""
        for session in self._targets(shard):
            if session.ws is not None:
                await self._send(session.ws, {"op": 9, "d": resumable, "s": None, "t": None})

    async def _handle_gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        self.gateway_connects.append((request.path, dict(request.query)))
        self._sockets.add(ws)
        await self._send(
            ws,
            {
                "op": 10,
                "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                "s": None,
                "t": None,
            },
        )
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
        if op == 1:
            self.heartbeats += 1
            await self._send(ws, {"op": 11, "d": None, "s": None, "t": None})
            return
        self.gateway_ops.append(frame)
        if op == 2:
            await self._identify(ws, frame["d"])
        elif op == 6:
            await self._resume(ws, frame["d"])
        elif op == 8:
            await self._request_members(frame["d"])

    async def _identify(self, ws: web.WebSocketResponse, data: JSON) -> None:
        if data.get("token") not in (self.token, f"Bot {self.token}"):
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
        # A new IDENTIFY for a shard replaces that shard's earlier session (and its socket).
        for old_id, old in list(self._sessions.items()):
            if old.shard == shard or old.ws is ws:
                del self._sessions[old_id]
                if old.ws is not None and old.ws is not ws and not old.ws.closed:
                    await old.ws.close(code=4000)
        session = _GatewaySession(uuid.uuid4().hex, shard, ws, live=True)
        self._sessions[session.session_id] = session
        self.session_id = session.session_id
        guilds = [g for g in self.guilds if session.owns(g)]
        await self._send_to(
            session,
            "READY",
            {
                "v": 10,
                "user": {
                    **self.user_payload(self.bot_user_id),
                    "verified": True,
                    "mfa_enabled": False,
                },
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
        if session is None or data.get("token") not in (self.token, f"Bot {self.token}"):
            await self._send(ws, {"op": 9, "d": False, "s": None, "t": None})
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
