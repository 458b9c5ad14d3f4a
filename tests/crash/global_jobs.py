"""The database-wide jobs under kills, read back from the children's logs (#16).

The children fire the leader's daily jobs every EVERY seconds on the wall clock
(CRASH_DAILY_JOBS_EVERY_S, tests/crash/child.py), so each EVERY-second window is one "day".
Each run logs "database-wide job started job=J at=T period=P" (T its start, P the start of
the period it runs for, both Unix seconds: a run taken over from a killed leader starts
after its period may have ended) and, when it returns, "database-wide job done job=J"
(familybot/scheduler/leader.py). Runs are counted per period: the job_runs table makes it
at most one finished run per job and period, whichever processes lead.

What the test holds the processes to:

* at most once: per job and window, at most one run that finished. A run whose process was
  SIGKILLed before its "done" line (the leader died mid-job) does not count against that:
  its claim in job_runs stays unfinished and the next leader takes it over (in production
  within the day; here only if one leads again within the 5 s window).
* at least once: in each window where one process had been up for a while before the
  firing and stayed up after it, and no process died around it (a leader killed between
  taking its turn and logging the start leaves that window without a run, as above).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

EVERY = 5  # seconds: one "day" of the database-wide jobs in the failover test
JOBS = ("resource-review", "link-check", "backup")
# A window counts for "at least once" when no process ended within this many seconds
# before or after its firing, and one was up from READY_BEFORE s before to HOLD s after.
QUIET_BEFORE, HOLD = 2.0, 4.0

_START = re.compile(r"database-wide job started job=(\S+) at=(\d+)(?: period=(\d+))?")
_DONE = re.compile(r"database-wide job done job=(\S+)")
_READY = "scheduled work for"


@dataclass
class Run:
    job: str
    at: int
    finished: bool
    log: Path
    period: int | None = None

    @property
    def window(self) -> int:
        return (self.at if self.period is None else self.period) // EVERY


@dataclass
class Life:
    log: Path
    ready: float | None  # Unix time the child logged that its work was scheduled
    ended: float


def _stamp(line: str) -> float | None:
    try:
        return datetime.strptime(line.split(" ", 1)[0], "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return None


def read_runs(logs: list[Path]) -> list[Run]:
    runs: list[Run] = []
    for log in logs:
        open_runs: dict[str, Run] = {}
        for line in log.read_text(errors="replace").splitlines():
            if m := _START.search(line):
                run = Run(m[1], int(m[2]), False, log, None if m[3] is None else int(m[3]))
                runs.append(run)
                open_runs[run.job] = run
            elif (m := _DONE.search(line)) and m[1] in open_runs:
                open_runs.pop(m[1]).finished = True
    return runs


def lives(ended: list[tuple[Path, float]]) -> list[Life]:
    out = []
    for log, end in ended:
        ready = None
        for line in log.read_text(errors="replace").splitlines():
            if _READY in line:
                stamp = _stamp(line)
                ready = None if stamp is None else stamp + 1  # the stamp is truncated
                break
        out.append(Life(log, ready, end))
    return out


def twice(runs: list[Run]) -> dict[tuple[str, int], int]:
    """(job, window) with more than one finished run."""
    done = Counter((r.job, r.window) for r in runs if r.finished)
    return {k: n for k, n in done.items() if n > 1}


def covered_windows(all_lives: list[Life]) -> list[int]:
    """Windows in which some run of each job must have started (see the module doc)."""
    ready = [life for life in all_lives if life.ready is not None]
    if not ready:
        return []
    first = int(min(life.ready for life in ready if life.ready is not None)) // EVERY
    last = int(max(life.ended for life in all_lives)) // EVERY + 1
    ends = [life.ended for life in all_lives]
    out = []
    for window in range(first, last + 1):
        t = window * EVERY
        if any(t - QUIET_BEFORE <= end <= t + HOLD for end in ends):
            continue
        if any(
            life.ready is not None and life.ready <= t - 1 and life.ended >= t + HOLD
            for life in ready
        ):
            out.append(window)
    return out
