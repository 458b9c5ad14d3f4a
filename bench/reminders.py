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
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import CACHE_DIR, PYTHON, REPO_ROOT
from bench.datagen import StampInfo, ensure_base, plant_due_series, remove_db, stamp
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
    startup: dict[int, dict[str, Any]] = field(default_factory=dict)
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


async def bench_startup(sizes: tuple[int, ...], figures: Figures) -> None:
    fake = FakeDiscord()
    await fake.start()
    try:
        guild_id = fake.add_guild("Family Support", owner_id=fake.add_user(name="owner"))
        for n in sizes:
            base = await ensure_base(n)
            run_db = CACHE_DIR / f"run-{n}.db"
            figures.stamps[n] = await stamp(base, run_db, time.time())
            print(f"  start-up, {n:>7,} sessions ...", flush=True)
            figures.startup[n] = await run_child(
                "startup", "--db", str(run_db), *_fake_args(fake, guild_id)
            )
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
        load_during = ""
        child = await run_child(
            "delivery",
            "--db",
            str(db_path),
            "--expect",
            str(count),
            *_fake_args(fake, guilds[0]),
        )
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
        }
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
        await fake.stop()


# --------------------------------------------------------------------------- report


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(fig: Figures) -> str:
    lines: list[str] = []
    mode = "quick (CI smoke)" if fig.quick else "full"
    lines.append(f"Reminder benchmark, {mode} run, {time.strftime('%Y-%m-%d %H:%M UTC')}")
    lines.append("")
    lines.append(f"Load at the start: `{fig.uptime_start}`")
    lines.append("")
    lines.append("Start-up (fresh process -> on_ready, real FamilyBot against the fake Discord)")
    lines.append("")
    lines.append(
        "| sessions | ledger rows | planned at start | imports s | setup_hook s | "
        "first planner pass s (background) | ready s | peak RSS MB | max stall ms |"
    )
    lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, r in fig.startup.items():
        m, st, sp = r["marks"], r["stalls"], fig.stamps[n]
        lines.append(
            f"| {n:,} | {sp.ledger_sent + sp.ledger_pending:,} | {sp.due_next_30_min} "
            f"| {m['imports_done']:.2f} | {m['setup_hook_done'] - m['setup_hook_started']:.3f} "
            f"| {m['planner_done'] - m['planner_started']:.3f} | {m['ready']:.2f} "
            f"| {r['peak_rss_mb']:.0f} "
            f"| {max(st['until_ready'], st.get('first_pass_after_ready', 0)) * 1000:.0f} |"
        )
    lat = fig.lateness
    lines.append("")
    lines.append(
        f"Dispatch lateness (due instant -> handed to the sender), {lat['background_series']:,} "
        "sessions in the database, real Planner + Dispatcher + ReminderScheduler on "
        "AsyncIOScheduler; sender returns at once"
    )
    lines.append("")
    lines.append("| case | scheduler | n | p50 ms | p99 ms | max ms |")
    lines.append("|---|---|---:|---:|---:|---:|")
    spread_label = f"spread over {fig.lateness['spread_seconds']} s"
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
    d = fig.delivery
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
    stall_sources = {
        f"start-up {n:,}": max(
            r["stalls"]["until_ready"], r["stalls"].get("first_pass_after_ready", 0)
        )
        for n, r in fig.startup.items()
    } | {
        "lateness planner pass": lat["planner_stall"],
        "lateness burst": lat["burst_stall"],
        "lateness spread": lat["spread_stall"],
        "delivery": d["child"]["max_stall_total"],
    }
    worst_name, worst = max(stall_sources.items(), key=lambda kv: kv[1])
    big, small = max(fig.startup), min(fig.startup)
    big_r = fig.startup[big]
    ready_big, ready_small = big_r["marks"]["ready"], fig.startup[small]["marks"]["ready"]
    lines.append("")
    lines.append("| target | measured | verdict |")
    lines.append("|---|---|---|")
    lines.append(
        f"| {big:,} sessions ready < {READY_TARGET_S:.1f} s | {ready_big:.2f} s "
        f"| {_verdict(ready_big < READY_TARGET_S)} |"
    )
    lines.append(
        f"| ready flat from {small:,} to {big:,} (within {FLAT_TARGET_S:.1f} s) "
        f"| {ready_small:.2f} -> {ready_big:.2f} s "
        f"| {_verdict(ready_big - ready_small <= FLAT_TARGET_S)} |"
    )
    lines.append(
        f"| {big:,} sessions peak RSS < {RSS_TARGET_MB:.0f} MB | {big_r['peak_rss_mb']:.0f} MB "
        f"| {_verdict(big_r['peak_rss_mb'] < RSS_TARGET_MB)} |"
    )
    lines.append(
        f"| no loop stall > {STALL_TARGET_MS:.0f} ms | {worst * 1000:.0f} ms ({worst_name}) "
        f"| {_verdict(worst * 1000 <= STALL_TARGET_MS)} |"
    )
    lines.append(
        f"| burst p99 <= {LATENESS_RATIO_TARGET:.1f}x heap p99 | {lat['bot_burst']['p99_ms']:.1f} ms "
        f"vs {lat['heap_burst']['p99_ms']:.1f} ms ({ratio:.2f}x) "
        f"| {_verdict(ratio <= LATENESS_RATIO_TARGET)} |"
    )
    paced = (
        d["busiest_1s"] <= PACE_TARGET
        and d["rate_limited_429"] == 0
        and d["delivered"] == d["count"]
    )
    lines.append(
        f"| never > {PACE_TARGET} in any 1 s, 0 x 429, CPU loaded | busiest {d['busiest_1s']}, "
        f"{d['rate_limited_429']} x 429, {d['rate']:.1f}/s | {_verdict(paced)} |"
    )
    notes = []
    if not lat["planned_before_burst"]:
        notes.append("WARNING: the planner pass ended after the burst instant.")
    if lat["other_sends"]:
        notes.append(f"{lat['other_sends']} background reminders fell due during the lateness run.")
    if notes:
        lines.append("")
        lines.extend(notes)
    return "\n".join(lines) + "\n"


async def main_async(args: argparse.Namespace) -> Figures:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    default = "1000,10000" if args.quick else "10000,100000,1000000"
    sizes = tuple(int(x) for x in (args.sizes or default).split(","))
    figures = Figures(quick=args.quick, uptime_start=uptime())
    print(figures.uptime_start, flush=True)
    print("Preparing databases (cached under", CACHE_DIR, ") ...", flush=True)
    for n in sizes:
        await ensure_base(n)
    await bench_startup(sizes, figures)
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
    figures.delivery = await bench_delivery(
        300 if args.quick else 2000, args.cpu_load if args.cpu_load >= 0 else 2
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
    args = parser.parse_args()
    started = time.perf_counter()
    figures = asyncio.run(main_async(args))
    text = report(figures)
    text += f"\n(benchmark wall time {time.perf_counter() - started:.0f} s; load at the end: "
    text += f"`{figures.uptime_end}`)\n"
    print()
    print(text)
    (Path(__file__).resolve().parent / "results.md").write_text(text, encoding="utf-8")
    if args.json:
        raw = {
            "startup": figures.startup,
            "lateness": figures.lateness,
            "delivery": figures.delivery,
        }
        Path(args.json).write_text(json.dumps(raw, indent=2, default=str), encoding="utf-8")
    if args.profile:
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
