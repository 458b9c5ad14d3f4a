"""The resource library on real SQLite: workflow states, permissions, search, visibility."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from familybot.db.connection import Database
from familybot.errors import NotAllowed, NotFound, UserFacingError
from familybot.models import ResourceStatus
from familybot.models.setup import Actor
from familybot.services.resources.rules import add_months
from familybot.services.resources.urls import InvalidURL
from familybot.wiring import Services
from tests.support.fakes import FakeClock, RecordingPort

GUILD = 1
FAC_ROLE = 77
ALERTS = 900
FAC = Actor(user_id=10, role_ids=frozenset({FAC_ROLE}), manage_guild=False, administrator=False)
MEMBER = Actor(user_id=20, role_ids=frozenset(), manage_guild=False, administrator=False)
ADMIN = Actor(user_id=30, role_ids=frozenset(), manage_guild=True, administrator=False)


def fields(title: str = "Anxiety toolkit", **extra: str) -> dict[str, object]:
    base: dict[str, object] = {
        "title": title,
        "url": "https://example.org/toolkit",
        "category": "Guides",
        "description": "Worksheets for calm evenings at home",
    }
    base.update(extra)
    return base


@pytest.fixture
async def lib(services: Services) -> Services:
    await services.setup.set_facilitator_role(GUILD, FAC_ROLE)
    await services.setup.set_alerts_channel(GUILD, ALERTS)
    return services


async def status(db: Database, resource_id: int) -> str:
    return str(await db.fetchval("SELECT status FROM resources WHERE id = ?", (resource_id,)))


async def test_suggest_creates_pending_and_tells_facilitators(
    lib: Services, port: RecordingPort, db: Database
) -> None:
    result = await lib.resources.suggest(GUILD, MEMBER.user_id, fields())
    assert result.resource.status is ResourceStatus.PENDING
    assert result.resource.suggested_by == MEMBER.user_id and result.facilitators_told
    assert port.notices and port.notices[0][0] == ALERTS
    assert "/resource review" in port.notices[0][1].body
    # Pending items never reach members.
    assert await lib.resources.search(GUILD, "anxiety") == []
    assert (await lib.resources.list_resources(GUILD)).items == []
    assert await lib.resources.autocomplete(GUILD, "") == []


async def test_approve_vets_sets_review_date_and_dms_suggester(
    lib: Services, port: RecordingPort, clock: FakeClock
) -> None:
    rid = (await lib.resources.suggest(GUILD, MEMBER.user_id, fields())).resource.id
    item, pending = await lib.resources.next_pending(GUILD, FAC)
    assert item is not None and item.id == rid and pending == 1
    decision = await lib.resources.approve(GUILD, rid, FAC)
    assert decision.approved and not decision.already_decided and decision.suggester_told
    r = decision.resource
    assert r.status is ResourceStatus.APPROVED and r.vetted_by == FAC.user_id
    assert r.vetted_at == clock.now().replace(microsecond=0)
    assert r.review_due_at == add_months(clock.now(), 12).replace(microsecond=0)
    assert port.dms[-1][0] == MEMBER.user_id and "added" in port.dms[-1][1].title
    assert [x.id for x in await lib.resources.search(GUILD, "anxiety")] == [rid]
    # A second press (another facilitator, a double click) changes nothing.
    again = await lib.resources.approve(GUILD, rid, FAC)
    assert again.already_decided and len(port.dms) == 1
    assert (await lib.resources.next_pending(GUILD, FAC))[0] is None


async def test_reject_needs_reason_and_tells_suggester(
    lib: Services, port: RecordingPort, db: Database
) -> None:
    rid = (await lib.resources.suggest(GUILD, MEMBER.user_id, fields())).resource.id
    with pytest.raises(UserFacingError):
        await lib.resources.reject(GUILD, rid, FAC, "   ")
    assert await status(db, rid) == "pending"
    decision = await lib.resources.reject(GUILD, rid, FAC, "The site is an advert")
    assert not decision.approved and decision.resource.status is ResourceStatus.REJECTED
    assert "The site is an advert" in port.dms[-1][1].body
    assert (await lib.resources.approve(GUILD, rid, FAC)).already_decided
    assert await status(db, rid) == "rejected"
    assert await lib.resources.search(GUILD, "anxiety") == []


async def test_add_and_retire(lib: Services, db: Database) -> None:
    r = await lib.resources.add(GUILD, FAC, fields())
    assert r.status is ResourceStatus.APPROVED and r.vetted_by == FAC.user_id
    retired = await lib.resources.retire(GUILD, FAC, str(r.id), "Out of date")
    assert retired.id == r.id and await status(db, r.id) == "retired"
    assert await lib.resources.search(GUILD, "anxiety") == []
    assert (await lib.resources.list_resources(GUILD)).items == []
    assert await lib.resources.autocomplete(GUILD, "Anx") == []
    with pytest.raises(NotFound):
        await lib.resources.find_approved(GUILD, str(r.id))
    with pytest.raises(NotFound):
        await lib.resources.retire(GUILD, FAC, str(r.id), "again")
    # Retire by exact title works too.
    other = await lib.resources.add(GUILD, FAC, fields("Sleep guide"))
    await lib.resources.retire(GUILD, FAC, "  sleep GUIDE ", "Replaced")
    assert await status(db, other.id) == "retired"


async def test_members_cannot_run_facilitator_actions(lib: Services, db: Database) -> None:
    rid = (await lib.resources.suggest(GUILD, MEMBER.user_id, fields())).resource.id
    with pytest.raises(NotAllowed):
        await lib.resources.next_pending(GUILD, MEMBER)
    with pytest.raises(NotAllowed):
        await lib.resources.approve(GUILD, rid, MEMBER)
    with pytest.raises(NotAllowed):
        await lib.resources.reject(GUILD, rid, MEMBER, "no")
    with pytest.raises(NotAllowed):
        await lib.resources.add(GUILD, MEMBER, fields("Mine"))
    with pytest.raises(NotAllowed):
        await lib.resources.set_allow_http(GUILD, FAC, True)
    assert await status(db, rid) == "pending"
    # Admins count as facilitators.
    assert (await lib.resources.approve(GUILD, rid, ADMIN)).approved
    with pytest.raises(NotAllowed):
        await lib.resources.retire(GUILD, MEMBER, str(rid), "no")


async def test_other_servers_resources_are_invisible(lib: Services) -> None:
    r = await lib.resources.add(GUILD, FAC, fields())
    assert await lib.resources.search(2, "anxiety") == []
    with pytest.raises(NotFound):
        await lib.resources.find_approved(2, str(r.id))
    with pytest.raises(NotFound):
        await lib.resources.approve(2, r.id, ADMIN)


async def test_http_only_when_the_server_allows_it(lib: Services) -> None:
    with pytest.raises(InvalidURL):
        await lib.resources.suggest(GUILD, MEMBER.user_id, fields(url="http://example.org/"))
    await lib.resources.set_allow_http(GUILD, ADMIN, True)
    ok = await lib.resources.suggest(GUILD, MEMBER.user_id, fields(url="http://example.org/"))
    assert ok.resource.url == "http://example.org/"


async def test_suggestion_without_alerts_channel_is_still_kept(
    services: Services, port: RecordingPort
) -> None:
    result = await services.resources.suggest(GUILD, MEMBER.user_id, fields())
    assert not result.facilitators_told and port.notices == []


CORPUS = [
    ("Crisis text line", "Text HOME to reach a trained crisis counselor any time", "Crisis"),
    ("Understanding IOP", "What intensive outpatient programs do and how families help", "Guides"),
    ("Anxiety toolkit for parents", "Worksheets to manage anxiety at home", "Guides"),
    ("Sleep and mood", "How sleep affects mood and anxiety in teens", "Reading"),
    ("Family meal ideas", "Low-stress dinners when everyone is tired", "Everyday"),
]


@pytest.mark.parametrize(
    ("query", "category", "top"),
    [
        ("anxiety", None, "Anxiety toolkit for parents"),  # title beats description
        ("crisis", None, "Crisis text line"),
        ("outpatient program", None, "Understanding IOP"),
        ("parents", None, "Anxiety toolkit for parents"),  # stemming
        ("anxeity", None, "Anxiety toolkit for parents"),  # a typo in a short query
        ("slep", None, "Sleep and mood"),
        ("anx", None, "Anxiety toolkit for parents"),  # prefix
        ("anxiety", "reading", "Sleep and mood"),  # category filter (any case)
        ('"; DROP TABLE resources; --', None, None),  # hostile text is just words
    ],
)
async def test_search_ranking(
    lib: Services, query: str, category: str | None, top: str | None
) -> None:
    for title, description, cat in CORPUS:
        await lib.resources.add(GUILD, FAC, fields(title, description=description, category=cat))
    found = await lib.resources.search(GUILD, query, category)
    if top is None:
        assert found == []
    else:
        assert found and found[0].title == top


async def test_search_needs_words(lib: Services) -> None:
    with pytest.raises(UserFacingError):
        await lib.resources.search(GUILD, "!!! ???")


async def test_review_digest_lists_due_and_flagged(
    lib: Services, port: RecordingPort, clock: FakeClock
) -> None:
    await lib.resources.add(GUILD, FAC, fields())
    assert await lib.resources.post_review_digest() == 0
    clock.set(datetime(2027, 12, 1, tzinfo=UTC))
    assert await lib.resources.post_review_digest() == 1
    channel, notice = port.notices[-1]
    assert channel == ALERTS and "Anxiety toolkit" in notice.body and "review" in notice.body


async def test_forget_user(lib: Services, db: Database) -> None:
    pending = (await lib.resources.suggest(GUILD, MEMBER.user_id, fields("Pending"))).resource
    kept = (await lib.resources.suggest(GUILD, MEMBER.user_id, fields("Kept"))).resource
    await lib.resources.approve(GUILD, kept.id, FAC)
    exported = await lib.resources.export_user_data(MEMBER.user_id)
    assert {e["title"] for e in exported} == {"Pending", "Kept"}
    assert await lib.resources.delete_user_data(MEMBER.user_id) == 1
    assert await db.fetchval("SELECT count(*) FROM resources WHERE id = ?", (pending.id,)) == 0
    assert await db.fetchval("SELECT suggested_by FROM resources WHERE id = ?", (kept.id,)) is None
    assert await lib.resources.export_user_data(MEMBER.user_id) == []


async def test_share_posts_card_and_reports_refusal(lib: Services, port: RecordingPort) -> None:
    r = await lib.resources.add(GUILD, FAC, fields())
    shared = await lib.resources.share(GUILD, str(r.id), 555)
    assert shared.id == r.id and port.calls[-1][0] == "post_resource"
    port.fail.add("post_resource")
    with pytest.raises(UserFacingError):
        await lib.resources.share(GUILD, str(r.id), 555)
    with pytest.raises(NotFound):
        await lib.resources.share(GUILD, "99999", 555)
