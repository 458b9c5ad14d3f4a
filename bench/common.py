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
    """Measures event-loop stalls: a task sleeps `period` in a loop and records overshoot."""

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.max_stall = 0.0
        self.phase_max = 0.0
        self.stalls_over_50ms = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stall-watch")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.period)
            stall = loop.time() - before - self.period
            self.max_stall = max(self.max_stall, stall)
            self.phase_max = max(self.phase_max, stall)
            if stall > 0.05:
                self.stalls_over_50ms += 1

    def take_phase(self) -> float:
        """The longest stall since the previous call (then starts a new phase)."""
        value, self.phase_max = self.phase_max, 0.0
        return value

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
