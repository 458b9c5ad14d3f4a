from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from familybot import gc_quiet
from familybot.db.connection import Database
from familybot.db.migrate import migrate
from familybot.wiring import Services, build_services
from tests.support import backends
from tests.support.fakes import FakeClock, RecordingPort


@pytest.fixture(autouse=True)
def _collector_as_found(request: pytest.FixtureRequest) -> Iterator[None]:
    """The garbage collector is process-wide; a bot started in a test keeps it off while it
    starts (familybot/gc_quiet.py hold/release). A test whose event loop closed with a start-up
    still pending drops that task without running its release, and every later test in the
    worker would run with the collector off (the collector tests then fail far from the cause).
    After each test a hold left behind is undone, and named on stderr so it can be found."""
    was_enabled = gc.isenabled()
    yield
    if gc_quiet._holds > 0 or gc.isenabled() != was_enabled:
        print(f"\n{request.node.nodeid}: left the collector held or switched", file=sys.stderr)
        gc_quiet._holds = 0
        (gc.enable if was_enabled else gc.disable)()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def port() -> RecordingPort:
    return RecordingPort()


@pytest.fixture(params=backends.backends())
def backend(request: pytest.FixtureRequest) -> str:
    """The backend this variant runs on: "sqlite" or "postgres" (tests/support/backends.py)."""
    return str(request.param)


@pytest.fixture
async def db(tmp_path: Path, backend: str) -> AsyncIterator[Database]:
    if backend == "postgres":
        name = await backends.SERVER.clean_database()
        database = await Database.connect(backends.url_for(name))
        try:
            yield database
        finally:
            await database.close()
        return
    database = await Database.open(tmp_path / "familybot.db")
    await migrate(database)
    yield database
    await database.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked sqlite_only (it reads SQLite's own machinery: PRAGMAs, query plans,
    the file) runs on SQLite alone: its PostgreSQL variant is not collected. So does one
    marked backend_free (an e2e test that starts no bot: its variants would be the same).
    One marked postgres_only (a set-up only PostgreSQL supports, such as two processes
    reading one shard's messages) runs on PostgreSQL alone."""
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        backend = params.params.get("backend") if params is not None else None
        once = item.get_closest_marker("sqlite_only") or item.get_closest_marker("backend_free")
        pg_only = item.get_closest_marker("postgres_only") is not None
        dropped = (backend == "postgres" and once) or (backend == "sqlite" and pg_only)
        (drop if dropped else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_sessionfinish(session: pytest.Session) -> None:
    backends.SERVER.drop_template()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    problem = backends.SERVER.problem
    under_xdist = terminalreporter.config.pluginmanager.hasplugin("dsession")
    if problem is None and under_xdist and "postgres" in backends.backends():
        problem = backends.SERVER.probe()  # the workers skipped; the controller says why
    if problem:
        terminalreporter.write_line(problem)


@pytest.fixture
async def services(db: Database, port: RecordingPort, clock: FakeClock) -> Services:
    return build_services(db, port, clock, "America/New_York")
