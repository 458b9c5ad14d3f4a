from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.harness import World
from tests.support.fake_discord import FakeDiscord
from tests.support.fixtures import fake_discord, pytest_configure

__all__ = ["fake_discord", "pytest_configure", "world"]


@pytest.fixture
async def world(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    await w.start_bot()
    yield w
    # Stopping runs the care check over every recorded request (harness.privacy_violations).
    await w.stop_bot()
