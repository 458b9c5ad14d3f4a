"""`ResourcesService.search` alone, in this process, at 100k resources (issue 15): no Discord,
no cog, no embed, so two trees can be compared without the fake Discord's noise.

    .venv/bin/python bench/resource_search.py --backend sqlite --runs 60
    /work/main/.venv/bin/python bench/resource_search.py --root /work/main --tag main

--root is the tree whose familybot/ is timed (default: this one); each tree gets a database of
its own (a file under --dir, or the PostgreSQL database fbsearch_<tag>), filled once with
bench/interactions.py's library (`add_resources`, the same rows) and kept for the next run.
Every query is searched once before timing (that tree's queued words indexed, as the bot does
on its first search); then the queries take turns, `--runs` times each. Prints p50 / p99 ms
and the ids shown, so two trees' answers can be compared.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

QUERIES = [
    ("typo, fuzzy", "dimentia"),
    ("typo, same stem", "bereavment"),
    ("no match", "xylophone"),
    ("one common word", "dementia"),
    ("hit", "bereavement siblings"),
]
GUILD = 424_242
SIZE = 100_000


async def open_database(args: argparse.Namespace) -> Any:
    from bench.interactions import add_resources, vacuum
    from familybot.db.connection import Database
    from familybot.db.migrate import migrate

    if args.backend == "sqlite":
        path = Path(args.dir) / f"{args.tag}.db"
        fresh = not path.exists()
        db = await Database.open(path)
    else:
        import asyncpg

        name = f"fbsearch_{args.tag}"
        admin = await asyncpg.connect(args.postgres + "postgres")
        try:
            fresh = not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if fresh:
                await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        db = await Database.connect(args.postgres + name)
    await migrate(db)
    if fresh and args.backend == "sqlite":
        async with db.transaction():
            await add_resources(db, GUILD, SIZE)
    elif fresh:
        # On a connection of its own: a tree whose pool bounds each statement (30 s) could
        # not load 100k rows in one on a busy machine.
        conn = await asyncpg.connect(args.postgres + name)
        try:
            async with conn.transaction():
                await add_resources(_Loader(conn), GUILD, SIZE)  # type: ignore[arg-type]
        finally:
            await conn.close()
        await vacuum(args.postgres + name)
    return db


class _Loader:
    """What add_resources needs of a Database (executemany), on a plain asyncpg connection."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        from familybot.db.dialect import translate_postgres

        await self._conn.executemany(translate_postgres(sql).sql, rows, timeout=None)


async def main(args: argparse.Namespace) -> None:
    from familybot.db.repositories.resources import ResourceRepository
    from familybot.services.resources.service import ResourcesService

    db = await open_database(args)
    try:
        service = ResourcesService.__new__(ResourcesService)
        service._repo = ResourceRepository(db)  # all search() uses
        shown = {q: [r.id for r in await service.search(GUILD, q)] for _, q in QUERIES}
        times: dict[str, list[float]] = {q: [] for _, q in QUERIES}
        for _ in range(args.runs):
            for _, query in QUERIES:
                t0 = time.perf_counter()
                await service.search(GUILD, query)
                times[query].append(time.perf_counter() - t0)
        for label, query in QUERIES:
            values = sorted(times[query])
            p50 = values[len(values) // 2] * 1000
            p99 = values[min(len(values) - 1, int(len(values) * 0.99))] * 1000
            print(
                f"{args.tag:8s} {args.backend:8s} {label:16s} p50 {p50:6.2f} p99 {p99:6.2f}"
                f"  ids {shown[query]}"
            )
    finally:
        await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--tag", default="branch")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--dir", default="/tmp")
    parser.add_argument("--postgres", default="postgresql://root@127.0.0.1:5432/")
    arguments = parser.parse_args()
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
    sys.path.insert(0, arguments.root)
    asyncio.run(main(arguments))
