"""Reminder benchmark: start-up, event-loop stalls, dispatch lateness and delivery rate.

    python bench/reminders.py            # full: 1k / 10k / 100k sessions, 2,000 deliveries
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

READY_TARGET_S = 2.0
RSS_TARGET_MB = 200.0
STALL_TARGET_MS = 100.0
LATENESS_RATIO_TARGET = 2.0
RATE_TARGET = 45.0
DISCORD_GLOBAL_LIMIT = 50
CHANNELS_PER_GUILD = 200


@dataclass
class Figures:
    quick: bool
    startup: dict[int, dict[str, Any]] = field(default_factory=dict)
    stamps: dict[int, StampInfo] = field(default_factory=dict)
    lateness: dict[str, Any] = field(default_factory=dict)
    delivery: dict[str, Any] = field(default_factory=dict)


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


async def bench_lateness(n: int, spread: int, *, avoid: bool, profile: str) -> dict[str, Any]:
    base = await ensure_base(n)
    run_db = CACHE_DIR / f"lateness-{n}.db"
    await stamp(base, run_db, time.time())
    args = ["--db", str(run_db), "--count", "2000", "--spread-seconds", str(spread)]
    if avoid:
        args.append("--avoid-background")
    if profile:
        args += ["--profile", profile]
    print(f"  dispatch lateness over {n:,} sessions (about {2 * spread + 25} s) ...", flush=True)
    return await run_child("lateness", *args)


async def bench_delivery(count: int) -> dict[str, Any]:
    fake = FakeDiscord()
    await fake.start()
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
        print(f"  delivery of {count:,} reminders at Discord's 50/s ...", flush=True)
        child = await run_child(
            "delivery",
            "--db",
            str(db_path),
            "--expect",
            str(count),
            *_fake_args(fake, guilds[0]),
        )
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
            "child": child,
        }
    finally:
        await fake.stop()


# --------------------------------------------------------------------------- report


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(fig: Figures) -> str:
    lines: list[str] = []
    mode = "quick (CI smoke)" if fig.quick else "full"
    lines.append(f"Reminder benchmark, {mode} run, {time.strftime('%Y-%m-%d %H:%M UTC')}")
    lines.append("")
    lines.append("Start-up (fresh process -> on_ready, real FamilyBot against the fake Discord)")
    lines.append("")
    lines.append(
        "| sessions | ledger rows | planned at start | imports s | setup_hook s | "
        "planner pass s | ready s | peak RSS MB | max stall ms |"
    )
    lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, r in fig.startup.items():
        m, st, sp = r["marks"], r["stalls"], fig.stamps[n]
        lines.append(
            f"| {n:,} | {sp.ledger_sent + sp.ledger_pending:,} | {sp.due_next_30_min} "
            f"| {m['imports_done']:.2f} | {m['setup_hook_done'] - m['setup_hook_started']:.3f} "
            f"| {m['planner_done'] - m['planner_started']:.3f} | {m['ready']:.2f} "
            f"| {r['peak_rss_mb']:.0f} | {st['until_ready'] * 1000:.0f} |"
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
    for case, key in (("2,000 at one instant", "burst"), (spread_label, "spread")):
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
        f"beyond {DISCORD_GLOBAL_LIMIT} requests in any 1 s)"
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
        f"start-up {n:,}": r["stalls"]["until_ready"] for n, r in fig.startup.items()
    } | {
        "lateness planner pass": lat["planner_stall"],
        "lateness burst": lat["burst_stall"],
        "lateness spread": lat["spread_stall"],
        "delivery": d["child"]["max_stall_total"],
    }
    worst_name, worst = max(stall_sources.items(), key=lambda kv: kv[1])
    big = max(fig.startup)
    big_r = fig.startup[big]
    lines.append("")
    lines.append("| target | measured | verdict |")
    lines.append("|---|---|---|")
    sized = "" if big == 100_000 else f" (measured at {big:,}; 100k only in a full run)"
    lines.append(
        f"| 100k sessions ready < {READY_TARGET_S:.0f} s{sized} | {big_r['marks']['ready']:.2f} s "
        f"| {_verdict(big_r['marks']['ready'] < READY_TARGET_S)} |"
    )
    lines.append(
        f"| 100k sessions peak RSS < {RSS_TARGET_MB:.0f} MB{sized} | {big_r['peak_rss_mb']:.0f} MB "
        f"| {_verdict(big_r['peak_rss_mb'] < RSS_TARGET_MB)} |"
    )
    lines.append(
        f"| no loop stall > {STALL_TARGET_MS:.0f} ms | {worst * 1000:.0f} ms ({worst_name}) "
        f"| {_verdict(worst * 1000 <= STALL_TARGET_MS)} |"
    )
    lines.append(
        f"| burst p99 <= {LATENESS_RATIO_TARGET:.0f}x heap p99 | {lat['bot_burst']['p99_ms']:.1f} ms "
        f"vs {lat['heap_burst']['p99_ms']:.1f} ms ({ratio:.1f}x) "
        f"| {_verdict(ratio <= LATENESS_RATIO_TARGET)} |"
    )
    lines.append(
        f"| delivery >= {RATE_TARGET:.0f}/s, no 429 | {d['rate']:.1f}/s, "
        f"{d['rate_limited_429']} x 429 "
        f"| {_verdict(d['rate'] >= RATE_TARGET and d['rate_limited_429'] == 0 and d['delivered'] == d['count'])} |"
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
    sizes = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)
    figures = Figures(quick=args.quick)
    print("Preparing databases (cached under", CACHE_DIR, ") ...", flush=True)
    for n in sizes:
        await ensure_base(n)
    await bench_startup(sizes, figures)
    spread = 10 if args.quick else 60
    figures.lateness = await bench_lateness(
        sizes[-1], spread, avoid=not args.quick, profile=args.profile
    )
    figures.lateness["spread_seconds"] = spread
    figures.delivery = await bench_delivery(300 if args.quick else 2000)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for CI (< 60 s)")
    parser.add_argument(
        "--profile", default="", help="write a cProfile of the burst dispatch to this file"
    )
    parser.add_argument("--json", default="", help="also write the raw figures to this file")
    args = parser.parse_args()
    started = time.perf_counter()
    figures = asyncio.run(main_async(args))
    text = report(figures)
    text += f"\n(benchmark wall time {time.perf_counter() - started:.0f} s)\n"
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
