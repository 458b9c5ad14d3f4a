"""What other features may read about sessions: a group's next start and its attendance.

A read model over the sessions tables, built before both services: the groups service asks
it (its SessionSchedulePort) for /group list and /group info without depending on the
sessions service, which itself depends on groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from familybot.clock import Clock
from familybot.db.repositories.sessions import SessionRepository
from familybot.services.reminders.rules import next_effective_start_after


class SessionSchedule:
    def __init__(self, sessions: SessionRepository, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def next_session_start(self, group_id: int) -> datetime | None:
        return (await self.next_session_starts([group_id])).get(group_id)

    async def next_session_starts(self, group_ids: Sequence[int]) -> dict[int, datetime | None]:
        """Each group's next session (None when there is none), in two queries for all."""
        now = self._clock.now()
        series_list = await self._sessions.active_for_groups(group_ids)
        overrides = await self._sessions.overrides([s.id for s in series_list])
        out: dict[int, datetime | None] = dict.fromkeys(group_ids)
        for s in series_list:
            start = next_effective_start_after(s, overrides[s.id], now)
            if start is not None:
                current = out.get(s.group_id)
                out[s.group_id] = start if current is None else min(current, start)
        return out

    async def attendance_summary(self, group_id: int) -> tuple[dict[int, int], int]:
        """Per member, how many of the group's recorded sessions they attended; and how many
        sessions were recorded."""
        return await self._sessions.attendance_summary(group_id)
