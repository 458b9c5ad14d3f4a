"""Benchmark children, each in a fresh process: `python -m bench.child MODE --json ARGS`.

* startup:  the real FamilyBot against the parent's fake Discord; time and peak RSS from
            process start to on_ready, and the longest event-loop stall until then.
* delivery: the same, then waits until the dispatcher has sent `--expect` reminders
            through the real DiscordReminders (the parent's fake counts requests and 429s).
* lateness: no Discord: the real Planner, Dispatcher and ReminderScheduler on an
            AsyncIOScheduler over a stamped database, with a sender that returns at once;
            then a bare asyncio heap scheduler over the same due instants.

Each prints one JSON object on its last stdout line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import heapq
import json
import math
import resource
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import (
    Lateness,
    StallWatch,
    process_age_seconds,
    quiet_start,
)
from bench.loopclock import CallbackClock


def _peak_rss_mb() -> float:
    """Peak resident set size of this process image (VmHWM), in MiB.

    Not getrusage's ru_maxrss: Linux carries that over fork and exec, so a child of a
    large parent reports the parent's size.
    """
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class GcPauses:
    """Garbage-collector pauses (generation, wall time at the end, seconds): a collection of
    a large heap is a loop stall like any other."""

    def __init__(self) -> None:
        # (generation, wall clock at its end, wall seconds, CPU seconds of the loop's thread):
        # on a loaded machine the wall time is mostly the wait for a CPU.
        self.pauses: list[tuple[int, float, float, float]] = []
        self._began = 0.0
        self._began_cpu = 0.0

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began, self._began_cpu = time.perf_counter(), time.thread_time()
        else:
            wall, cpu = time.perf_counter() - self._began, time.thread_time() - self._began_cpu
            self.pauses.append((info["generation"], time.time(), wall, cpu))

    def longest(self) -> float:
        return max((d for _, _, d, _ in self.pauses), default=0.0)


# --------------------------------------------------------------------------- startup


async def run_bot(args: argparse.Namespace) -> dict[str, Any]:
    profiler: cProfile.Profile | None = None
    if args.profile:  # start-up from the first import to on_ready
        profiler = cProfile.Profile()
        profiler.enable()
    imports_started = process_age_seconds()
    from familybot.gc_quiet import quiet_imports

    with quiet_imports():  # as `familybot run` imports the bot (familybot/cli/run.py)
        import discord
        import yarl

        from familybot.bot import FamilyBot
        from familybot.config import load_settings
        from familybot.scheduler.reminders import ReminderScheduler

    imports_done = process_age_seconds()
    watch = StallWatch()
    marks: dict[str, float] = {"imports_started": imports_started, "imports_done": imports_done}
    stalls: dict[str, float] = {}

    original_start = ReminderScheduler.start
    original_plan = ReminderScheduler.plan_and_schedule

    async def timed_start(self: ReminderScheduler, *args: Any, **kwargs: Any) -> None:
        # Jobs for the ledger's rows; the first planner pass begins once ready.
        stalls["before_planner"] = watch.take_phase()
        marks["scheduler_starting"] = process_age_seconds()
        await original_start(self, *args, **kwargs)
        marks["scheduler_started"] = process_age_seconds()

    async def timed_plan(self: ReminderScheduler) -> None:
        # The first pass's own time (from its first query, not from start(): it waits).
        first = "planner_started" not in marks
        if first:
            marks["planner_started"] = process_age_seconds()
        try:
            await original_plan(self)
        finally:
            if first:
                marks["planner_done"] = process_age_seconds()

    ReminderScheduler.start = timed_start  # type: ignore[method-assign]
    ReminderScheduler.plan_and_schedule = timed_plan  # type: ignore[method-assign]
    _mark_steps(marks)

    class TimedBot(FamilyBot):
        async def setup_hook(self) -> None:
            marks["setup_hook_started"] = process_age_seconds()
            await super().setup_hook()
            marks["setup_hook_done"] = process_age_seconds()
            stalls["rest_of_setup_hook"] = watch.take_phase()

    discord.http.Route.BASE = args.base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(args.gateway_url)
    settings = load_settings(
        Path("/nonexistent.env"),
        environ={
            "DISCORD_TOKEN": args.token,
            "DATABASE_PATH": args.db,
            "DEV_GUILD_ID": str(args.guild_id),
            "DEFAULT_TIMEZONE": "America/New_York",
            "LOG_LEVEL": "WARNING",
            **_sharding_env(args),
        },
    )
    bot = TimedBot(settings)
    # As the e2e harness does (discord.py waits 2 s after the last GUILD_CREATE otherwise).
    bot._connection.guild_ready_timeout = 0.05
    ready = asyncio.Event()

    async def on_ready() -> None:
        marks["ready"] = process_age_seconds()
        marks["ready_wall"] = time.time()
        ready.set()

    bot.add_listener(on_ready, "on_ready")
    pauses = GcPauses().__enter__()  # until ready
    callbacks = CallbackClock()
    callbacks.install()
    watch.start()
    runner = asyncio.create_task(bot.start(args.token))
    try:
        await asyncio.wait_for(ready.wait(), args.timeout)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        peak_rss = _peak_rss_mb()
        stalls["until_ready"] = watch.max_stall
        detail: dict[str, Any] = {"until_ready": watch.detail()}
        detail["until_ready"]["callbacks"] = callbacks.take_phase()
        pauses.__exit__()
        stalls["longest_gc_pause_until_ready"] = pauses.longest()
        stalls["login_to_ready"] = watch.take_phase()
        first_pass = bot.reminder_scheduler.first_pass
        if first_pass is not None:  # the first planner pass, if it outlasted start-up
            await asyncio.wait_for(asyncio.shield(first_pass), args.timeout)
        detail["first_pass_after_ready"] = watch.take_phase_detail()
        detail["first_pass_after_ready"]["callbacks"] = callbacks.take_phase()
        stalls["first_pass_after_ready"] = detail["first_pass_after_ready"]["max_stall"]
        result: dict[str, Any] = {
            "marks": marks,
            "stalls": stalls,
            "stall_detail": detail,
            "peak_rss_mb": peak_rss,
        }
        if args.mode == "delivery":
            marks["delivery_started_wall"] = time.time()
            with GcPauses() as in_delivery:
                result["delivery"] = await _wait_for_delivery(bot, args)
            detail["delivery"] = watch.take_phase_detail()
            detail["delivery"]["callbacks"] = callbacks.take_phase()
            result["peak_rss_after_delivery_mb"] = _peak_rss_mb()
            result["longest_gc_pause_in_delivery"] = in_delivery.longest()
            result["gc_pauses_over_10ms"] = [  # (generation, s before the end, wall ms, CPU ms)
                (
                    gen,
                    round(t - result["delivery"]["finished_wall"], 3),
                    round(d * 1000, 1),
                    round(c * 1000, 1),
                )
                for gen, t, d, c in in_delivery.pauses
                if d > 0.01
            ]
        result["max_stall_total"] = watch.max_stall
        detail["total"] = watch.detail()
        detail["total"]["callbacks"] = callbacks.top()
        return result
    finally:
        callbacks.uninstall()
        await watch.stop()
        await bot.close()
        try:
            await asyncio.wait_for(runner, 5)
        except (TimeoutError, asyncio.CancelledError, Exception):
            runner.cancel()


def _mark_steps(marks: dict[str, float]) -> None:
    """Marks (seconds since the process started) at the end of setup_hook's steps, to see
    where a cold start's extra time goes: each wrapped where familybot.bot looks it up."""
    import familybot.bot as bot_module
    from familybot.db.connection import Database

    def after(name: str, func: Any) -> Any:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            try:
                return await func(*args, **kwargs)
            finally:
                marks.setdefault(name, process_age_seconds())

        return timed

    Database.connect = after("db_opened", Database.connect)  # type: ignore[method-assign]
    bot_module.migrate = after("migrated", bot_module.migrate)  # type: ignore[assignment]
    build = bot_module.build_services

    def timed_build(*args: Any, **kwargs: Any) -> Any:
        try:
            return build(*args, **kwargs)
        finally:
            marks.setdefault("services_built", process_age_seconds())

    bot_module.build_services = timed_build  # type: ignore[assignment]
    load = bot_module.FamilyBot.load_extension

    async def timed_load(self: Any, name: str, **kwargs: Any) -> None:
        marks.setdefault("cogs_imported", process_age_seconds())  # awaited just before
        await load(self, name, **kwargs)
        marks["cogs_loaded"] = process_age_seconds()

    bot_module.FamilyBot.load_extension = timed_load  # type: ignore[method-assign]
    bot_module.sync_translated = after(  # type: ignore[assignment]
        "commands_synced", bot_module.sync_translated
    )
    _mark_gateway(marks)


def _mark_gateway(marks: dict[str, float]) -> None:
    """Marks from setup_hook's end to on_ready: the Gateway's address asked, the websocket
    opened, IDENTIFY sent, READY and the first GUILD_CREATE parsed (discord.py's own steps)."""
    import discord.gateway
    import discord.http
    import discord.state

    def before(name: str, owner: Any, attr: str) -> None:
        func = getattr(owner, attr)

        def marked(*args: Any, **kwargs: Any) -> Any:
            marks.setdefault(name, process_age_seconds())
            return func(*args, **kwargs)

        setattr(owner, attr, marked)

    def after(name: str, owner: Any, attr: str) -> None:
        func = getattr(owner, attr)

        async def marked(*args: Any, **kwargs: Any) -> Any:
            try:
                return await func(*args, **kwargs)
            finally:
                marks.setdefault(name, process_age_seconds())

        setattr(owner, attr, marked)

    after("gw_url_got", discord.http.HTTPClient, "get_bot_gateway")
    after("gw_opened", discord.http.HTTPClient, "ws_connect")
    before("gw_identify", discord.gateway.DiscordWebSocket, "identify")
    state = discord.state.AutoShardedConnectionState  # the bot's (parsers looked up at init)
    before("gw_ready_parsed", state, "parse_ready")
    before("gw_guild_create_parsed", state, "parse_guild_create")


def _sharding_env(args: argparse.Namespace) -> dict[str, str]:
    """One of several processes: its shards, and the database they share."""
    env = {}
    if args.shard_count:
        env["SHARD_COUNT"] = str(args.shard_count)
        env["SHARD_IDS"] = args.shard_ids
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    return env


async def _wait_for_delivery(bot: Any, args: argparse.Namespace) -> dict[str, Any]:
    dispatcher = bot.services.dispatcher
    # At 45/s, plus room for retries: a reminder whose send failed waits for the next run.
    deadline = time.monotonic() + (args.delivery_timeout or args.expect / 40 + 30)
    while dispatcher.totals.sent + dispatcher.totals.undeliverable < args.expect:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    return {"totals": asdict(dispatcher.totals), "finished_wall": time.time()}


# --------------------------------------------------------------------------- lateness


class InstantPort:
    """A ReminderPort whose send_reminder records when it was called and returns at once."""

    def __init__(self) -> None:
        from familybot.models.reminders import Delivery

        self._delivery = Delivery
        self.calls: list[tuple[int, float]] = []  # (series id, wall time on entry)
        self.listening: set[int] = set()
        self.done = asyncio.Event()
        self._next_id = 1

    async def send_reminder(self, target: Any, card: Any, nonce: str) -> Any:
        self.calls.append((card.series_id, time.time()))
        self.listening.discard(card.series_id)
        if not self.listening:
            self.done.set()
        self._next_id += 1
        return self._delivery(ok=True, message_id=self._next_id)

    async def find_reminders(self, target: Any, ledger_ids: Any, after: datetime) -> dict[int, int]:
        return {}

    async def create_group_space(self, *a: Any, **k: Any) -> Any:
        raise NotImplementedError

    async def delete_group_space(self, *a: Any, **k: Any) -> None:
        raise NotImplementedError

    async def update_group_space(self, *a: Any, **k: Any) -> None:
        raise NotImplementedError

    async def archive_group_space(self, *a: Any, **k: Any) -> None:
        raise NotImplementedError

    async def grant_channel_access(self, *a: Any, **k: Any) -> None:
        raise NotImplementedError

    async def revoke_channel_access(self, *a: Any, **k: Any) -> None:
        raise NotImplementedError

    async def delete_role(self, *a: Any, **k: Any) -> bool:
        raise NotImplementedError

    async def remove_member_role(self, *a: Any, **k: Any) -> None:
        raise NotImplementedError

    async def send_dm(self, *a: Any, **k: Any) -> bool:
        raise NotImplementedError

    async def post_join_request(self, *a: Any, **k: Any) -> None:
        raise NotImplementedError

    async def post_notice(self, *a: Any, **k: Any) -> bool:
        raise NotImplementedError


def _spread(start: int, count: int, span: int) -> list[int]:
    """`count` whole-second instants spread evenly over [start, start + span)."""
    return [start + (i * span) // count for i in range(count)]


async def heap_scheduler(port: InstantPort, jobs: Sequence[tuple[int, int, Any, Any]]) -> None:
    """The baseline: a heap of (due instant, series id, target, card), built ahead like the
    ledger, and one task that sleeps until the earliest instant and sends what is due."""
    heap = list(jobs)
    heapq.heapify(heap)
    while heap:
        delay = heap[0][0] - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
            continue
        now = time.time()
        while heap and heap[0][0] <= now:
            _, series_id, target, card = heapq.heappop(heap)
            await port.send_reminder(target, card, nonce=f"h{series_id}")


async def run_lateness(args: argparse.Namespace) -> dict[str, Any]:
    from familybot import gc_quiet

    # The collector as in the bot: its imports (familybot/cli/run.py) and its set-up
    # (setup_hook, familybot/bot.py) without collections, what they leave frozen out of later
    # ones (familybot/gc_quiet.py). Without it every full collection here walked the ~100k
    # objects of the imports and set-up again, which the bot's never do.
    with gc_quiet.quiet_imports():
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        from bench.datagen import plant_due_series
        from familybot.clock import SystemClock
        from familybot.db.connection import Database
        from familybot.db.migrate import migrate
        from familybot.models.reminders import ReminderCard, ReminderTarget
        from familybot.scheduler.reminders import JOB_DEFAULTS, ReminderScheduler
        from familybot.wiring import build_services

    loop = asyncio.get_running_loop()
    watch = StallWatch()
    watch.start()
    # Garbage-collector pauses (generation, start, seconds): a full collection over a large
    # heap is a loop stall like any other.
    gc_pauses: list[tuple[int, float, float]] = []
    # Generation-2 collections: (wall clock at the end, wall s, CPU s, the thread it ran on):
    # one in a worker (aiosqlite's, the planner's) holds the GIL, so the loop's thread waits
    # for it without using a CPU nor waiting for one.
    gc_full: list[tuple[float, float, float, str]] = []
    gc_began = [0.0, 0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_began[:] = [time.perf_counter(), time.thread_time()]
        else:
            wall = time.perf_counter() - gc_began[0]
            gc_pauses.append((info["generation"], time.time(), wall))
            if info["generation"] == 2:
                cpu = time.thread_time() - gc_began[1]
                gc_full.append((time.time(), wall, cpu, threading.current_thread().name))

    gc.callbacks.append(on_gc)
    gc_quiet.hold()  # the set-up, as setup_hook's quiet_start: released once jobs exist
    db = await Database.open(Path(args.db))
    await migrate(db)
    n, span, gap = args.count, args.spread_seconds, 3
    n_spread = args.spread_count or n
    # Timeline: bot burst, bot spread, then the heap's burst and spread, same shape.
    heap_shift = gap + span + gap
    total_span = 2 * heap_shift
    earliest = time.time() + args.margin
    start = quiet_start(earliest, total_span) if args.avoid_background else math.ceil(earliest)
    burst_at = start
    spread = _spread(start + gap, n_spread, span)
    planted = await plant_due_series(db, [burst_at] * n + spread, time.time())
    burst_ids = {p.series_id for p in planted[:n]}
    due_of = {p.series_id: p.due_at for p in planted}

    port = InstantPort()
    port.listening = set(due_of)
    services = build_services(db, port, SystemClock(), "UTC")
    scheduler = AsyncIOScheduler(event_loop=loop, job_defaults=JOB_DEFAULTS)
    scheduler.start()
    reminder_scheduler = ReminderScheduler(
        scheduler, services.planner, services.dispatcher, services.reminders, services.clock
    )
    dispatch_runs: list[tuple[float, float, int]] = []
    original_dispatch = services.dispatcher.dispatch

    async def timed_dispatch(*args: Any, **kwargs: Any) -> Any:
        began = time.time()
        report = await original_dispatch(*args, **kwargs)
        dispatch_runs.append((began, time.time(), report.sent))
        return report

    services.dispatcher.dispatch = timed_dispatch  # type: ignore[method-assign]
    # When the ledger's pages were marked `sending` (prepared) and results recorded, to see
    # whether the burst was ready before its instant and what ran during its hand-over.
    db_calls: list[tuple[str, float, float, int]] = []

    def timed(name: str, method: Any) -> Any:
        async def wrapper(rows: Any, *args: Any, **kwargs: Any) -> Any:
            began = time.time()
            try:
                return await method(rows, *args, **kwargs)
            finally:
                db_calls.append((name, began, time.time(), len(rows)))

        return wrapper

    repo = services.reminders
    repo.mark_sending = timed("prepared", repo.mark_sending)  # type: ignore[method-assign]
    repo.mark_sent = timed("recorded", repo.mark_sent)  # type: ignore[method-assign]
    watch.take_phase()
    # The longest callbacks by CPU time, in the planner pass and the spread (not the burst,
    # whose 10,000 hand-overs it would slow, unlike the heap's few callbacks).
    callbacks = CallbackClock()
    callbacks.install()
    plan_started = time.perf_counter()
    await reminder_scheduler.start()
    gc_quiet.release()  # as at setup_hook's end: what is alive now is frozen
    if reminder_scheduler.first_pass is not None:  # planning goes on after start() returns
        await reminder_scheduler.first_pass
    plan_seconds = time.perf_counter() - plan_started
    stall_detail = {"planner": watch.take_phase_detail()}
    stall_detail["planner"]["callbacks"] = callbacks.take_phase()
    callbacks.uninstall()
    planner_stall = stall_detail["planner"]["max_stall"]
    planned_before_burst = time.time() < burst_at
    jobs_scheduled = len(scheduler.get_jobs())

    profiler: cProfile.Profile | None = None
    if args.profile:
        await asyncio.sleep(max(0.0, burst_at - 0.5 - time.time()))
        profiler = cProfile.Profile()
        profiler.enable()
    await asyncio.sleep(max(0.0, burst_at - 1 - time.time()))
    watch.take_phase()
    burst_done = asyncio.Event()

    def check_burst() -> None:
        if burst_ids.isdisjoint(port.listening):
            burst_done.set()
        else:
            loop.call_later(0.001, check_burst)

    check_burst()
    await asyncio.wait_for(burst_done.wait(), args.timeout)
    stall_detail["burst"] = watch.take_phase_detail()
    burst_stall = stall_detail["burst"]["max_stall"]
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    callbacks.install()
    await asyncio.wait_for(port.done.wait(), span + args.timeout)
    stall_detail["spread"] = watch.take_phase_detail()
    stall_detail["spread"]["callbacks"] = callbacks.take_phase()
    callbacks.uninstall()
    spread_stall = stall_detail["spread"]["max_stall"]
    bot_calls = list(port.calls)

    # The baseline, in the same process and loop, over the same instants shifted.
    shift = heap_shift
    card = ReminderCard(
        ledger_id=0,
        series_id=0,
        occurrence_key="2026-01-01",
        group_name="g",
        title="t",
        start=datetime.now().astimezone(),
        end=datetime.now().astimezone(),
        voice_channel_id=None,
        going=0,
        maybe=0,
        no=0,
        late=False,
    )
    heap_port = InstantPort()
    heap_target = ReminderTarget(channel_id=1)
    heap_jobs = [
        (due_of[sid] + shift, sid, heap_target, replace(card, series_id=sid, ledger_id=sid))
        for sid in due_of
    ]
    heap_port.listening = set(due_of)
    watch.take_phase()
    await asyncio.wait_for(heap_scheduler(heap_port, heap_jobs), shift + span + args.timeout)
    heap_stall = watch.take_phase()

    def lateness(calls: list[tuple[int, float]], ids: set[int], delta: int) -> Lateness:
        return Lateness.of([t - (due_of[sid] + delta) for sid, t in calls if sid in ids])

    spread_ids = set(due_of) - burst_ids
    mine = set(due_of)
    result = {
        "background_series": int(await db.fetchval("SELECT count(*) FROM session_series") or 0)
        - len(planted),
        "planted": len(planted),
        "plan_seconds": plan_seconds,
        "planner_stall": planner_stall,
        "planned_before_burst": planned_before_burst,
        "jobs_scheduled": jobs_scheduled,
        "bot_burst": asdict(lateness(bot_calls, burst_ids, 0)),
        "bot_spread": asdict(lateness(bot_calls, spread_ids, 0)),
        "heap_burst": asdict(lateness(heap_port.calls, burst_ids, shift)),
        "heap_spread": asdict(lateness(heap_port.calls, spread_ids, shift)),
        "other_sends": sum(
            1 for sid, t in bot_calls if sid not in mine and burst_at - 1 <= t <= spread[-1] + 1
        ),
        "burst_stall": burst_stall,
        "spread_stall": spread_stall,
        "heap_stall": heap_stall,
        "stall_detail": stall_detail,
        "dispatch_runs_in_burst": [
            (round(b - burst_at, 4), round(e - burst_at, 4), sent)
            for b, e, sent in dispatch_runs
            if burst_at - 1 <= b <= burst_at + 5
        ],
        "peak_rss_mb": _peak_rss_mb(),
        # Collections of generation 1 and 2 during the bot's and the heap's bursts.
        "gc_in_burst": [
            (gen, round(t - burst_at, 4), round(d * 1000, 1))
            for gen, t, d in gc_pauses
            if gen > 0 and burst_at - 1 <= t <= burst_at + 2
        ],
        "gc_in_heap_burst": [
            (gen, round(t - burst_at - shift, 4), round(d * 1000, 1))
            for gen, t, d in gc_pauses
            if gen > 0 and burst_at + shift - 1 <= t <= burst_at + shift + 2
        ],
        # Full collections from the planner pass to the end of the spread: (s after the
        # burst's instant, wall ms, CPU ms, thread).
        "gc_full": [
            (round(t - burst_at, 3), round(w * 1000, 1), round(c * 1000, 1), who)
            for t, w, c, who in gc_full
        ],
        "gc_frozen": gc.get_freeze_count(),
        # Every stall over 20 ms, (s after the burst's instant, ms): to set beside gc_full.
        "stalls_over_20ms": [
            (round(t - burst_at, 3), round(stall * 1000, 1))
            for t, stall in watch.stalls
            if stall > 0.02
        ],
        # (what, start s, end s, rows) around the burst's instant, relative to it.
        "ledger_writes_near_burst": [
            (name, round(b - burst_at, 4), round(e - burst_at, 4), count)
            for name, b, e, count in db_calls
            if burst_at - 20 <= b <= burst_at + 1
        ],
    }
    gc.callbacks.remove(on_gc)
    scheduler.shutdown(wait=False)
    await watch.stop()
    await db.close()
    return result


# --------------------------------------------------------------------------- ticker


async def run_ticker(args: argparse.Namespace) -> dict[str, Any]:
    """The baseline beside the bot: a bare asyncio loop that only runs the stall probe, under
    the same CPU load at the same time, until SIGTERM (or --timeout)."""
    import signal

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    watch = StallWatch()
    watch.start()
    sys.stdout.write("ticking\n")
    sys.stdout.flush()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), args.timeout)
    await watch.stop()
    return watch.detail() | {"stalls": watch.stalls}


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.child")
    parser.add_argument("mode", choices=("startup", "delivery", "lateness", "ticker"))
    parser.add_argument("--db", default="")
    parser.add_argument("--base-url", default="")
    parser.add_argument("--gateway-url", default="")
    parser.add_argument("--token", default="")
    parser.add_argument("--guild-id", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--expect", type=int, default=0)
    parser.add_argument("--delivery-timeout", type=float, default=0.0)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--spread-count", type=int, default=0, help="default: --count")
    parser.add_argument("--spread-seconds", type=int, default=60)
    parser.add_argument("--margin", type=float, default=8.0)
    parser.add_argument("--avoid-background", action="store_true")
    parser.add_argument("--profile", default="")
    parser.add_argument("--shard-count", type=int, default=0, help="SHARD_COUNT (0: one process)")
    parser.add_argument("--shard-ids", default="", help="SHARD_IDS, e.g. 0,2")
    parser.add_argument("--database-url", default="", help="DATABASE_URL (PostgreSQL)")
    args = parser.parse_args(argv)
    if args.mode == "lateness":
        result = asyncio.run(run_lateness(args))
    elif args.mode == "ticker":
        result = asyncio.run(run_ticker(args))
    else:
        result = asyncio.run(run_bot(args))
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
