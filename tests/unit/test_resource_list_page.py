"""/resource list reads only the rows it shows, and still says how many more there are.

It used to read the whole library and build every row (1,000 rows: 16 ms, and a full
garbage collection that made the p99 79-152 ms, issue 15) to show 15 of them.
"""

from __future__ import annotations

from typing import Any

from familybot.db.connection import Database
from familybot.ui.resources import LIST_MAX, resource_list_embed
from familybot.wiring import Services

GUILD = 800_000_000_000_000_021
OTHER_GUILD = 800_000_000_000_000_022
CATEGORIES = ("Sleep", "grief", "Money")  # mixed case: the list sorts by the folded key


async def library(db: Database, guild: int, n: int) -> None:
    await db.executemany(
        "INSERT INTO resources (guild_id, title, url, category, category_key, description,"
        " status, suggested_by, suggested_at, vetted_by, vetted_at) "
        "VALUES (?, ?, ?, ?, ?, 'd', 'approved', 2, 1, 3, 1)",
        [
            (
                guild,
                f"{'Guide' if i % 2 else 'guide'} {i:03d}",
                f"https://example.org/{guild % 100}/{i}",
                CATEGORIES[i % 3],
                CATEGORIES[i % 3].casefold(),
            )
            for i in range(n)
        ],
    )


def rows_read(db: Database) -> list[int]:
    """How many rows each fetchall on `db` returns from now on."""
    seen: list[int] = []
    inner = db.fetchall

    async def fetchall(sql: str, *args: Any, **kwargs: Any) -> Any:
        rows = await inner(sql, *args, **kwargs)
        seen.append(len(rows))
        return rows

    db.fetchall = fetchall  # type: ignore[method-assign]
    return seen


async def test_resource_list_reads_one_page_and_counts_the_rest(
    services: Services, db: Database
) -> None:
    await library(db, GUILD, 60)
    await library(db, OTHER_GUILD, 5)
    seen = rows_read(db)

    listing = await services.resources.list_resources(GUILD, limit=LIST_MAX)

    assert max(seen) <= LIST_MAX  # no more rows read than shown
    assert listing.total == 60
    # The same first 15 a full read would show: by category key, then title without case.
    expected = sorted(
        (f"{'Guide' if i % 2 else 'guide'} {i:03d}" for i in range(60)),
        key=lambda t: (CATEGORIES[int(t[-3:]) % 3].casefold(), t.casefold()),
    )[:LIST_MAX]
    assert [r.title for r in listing.items] == expected
    embed = resource_list_embed(listing.items, "Resource library", "none", total=listing.total)
    assert "…and 45 more. Narrow it with a category." in str(embed.description)
    assert embed.description is not None and embed.description.count("example.org") == LIST_MAX

    grief = await services.resources.list_resources(GUILD, "Grief", limit=LIST_MAX)
    assert grief.total == 20 and len(grief.items) == LIST_MAX
    assert {r.category for r in grief.items} == {"grief"}
    few = await services.resources.list_resources(OTHER_GUILD, limit=LIST_MAX)
    assert few.total == 5 and len(few.items) == 5
    embed = resource_list_embed(few.items, "Resource library", "none", total=few.total)
    assert "more" not in str(embed.description)
