"""The failover test's reading of the global jobs' log lines (tests/crash/global_jobs.py),
on hand-written logs: a double run, a run cut by a kill, and the windows that must have run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.crash import global_jobs
from tests.crash.global_jobs import EVERY

T0 = 1_800_000_000 - 1_800_000_000 % EVERY  # the start of a window


def stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S%z")


def write(path: Path, lines: list[tuple[float, str]]) -> Path:
    text = "".join(f"{stamp(t)} INFO    familybot.x: {msg}\n" for t, msg in lines)
    path.write_text(text)
    return path


def started(job: str, t: int) -> str:
    return f"database-wide job started job={job} at={t}"


def test_two_finished_runs_in_one_window_are_found(tmp_path: Path) -> None:
    a = write(
        tmp_path / "a.log", [(T0, started("backup", T0)), (T0, "database-wide job done job=backup")]
    )
    b = write(
        tmp_path / "b.log",
        [(T0 + 1, started("backup", T0 + 1)), (T0 + 1, "database-wide job done job=backup")],
    )
    runs = global_jobs.read_runs([a, b])
    assert global_jobs.twice(runs) == {("backup", T0 // EVERY): 2}


def test_a_run_cut_by_a_kill_does_not_count_as_twice(tmp_path: Path) -> None:
    a = write(tmp_path / "a.log", [(T0, started("backup", T0))])  # killed before "done"
    b = write(
        tmp_path / "b.log",
        [(T0 + 1, started("backup", T0 + 1)), (T0 + 1, "database-wide job done job=backup")],
    )
    runs = global_jobs.read_runs([a, b])
    assert [r.finished for r in runs] == [False, True]
    assert global_jobs.twice(runs) == {}
    # The next window's run is another day.
    c = write(
        tmp_path / "c.log",
        [(T0, started("backup", T0 + EVERY)), (T0, "database-wide job done job=backup")],
    )
    assert global_jobs.twice(global_jobs.read_runs([b, c])) == {}


def test_a_run_taken_over_counts_in_its_period_not_in_the_window_it_started(
    tmp_path: Path,
) -> None:
    """A leader killed mid-job: the next leader runs that period's job later, maybe in the
    next window, beside the next period's own run: two runs, two periods, not twice."""
    a = write(tmp_path / "a.log", [(T0, started("backup", T0) + f" period={T0}")])
    b = write(
        tmp_path / "b.log",
        [
            (T0 + EVERY + 1, started("backup", T0 + EVERY + 1) + f" period={T0}"),
            (T0 + EVERY + 1, "database-wide job done job=backup"),
            (T0 + EVERY + 2, started("backup", T0 + EVERY + 2) + f" period={T0 + EVERY}"),
            (T0 + EVERY + 2, "database-wide job done job=backup"),
        ],
    )
    runs = global_jobs.read_runs([a, b])
    assert [(r.window, r.finished) for r in runs] == [
        (T0 // EVERY, False),
        (T0 // EVERY, True),
        (T0 // EVERY + 1, True),
    ]
    assert global_jobs.twice(runs) == {}


def test_windows_to_cover_need_a_process_up_through_them_and_no_death_near(
    tmp_path: Path,
) -> None:
    up = write(tmp_path / "up.log", [(T0 - 20, "scheduled work for all shards")])
    late = write(tmp_path / "late.log", [(T0 + 3 * EVERY, "scheduled work for all shards")])
    # `up` lives until 4 windows in; `late` starts after window 3 and is killed at 6 windows.
    lives = global_jobs.lives([(up, T0 + 4 * EVERY + 0.5), (late, T0 + 6 * EVERY + 1)])
    covered = global_jobs.covered_windows(lives)
    first = T0 // EVERY
    # Window 4 has a death 0.5 s after its firing, window 6 one at 1 s: neither counts.
    assert first + 4 not in covered and first + 6 not in covered
    assert {first, first + 1, first + 2, first + 3} <= set(covered)
    # `late` is ready 1 s after T0 + 3 windows (the stamp is truncated): window 3 counts only
    # through `up`, window 5 through `late`.
    assert first + 5 in covered
