"""What claiming an interaction costs, on SQLite and PostgreSQL (issue 16).

    .venv/bin/python bench/interaction_claims.py                  # both backends, 2,000 each
    .venv/bin/python bench/interaction_claims.py --backend sqlite --claims 5000

Every interaction is claimed in the database before it is handled (familybot/interaction_gate.py):
one insert-if-absent through InteractionClaimRepository.claim. Timed one after another on a
fresh, migrated database per backend (bench/interactions.py's `database`; PostgreSQL on
FAMILYBOT_BENCH_POSTGRES_URL's server, default the tests' local one):
* a claim that wins (a new id: what the first process pays per interaction),
* a claim that loses (the id is there: what each other process of the shard pays),
* on PostgreSQL, for comparison, the same insert as an ordinary write (Database.execute: its
  own transaction under the write lock every FamilyBot write takes) and into a table that
  is not UNLOGGED (every claim then waits for its write-ahead log flush),
* the pruning of all those claims (one DELETE over the claimed_at index).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
if str(_HERE.parent) not in sys.path:
    sys.path.insert(0, str(_HERE.parent))

import bench.interactions as interactions  # noqa: E402
from familybot.db.connection import Database  # noqa: E402
from familybot.db.repositories.interaction_claims import InteractionClaimRepository  # noqa: E402

BASE = 1_300_000_000_000_000_000  # interaction ids are snowflakes
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


async def timed(n: int, fn: Callable[[int], Awaitable[object]]) -> list[float]:
    await fn(-1)  # warm-up: the statement prepared, the connection made
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        await fn(i)
        out.append(time.perf_counter() - t0)
    return out


def summary(xs: list[float]) -> str:
    xs = sorted(xs)
    p99 = xs[min(len(xs) - 1, int(len(xs) * 0.99))]
    return f"{statistics.median(xs) * 1000:.3f} | {p99 * 1000:.3f}"


async def one(backend: str, n: int) -> list[tuple[str, str]]:
    interactions.BACKEND = backend
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with interactions.database(Path(tmp)) as (db, _env):
            repo = InteractionClaimRepository(db)

            async def claim(i: int) -> None:
                assert await repo.claim(BASE + i, NOW), "a new id must be won"

            async def lose(i: int) -> None:
                assert not await repo.claim(BASE + i, NOW), "a claimed id must be lost"

            rows.append(("claim won (new id)", summary(await timed(n, claim))))
            rows.append(("claim lost (id already there)", summary(await timed(n, lose))))
            if db.is_postgres:
                rows += await compare_postgres(db, n)
            t0 = time.perf_counter()
            gone = await repo.prune(NOW + timedelta(hours=2))
            rows.append(
                (
                    f"prune {gone:,} claims (one DELETE)",
                    f"{(time.perf_counter() - t0) * 1000:.1f} | -",
                )
            )
    return rows


async def compare_postgres(db: Database, n: int) -> list[tuple[str, str]]:
    insert = "INSERT OR IGNORE INTO {table} (interaction_id, claimed_at) VALUES (?, ?)"
    await db.execute(
        "CREATE TABLE claims_logged (interaction_id BIGINT PRIMARY KEY, claimed_at BIGINT NOT NULL)"
    )
    await db.execute("CREATE INDEX claims_logged_at ON claims_logged (claimed_at)")

    async def locked(i: int) -> None:
        sql = insert.format(table="interaction_claims")
        await db.execute(sql, (BASE + 10 * n + i, 1))

    async def logged(i: int) -> None:
        await db.insert_once(insert.format(table="claims_logged"), (BASE + i, 1))

    return [
        ("same insert under the write lock (execute)", summary(await timed(n, locked))),
        ("insert_once into a logged table", summary(await timed(n, logged))),
    ]


async def main(args: argparse.Namespace) -> None:
    load = os.getloadavg()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    figures = {}
    for backend in backends:
        print(f"{backend}: {args.claims} claims", file=sys.stderr)
        figures[backend] = await one(backend, args.claims)
    print(
        f"Interaction claims, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{args.claims:,} of each, load average at start {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f}, at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
        f"{os.cpu_count()} CPUs\n"
    )
    for backend, rows in figures.items():
        print(f"| {backend} | p50 ms | p99 ms |\n|---|---:|---:|")
        for name, cells in rows:
            print(f"| {name} | {cells} |")
        print()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--claims", type=int, default=2000)
    asyncio.run(main(parser.parse_args()))
