"""The review digest once per server per period, even across a crash (issue 16), on both
backends: the intent is recorded with a nonce before the post, the message id after
(familybot/services/resources/digest.py). A process that dies between Discord taking the post
and the record is played by the port raising ProcessKilled right after posting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from familybot import i18n
from familybot.db.connection import Database
from familybot.models import Resource
from familybot.services.resources.digest import DIGEST_PERIOD, NONCE_MEMORY
from familybot.services.resources.rules import review_digest_notice, review_digest_titles
from familybot.wiring import Services
from tests.support.fakes import FakeClock, ProcessKilled, RecordingPort
from tests.unit.test_resources_service import ALERTS, FAC, GUILD, fields

DUE = datetime(2027, 12, 6, 9, tzinfo=UTC)  # a Monday, 09:00 UTC: the digest's time


@pytest.fixture
async def lib(services: Services, clock: FakeClock) -> Services:
    await services.setup.set_facilitator_role(GUILD, 77)
    await services.setup.set_alerts_channel(GUILD, ALERTS)
    await services.resources.add(GUILD, FAC, fields())  # due for review by DUE
    clock.set(DUE)
    return services


async def test_a_second_run_in_the_period_posts_nothing(
    lib: Services, port: RecordingPort, clock: FakeClock
) -> None:
    assert await lib.resources.post_review_digest() == 1
    clock.advance(seconds=3600)
    assert await lib.resources.post_review_digest() == 0  # a leader's second run
    assert len(port.digest_posts) == 1 and port.history_reads == 0
    clock.advance(seconds=DIGEST_PERIOD.total_seconds())  # the next week posts again
    assert await lib.resources.post_review_digest() == 1


@pytest.mark.parametrize("later", [timedelta(seconds=40), NONCE_MEMORY + timedelta(minutes=1)])
async def test_killed_after_posting_the_next_run_posts_no_second_digest(
    lib: Services, port: RecordingPort, clock: FakeClock, db: Database, later: timedelta
) -> None:
    """Within Discord's nonce memory the resend carries the same nonce (Discord answers with
    the first message); past it, one history lookup finds the post: no resend."""
    port.digest_script = ["kill"]
    with pytest.raises(ProcessKilled):
        await lib.resources.post_review_digest()
    (row,) = await db.fetchall("SELECT nonce, message_id FROM digest_posts")
    assert row["message_id"] is None  # interrupted: posted, not recorded
    clock.advance(seconds=later.total_seconds())  # the next leader's run
    port.nonce_window = NONCE_MEMORY
    assert await lib.resources.post_review_digest() == 1
    first_id = port.digest_posts[0][2]
    assert [p[2] for p in port.digest_posts] == [first_id]  # one message in the channel
    (row,) = await db.fetchall("SELECT nonce, message_id FROM digest_posts")
    assert row["message_id"] == first_id and row["nonce"] == port.digest_posts[0][1]
    assert port.history_reads == (1 if later > NONCE_MEMORY else 0)
    assert await lib.resources.post_review_digest() == 0
    assert port.history_reads <= 1


async def test_interrupted_before_discord_took_it_posts_once_after_one_lookup(
    lib: Services, port: RecordingPort, clock: FakeClock
) -> None:
    """The intent went in, the post never reached Discord (refused): past the nonce memory
    the run looks once, finds nothing, and posts."""
    port.fail.add("post_notice")
    assert await lib.resources.post_review_digest() == 0
    port.fail.clear()
    clock.advance(seconds=(NONCE_MEMORY + timedelta(minutes=1)).total_seconds())
    assert await lib.resources.post_review_digest() == 1
    assert len(port.digest_posts) == 1 and port.history_reads == 1


def _resource(n: int) -> Resource:
    return Resource(
        id=n,
        guild_id=GUILD,
        title=f"Guide {n}",
        url="https://example.org/",
        category="Guides",
        description="",
        region="",
        language="",
        audience="",
        status="approved",
        suggested_by=None,
        suggested_at=DUE,
        vetted_by=FAC,
        vetted_at=DUE,
        review_due_at=DUE,
        decision_reason=None,
    )


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_the_digest_is_known_by_its_title_whatever_its_count(language: i18n.Language) -> None:
    """Every count's title, its digits left out, is among the titles an interrupted post is
    looked for by, in each language (singular and plural differ in words: "resource" and
    "resources", "recurso" and "recursos")."""
    with i18n.using(language):
        titles = review_digest_titles()
        shown = {
            n: review_digest_notice([_resource(i) for i in range(n)]).title
            for n in (1, 2, 3, 11, 31, 102)
        }
    assert 2 <= len(titles) <= 6
    for n, title in shown.items():
        assert str(n) in title
        assert title.replace(str(n), "") in titles, (language, n, title)
