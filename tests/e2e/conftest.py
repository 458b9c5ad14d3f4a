from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.e2e import harness
from tests.e2e.harness import World
from tests.support import backends
from tests.support.fake_discord import FakeDiscord
from tests.support.fixtures import fake_discord, pytest_configure

__all__ = ["e2e_backend", "fake_discord", "pytest_configure", "world"]


@pytest.fixture(autouse=True)
def e2e_backend(backend: str) -> Iterator[str]:
    """Every e2e test runs on each backend (tests/support/backends.py): a World's bot gets
    DATABASE_URL of the session's PostgreSQL database, reset just before the test's first
    bot starts, or SQLite in the test's tmp dir. Modules that start no bot run once
    (tests/conftest.py, `backend_free`)."""
    harness.ACTIVE = harness.Backend()
    if backend == "postgres":

        async def reset() -> str:
            return backends.url_for(await backends.SERVER.clean_database())

        harness.ACTIVE.reset = reset
    yield backend
    harness.ACTIVE = harness.Backend()


@pytest.fixture
async def world(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    await w.start_bot()
    yield w
    # Stopping runs the care check over every recorded request (harness.privacy_violations).
    await w.stop_bot()
