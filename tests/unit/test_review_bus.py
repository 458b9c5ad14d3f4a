"""Hostile review: a failing event subscriber must not stop /my forget half-way."""

from __future__ import annotations

import contextlib

import pytest

from familybot.db.connection import Database
from familybot.events import GroupChanged
from familybot.models import JoinMode
from familybot.wiring import build_services
from tests.support.fakes import FakeClock, RecordingPort

pytestmark = pytest.mark.asyncio

GUILD, FAC_ID, ALICE = 1, 10, 20


async def test_forget_removes_every_membership_even_if_a_replan_fails(
    db: Database, port: RecordingPort, clock: FakeClock
) -> None:
    services = build_services(db, port, clock, "America/New_York")
    for name in ("Circle A", "Circle B"):
        await services.groups.create(
            guild_id=GUILD,
            actor_id=FAC_ID,
            name=name,
            description="A weekly circle",
            focus="parents",
            capacity=None,
            join_mode=JoinMode.OPEN,
        )
        group = await services.groups.prepare_join(GUILD, ALICE, name)
        await services.groups.consent_and_join(
            group.id, ALICE, group.guidelines_version, guild_id=GUILD
        )
    failures = [RuntimeError("database is locked")]

    def flaky_replan(event: GroupChanged) -> None:
        if failures:
            raise failures.pop()

    services.bus.subscribe(GroupChanged, flaky_replan)
    # Whatever the forget call reports, a person who asked to be forgotten is forgotten.
    with contextlib.suppress(RuntimeError):
        await services.groups.delete_user_data(ALICE)
    left = await db.fetchall("SELECT group_id FROM memberships WHERE user_id = ?", (ALICE,))
    assert [dict(r) for r in left] == []
