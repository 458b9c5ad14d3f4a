"""The review digest once per server per week with the fake Discord, when the process dies
between Discord taking the post and the bot recording it (issue 16): the next run finds the
post by its nonce (resent with enforce_nonce within Discord's memory of it, looked for once in
the alerts channel's history past that) and posts no second digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from familybot.db.repositories.digest_posts import DigestPostRepository
from familybot.services.resources.digest import NONCE_MEMORY
from tests.e2e.harness import World
from tests.e2e.test_sessions_e2e import at

pytestmark = pytest.mark.asyncio


class Killed(BaseException):
    """The process died here (nothing after it ran)."""


LATE = NONCE_MEMORY + timedelta(minutes=1)
GRIEF = "Grief circle readings"
SLEEP = "Family sleep guide"
TWO = f"title <> '{GRIEF}'"  # two resources due: "2 resources to look at again"
ONE = f"title = '{SLEEP}'"  # one resource due: "1 resource to look at again"


@pytest.mark.parametrize(
    ("later", "first", "then"),
    [
        (timedelta(seconds=30), TWO, None),
        (LATE, TWO, None),
        # Between the crash and the rerun the list (and its count) changed: a third resource
        # fell due; one resource became three (the title's singular became its plural); two
        # became one (a resource reviewed meanwhile). The interrupted post is still found.
        (LATE, TWO, "UPDATE resources SET review_due_at = 0"),
        (LATE, ONE, "UPDATE resources SET review_due_at = 0"),
        (
            LATE,
            TWO,
            f"UPDATE resources SET review_due_at = {2**40} WHERE title = '{SLEEP}'",
        ),
    ],
)
async def test_a_digest_posted_but_not_recorded_is_not_posted_twice(
    world: World, monkeypatch: pytest.MonkeyPatch, later: timedelta, first: str, then: str | None
) -> None:
    world.fake.time_based_ids = True  # reads look from an instant, as on Discord
    await world.configure()
    for title, path in (
        ("Family sleep guide", "sleep"),
        ("Sibling support notes", "siblings"),
        ("Grief circle readings", "grief"),
    ):
        h = await world.run(
            world.facilitator,
            "resource",
            "add",
            title=title,
            url=f"https://example.org/{path}",
            category="Guides",
            description="Calm evenings",
        )
        assert h.ephemeral, h.content
    assert world.bot is not None
    service = world.bot.services.resources
    real_posted = DigestPostRepository.posted

    async def dies(self: DigestPostRepository, guild_id: int, period: int, msg: int) -> None:
        raise Killed

    # Due now (not the clock moved a year on: the history lookup compares the bot's clock
    # with Discord's message times, which the fake takes from the real one).
    await world.bot.db.execute(f"UPDATE resources SET review_due_at = 0 WHERE {first}")
    due = datetime.now(UTC)
    posts = rf"/channels/{world.alerts_channel}/messages"
    before = len(world.fake.requests_to("POST", posts))
    with at(due):
        monkeypatch.setattr(DigestPostRepository, "posted", dies)
        with pytest.raises(Killed):
            await service.post_review_digest()
        monkeypatch.setattr(DigestPostRepository, "posted", real_posted)
    digests = [m for m in world.fake.messages_in(world.alerts_channel) if m.get("nonce")]
    assert len(digests) == 1
    shown = digests[0]["embeds"][0]["title"]
    if then is not None:
        await world.bot.db.execute(then)
    with at(due + later):  # the next leader's run
        assert await service.post_review_digest() == 1
        assert await service.post_review_digest() == 0
    assert [m for m in world.fake.messages_in(world.alerts_channel) if m.get("nonce")] == digests
    assert shown == (
        "1 resource to look at again" if "=" in first[:7] else "2 resources to look at again"
    )
    sends = world.fake.requests_to("POST", posts)[before:]
    reads = world.fake.requests_to("GET", posts)
    if later < NONCE_MEMORY:  # resent with the same nonce: Discord answered with the first
        assert len(sends) == 2 and sends[0].json_body["nonce"] == sends[1].json_body["nonce"]
        assert reads == []
    else:  # one look in the history found it: not resent
        assert len(sends) == 1 and len(reads) == 1
