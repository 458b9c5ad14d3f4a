"""A sliding-window limiter: at most `rate` sends in any `per` seconds.

Discord allows 50 requests per second per bot across all routes. Reminder bursts are paced
below that, so a busy minute never trips a global 429 (which would stall every command).
It uses the loop's monotonic clock, so tests that move wall-clock time do not affect it.
"""

from __future__ import annotations

import asyncio
from collections import deque


class SlidingWindowLimiter:
    def __init__(self, rate: int, per: float = 1.0) -> None:
        self.rate = rate
        self.per = per
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        async with self._lock:
            while True:
                now = loop.time()
                while self._sent and now - self._sent[0] >= self.per:
                    self._sent.popleft()
                if len(self._sent) < self.rate:
                    self._sent.append(now)
                    return
                await asyncio.sleep(self._sent[0] + self.per - now)
