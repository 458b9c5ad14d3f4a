"""/my forget: the holders that only run statements share one transaction (issue 15).

On PostgreSQL every transaction costs four round trips besides its statements (BEGIN, the
write lock shared by all processes, COMMIT; a lone statement is one too): nine holders'
transactions were a third of a forget's round trips at 100k sessions (bench/forget_trace.py).
Both backends (the `services` fixture). Also: that part is now all or nothing, and what
calls Discord or publishes events (groups) stays outside it.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from familybot.db.connection import Database
from familybot.services.privacy.service import StatementsOnly
from familybot.wiring import Services
from tests.unit import privacy_seed as seed

TARGET = 900_000_000_000_000_031
GUILD = 800_000_000_000_000_031
GUILD2 = 800_000_000_000_000_032
# Transactions a forget may take: the groups holder's (its seats in one statement, its
# facilitator places and authorship, the re-plan of its groups' series) and everyone
# else's together. One per holder before (twelve here).
MOST_TRANSACTIONS = 5


def counting_transactions(db: Database) -> list[int]:
    """How many outermost transactions begin from now on (a nested one joins the outer)."""
    begun: list[int] = []
    depth = [0]
    original = db.transaction

    def transaction(*args: Any, **kwargs: Any) -> AbstractAsyncContextManager[Database]:
        inner = original(*args, **kwargs)

        class Counted:
            async def __aenter__(self) -> Database:
                if depth[0] == 0:
                    begun.append(1)
                depth[0] += 1
                return await inner.__aenter__()

            async def __aexit__(self, *exc: Any) -> Any:
                depth[0] -= 1
                return await inner.__aexit__(*exc)

        return Counted()

    db.transaction = transaction  # type: ignore[method-assign]
    return begun


async def test_a_forget_takes_few_transactions(services: Services, db: Database) -> None:
    await seed.seed_all(db, TARGET, GUILD)
    await seed.seed_all(db, TARGET, GUILD2)
    begun = counting_transactions(db)

    report = await services.privacy.forget_user(TARGET)

    assert report.total > 0
    assert len(begun) <= MOST_TRANSACTIONS, len(begun)
    left = await seed.rows_mentioning(db, TARGET)
    assert set(left) <= {"mod_cases", "audit_log", "join_reviews"}, set(left)


async def test_the_statements_part_is_all_or_nothing(services: Services, db: Database) -> None:
    """A holder failing half-way leaves the rows of those asked before it in the same
    transaction: /my forget can simply be asked again."""
    await seed.seed_all(db, TARGET, GUILD)
    rsvps = await db.fetchval("SELECT count(*) FROM rsvps WHERE user_id = ?", (TARGET,))
    assert rsvps > 0

    async def broken(user_id: int) -> int:
        raise RuntimeError("the disk went away")

    services.reports.delete_user_data = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await services.privacy.forget_user(TARGET)

    # The sessions holder ran before reports, in the same transaction: rolled back with it.
    assert await db.fetchval("SELECT count(*) FROM rsvps WHERE user_id = ?", (TARGET,)) == rsvps


def test_only_holders_without_discord_or_events_share_it(services: Services) -> None:
    together = {
        name
        for name, holder in services.user_data_holders()
        if isinstance(holder, StatementsOnly) and holder.forgets_with_statements_only
    }
    # groups closes channels on Discord and publishes GroupChanged (re-planning, Events
    # panel in background tasks): it must run outside any transaction.
    assert "groups" not in together
    assert together >= {"sessions", "moderation", "resources", "reports", "calendar"}
