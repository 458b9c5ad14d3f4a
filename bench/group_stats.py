"""/group stats benchmark: how long the chart takes for a year of weekly sessions.

    python bench/group_stats.py             # 21 rounds
    python bench/group_stats.py --rounds 51

Prints, from one run on the same machine (they are noisy, so the baseline is interleaved
with the chart round by round):
- the first chart in a fresh process (includes importing matplotlib, which the bot does in
  its warm-up once ready, so neither start-up nor the first /group stats pays for it);
- the baseline: an empty figure of the same size saved as PNG (matplotlib's floor);
- the chart for 52 sessions, as /group stats draws it (draw_attendance_chart: the drawing
  itself; /group stats sends a cached chart while its data is unchanged);
- the figures behind it from a real SQLite database (52 weekly sessions, 20 members, their
  RSVPs and attendance) through FacilitatorViewsService.stats;
- the longest event-loop stall while the chart renders in asyncio.to_thread.
Target: chart median < 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from familybot.services.groups.stats_chart import (
    DPI,
    HEIGHT_PX,
    WIDTH_PX,
    ChartPoint,
    draw_attendance_chart,
)

TARGET_MS = 300.0
SESSIONS = 52
MEMBERS = 20


def year_of_points() -> list[ChartPoint]:
    start = date(2026, 1, 6)
    return [
        ChartPoint(start + timedelta(weeks=i), 8 + i % 5, i % 4, 7 + (i * 7) % 6)
        for i in range(SESSIONS)
    ]


def empty_figure_png() -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def ms(seconds: float) -> float:
    return seconds * 1000


def timed(fn: object, *args: object) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this thread): CPU time shows the work itself when other
    processes share the cores; wall time is what a facilitator waits."""
    start, cpu = time.perf_counter(), time.thread_time()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - start, time.thread_time() - cpu


async def figures_from_database(rounds: int) -> tuple[float, int]:
    """Median seconds for FacilitatorViewsService.stats over a year of weekly sessions."""
    from familybot.db.connection import Database
    from familybot.db.migrate import migrate
    from familybot.models import JoinMode, Rsvp
    from familybot.models.setup import Actor
    from familybot.services.sessions.recurrence import Repeat
    from familybot.wiring import build_services
    from tests.support.fakes import FakeClock, RecordingPort

    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.db")
        try:
            await migrate(db)
            clock = FakeClock(datetime(2026, 1, 1, 12, tzinfo=UTC))
            services = build_services(db, RecordingPort(), clock, "America/New_York")
            await services.groups.create(
                guild_id=1,
                actor_id=10,
                name="Bench group",
                description="d",
                focus="f",
                capacity=24,
                join_mode=JoinMode.OPEN,
            )
            group = await services.groups.prepare_join(1, 100, "Bench group")
            for uid in range(100, 100 + MEMBERS):
                await services.groups.consent_and_join(
                    group.id, uid, group.guidelines_version, guild_id=group.guild_id
                )
            series = (
                await services.sessions.schedule(
                    guild_id=1,
                    actor_id=10,
                    group_name="Bench group",
                    title="Weekly",
                    date_text="2026-01-06",
                    time_text="18:00",
                    repeat=Repeat.WEEKLY,
                    duration_minutes=90,
                    tz="America/New_York",
                )
            ).series
            replies = [Rsvp.GOING, Rsvp.GOING, Rsvp.MAYBE, Rsvp.NO]
            for week in range(SESSIONS):
                key = (date(2026, 1, 6) + timedelta(weeks=week)).isoformat()
                await db.executemany(
                    "INSERT INTO rsvps (series_id, occurrence_key, user_id, response, "
                    "updated_at) VALUES (?, ?, ?, ?, 0)",
                    [
                        (series.id, key, uid, replies[(uid + week) % 4].value)
                        for uid in range(100, 100 + MEMBERS)
                    ],
                )
                await services.sessions.attendance.mark_attendance(
                    series.id,
                    key,
                    [u for u in range(100, 100 + MEMBERS) if (u + week) % 3],
                    10,
                    guild_id=series.guild_id,
                )
            clock.set(datetime(2027, 1, 4, 12, tzinfo=UTC))
            admin = Actor(10, frozenset(), manage_guild=True)
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                stats = await services.facilitator_views.stats(1, admin, "Bench group", 52)
                times.append(time.perf_counter() - start)
            return statistics.median(times), len(stats.sessions)
        finally:
            await db.close()


async def stall_while_rendering(points: list[ChartPoint]) -> tuple[float, float]:
    """(render seconds, longest event-loop stall seconds) with the chart in a worker thread."""
    loop = asyncio.get_running_loop()
    worst = 0.0
    done = False

    async def tick() -> None:
        nonlocal worst
        while not done:
            before = loop.time()
            await asyncio.sleep(0.005)
            worst = max(worst, loop.time() - before - 0.005)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.02)
    start = time.perf_counter()
    await asyncio.to_thread(draw_attendance_chart, points, 24)
    elapsed = time.perf_counter() - start
    done = True
    await ticker
    return elapsed, worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    points = year_of_points()

    first, _ = timed(draw_attendance_chart, points, 24)  # includes importing matplotlib
    empty_figure_png()  # warm the baseline path too
    baseline, chart, baseline_cpu, chart_cpu = [], [], [], []
    for _ in range(args.rounds):  # interleaved, so both see the same noise
        wall, cpu = timed(empty_figure_png)
        baseline.append(wall)
        baseline_cpu.append(cpu)
        wall, cpu = timed(draw_attendance_chart, points, 24)
        chart.append(wall)
        chart_cpu.append(cpu)
    db_median, held = asyncio.run(figures_from_database(max(5, args.rounds // 4)))
    threaded, stall = asyncio.run(stall_while_rendering(points))

    chart_median = statistics.median(chart)
    print(f"/group stats chart benchmark ({args.rounds} rounds, {WIDTH_PX}x{HEIGHT_PX} PNG)")
    print()
    print("| what | median ms | p90 ms | min ms |")
    print("|---|---:|---:|---:|")

    def row(label: str, values: list[float]) -> None:
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        print(
            f"| {label} | {ms(statistics.median(values)):.1f} | {ms(p90):.1f} "
            f"| {ms(min(values)):.1f} |"
        )

    row("baseline: empty figure, savefig PNG (wall)", baseline)
    row(f"chart: {SESSIONS} sessions, draw_attendance_chart (wall)", chart)
    row("baseline (CPU time of the thread)", baseline_cpu)
    row(f"chart: {SESSIONS} sessions (CPU time of the thread)", chart_cpu)
    print()
    print(f"first chart in this process (imports matplotlib): {ms(first):.0f} ms")
    print(
        f"chart minus baseline (medians): {ms(chart_median - statistics.median(baseline)):.1f} ms"
    )
    print(
        f"figures from SQLite ({held} sessions, {MEMBERS} members, FacilitatorViewsService.stats):"
        f" {ms(db_median):.1f} ms median"
    )
    print(
        f"chart in asyncio.to_thread: {ms(threaded):.1f} ms, longest event-loop stall "
        f"meanwhile: {ms(stall):.1f} ms"
    )
    cpu_median = statistics.median(chart_cpu)
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"load average during the run: {' '.join(load)} (2 cores shared)")
    for label, value in (("wall", chart_median), ("CPU", cpu_median)):
        verdict = "PASS" if ms(value) < TARGET_MS else "FAIL"
        print(
            f"target: chart median < {TARGET_MS:.0f} ms ({label}) -> {ms(value):.1f} ms {verdict}"
        )


if __name__ == "__main__":
    main()
