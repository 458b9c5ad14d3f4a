"""The fake Discord itself: the HTTP server (REST under /api/v10 + the Gateway websocket),
request recording, schema validation, and pointing discord.py at it.

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

Each Discord resource (guilds, channels, members, roles, messages, interactions, ...) lives in
its own module of this package as a mixin; this class combines them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import traceback
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import yarl
from aiohttp import BodyPartReader, web

from ..discord_schema import DiscordSpec, load_spec
from .errors import ApiError
from .gateway import GatewayMixin
from .interaction_responses import InteractionResponsesMixin
from .ratelimits import RateLimitsMixin
from .routing import API_PREFIX, Handler, Recorded, RecordedFile, Req, Route, json_response
from .scheduled_events import ScheduledEventsMixin

log = logging.getLogger("tests.fake_discord")
_RECORDED_HEADERS = ("Authorization", "User-Agent", "X-Audit-Log-Reason", "Content-Type")


@dataclass(frozen=True)
class SchemaError:
    method: str
    path: str
    message: str


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


class FakeDiscord(InteractionResponsesMixin, GatewayMixin, ScheduledEventsMixin, RateLimitsMixin):
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
        self.routes = [Route.of(method, template, h) for method, template, h in self.route_table()]
        self.heartbeat_interval_ms = heartbeat_interval_ms
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
        self._request_seen = asyncio.Event()
        #: Called with each request once answered (tests snapshot state as it was then).
        self.request_hooks: list[Callable[[Recorded], None]] = []
        self._runner: web.AppRunner | None = None

    # lifecycle ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        self.add_gateway_routes(app)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle_rest)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        await self.close_gateway_sockets()
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

    # routes -------------------------------------------------------------------------------
    def add_route(self, method: str, template: str, handler: Handler) -> None:
        """Tests may register extra routes (inserted first, so they win)."""
        self.routes.insert(0, Route.of(method, template, handler))

    def match_route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            m = route.regex.match(path)
            if m:
                return route, m.groupdict()
        return None

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
            response = json_response(exc.status, exc.body())
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
        limited = self._rate_limited(rec.path) or self._injected_failure(rec.method, rec.path)
        if limited is not None:
            return limited
        if not self._authorised(request, rec.path):
            return json_response(401, {"message": "401: Unauthorized", "code": 0})
        self._validate(rec, multipart)
        if matched is None:
            self.unhandled_routes.append(rec)
            return json_response(404, {"code": 0, "message": "404: Not Found"})
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
            return json_response(500, {"code": 0, "message": "500: Internal Server Error"})
        if result is None:
            return web.Response(status=204)
        if isinstance(result, tuple):
            return json_response(result[0], result[1])
        return json_response(200, result)
