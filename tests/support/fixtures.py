"""Reusable pytest fixtures for the fake Discord.

Register with ``from tests.support.fixtures import fake_discord  # noqa: F401`` in a conftest.
A test opts out of the teardown schema check with ``@pytest.mark.allow_schema_errors`` or by
setting ``fake.expect_schema_errors = True``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .fake_discord import FakeDiscord


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_schema_errors: skip the fake Discord's teardown schema assertion"
    )


@pytest.fixture
async def fake_discord(request: pytest.FixtureRequest) -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
    allowed = request.node.get_closest_marker("allow_schema_errors") is not None
    if not allowed and not fake.expect_schema_errors:
        fake.assert_no_unhandled_routes()
        if fake.spec is not None:
            fake.assert_no_schema_errors()
