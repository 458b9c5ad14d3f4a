"""Handing a burst over costs what the hand-over makes, not what is alive (issue 15).

A full garbage collection in the middle of a burst walked every object of the process (the
prepared burst, the bot's caches): 100-250 ms of stalled loop, the burst's p99 in
bench/reminders.py. While reminders are handed over, everything alive before is frozen out of
collections; once the run ends, it is collectable again (nothing is kept for good)."""

from __future__ import annotations

import gc
from datetime import timedelta

from familybot.models import JoinMode, from_unix
from familybot.models.reminders import Delivery, ReminderCard, ReminderTarget
from familybot.services.sessions.recurrence import Repeat
from familybot.wiring import Services
from tests.support.fakes import FakeClock, RecordingPort

GUILD = 1
FAC = 10
MEMBERS = tuple(range(21, 27))


class FreezeWatchingPort(RecordingPort):
    frozen_at_send: list[int]

    async def send_reminder(
        self, target: ReminderTarget, card: ReminderCard, nonce: str
    ) -> Delivery:
        self.frozen_at_send.append(gc.get_freeze_count())
        return await super().send_reminder(target, card, nonce)


async def test_objects_alive_before_the_hand_over_are_out_of_collections_until_it_ends(
    services: Services, clock: FakeClock
) -> None:
    await services.groups.create(
        guild_id=GUILD,
        actor_id=FAC,
        name="Parents Circle",
        description="A weekly circle",
        focus="parents",
        capacity=None,
        join_mode=JoinMode.OPEN,
    )
    for user in MEMBERS:
        group = await services.groups.prepare_join(GUILD, user, "Parents Circle")
        await services.groups.consent_and_join(group.id, user, 1, guild_id=GUILD)
        await services.sessions.set_my_reminders(GUILD, user, True, None)
    await services.sessions.schedule(
        guild_id=GUILD,
        actor_id=FAC,
        group_name="Parents Circle",
        title="Weekly check-in",
        date_text=(clock.now() + timedelta(days=3)).date().isoformat(),
        time_text="18:00",
        repeat=Repeat.WEEKLY,
        duration_minutes=90,
    )
    await services.planner.plan()
    next_due = await services.db.fetchval("SELECT next_due FROM session_series")
    clock.set(from_unix(int(next_due)))
    await services.planner.plan()

    port = FreezeWatchingPort()
    port.frozen_at_send = []
    services.dispatcher._discord = port
    assert gc.get_freeze_count() == 0

    report = await services.dispatcher.dispatch(clock.now())

    assert report.sent == len(MEMBERS) + 1 == len(port.frozen_at_send)
    assert all(n > 0 for n in port.frozen_at_send)  # a collection then skipped them
    assert gc.get_freeze_count() == 0  # and afterwards they are collectable again
