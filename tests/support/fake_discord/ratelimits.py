"""Rate limits and injected failures: a rolling global limit answered with 429s as Discord
sends them, and ``fail_next`` for a test to make chosen requests fail."""

from __future__ import annotations

import bisect
import collections
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .routing import json_response

_RATE_LIMITED = "You are being rate limited."
#: discord.py treats a 429 without Via as a Cloudflare ban.
_VIA = "1.1 google"


@dataclass
class _Failure:
    method: str
    path_regex: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int
    after_handling: bool = False  # the request takes effect, then the failure is answered


GLOBAL_EXEMPT = ("/interactions/", "/webhooks/")


class RateLimitsMixin:
    """The fake's rate limiting and failure injection (the server asks before each request)."""

    def __init__(self) -> None:
        super().__init__()
        self.global_rate_limit: int | None = None
        self.rate_limit_window: float = 1.0
        #: The global limit's clock (a test on virtual loop time sets the loop's).
        self.rate_limit_clock: Callable[[], float] = time.monotonic
        self.rate_limited_count = 0
        #: When each request the global limit let through arrived (its clock), for a test to
        #: find the busiest window across every process using the token.
        self.accepted_times: list[float] = []
        self._accepted_at: collections.deque[float] = collections.deque()  # within the window
        self._failures: list[_Failure] = []

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
                {"message": _RATE_LIMITED, "retry_after": 0.05, "global": False}
                if status == 429
                else {"code": 0, "message": f"{status}: injected failure"}
            )
        hdrs = dict(headers or {})
        if status == 429:
            hdrs.setdefault("Retry-After", "1")
            hdrs.setdefault("X-RateLimit-Scope", "user")
            hdrs.setdefault("Via", _VIA)
        self._failures.append(
            _Failure(
                method.upper(), re.compile(path_regex), status, body, hdrs, times, after_handling
            )
        )

    def _rate_limited(self, path: str = "") -> web.Response | None:
        """Discord's global limit. Interaction endpoints (answers, follow-ups: /interactions/,
        /webhooks/) are not bound to it (Discord's rate-limit docs), so they neither count
        nor are refused here."""
        if not self.global_rate_limit or path.startswith(GLOBAL_EXEMPT):
            return None
        # A rolling window: at most global_rate_limit requests in any rate_limit_window seconds.
        now = self.rate_limit_clock()
        accepted = self._accepted_at
        while accepted and now - accepted[0] >= self.rate_limit_window:
            accepted.popleft()
        if len(accepted) < self.global_rate_limit:
            accepted.append(now)
            self.accepted_times.append(now)
            return None
        self.rate_limited_count += 1
        retry_after = max(0.001, accepted[0] + self.rate_limit_window - now)
        return json_response(
            429,
            {"message": _RATE_LIMITED, "retry_after": round(retry_after, 3), "global": True},
            {
                "Retry-After": str(max(1, int(retry_after + 0.999))),
                "X-RateLimit-Global": "true",
                "X-RateLimit-Scope": "global",
                "Via": _VIA,
            },
        )

    def busiest_window(self, window: float = 1.0) -> int:
        """The most requests the global limit let through within any `window` seconds."""
        times = sorted(self.accepted_times)
        return max(
            (bisect.bisect_left(times, t + window) - i for i, t in enumerate(times)), default=0
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
                return json_response(failure.status, failure.body, failure.headers)
        return None
