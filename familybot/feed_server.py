"""The live calendar feed: a small HTTP server in the bot's process (aiohttp's web server).

It answers one thing: ``GET`` or ``HEAD /calendar/<token>.ics`` with that member's calendar
(services/sessions/calendar_feed.py). Everything else is a bare 404 (405 for another method on a
feed path): no other routes, no listings, no Server header, no access log (a request line
holds the token), and nothing that names the software. Plain HTTP on purpose: it is meant
to sit behind a reverse proxy that does TLS (README "Live calendar links").

Protection: a token bucket per token (a few requests a minute, 429 with Retry-After
beyond), a cap on requests in progress at once (503 beyond), conditional GET (ETag and
Last-Modified, 304). Unknown and revoked tokens look the same (404).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from email.utils import format_datetime, parsedate_to_datetime
from typing import Protocol

from aiohttp import web

from familybot.errors import ConfigError
from familybot.services.sessions.calendar_feed import TOKEN_RE, FeedResponse

log = logging.getLogger(__name__)

# Only a path that can hold a real token reaches a bucket or the database.
_FEED_PATH = re.compile(rf"/calendar/({TOKEN_RE.pattern})\.ics")
_BUCKETS_KEPT = 10_000
_EVERYONE = b"*"  # one bucket for all requests together: a flood of made-up tokens can't
# crowd out real members' buckets or the database faster than this


class FeedSource(Protocol):
    async def feed(self, token: str) -> FeedResponse | None: ...


class FeedServerError(ConfigError):
    """The server could not start; the explanation is one line saying why and what to do
    (`familybot run` prints it and exits as for any configuration error)."""


class TokenBuckets:
    """``burst`` requests at once per key, refilled at ``per_minute``; oldest keys forgotten."""

    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._buckets: OrderedDict[bytes, tuple[float, float]] = OrderedDict()

    def take(self, key: bytes) -> float:
        """0 if a request may go now (and count it), else seconds until one may."""
        now = self._clock()
        tokens, at = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            self._buckets.move_to_end(key)
            while len(self._buckets) > _BUCKETS_KEPT:
                self._buckets.popitem(last=False)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self._rate


def _plain(status: int, **headers: str) -> web.Response:
    return web.Response(status=status, headers={"Cache-Control": "no-store", **headers})


class FeedServer:
    def __init__(
        self,
        source: FeedSource,
        host: str,
        port: int,
        *,
        per_minute: float = 6,
        burst: int = 6,
        all_per_minute: float = 600,
        all_burst: int = 60,
        max_concurrent: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self.host = host
        self.port = port
        self._buckets = TokenBuckets(per_minute, burst, clock)
        self._everyone = TokenBuckets(all_per_minute, all_burst, clock)
        self._max_concurrent = max_concurrent
        self._in_progress = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        app.on_response_prepare.append(_strip_server_header)
        # access_log=None: a request line holds the member's token.
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except (OSError, ValueError) as exc:
            await runner.cleanup()
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise FeedServerError(
                f"The calendar feed could not listen on {self.host}:{self.port} ({reason}). "
                "Check CALENDAR_FEED_HOST and CALENDAR_FEED_PORT (a free port above 1024, on an "
                "address of this machine), or set CALENDAR_FEED_ENABLED=false."
            ) from exc
        self._runner = runner
        if runner.addresses:  # the port the OS chose when asked for port 0
            self.port = int(runner.addresses[0][1])
        log.info("calendar feed listening host=%s port=%d", self.host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
            log.info("calendar feed stopped")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        match = _FEED_PATH.fullmatch(request.path)
        if match is None or request.query_string:
            return _plain(404)
        if request.method not in ("GET", "HEAD"):
            return _plain(405, Allow="GET, HEAD")
        token = match[1]
        wait = self._everyone.take(_EVERYONE) or self._buckets.take(
            hashlib.sha256(token.encode("ascii")).digest()
        )
        if wait > 0:
            return _plain(429, **{"Retry-After": str(max(1, math.ceil(wait)))})
        if self._in_progress >= self._max_concurrent:
            return _plain(503, **{"Retry-After": "5"})
        self._in_progress += 1
        try:
            found = await self._source.feed(token)
        except Exception as exc:  # never the token or the path in the log
            log.error("calendar feed request failed error=%s", type(exc).__name__)
            return _plain(500)
        finally:
            self._in_progress -= 1
        if found is None:
            return _plain(404)
        log.debug("calendar feed served bytes=%d", len(found.body))
        return _conditional(request, found)


def _conditional(request: web.Request, found: FeedResponse) -> web.Response:
    headers = {
        "ETag": found.etag,
        "Last-Modified": format_datetime(found.last_modified, usegmt=True),
        "Cache-Control": "private, max-age=300",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if _not_modified(request, found):
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=found.body,
        headers={**headers, "Content-Type": "text/calendar; charset=utf-8"},
    )


def _not_modified(request: web.Request, found: FeedResponse) -> bool:
    """RFC 9110 13.1: If-None-Match decides when present; otherwise If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or found.etag in tags
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        return False
    return found.last_modified <= when


async def _strip_server_header(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers.popall("Server", None)
