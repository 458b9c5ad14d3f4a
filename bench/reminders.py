"""Reminder benchmark: start-up, event-loop stalls, dispatch lateness and delivery rate.

    python bench/reminders.py            # full: start-up at 10k / 100k / 1M sessions, a burst
                                         # of 10,000, 2,000 deliveries with the CPU loaded
    python bench/reminders.py --quick    # CI smoke: 1k / 10k sessions, 300 deliveries

Prints a table with the targets and writes it to bench/results.md. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import math
import pstats
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.coldstart import Evicted, bot_roots, compile_bytecode, evict
from bench.common import CACHE_DIR, PYTHON, REPO_ROOT, quiet_start
from bench.datagen import (
    StampInfo,
    catch_up,
    copy_db,
    ensure_base,
    flush_file,
    plant_due_series,
    remove_db,
    stamp,
)
from familybot.db.connection import Database
from familybot.db.migrate import migrate
from tests.support.fake_discord import FakeDiscord

READY_TARGET_S = 1.0
FLAT_TARGET_S = 0.1  # ready at the largest size at most this much later than at the smallest
RSS_TARGET_MB = 200.0
STALL_TARGET_MS = 50.0
LATENESS_RATIO_TARGET = 1.5
PACE_TARGET = 45  # never more in any 1 s window of arrivals at the fake Discord
# The fake answers 429 beyond this many requests in any rolling 1 s (Discord's is 50):
# set to the bot's own ceiling, any second over it shows as a 429.
DISCORD_GLOBAL_LIMIT = 45
CHANNELS_PER_GUILD = 200


@dataclass
class Figures:
    quick: bool
    startup: dict[int, StartupRuns] = field(default_factory=dict)
    stamps: dict[int, StampInfo] = field(default_factory=dict)
    lateness: dict[str, Any] = field(default_factory=dict)
    delivery: dict[str, Any] = field(default_factory=dict)
    uptime_start: str = ""
    uptime_end: str = ""


CHILD_TIMEOUT_S = 600.0


async def run_child(mode: str, *args: str) -> dict[str, Any]:
    log = CACHE_DIR / f"child-{mode}.log"
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "bench.child",
        mode,
        *args,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), CHILD_TIMEOUT_S)
    log.write_bytes(err)
    if proc.returncode != 0:
        tail = err.decode(errors="replace")[-3000:]
        raise RuntimeError(f"bench child {mode} failed ({proc.returncode}):\n{tail}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


def _fake_args(fake: FakeDiscord, guild_id: int) -> list[str]:
    return [
        "--base-url",
        fake.base_url,
        "--gateway-url",
        fake.gateway_url,
        "--token",
        fake.token,
        "--guild-id",
        str(guild_id),
    ]


class Ticker:
    """The baseline process: a bare asyncio loop running only the stall probe
    (`bench.child ticker`), beside the bot, under the same load, at the same time."""

    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            PYTHON,
            "-m",
            "bench.child",
            "ticker",
            "--timeout",
            str(CHILD_TIMEOUT_S),
            cwd=REPO_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        await asyncio.wait_for(self._proc.stdout.readline(), 30)  # "ticking"

    async def stop(self) -> dict[str, Any]:
        proc = self._proc
        assert proc is not None
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        if proc.returncode != 0:
            raise RuntimeError(f"ticker failed ({proc.returncode}): {err.decode()[-2000:]}")
        result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
        return result


@dataclass
class StartupRuns:
    """One size: a cold start (the bot's files dropped from the page cache) first, then
    warm starts; and the bare loop's stalls over the same time."""

    cold: dict[str, Any]
    warm: list[dict[str, Any]]
    evicted: Evicted
    baseline: dict[str, Any]

    def warm_median(self, key: Callable[[dict[str, Any]], float]) -> float:
        return statistics.median(key(r) for r in self.warm)


def _ready(r: dict[str, Any]) -> float:
    return float(r["marks"]["ready"])


def _setup_hook(r: dict[str, Any]) -> float:
    m = r["marks"]
    return float(m["setup_hook_done"] - m["setup_hook_started"])


def _first_pass(r: dict[str, Any]) -> float:
    m = r["marks"]
    return float(m["planner_done"] - m["planner_started"])


def _imports(r: dict[str, Any]) -> float:
    return float(r["marks"]["imports_done"])


def _startup_stall(r: dict[str, Any]) -> float:
    return float(max(r["stalls"]["until_ready"], r["stalls"].get("first_pass_after_ready", 0)))


def _own_stall_ms(detail: dict[str, Any]) -> float:
    own = detail.get("longest_own")
    return float(own["own_ms"]) if own else 0.0


def _startup_own_ms(r: dict[str, Any]) -> float:
    d = r["stall_detail"]
    return max(_own_stall_ms(d["until_ready"]), _own_stall_ms(d["first_pass_after_ready"]))


# No start begins this close before a background due instant (the 5-minute marks: about
# 1,000 reminders fall due on each at 1M sessions, 10 at 10k): from the child's spawn to its
# ready is 1-3 s, and the dispatcher prepares up to 3 s before an instant.
START_GUARD_S = 10


async def _caught_up(run_db: Path, *, cold: bool) -> int:
    """Right before a start: its copy as a bot running until now leaves it (datagen.catch_up:
    nothing overdue, whatever the copy's age), clear of the next due instant. Without it each
    start began with every reminder due since its size was stamped (the smallest first, so
    the oldest) sent during start-up, in the same pace as the command sync and the Gateway's
    address. Returns the rows caught up."""
    now = time.time()
    clear = quiet_start(now, START_GUARD_S, guard=1.0)
    if clear > now + 1.0:
        await asyncio.sleep(clear - now)
    caught = catch_up(run_db, time.time())
    if cold:  # the few pages the catch-up read go again (only the database's)
        evict([], flush=[run_db])
    else:
        flush_file(run_db)
    return caught


async def bench_startup(sizes: tuple[int, ...], figures: Figures, starts: int) -> None:
    fake = FakeDiscord()
    await fake.start()
    try:
        guild_id = fake.add_guild("Family Support", owner_id=fake.add_user(name="owner"))
        # Discarded: the fake Discord (this process) checks the first command sync against
        # the API schema much more slowly than later ones (its validators are built then:
        # about 0.35 s), which the first timed start would otherwise count as the bot's.
        print("  start-up, a discarded warm-up start ...", flush=True)
        warm_up = CACHE_DIR / "warm-up.db"
        await stamp(await ensure_base(min(sizes)), warm_up, time.time())
        await run_child("startup", "--db", str(warm_up), *_fake_args(fake, guild_id))
        stamped: dict[int, Path] = {}
        cold: dict[int, tuple[dict[str, Any], Evicted, dict[str, Any]]] = {}
        for n in sizes:
            base = await ensure_base(n)
            stamped[n] = CACHE_DIR / f"stamped-{n}.db"
            figures.stamps[n] = await stamp(base, stamped[n], time.time())
            flush_file(stamped[n])
            run_db = CACHE_DIR / f"run-{n}.db"
            print(f"  start-up, {n:>7,} sessions: cold ...", flush=True)
            copy_db(stamped[n], run_db)
            ticker = Ticker()
            await ticker.start()
            # As after a reboot: nothing the bot reads is in memory.
            evicted = evict(bot_roots(), flush=[run_db])
            caught = await _caught_up(run_db, cold=True)
            cold_run = await run_child("startup", "--db", str(run_db), *_fake_args(fake, guild_id))
            cold_run["caught_up"] = caught
            cold[n] = (cold_run, evicted, await ticker.stop())
        # Warm starts in rounds, each size once per round: a change in the machine's load
        # (other work coming and going) meets every size alike, not the last one alone.
        print(f"  start-up, {starts} rounds of warm starts, each size once a round ...", flush=True)
        warm: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
        ticker = Ticker()
        await ticker.start()
        for _ in range(starts):
            for n in sizes:
                run_db = CACHE_DIR / f"run-{n}.db"
                copy_db(stamped[n], run_db)  # each start on the same stamped state
                caught = await _caught_up(run_db, cold=False)
                run = await run_child("startup", "--db", str(run_db), *_fake_args(fake, guild_id))
                warm[n].append(run | {"caught_up": caught})
        warm_bare = await ticker.stop()
        for n in sizes:
            cold_run, evicted, cold_bare = cold[n]
            bare = max(cold_bare, warm_bare, key=lambda b: float(b["max_stall"]))
            figures.startup[n] = StartupRuns(cold_run, warm[n], evicted, bare)
    finally:
        await fake.stop()


async def bench_lateness(
    n: int, spread: int, burst: int, spread_count: int, *, avoid: bool, profile: str
) -> dict[str, Any]:
    base = await ensure_base(n)
    run_db = CACHE_DIR / f"lateness-{n}.db"
    await stamp(base, run_db, time.time())
    args = ["--db", str(run_db), "--count", str(burst), "--spread-count", str(spread_count)]
    # The planner pass over the planted series must end before the burst's run starts.
    args += ["--spread-seconds", str(spread), "--margin", str(10 + (burst + spread_count) / 400)]
    if avoid:
        args.append("--avoid-background")
    if profile:
        args += ["--profile", profile]
    print(f"  dispatch lateness over {n:,} sessions (about {2 * spread + 40} s) ...", flush=True)
    return await run_child("lateness", *args)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def cpu_burners(count: int) -> list[subprocess.Popen[bytes]]:
    """`count` processes spinning on a core each: the CPU loaded while reminders go out."""
    return [
        subprocess.Popen([PYTHON, "-c", "while True: pass"], stdout=subprocess.DEVNULL)
        for _ in range(count)
    ]


async def bench_delivery(count: int, cpu_load: int) -> dict[str, Any]:
    fake = FakeDiscord()
    await fake.start()
    burners: list[subprocess.Popen[bytes]] = []
    try:
        owner = fake.add_user(name="owner")
        guilds: list[int] = []
        channels: list[int] = []
        guild_of: list[int] = []
        while len(channels) < count:
            guilds.append(fake.add_guild(f"Family {len(guilds)}", owner_id=owner))
            for _ in range(min(CHANNELS_PER_GUILD, count - len(channels))):
                channels.append(fake.add_text_channel(guilds[-1], f"group-{len(channels)}"))
                guild_of.append(guilds[-1])
        fake.global_rate_limit = DISCORD_GLOBAL_LIMIT  # rolling 1 s window
        db_path = CACHE_DIR / "delivery.db"
        remove_db(db_path)
        db = await Database.open(db_path)
        try:
            await migrate(db)
            due = math.ceil(time.time()) + 6  # the bot is ready well before this
            await plant_due_series(
                db, [due] * count, time.time(), channel_ids=channels, guild_ids=guild_of
            )
        finally:
            await db.close()
        print(
            f"  delivery of {count:,} reminders, fake Discord refusing over "
            f"{DISCORD_GLOBAL_LIMIT} in any 1 s, {cpu_load} CPU burners ...",
            flush=True,
        )
        burners = cpu_burners(cpu_load)
        ticker = Ticker()  # the bare loop's stalls under the same burners, same seconds
        await ticker.start()
        load_during = ""
        spawned_wall = time.time()
        child = await run_child(
            "delivery",
            "--db",
            str(db_path),
            "--expect",
            str(count),
            *_fake_args(fake, guilds[0]),
        )
        baseline = await ticker.stop()
        load_during = uptime()
        stamps = sorted(
            datetime.fromisoformat(m["timestamp"]).timestamp()
            for cid in channels
            for m in fake.messages_in(cid)
        )
        rate = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else math.nan
        busiest = max(
            (bisect.bisect_left(stamps, t + 1.0) - i for i, t in enumerate(stamps)), default=0
        )
        return {
            "count": count,
            "delivered": len(stamps),
            "first_after_due_s": stamps[0] - due if stamps else math.nan,
            "seconds": stamps[-1] - stamps[0] if stamps else math.nan,
            "rate": rate,
            "busiest_1s": busiest,
            "rate_limited_429": fake.rate_limited_count,
            "other_errors": sum(1 for r in fake.requests if r.status >= 400 and r.status != 429),
            "schema_errors": len(fake.schema_errors),
            "cpu_burners": cpu_load,
            "uptime_during": load_during,
            "child": child,
            "baseline": baseline,
            "spawned_wall": spawned_wall,
        }
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
        await fake.stop()


# --------------------------------------------------------------------------- report


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _callback_text(detail: dict[str, Any]) -> str:
    top = detail.get("callbacks") or []
    if not top:
        return "none over 2 ms"
    c = top[0]
    return f"{c['cpu_ms']:.0f} ({c['what']})"


def _stall_row(name: str, detail: dict[str, Any], baseline: str) -> str:
    longest = detail.get("longest") or {}
    return (
        f"| {name} | {detail['max_stall'] * 1000:.0f} | {longest.get('queue_ms', 0):.0f} "
        f"| {_own_stall_ms(detail):.0f} | {_callback_text(detail)} | {baseline} |"
    )


def _startup_report(fig: Figures, lines: list[str]) -> None:
    starts = max(len(r.warm) for r in fig.startup.values())
    evicted = next(iter(fig.startup.values())).evicted
    lines.append(
        "Start-up (fresh process -> on_ready, real FamilyBot against the fake Discord). Each "
        f"size: first a cold start, as after a reboot ({evicted.files:,} files, "
        f"{evicted.megabytes:,.0f} MB dropped from the page cache: Python's library, the "
        "packages, FamilyBot, the database), then "
        f"{starts} warm starts (median, and min-max of ready). Each start's copy is caught "
        "up to its start (reminders due by then marked sent, as by a bot that ran until a "
        f"moment ago) and begins at least {START_GUARD_S} s before the next due instant. "
        "Before all, one discarded "
        "start (the fake Discord's first check of a command sync against the API schema is "
        "slow: it would count as the first start's). Bytecode compiled beforehand, "
        "as an install has it. Max stall: wall (the bot's own part: less the loop's thread's "
        "wait for a CPU); bare loop: a process running only the stall probe meanwhile."
    )
    lines.append("")
    lines.append(
        "| sessions | ledger rows | planned at start | start | imports s | setup_hook s | "
        "first planner pass s (background) | ready s | peak RSS MB | max stall ms (own) "
        "| bare loop max stall ms |"
    )
    lines.append("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for n, runs in fig.startup.items():
        sp, c = fig.stamps[n], runs.cold
        base = f"{runs.baseline['max_stall'] * 1000:.0f}"
        lines.append(
            f"| {n:,} | {sp.ledger_sent + sp.ledger_pending:,} | {sp.due_next_30_min} | cold "
            f"| {_imports(c):.2f} | {_setup_hook(c):.3f} | {_first_pass(c):.3f} "
            f"| {_ready(c):.2f} | {c['peak_rss_mb']:.0f} "
            f"| {_startup_stall(c) * 1000:.0f} ({_startup_own_ms(c):.0f}) | {base} |"
        )
        med = runs.warm_median
        ready = [_ready(r) for r in runs.warm]
        worst = max(runs.warm, key=_startup_stall)
        lines.append(
            f"| | | | warm x{len(runs.warm)} | {med(_imports):.2f} | {med(_setup_hook):.3f} "
            f"| {med(_first_pass):.3f} | {med(_ready):.2f} ({min(ready):.2f}-{max(ready):.2f}) "
            f"| {med(lambda r: r['peak_rss_mb']):.0f} "
            f"| {_startup_stall(worst) * 1000:.0f} ({max(map(_startup_own_ms, runs.warm)):.0f}) "
            "| |"
        )


def _lateness_report(lat: dict[str, Any], lines: list[str]) -> None:
    lines.append("")
    lines.append(
        f"Dispatch lateness (due instant -> handed to the sender), {lat['background_series']:,} "
        "sessions in the database, real Planner + Dispatcher + ReminderScheduler on "
        "AsyncIOScheduler; sender returns at once"
    )
    lines.append("")
    lines.append("| case | scheduler | n | p50 ms | p99 ms | max ms |")
    lines.append("|---|---|---:|---:|---:|---:|")
    spread_label = f"spread over {lat['spread_seconds']} s"
    burst_label = f"{lat['bot_burst']['count']:,} at one instant"
    for case, key in ((burst_label, "burst"), (spread_label, "spread")):
        for who, prefix in (("FamilyBot", "bot"), ("bare heap", "heap")):
            x = lat[f"{prefix}_{key}"]
            lines.append(
                f"| {case} | {who} | {x['count']} | {x['p50_ms']:.1f} | {x['p99_ms']:.1f} "
                f"| {x['max_ms']:.1f} |"
            )
    ratio = lat["bot_burst"]["p99_ms"] / lat["heap_burst"]["p99_ms"]
    lines.append("")
    lines.append(
        f"Burst p99 ratio FamilyBot / heap: {ratio:.1f}x. Planner pass over the new series: "
        f"{lat['plan_seconds']:.2f} s. Dispatch runs in the burst (start s, end s, sent): "
        f"{lat['dispatch_runs_in_burst']}"
    )


def _delivery_report(d: dict[str, Any], lines: list[str]) -> None:
    lines.append("")
    lines.append(
        "Delivery (real Dispatcher + DiscordReminders.send_reminder -> fake Discord answering 429 "
        f"beyond {DISCORD_GLOBAL_LIMIT} requests in any 1 s), with {d['cpu_burners']} processes "
        f"spinning on the CPU; load then: `{d['uptime_during']}`"
    )
    lines.append("")
    lines.append(
        "| reminders | delivered | seconds | rate /s | busiest 1 s | 429s | sends failed "
        "| other errors |"
    )
    lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
    retried = d["child"]["delivery"]["totals"]["retried"]
    lines.append(
        f"| {d['count']:,} | {d['delivered']:,} | {d['seconds']:.1f} | {d['rate']:.1f} "
        f"| {d['busiest_1s']} | {d['rate_limited_429']} | {retried} | {d['other_errors']} |"
    )
    pauses = d["child"].get("gc_pauses_over_10ms", [])
    if pauses and len(pauses[0]) == 4:  # (generation, s before the end, wall ms, CPU ms)
        text = ", ".join(f"gen {g} {w:.0f} / {c:.0f}" for g, _, w, c in pauses)
        lines.append("")
        lines.append(f"Garbage collections over 10 ms during it (wall / CPU ms): {text}.")


def _stalls(fig: Figures) -> tuple[dict[str, float], dict[str, float], list[str]]:
    """Per phase: the longest stall (s), the longest own stall (ms), and table rows."""
    raw: dict[str, float] = {}
    own: dict[str, float] = {}
    rows: list[str] = []
    for n, runs in fig.startup.items():
        base = f"{runs.baseline['max_stall'] * 1000:.0f}"
        for label, r in [("cold", runs.cold)] + [("warm", w) for w in runs.warm]:
            name = f"start-up {n:,} ({label})"
            d = r["stall_detail"]
            detail = max(d["until_ready"], d["first_pass_after_ready"], key=_own_stall_ms)
            # Every warm start shares the name: the longest of them, not the last one's.
            raw[name] = max(raw.get(name, 0.0), _startup_stall(r))
            own[name] = max(own.get(name, 0.0), _startup_own_ms(r))
            if label == "cold" or r is max(runs.warm, key=_startup_own_ms):
                longest = (
                    _startup_stall(r) if label == "cold" else max(map(_startup_stall, runs.warm))
                )
                rows.append(_stall_row(name, detail | {"max_stall": longest}, base))
    lat = fig.lateness
    for phase in ("planner", "burst", "spread") if lat else ():
        name = f"lateness {phase}"
        raw[name] = lat[f"{phase}_stall"]
        if "stall_detail" in lat:
            detail = lat["stall_detail"][phase]
            own[name] = _own_stall_ms(detail)
            rows.append(_stall_row(name, detail, ""))
    if fig.delivery:
        # The delivery child's start-up (under the same CPU burners) and its delivery, each
        # beside the bare loop's stalls in the same seconds.
        for name, detail, bare in _delivery_phases(fig.delivery):
            raw[name] = detail["max_stall"]
            own[name] = _own_stall_ms(detail)
            rows.append(_stall_row(name, detail, f"{bare * 1000:.0f}"))
    return raw, own, rows


def _bare_within(baseline: dict[str, Any], start: float, end: float) -> float:
    """The bare loop's longest stall ending between two wall-clock instants (s)."""
    return max((stall for at, stall in baseline.get("stalls", []) if start <= at <= end), default=0)


def _delivery_phases(d: dict[str, Any]) -> list[tuple[str, dict[str, Any], float]]:
    """(phase, the bot's stall detail, the bare loop's longest stall then) for the delivery
    child: its start-up until the first planner pass ended, then the delivery."""
    child = d["child"]
    detail = child["stall_detail"]
    if "delivery_started_wall" not in child["marks"]:  # an older child: the whole run
        whole = detail["delivery"] | {"max_stall": child["max_stall_total"]}
        return [("delivery", whole, d["baseline"]["max_stall"])]
    started = child["marks"]["delivery_started_wall"]
    finished = child["delivery"]["finished_wall"]
    boot = max(
        detail["until_ready"], detail["first_pass_after_ready"], key=lambda x: x["max_stall"]
    )
    phases = [
        ("delivery child start-up", boot, _bare_within(d["baseline"], d["spawned_wall"], started)),
        ("delivery", detail["delivery"], _bare_within(d["baseline"], started, finished)),
    ]
    rest = child["max_stall_total"]  # after the delivery, until the child's figures
    if rest > max(p[1]["max_stall"] for p in phases) + 1e-3:
        phases.append(("delivery child, after delivering", {"max_stall": rest}, 0.0))
    return phases


def report(fig: Figures) -> str:
    lines: list[str] = []
    mode = "quick (CI smoke)" if fig.quick else "full"
    lines.append(f"Reminder benchmark, {mode} run, {time.strftime('%Y-%m-%d %H:%M UTC')}")
    lines.append("")
    lines.append(f"Load at the start: `{fig.uptime_start}`")
    lines.append("")
    if fig.startup:
        _startup_report(fig, lines)
    if fig.lateness:
        _lateness_report(fig.lateness, lines)
    if fig.delivery:
        _delivery_report(fig.delivery, lines)
    raw, own, rows = _stalls(fig)
    lines.append("")
    lines.append(
        "Event-loop stalls: the longest lag of a probe sleeping 5 ms on the bot's loop; of it, "
        "the time the loop's thread waited for a CPU (Linux schedstat); the longest own stall: "
        "the lag less that wait; the longest callback: the most CPU time one event-loop "
        "callback used; bare loop: a separate process running only the probe, same time."
    )
    lines.append("")
    lines.append(
        "| phase | longest stall ms | of it waiting for a CPU ms | longest own stall ms "
        "| longest callback, CPU ms | bare loop ms |"
    )
    lines.append("|---|---:|---:|---:|---|---:|")
    lines.extend(rows)
    lines.append("")
    lines.append("| target | measured | verdict |")
    lines.append("|---|---|---|")
    if fig.startup:
        big, small = max(fig.startup), min(fig.startup)
        big_r, small_r = fig.startup[big], fig.startup[small]
        ready_big, ready_small = big_r.warm_median(_ready), small_r.warm_median(_ready)
        lines.append(
            f"| {big:,} sessions ready < {READY_TARGET_S:.1f} s (warm, median) "
            f"| {ready_big:.2f} s | {_verdict(ready_big < READY_TARGET_S)} |"
        )
        cold = {n: _ready(r.cold) for n, r in fig.startup.items()}
        cold_text = " / ".join(f"{v:.2f}" for v in cold.values())
        sizes_text = " / ".join(f"{n:,}" for n in cold)
        lines.append(
            f"| cold start (after a reboot) ready < {READY_TARGET_S:.1f} s at {small:,} "
            f"| {cold_text} s at {sizes_text} | {_verdict(cold[small] < READY_TARGET_S)} |"
        )
        apart = abs(ready_big - ready_small)
        lines.append(
            f"| ready flat from {small:,} to {big:,} (warm medians within {FLAT_TARGET_S:.1f} s) "
            f"| {ready_small:.2f} -> {ready_big:.2f} s ({apart:.2f} s apart) "
            f"| {_verdict(apart <= FLAT_TARGET_S)} |"
        )
        # The imports do not depend on the database, and on a busy machine they vary most:
        # the part after them is the one that could grow with it.
        after_big = big_r.warm_median(lambda r: _ready(r) - _imports(r))
        after_small = small_r.warm_median(lambda r: _ready(r) - _imports(r))
        lines.append(
            f"| ready less imports flat from {small:,} to {big:,} (warm medians within "
            f"{FLAT_TARGET_S:.1f} s) | {after_small:.2f} -> {after_big:.2f} s "
            f"| {_verdict(abs(after_big - after_small) <= FLAT_TARGET_S)} |"
        )
        rss = max(r["peak_rss_mb"] for r in [big_r.cold, *big_r.warm])
        lines.append(
            f"| {big:,} sessions peak RSS < {RSS_TARGET_MB:.0f} MB | {rss:.0f} MB "
            f"| {_verdict(rss < RSS_TARGET_MB)} |"
        )
    if raw:
        worst_name, worst = max(raw.items(), key=lambda kv: kv[1])
        lines.append(
            f"| no loop stall > {STALL_TARGET_MS:.0f} ms, any cause | {worst * 1000:.0f} ms "
            f"({worst_name}) | {_verdict(worst * 1000 <= STALL_TARGET_MS)} |"
        )
    if fig.delivery:
        phases = _delivery_phases(fig.delivery)
        beyond = max(p[1]["max_stall"] - p[2] for p in phases)
        text = "; ".join(f"{n} {p['max_stall'] * 1000:.0f} vs {b * 1000:.0f}" for n, p, b in phases)
        lines.append(
            f"| {fig.delivery['cpu_burners']} CPU burners: no loop stall > {STALL_TARGET_MS:.0f} ms "
            f"beyond a bare loop's in the same seconds | {text} ms "
            f"| {_verdict(beyond * 1000 <= STALL_TARGET_MS)} |"
        )
    if own:
        own_name, own_worst = max(own.items(), key=lambda kv: kv[1])
        lines.append(
            f"| no loop stall > {STALL_TARGET_MS:.0f} ms of the bot's own (less waiting for a "
            f"CPU) | {own_worst:.0f} ms ({own_name}) "
            f"| {_verdict(own_worst <= STALL_TARGET_MS)} |"
        )
    lat = fig.lateness
    if lat:
        ratio = lat["bot_burst"]["p99_ms"] / lat["heap_burst"]["p99_ms"]
        lines.append(
            f"| burst p99 <= {LATENESS_RATIO_TARGET:.1f}x heap p99 "
            f"| {lat['bot_burst']['p99_ms']:.1f} ms vs {lat['heap_burst']['p99_ms']:.1f} ms "
            f"({ratio:.2f}x) | {_verdict(ratio <= LATENESS_RATIO_TARGET)} |"
        )
    d = fig.delivery
    if d:
        paced = (
            d["busiest_1s"] <= PACE_TARGET
            and d["rate_limited_429"] == 0
            and d["delivered"] == d["count"]
        )
        lines.append(
            f"| never > {PACE_TARGET} in any 1 s, 0 x 429, CPU loaded | busiest "
            f"{d['busiest_1s']}, {d['rate_limited_429']} x 429, {d['rate']:.1f}/s "
            f"| {_verdict(paced)} |"
        )
    notes = []
    if lat and not lat["planned_before_burst"]:
        notes.append("WARNING: the planner pass ended after the burst instant.")
    if lat and lat["other_sends"]:
        notes.append(f"{lat['other_sends']} background reminders fell due during the lateness run.")
    if notes:
        lines.append("")
        lines.extend(notes)
    return "\n".join(lines) + "\n"


PHASES = ("startup", "lateness", "delivery")


async def main_async(args: argparse.Namespace) -> Figures:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    default = "1000,10000" if args.quick else "10000,100000,1000000"
    sizes = tuple(int(x) for x in (args.sizes or default).split(","))
    phases = args.only.split(",") if args.only else PHASES
    figures = Figures(quick=args.quick, uptime_start=uptime())
    print(figures.uptime_start, flush=True)
    compile_bytecode()
    if "startup" in phases:
        print("Preparing databases (cached under", CACHE_DIR, ") ...", flush=True)
        for n in sizes:
            await ensure_base(n)
        starts = args.starts if args.starts > 0 else (2 if args.quick else 5)
        await bench_startup(sizes, figures, starts)
    if "lateness" in phases:
        spread = 10 if args.quick else 60
        lateness_size = args.lateness_size or (sizes[-1] if args.quick else 100_000)
        figures.lateness = await bench_lateness(
            lateness_size,
            spread,
            args.burst or (1000 if args.quick else 10_000),
            300 if args.quick else 2000,
            avoid=not args.quick,
            profile=args.profile,
        )
        figures.lateness["spread_seconds"] = spread
    if "delivery" in phases:
        figures.delivery = await bench_delivery(
            args.deliveries or (300 if args.quick else 2000),
            args.cpu_load if args.cpu_load >= 0 else 2,
        )
    figures.uptime_end = uptime()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for CI (< 60 s)")
    parser.add_argument(
        "--profile", default="", help="write a cProfile of the burst dispatch to this file"
    )
    parser.add_argument("--json", default="", help="also write the raw figures to this file")
    parser.add_argument("--sizes", default="", help="start-up sizes, e.g. 10000,100000,1000000")
    parser.add_argument("--burst", type=int, default=0, help="reminders due at one instant")
    parser.add_argument("--lateness-size", type=int, default=0, help="sessions in that database")
    parser.add_argument("--cpu-load", type=int, default=-1, help="CPU burners during delivery")
    parser.add_argument("--deliveries", type=int, default=0, help="reminders in the delivery run")
    parser.add_argument(
        "--starts", type=int, default=0, help="warm starts per size after the cold one (5; 2)"
    )
    parser.add_argument(
        "--only", default="", help="some phases, e.g. startup or delivery (results.md untouched)"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    figures = asyncio.run(main_async(args))
    text = report(figures)
    text += f"\n(benchmark wall time {time.perf_counter() - started:.0f} s; load at the end: "
    text += f"`{figures.uptime_end}`)\n"
    print()
    print(text)
    if not args.only:
        (Path(__file__).resolve().parent / "results.md").write_text(text, encoding="utf-8")
    if args.json:
        raw = {
            "startup": {n: asdict(r) for n, r in figures.startup.items()},
            "lateness": figures.lateness,
            "delivery": figures.delivery,
        }
        Path(args.json).write_text(json.dumps(raw, indent=2, default=str), encoding="utf-8")
    if args.profile:
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
