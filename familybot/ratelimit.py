"""Even pacing for bursts of sends (GCRA): one slot every 1/rate seconds, a small burst ahead.

Discord allows 50 requests per second per bot across all routes. A sliding window that lets
a whole second's worth go at once, then frees them all together a second later, lets two
bursts land inside one of Discord's windows (requests arrive later than they were let go).
Pacing them evenly keeps any one second at `rate + burst` at most, safely under the limit.
It uses the loop's monotonic clock, so tests that move wall-clock time do not affect it.
"""

from __future__ import annotations

import asyncio


class PacedLimiter:
    def __init__(self, rate: float, burst: int = 2) -> None:
        self.rate = rate
        self.burst = burst
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        self._next_at = 0.0  # the theoretical arrival time of the next request
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        async with self._lock:
            now = loop.time()
            scheduled = max(self._next_at, now)
            wait = scheduled - self._tolerance - now
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_at = scheduled + self._interval
