"""/resource search's fuzzy fallback runs off the event loop (issue 15).

Its edit-distance pass is plain CPU work over the whole index vocabulary (about 2 s for a
100k-term vocabulary on a 2-core machine). A ticker on the loop measures the longest stall
while a typo is searched against a large vocabulary: before, the loop stopped for the whole
pass.
"""

from __future__ import annotations

import asyncio

import pytest

from familybot.services.setup import Actor
from familybot.wiring import Services

GUILD = 1
FAC_ROLE = 5
FAC = Actor(user_id=10, role_ids=frozenset({FAC_ROLE}), manage_guild=False, administrator=False)


async def test_a_typo_search_over_a_large_vocabulary_leaves_the_loop_free(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await services.setup.set_facilitator_role(GUILD, FAC_ROLE)
    await services.resources.add(
        GUILD,
        FAC,
        {
            "title": "Bereavement support",
            "url": "https://example.org/grief",
            "category": "Guides",
            "description": "For families after a loss",
        },
    )
    repo = services.resources._repo
    real = await repo.vocabulary()
    big = [f"item{i}" for i in range(60_000)] + real
    monkeypatch.setattr(repo, "vocabulary", lambda: _value(big))

    longest = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal longest
        loop = asyncio.get_running_loop()
        while not done.is_set():
            before = loop.time()
            await asyncio.sleep(0.005)
            longest = max(longest, loop.time() - before - 0.005)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.02)
    try:
        found = await services.resources.search(GUILD, "bereevement")
    finally:
        done.set()
        await task
    # The same answer as ever: the typo still finds the resource.
    assert [r.title for r in found] == ["Bereavement support"]
    assert longest < 0.25, f"the loop stalled {longest * 1000:.0f} ms"


async def _value(v: list[str]) -> list[str]:
    return v
