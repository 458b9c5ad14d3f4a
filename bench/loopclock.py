"""Whose is a loop stall: the bot's own work, or the process waiting for a CPU?

On a 2-core machine with two processes spinning, a third runnable process is held off the
CPU for tens of milliseconds at a time by the kernel's scheduler alone, and an event-loop
lag probe counts that as a stall. Linux tells each thread how long it ran and how long it
waited, runnable, on a run queue (/proc/<pid>/task/<tid>/schedstat: ns on the CPU, ns
waiting to run, time slices). So for every probe interval we know:

* run:   the loop's thread on the CPU (callbacks: the bot's own work),
* queue: the loop's thread runnable but not running (the machine, not the bot),
* the rest: the loop's thread asleep (idle in epoll, or blocked: a lock, the GIL, I/O).

`CallbackClock` times every event-loop callback by its thread's CPU time, so the longest
piece of work that held the loop is named whatever the machine's load.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Sched:
    """Nanoseconds on the CPU and waiting on a run queue: the loop's thread, the others."""

    main_run: int = 0
    main_queue: int = 0
    others_run: int = 0
    others_queue: int = 0

    def __sub__(self, other: Sched) -> Sched:
        return Sched(
            self.main_run - other.main_run,
            self.main_queue - other.main_queue,
            self.others_run - other.others_run,
            self.others_queue - other.others_queue,
        )


class ThreadClocks:
    """Reads schedstat of every thread of this process (about 1 us per thread)."""

    def __init__(self) -> None:
        self.main_tid = threading.get_native_id()
        self._fds: dict[int, int] = {}
        # Threads that ended: their totals stay counted (a worker that came and went).
        self._gone_run = 0
        self._gone_queue = 0
        self._last: dict[int, tuple[int, int]] = {}

    def _read(self, tid: int) -> tuple[int, int] | None:
        fd = self._fds.get(tid)
        try:
            if fd is None:
                fd = os.open(f"/proc/self/task/{tid}/schedstat", os.O_RDONLY)
                self._fds[tid] = fd
            run, queue, _ = os.pread(fd, 100, 0).split()
        except (OSError, ValueError):
            return None
        return int(run), int(queue)

    def sample(self) -> Sched:
        try:
            tids = {int(t) for t in os.listdir("/proc/self/task")}
        except OSError:
            return Sched()
        for tid in list(self._fds):
            if tid not in tids:
                os.close(self._fds.pop(tid))
                run, queue = self._last.pop(tid, (0, 0))
                self._gone_run += run
                self._gone_queue += queue
        main = (0, 0)
        others_run, others_queue = self._gone_run, self._gone_queue
        for tid in tids:
            value = self._read(tid)
            if value is None:
                continue
            self._last[tid] = value
            if tid == self.main_tid:
                main = value
            else:
                others_run += value[0]
                others_queue += value[1]
        return Sched(main[0], main[1], others_run, others_queue)

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()


@dataclass(frozen=True)
class Gap:
    """One probe interval that ran late: where its wall time went (milliseconds)."""

    stall_ms: float  # how much later than asked the probe woke
    wall_ms: float  # the whole interval (the probe's sleep + the stall)
    run_ms: float  # the loop's thread on the CPU meanwhile
    queue_ms: float  # the loop's thread runnable, waiting for a CPU
    others_run_ms: float  # this process's other threads on the CPU
    others_queue_ms: float

    @property
    def own_ms(self) -> float:
        """The stall less the time the loop's thread waited for a CPU."""
        return max(0.0, self.stall_ms - self.queue_ms)

    @classmethod
    def of(cls, stall: float, wall: float, d: Sched) -> Gap:
        return cls(
            round(stall * 1000, 2),
            round(wall * 1000, 2),
            round(d.main_run / 1e6, 2),
            round(d.main_queue / 1e6, 2),
            round(d.others_run / 1e6, 2),
            round(d.others_queue / 1e6, 2),
        )

    def as_dict(self) -> dict[str, float]:
        return asdict(self) | {"own_ms": round(self.own_ms, 2)}


@dataclass
class Callback:
    cpu_ms: float
    wall_ms: float
    what: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _describe(handle: asyncio.Handle) -> str:
    callback = getattr(handle, "_callback", None)
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        frame = getattr(coro, "cr_frame", None)
        where = f" at line {frame.f_lineno}" if frame is not None else ""
        return f"task {getattr(coro, '__qualname__', coro)!s}{where}"
    return str(getattr(callback, "__qualname__", callback))


class CallbackClock:
    """The longest callbacks of the loop on the installing thread, by that thread's CPU time
    (asyncio.Handle._run wrapped for this process: a bench instrument, never the bot's)."""

    def __init__(self, keep: int = 5) -> None:
        self.keep = keep
        self.longest: list[Callback] = []
        self.phase_longest: list[Callback] = []
        self._original: Any = None

    def install(self) -> None:
        handle_cls = asyncio.events.Handle
        self._original = original = handle_cls._run
        clock = self
        loop_thread = threading.get_ident()

        def _run(handle: asyncio.Handle) -> None:
            if threading.get_ident() != loop_thread:  # another loop (a worker's): not ours
                original(handle)
                return
            cpu0, wall0 = time.thread_time(), time.perf_counter()
            try:
                original(handle)
            finally:
                cpu = time.thread_time() - cpu0
                if cpu > 0.002:
                    clock._note(cpu, time.perf_counter() - wall0, handle)

        handle_cls._run = _run  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            asyncio.events.Handle._run = self._original  # type: ignore[method-assign]
            self._original = None

    def _note(self, cpu: float, wall: float, handle: asyncio.Handle) -> None:
        entry: Callback | None = None
        for board in (self.longest, self.phase_longest):
            if len(board) >= self.keep and cpu * 1000 <= board[-1].cpu_ms:
                continue
            if entry is None:  # naming the callback costs a little: only for those kept
                entry = Callback(round(cpu * 1000, 2), round(wall * 1000, 2), _describe(handle))
            board.append(entry)
            board.sort(key=lambda c: -c.cpu_ms)
            del board[self.keep :]

    def take_phase(self) -> list[dict[str, Any]]:
        value, self.phase_longest = self.phase_longest, []
        return [c.as_dict() for c in value]

    def top(self) -> list[dict[str, Any]]:
        return [c.as_dict() for c in self.longest]
