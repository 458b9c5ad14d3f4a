"""/group list in a fixed number of queries, one page at a time (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from familybot.db.connection import Database
from familybot.models import JoinMode
from familybot.wiring import Services
from tests.support.fakes import FakeClock

GUILD = 1
FAC = 10
FIRST = datetime(2026, 1, 5, 19, 0)  # a Monday, 19:00 UTC


async def make_groups(services: Services, db: Database, n: int, start: int = 0) -> list[int]:
    """n groups, each with a weekly series starting on a different weekday."""
    ids = []
    for i in range(start, start + n):
        group = await services.groups.create(
            guild_id=GUILD,
            actor_id=FAC,
            name=f"Circle {i:03d}",
            description="A weekly circle",
            focus="parents",
            capacity=5,
            join_mode=JoinMode.OPEN,
        )
        ids.append(group.id)
        first = FIRST + timedelta(days=i % 7)
        await db.execute(
            "INSERT INTO session_series (group_id, guild_id, title, tz, first_local, repeat,"
            " duration_minutes, created_by, created_at, planned_until)"
            " VALUES (?, ?, 'Weekly', 'UTC', ?, 'weekly', 60, ?, 0, 0)",
            (group.id, GUILD, first.isoformat(timespec="minutes"), FAC),
        )
    return ids


def expected_next(i: int, now: datetime) -> datetime:
    """Plain date arithmetic, independent of the recurrence code."""
    start = (FIRST + timedelta(days=i % 7)).replace(tzinfo=UTC)
    while start <= now:
        start += timedelta(weeks=1)
    return start


async def selects_during(db: Database, coro: object) -> tuple[int, object]:
    """Runs the awaitable and counts the SELECT statements SQLite itself executed."""
    seen: list[str] = []
    await db.connection.set_trace_callback(seen.append)
    try:
        result = await coro  # type: ignore[misc]
    finally:
        await db.connection.set_trace_callback(None)
    return sum(1 for s in seen if s.lstrip().upper().startswith("SELECT")), result


@pytest.mark.sqlite_only
async def test_list_costs_the_same_queries_for_3_or_30_groups(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await make_groups(services, db, 3)
    few, _ = await selects_during(db, services.groups.list_groups(GUILD))
    await make_groups(services, db, 27, start=3)
    many, listed = await selects_during(db, services.groups.list_groups(GUILD))
    assert isinstance(listed, list) and len(listed) == 30
    # Before the fix: two queries per group (its series, their changed dates).
    assert many == few <= 5, (few, many)


async def test_pages_hold_ten_groups_by_name_with_their_next_session(
    services: Services, db: Database, clock: FakeClock
) -> None:
    await make_groups(services, db, 25)
    await db.execute(  # a group without any session
        "DELETE FROM session_series WHERE group_id = (SELECT id FROM groups WHERE name = ?)",
        ("Circle 024",),
    )
    now = clock.now()
    seen = []
    for number in range(3):
        page = await services.groups.list_page(GUILD, number)
        assert (page.page, page.pages, page.total) == (number, 3, 25)
        for s in page.summaries:
            i = int(s.group.name.split()[1])
            assert s.seats_taken == 0
            assert s.next_session == (None if i == 24 else expected_next(i, now))
            # The batch answers what the one-group lookup (/group info) answers.
            assert s.next_session == (await services.groups.info(GUILD, s.group.name)).next_session
        seen += [s.group.name for s in page.summaries]
    assert seen == [f"Circle {i:03d}" for i in range(25)]
    assert [len((await services.groups.list_page(GUILD, n)).summaries) for n in range(3)] == [
        10,
        10,
        5,
    ]
    # A page past the end (groups archived since the buttons were drawn) is the last page.
    late = await services.groups.list_page(GUILD, 7)
    assert late.page == 2 and late.summaries[0].group.name == "Circle 020"
