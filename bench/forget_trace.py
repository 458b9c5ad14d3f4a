"""What `/my forget` asks of the database: round trips, statements and time, per holder.

    .venv/bin/python bench/forget_trace.py [--backend postgres|sqlite] [--sessions 100000]
        [--people 3] [--statements] [--explain]

Builds the sessions world of bench/interactions.py (series over 8 servers, heavy users in
10 groups each with a year of RSVPs, attendance and DM reminders), starts the real bot on
it and forgets `--people` heavy users through `PrivacyService.forget_user` (the button's
whole work), counting every round trip the database connection makes (on PostgreSQL each
asyncpg call: BEGIN, the write lock, each statement, COMMIT), grouped by the holder that
made it, with its time. Counts do not depend on the machine's load; milliseconds do.
`--statements` lists the last forget's calls in order, each with its time; `--explain` prints
EXPLAIN (ANALYZE, BUFFERS) of each of its writes on PostgreSQL, run just before it on the same
connection and undone (a savepoint). Explaining adds round trips: read the counts without it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
if str(_HERE.parent) not in sys.path:
    sys.path.insert(0, str(_HERE.parent))

from bench import interactions as ib  # noqa: E402

# Statements whose plans --explain shows (not BEGIN, COMMIT or the write lock).
EXPLAINED = ("DELETE", "UPDATE", "INSERT", "WITH")


class Trace:
    """Every round trip the bot's database makes, by the holder asking (set around each)."""

    def __init__(self, explain: bool = False) -> None:
        self.explain = explain
        self.holder = "-"
        self.calls: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)
        # (holder, SQL, ms) of each call, in order
        self.statements: list[tuple[str, str, float]] = []
        self.plans: list[tuple[str, str, list[str]]] = []
        self.prepares = 0  # statements asyncpg had to prepare first (PostgreSQL)

    @contextlib.contextmanager
    def install_postgres(self) -> Iterator[None]:
        """asyncpg's Connection calls: each one round trip (a transaction's BEGIN and COMMIT
        are `execute` calls too)."""
        import asyncpg

        cls = asyncpg.connection.Connection
        names = ("execute", "executemany", "fetch", "fetchval", "fetchrow")
        originals = {n: getattr(cls, n) for n in names}
        trace = self

        def wrap(original: Any, name: str) -> Any:
            async def timed(this: Any, *args: Any, **kwargs: Any) -> Any:
                sql = str(args[0]) if args else ""
                many = name == "executemany"  # its arguments are rows: not explained
                if trace.explain and not many and sql.split(None, 1)[0].upper() in EXPLAINED:
                    await trace.explain_on(this, originals, sql, args[1:])
                t0 = time.perf_counter()
                try:
                    return await original(this, *args, **kwargs)
                finally:
                    trace.note(sql, time.perf_counter() - t0)

            return timed

        for n, f in originals.items():
            setattr(cls, n, wrap(f, n))
        get_statement = cls._get_statement

        async def prepared(this: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            # Not in this connection's statement cache: asyncpg prepares it first, a round
            # trip of its own before the statement's.
            key = (query, this._protocol.get_record_class(), False)
            if kwargs.get("use_cache", True) and this._stmt_cache.get(key) is None:
                trace.prepares += 1
            return await get_statement(this, query, *args, **kwargs)

        cls._get_statement = prepared
        try:
            yield
        finally:
            for n, f in originals.items():
                setattr(cls, n, f)
            cls._get_statement = get_statement

    async def explain_on(
        self, conn: Any, originals: dict[str, Any], sql: str, args: tuple[Any, ...]
    ) -> None:
        """EXPLAIN (ANALYZE, BUFFERS) of a statement about to run, on its connection, undone
        (a savepoint inside a transaction, else a transaction of its own)."""
        execute, fetch = originals["execute"], originals["fetch"]
        inside = conn.is_in_transaction()
        await execute(conn, "SAVEPOINT trace" if inside else "BEGIN")
        try:
            rows = await fetch(conn, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, *args)
            self.plans.append((self.holder, " ".join(sql.split()), [r[0] for r in rows]))
        finally:
            await execute(conn, "ROLLBACK TO SAVEPOINT trace" if inside else "ROLLBACK")

    @contextlib.contextmanager
    def install_sqlite(self) -> Iterator[None]:
        from familybot.db.sqlite import SqliteDatabase

        names = ("execute", "executemany", "fetchall", "fetchone", "fetchval")
        originals = {n: getattr(SqliteDatabase, n) for n in names if hasattr(SqliteDatabase, n)}
        trace = self

        def wrap(original: Any) -> Any:
            async def timed(this: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
                t0 = time.perf_counter()
                try:
                    return await original(this, sql, *args, **kwargs)
                finally:
                    trace.note(sql, time.perf_counter() - t0)

            return timed

        for n, f in originals.items():
            setattr(SqliteDatabase, n, wrap(f))
        try:
            yield
        finally:
            for n, f in originals.items():
                setattr(SqliteDatabase, n, f)

    def note(self, sql: str, seconds: float) -> None:
        self.calls[self.holder] += 1
        self.seconds[self.holder] += seconds
        self.statements.append((self.holder, " ".join(sql.split()), seconds * 1000))


def wrap_holders(privacy: Any, trace: Trace) -> None:
    """Each holder's delete_user_data (and the departures at the end) under its own name."""
    wrapped = []
    for name, holder in privacy._holders:

        class Named:
            def __init__(self, name: str, holder: Any) -> None:
                self._name, self._holder = name, holder
                # Whether the service runs it in its one transaction (services/privacy).
                self.forgets_with_statements_only = getattr(
                    holder, "forgets_with_statements_only", False
                )

            async def export_user_data(self, user_id: int) -> Any:
                return await self._holder.export_user_data(user_id)

            async def delete_user_data(self, user_id: int) -> Any:
                trace.holder = self._name
                try:
                    return await self._holder.delete_user_data(user_id)
                finally:
                    trace.holder = "departures and events"

        wrapped.append((name, Named(name, holder)))
    privacy._holders = wrapped


async def run(args: argparse.Namespace) -> None:
    ib.BACKEND = args.backend
    heavy: list[int] = []

    def prepare(w: Any) -> None:
        for i in range(args.people + 1):
            heavy.append(w.fake.add_member(w.guild_id, name=f"heavy{i}"))

    async def fill(db: Any, w: Any) -> None:
        await ib.add_sessions(db, args.sessions, heavy, w.guild_id)

    async def body(b: ib.Bench) -> None:
        bot = b.world.bot
        assert bot is not None
        privacy = bot.services.privacy
        trace = Trace()
        wrap_holders(privacy, trace)
        install = trace.install_postgres if args.backend == "postgres" else trace.install_sqlite
        for i, who in enumerate(heavy[: args.people]):
            last = i == args.people - 1
            trace.__init__(explain=args.explain and last)  # type: ignore[misc]
            with install():
                t0 = time.perf_counter()
                report = await privacy.forget_user(who)
                took = time.perf_counter() - t0
                trace.holder = "events after"
                await bot.services.events.settle(timeout=30)
                settled = time.perf_counter() - t0
            total = sum(trace.calls.values())
            print(
                f"forget {i}: {took * 1000:.1f} ms ({settled * 1000:.1f} ms with events settled), "
                f"{total} round trips (+{trace.prepares} prepares), {report.total} rows"
            )
            for holder, count in trace.calls.most_common():
                print(f"  {holder:<28} {count:>4} calls {trace.seconds[holder] * 1000:8.1f} ms")
            if args.statements and last:
                for holder, sql, took_ms in trace.statements:
                    print(f"    {took_ms:6.2f} ms [{holder}] {sql[:200]}")
            pool = getattr(bot.db, "_pool", None)
            if last and pool is not None:  # how many statements each connection keeps
                sizes = [len(h._con._stmt_cache) for h in pool._holders if h._con is not None]
                print(f"  statements cached per pool connection: {sizes}")
            for holder, sql, plan in trace.plans:
                print(f"\n  [{holder}] {sql[:300]}")
                for line in plan:
                    print(f"      {line}")

    with tempfile.TemporaryDirectory() as tmp:
        await ib.run_world(Path(tmp), fill, body, prepare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=3)
    parser.add_argument("--statements", action="store_true", help="list the last one's calls")
    parser.add_argument(
        "--explain", action="store_true", help="plans of the last one's writes (PostgreSQL)"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
