"""Recovery of interrupted sends: one history read per place and run, stored at once."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import pytest

from familybot.models.reminders import ReminderTarget
from familybot.services.reminders.recovery import SLACK, Recovery

T0 = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
CHANNEL = ReminderTarget(channel_id=10)
DMS = ReminderTarget(user_id=20)


class History:
    """What each place holds: ledger id -> (message id, posted at). Counts reads."""

    def __init__(self, posted: dict[ReminderTarget, dict[int, tuple[int, datetime]]]) -> None:
        self.posted = posted
        self.reads: list[tuple[ReminderTarget, frozenset[int], datetime]] = []
        self.fail = False

    async def find_reminders(
        self, target: ReminderTarget, ledger_ids: Collection[int], after: datetime
    ) -> dict[int, int]:
        self.reads.append((target, frozenset(ledger_ids), after))
        await asyncio.sleep(0)  # other lookups arrive while this read is on its way
        if self.fail:
            raise ConnectionError("Discord unreachable (test)")
        return {
            i: mid
            for i, (mid, at) in self.posted.get(target, {}).items()
            if i in ledger_ids and at > after
        }

    async def send_reminder(self, *a: object, **k: object) -> object:
        raise NotImplementedError


async def test_one_read_per_place_for_all_its_interrupted_reminders() -> None:
    history = History({CHANNEL: {1: (101, T0), 3: (103, T0 + timedelta(seconds=2))}})
    stored: list[list[tuple[int, int, bool]]] = []

    async def remember(found: list[tuple[int, int, bool]]) -> None:
        stored.append(found)

    recovery = Recovery(history, remember)  # type: ignore[arg-type]
    recovery.note(
        [
            (CHANNEL, 1, T0, False),
            (CHANNEL, 2, T0 - timedelta(seconds=30), True),
            (CHANNEL, 3, T0, True),
            (DMS, 4, T0, False),
        ]
    )
    found = await asyncio.gather(
        recovery.find(CHANNEL, 1, T0),
        recovery.find(CHANNEL, 2, T0 - timedelta(seconds=30)),
        recovery.find(CHANNEL, 3, T0),
        recovery.find(DMS, 4, T0),
    )
    assert found == [101, None, 103, None]
    assert sorted((t.channel_id or 0, sorted(ids)) for t, ids, _ in history.reads) == [
        (0, [4]),
        (10, [1, 2, 3]),
    ]
    # The channel's read starts from the earliest first attempt among its reminders.
    (after,) = [a for t, _, a in history.reads if t == CHANNEL]
    assert after == T0 - timedelta(seconds=30) - SLACK
    assert stored == [[(1, 101, False), (3, 103, True)]]  # what was found, stored at once


async def test_a_reminder_the_read_did_not_cover_gets_a_read_of_its_own() -> None:
    history = History({CHANNEL: {5: (105, T0)}})
    recovery = Recovery(history)  # type: ignore[arg-type]
    recovery.note([(CHANNEL, 1, T0, False)])
    assert await recovery.find(CHANNEL, 1, T0) is None
    assert await recovery.find(CHANNEL, 1, T0) is None  # asked again: no second read
    assert await recovery.find(CHANNEL, 5, T0) == 105  # a later page's reminder
    assert len(history.reads) == 2


async def test_a_failed_read_is_not_knowing_for_every_reminder_of_the_place() -> None:
    history = History({})
    history.fail = True
    recovery = Recovery(history)  # type: ignore[arg-type]
    recovery.note([(CHANNEL, 1, T0, False), (CHANNEL, 2, T0, False)])
    for ledger_id in (1, 2):
        with pytest.raises(ConnectionError):
            await recovery.find(CHANNEL, ledger_id, T0)
    assert len(history.reads) == 1


async def test_storing_what_was_found_may_fail_without_losing_the_answer() -> None:
    history = History({CHANNEL: {1: (101, T0)}})

    async def remember(found: list[tuple[int, int, bool]]) -> None:
        raise OSError("database down (test)")

    recovery = Recovery(history, remember)  # type: ignore[arg-type]
    assert await recovery.find(CHANNEL, 1, T0) == 101
