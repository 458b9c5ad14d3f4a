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


@pytest.mark.parametrize(
    ("later", "changed"),
    [
        (timedelta(seconds=30), False),
        (NONCE_MEMORY + timedelta(minutes=1), False),
        # A third resource fell due between the crash and the rerun: the list (and its count)
        # differ from the interrupted post's, which is still the one found.
        (NONCE_MEMORY + timedelta(minutes=1), True),
    ],
)
async def test_a_digest_posted_but_not_recorded_is_not_posted_twice(
    world: World, monkeypatch: pytest.MonkeyPatch, later: timedelta, changed: bool
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
    await world.bot.db.execute(
        "UPDATE resources SET review_due_at = 0 WHERE title <> 'Grief circle readings'"
    )
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
    if changed:
        await world.bot.db.execute("UPDATE resources SET review_due_at = 0")
    with at(due + later):  # the next leader's run
        assert await service.post_review_digest() == 1
        assert await service.post_review_digest() == 0
    assert [m for m in world.fake.messages_in(world.alerts_channel) if m.get("nonce")] == digests
    sends = world.fake.requests_to("POST", posts)[before:]
    reads = world.fake.requests_to("GET", posts)
    if later < NONCE_MEMORY:  # resent with the same nonce: Discord answered with the first
        assert len(sends) == 2 and sends[0].json_body["nonce"] == sends[1].json_body["nonce"]
        assert reads == []
    else:  # one look in the history found it: not resent
        assert len(sends) == 1 and len(reads) == 1
