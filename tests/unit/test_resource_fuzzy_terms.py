"""/resource search's fuzzy fallback leaves the event loop free (issue 15).

Its edit-distance pass was plain CPU work over the whole index vocabulary (about 2 s for a
100k-term vocabulary on a 2-core machine); it now compares only the trigram index's
candidates, and a long candidate list goes to a thread. A ticker on the loop measures the
longest stall while a typo is searched against a large vocabulary: before, the loop stopped
for the whole pass.
"""

from __future__ import annotations

import asyncio

from familybot.models.setup import Actor
from familybot.wiring import Services

GUILD = 1
FAC_ROLE = 5
FAC = Actor(user_id=10, role_ids=frozenset({FAC_ROLE}), manage_guild=False, administrator=False)


# On both backends (issue 16): on PostgreSQL the candidates come from pg_trgm's index of the
# search words (migration 0020), not from every word of the right length (a 290 ms stall).
async def test_a_typo_search_over_a_large_vocabulary_leaves_the_loop_free(
    services: Services,
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
    # 60,000 more words in the index (pending suggestions: searched words, never shown).
    await services.resources._repo._db.executemany(
        "INSERT INTO resources (guild_id, title, url, category, category_key, description, "
        "status, suggested_at) VALUES (?, 'Items', 'https://example.org/i', 'x', 'x', ?, "
        "'pending', 0)",
        [(GUILD, " ".join(f"item{i}" for i in range(k, k + 1000))) for k in range(0, 60_000, 1000)],
    )
    assert len(await services.resources._repo.vocabulary()) > 60_000

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
