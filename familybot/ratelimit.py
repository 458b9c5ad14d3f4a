"""Pacing for bursts of sends: never more than `limit` requests in any `window` seconds.

Discord allows 50 requests per second per bot across all routes, counted when a request
*arrives*. The bot only knows when it let a request go and when the answer came back; the
arrival is somewhere in between (a loaded CPU or a slow network delays it by an unknown
amount). A limiter that counts requests when it lets them go (a token bucket or GCRA
stamped at acquire) cannot bound arrivals: requests let go evenly can arrive bunched.

This one counts each request from the moment it is let go until `window` seconds after
its answer came back. Suppose `limit + 1` requests arrived within one window [x - window, x],
and take the one let go last, at s <= x. Every other one was let go before s and answered
after it arrived, so no earlier than x - window >= s - window: at s it was still counted
(in flight, or answered less than `window` ago), so `limit` were counted and the last one
would have waited. Arrivals therefore never exceed `limit` in any window, whatever the
delays. Requests are also spaced at least `window / limit` apart, so a burst goes out
evenly instead of all at once.

It uses the loop's monotonic clock, so tests that move wall-clock time do not affect it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

# The limiter whose slot the current task holds (a send inside it takes no second slot).
_holding: ContextVar[SlidingWindowLimiter | None] = ContextVar("familybot_slot", default=None)


class SlidingWindowLimiter:
    def __init__(self, limit: int, window: float = 1.0) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._spacing = window / limit
        self._answered: deque[float] = deque()  # answer times still within the window
        self._in_flight = 0
        self._last_start = float("-inf")
        self._lock = asyncio.Lock()  # first come, first served
        self._answer = asyncio.Event()
        # Requests waiting to go before the line (`slot(ahead=True)`), and when none is left.
        self._ahead = 0
        self._none_ahead = asyncio.Event()

    def set_limit(self, limit: int) -> None:
        """A new limit from now on (this process's part of a budget shared with others)."""
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self.limit = limit
        self._spacing = self.window / limit

    @asynccontextmanager
    async def slot(self, *, ahead: bool = False) -> AsyncIterator[None]:
        """Hold a slot for one request: enter before sending it, leave once it is answered.
        `ahead`: before every request waiting in line (within the same limit and spacing),
        e.g. the bot's own connecting calls before a backlog of reminders."""
        if ahead:
            self._ahead += 1
            try:
                await self._take(ahead=True)
            finally:
                self._ahead -= 1
                if not self._ahead:
                    self._none_ahead.set()
        else:
            async with self._lock:
                await self._take(ahead=False)
        held = _holding.set(self)
        try:
            yield
        finally:
            _holding.reset(held)
            self._in_flight -= 1
            self._answered.append(asyncio.get_running_loop().time())
            self._answer.set()

    def held(self) -> bool:
        """Whether the current task is inside one of this limiter's slots."""
        return _holding.get() is self

    def counted(self) -> int:
        """Requests that still count against the window now (in flight or recently answered)."""
        self._expire(asyncio.get_running_loop().time())
        return self._in_flight + len(self._answered)

    def _expire(self, now: float) -> None:
        answered = self._answered
        while answered and answered[0] + self.window <= now:
            answered.popleft()

    async def _take(self, *, ahead: bool) -> None:
        """Wait until a request may go, and count it: every check and the count happen with
        no await between them, so whoever takes a slot, in line or ahead, keeps the bound."""
        loop = asyncio.get_running_loop()
        while True:
            if not ahead and self._ahead:  # the line waits for those going ahead
                self._none_ahead.clear()
                await self._none_ahead.wait()
                continue
            now = loop.time()
            self._expire(now)
            if self._in_flight + len(self._answered) >= self.limit:
                if self._answered:
                    # The oldest answer leaves the window then (a little margin for
                    # float rounding, so the next pass sees it gone).
                    await asyncio.sleep(self._answered[0] + self.window - now + 1e-6)
                else:
                    # All `limit` in flight: wait for an answer, then for it to age.
                    self._answer.clear()
                    await self._answer.wait()
                continue
            gap = self._last_start + self._spacing - now
            if gap > 0:
                await asyncio.sleep(gap)
                continue
            self._in_flight += 1
            self._last_start = now
            return
