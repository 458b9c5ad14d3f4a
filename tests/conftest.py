from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from familybot.db.connection import Database
from familybot.db.migrate import migrate
from familybot.wiring import Services, build_services
from tests.support.fakes import FakeClock, RecordingPort


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def port() -> RecordingPort:
    return RecordingPort()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "familybot.db")
    await migrate(database)
    yield database
    await database.close()


@pytest.fixture
async def services(db: Database, port: RecordingPort, clock: FakeClock) -> Services:
    return build_services(db, port, clock, "America/New_York")
