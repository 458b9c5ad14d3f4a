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


async def test_typo_search_after_forgotten_suggestions_equals_the_full_scan(
    db: Database, port: RecordingPort, clock: FakeClock
) -> None:
    """Words of forgotten suggestions stay in the trigram table; they must not stop the
    bigram fallback that finds a live word 0.7-0.8 alike (the full scan finds it)."""
    from familybot.db.repositories.resources import NewResource
    from familybot.models import ResourceStatus
    from familybot.services.resources.fuzzy import close_terms

    services = build_services(db, port, clock, "America/New_York")
    repo = services.resources._repo

    def item(title: str, n: int) -> NewResource:
        return NewResource(
            title=title, url=f"https://example.org/{n}", category="Guides", description=""
        )

    live = await repo.create(
        GUILD,
        item("Umlstld", 1),
        status=ResourceStatus.APPROVED,
        suggested_by=None,
        now=clock.now(),
    )
    for n, word in enumerate(("Rumplestax", "Rumplestaq", "Rumplestav"), start=2):
        await repo.create(
            GUILD,
            item(word, n),
            status=ResourceStatus.PENDING,
            suggested_by=ALICE,
            now=clock.now(),
        )
    await repo.forget_user(ALICE)
    vocabulary = await repo.vocabulary()
    assert close_terms("rumplestad", vocabulary) == ["umlstld"]  # the full scan's answer
    assert await services.resources._close_terms("rumplestad") == ["umlstld"]
    assert [r.id for r in await services.resources.search(GUILD, "rumplestad")] == [live.id]


class _BrokenClassifier:
    name = "classifier"

    def matches(self, text: str) -> bool:
        raise MemoryError("model out of memory")  # any failure inside the worker thread


async def test_a_failing_classifier_does_not_switch_automod_off_for_the_message(
    db: Database, clock: FakeClock
) -> None:
    from familybot.services.safety.model import Either
    from familybot.services.safety.watch import PhraseList
    from tests.support.safety_fakes import safety_world

    w = await safety_world(db, clock)
    w.service.watch.phrases = Either(PhraseList.load(), _BrokenClassifier())
    # An invite link the matcher does not flag: the classifier is asked, and fails.
    with contextlib.suppress(Exception):
        await w.send("join us at discord.gg/abcdef for more", author=42)
    # The server's automod still removes the invite.
    assert len(w.io.deleted) == 1
