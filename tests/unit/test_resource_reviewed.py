"""/resource reviewed: a due (or broken-link) resource checked again leaves the digest."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from familybot.db.connection import Database
from familybot.errors import Conflict, NotAllowed, NotFound, UserFacingError
from familybot.models import to_unix
from familybot.models.setup import Actor
from familybot.wiring import Services
from tests.support.fakes import FakeClock, RecordingPort

GUILD = 1
FAC_ROLE = 77
ALERTS = 900
FIRST = Actor(user_id=10, role_ids=frozenset({FAC_ROLE}), manage_guild=False)
SECOND = Actor(user_id=11, role_ids=frozenset({FAC_ROLE}), manage_guild=False)
MEMBER = Actor(user_id=20, role_ids=frozenset(), manage_guild=False)


def fields(title: str) -> dict[str, object]:
    return {
        "title": title,
        "url": "https://example.org/" + title.lower().replace(" ", "-"),
        "category": "Guides",
        "description": "Worksheets for calm evenings at home",
    }


@pytest.fixture
async def lib(services: Services) -> Services:
    await services.setup.set_facilitator_role(GUILD, FAC_ROLE)
    await services.setup.set_alerts_channel(GUILD, ALERTS)
    return services


async def test_reviewed_clears_the_digest_with_new_vetter_and_dates(
    lib: Services, port: RecordingPort, clock: FakeClock, db: Database
) -> None:
    clock.set(datetime(2026, 1, 10, tzinfo=UTC))
    due = await lib.resources.add(GUILD, FIRST, fields("Anxiety toolkit"))
    fresh_date = datetime(2026, 12, 1, tzinfo=UTC)
    broken = await lib.resources.add(GUILD, FIRST, fields("Sleep guide"))
    await db.execute(  # the link checker flagged this one; its yearly review isn't due
        "UPDATE resources SET flagged_at = ?, link_failures = 3, review_due_at = ? WHERE id = ?",
        (to_unix(clock.now()), to_unix(datetime(2028, 1, 1, tzinfo=UTC)), broken.id),
    )
    clock.set(fresh_date)
    await lib.resources.add(GUILD, FIRST, fields("Not due"))
    clock.set(datetime(2027, 2, 1, tzinfo=UTC))
    listed = await lib.resources.due_for_review(GUILD)
    assert [r.title for r in listed] == ["Sleep guide", "Anxiety toolkit"]  # flagged first
    assert [r.title for r in await lib.resources.due_for_review(GUILD, "anx")] == [
        "Anxiety toolkit"
    ]
    assert await lib.resources.post_review_digest() == 1
    assert "Anxiety toolkit" in port.notices[-1][1].body

    # Members can't; a resource not due yet is refused and left alone.
    with pytest.raises(NotAllowed):
        await lib.resources.mark_reviewed(GUILD, MEMBER, str(due.id))
    with pytest.raises(Conflict) as early:
        await lib.resources.mark_reviewed(GUILD, SECOND, "Not due")
    assert "isn't due for review yet" in early.value.message
    with pytest.raises(UserFacingError):
        await lib.resources.mark_reviewed(GUILD, SECOND, str(due.id), "x" * 501)
    with pytest.raises(NotFound):
        await lib.resources.mark_reviewed(GUILD, SECOND, "No such thing")

    checked = await lib.resources.mark_reviewed(
        GUILD, SECOND, str(due.id), "  Link and phone number checked.  "
    )
    await lib.resources.mark_reviewed(GUILD, SECOND, "sleep GUIDE")
    rows = {
        r["title"]: dict(r)
        for r in await db.fetchall(
            "SELECT title, vetted_by, vetted_at, review_due_at, flagged_at, link_failures, "
            "decision_reason FROM resources"
        )
    }
    now = to_unix(datetime(2027, 2, 1, tzinfo=UTC))
    next_year = to_unix(datetime(2028, 2, 1, tzinfo=UTC))
    assert rows["Anxiety toolkit"] == {
        "title": "Anxiety toolkit",
        "vetted_by": SECOND.user_id,
        "vetted_at": now,
        "review_due_at": next_year,
        "flagged_at": None,
        "link_failures": 0,
        "decision_reason": "Link and phone number checked.",
    }
    assert rows["Sleep guide"]["flagged_at"] is None and rows["Sleep guide"]["vetted_at"] == now
    assert rows["Not due"]["vetted_by"] == FIRST.user_id  # untouched
    assert checked.review_due_at == datetime(2028, 2, 1, tzinfo=UTC)
    # The digest has nothing left to say, and the autocomplete list is empty.
    sent = len(port.notices)
    assert await lib.resources.post_review_digest() == 0 and len(port.notices) == sent
    assert await lib.resources.due_for_review(GUILD) == []
    # /my data still shows the new vetter their part; /my forget unattributes it.
    exported = await lib.resources.export_user_data(SECOND.user_id)
    assert {e["title"] for e in exported if e["vetted_by_you"]} == {
        "Anxiety toolkit",
        "Sleep guide",
    }
    await lib.resources.delete_user_data(SECOND.user_id)
    assert (
        await db.fetchval("SELECT count(*) FROM resources WHERE vetted_by = ?", (SECOND.user_id,))
        == 0
    )
