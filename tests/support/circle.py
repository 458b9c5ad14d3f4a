"""The set-up many unit tests share: an open group ("Parents Circle" unless named), members, and
weekly sessions, made through the real services (what a facilitator's commands do)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from familybot.models import JoinMode
from familybot.services.sessions.recurrence import Repeat
from familybot.wiring import Services
from tests.support.fakes import FakeClock

NAME = "Parents Circle"


async def weekly_circle(
    services: Services,
    clock: FakeClock,
    *,
    guild_id: int = 1,
    facilitator: int = 10,
    name: str = NAME,
    members: Sequence[int] = (),
    dm_reminders: Sequence[int] = (),
    titles: Sequence[str] = ("Weekly check-in",),
    days_ahead: int = 3,
    time_text: str = "18:00",
    duration_minutes: int = 90,
) -> int:
    """The group's id. Members join with consent; those in `dm_reminders` turn reminders by
    DM on; each title is a weekly series at `time_text` (the server's zone), `days_ahead` days
    from the clock's date."""
    created = await services.groups.create(
        guild_id=guild_id,
        actor_id=facilitator,
        name=name,
        description="A weekly circle",
        focus="parents",
        capacity=None,
        join_mode=JoinMode.OPEN,
    )
    for user in members:
        group = await services.groups.prepare_join(guild_id, user, name)
        await services.groups.consent_and_join(group.id, user, 1, guild_id=guild_id)
    for user in dm_reminders:
        await services.sessions.set_my_reminders(guild_id, user, True, None)
    day = (clock.now() + timedelta(days=days_ahead)).date().isoformat()
    for title in titles:
        await services.sessions.schedule(
            guild_id=guild_id,
            actor_id=facilitator,
            group_name=name,
            title=title,
            date_text=day,
            time_text=time_text,
            repeat=Repeat.WEEKLY,
            duration_minutes=duration_minutes,
        )
    return created.id
