"""Pieces shared by the benchmark's parent process and its children."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.loopclock import Gap, ThreadClocks

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = Path(os.environ.get("FAMILYBOT_BENCH_CACHE", "/tmp/familybot-bench"))
PYTHON = sys.executable

# Reminders the benchmark plants itself are due at whole seconds (the ledger stores
# due_at as integer unix seconds), one channel reminder per series, 60 minutes ahead.
PLANTED_OFFSET_MINUTES = 60
# Background reminders fall due on local 5-minute marks; every zone used is a whole
# number of 5 minutes from UTC, so they are due at unix multiples of this.
BACKGROUND_GRID_SECONDS = 300


def process_age_seconds() -> float:
    """Seconds since this process was started by the kernel (10 ms resolution).

    /proc/self/stat field 22 is the start time in clock ticks after boot, on the same clock
    as CLOCK_BOOTTIME.
    """
    with open("/proc/self/stat", encoding="ascii") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2 :].split()
    start_ticks = int(fields[19])  # field 22 overall; fields here start at field 3
    return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")


class StallWatch:
    """Measures event-loop stalls: a task sleeps `period` in a loop and records overshoot.

    Each interval is also split by the kernel's per-thread accounting (bench/loopclock.py):
    `longest` is the longest stall's breakdown, `longest_own` the interval with the largest
    stall left once the loop's thread's wait for a CPU is taken off (the bot's own part).
    """

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.max_stall = 0.0
        self.phase_max = 0.0
        self.stalls_over_50ms = 0
        self.longest: Gap | None = None
        self.longest_own: Gap | None = None
        self.phase_longest: Gap | None = None
        self.phase_longest_own: Gap | None = None
        # (wall clock at its end, stall s) of every stall over 2 ms: a bare loop's stalls
        # can then be cut into the bot's phases (bench/reminders.py).
        self.stalls: list[tuple[float, float]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stall-watch")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        clocks = ThreadClocks()
        try:
            sched = clocks.sample()
            while True:
                before = loop.time()
                await asyncio.sleep(self.period)
                wall = loop.time() - before
                stall = wall - self.period
                now = clocks.sample()
                gap = Gap.of(stall, wall, now - sched)
                sched = now
                self._note(gap)
                self.max_stall = max(self.max_stall, stall)
                self.phase_max = max(self.phase_max, stall)
                if stall > 0.05:
                    self.stalls_over_50ms += 1
                if stall > 0.002:
                    self.stalls.append((time.time(), stall))
        finally:
            clocks.close()

    def _note(self, gap: Gap) -> None:
        if self.longest is None or gap.stall_ms > self.longest.stall_ms:
            self.longest = gap
        if self.phase_longest is None or gap.stall_ms > self.phase_longest.stall_ms:
            self.phase_longest = gap
        if self.longest_own is None or gap.own_ms > self.longest_own.own_ms:
            self.longest_own = gap
        if self.phase_longest_own is None or gap.own_ms > self.phase_longest_own.own_ms:
            self.phase_longest_own = gap

    def take_phase(self) -> float:
        """The longest stall since the previous call (then starts a new phase)."""
        value, self.phase_max = self.phase_max, 0.0
        self.phase_longest = self.phase_longest_own = None
        return value

    def take_phase_detail(self) -> dict[str, Any]:
        """The phase's longest stall, its breakdown and its longest own stall; then a new phase."""
        longest, own = self.phase_longest, self.phase_longest_own
        detail = {
            "max_stall": self.phase_max,
            "longest": longest.as_dict() if longest else None,
            "longest_own": own.as_dict() if own else None,
        }
        self.take_phase()
        return detail

    def detail(self) -> dict[str, Any]:
        """Since start: the longest stall, its breakdown, and the longest own stall."""
        return {
            "max_stall": self.max_stall,
            "longest": self.longest.as_dict() if self.longest else None,
            "longest_own": self.longest_own.as_dict() if self.longest_own else None,
            "stalls_over_50ms": self.stalls_over_50ms,
        }

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Lateness:
    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    min_ms: float = math.nan  # the first hand-over: how late the run started

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Lateness:
        if not seconds:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        return cls(
            len(seconds),
            percentile(seconds, 50) * 1000,
            percentile(seconds, 99) * 1000,
            max(seconds) * 1000,
            min(seconds) * 1000,
        )


def quiet_start(earliest: float, span: float, guard: float = 3.0) -> int:
    """The first whole second >= `earliest` such that [s - guard, s + span + guard] holds no
    background due instant (a multiple of BACKGROUND_GRID_SECONDS)."""
    s = math.ceil(earliest)
    while True:
        lo, hi = s - guard, s + span + guard
        k = math.ceil(lo / BACKGROUND_GRID_SECONDS)
        if k * BACKGROUND_GRID_SECONDS > hi:
            return s
        s = k * BACKGROUND_GRID_SECONDS + math.ceil(guard) + 1


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def naive_utc(ts: int) -> datetime:
    return utc(ts).replace(tzinfo=None)


ONE_MINUTE = timedelta(minutes=1)
