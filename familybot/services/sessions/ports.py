"""The sessions feature's port: what it asks of Discord (implemented by
familybot/discord/notices.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from familybot.models import Group, SessionSeries
from familybot.models.notices import Notice


class SessionsPort(Protocol):
    """What sessions ask of Discord: a notice in a group's channel, a private note
    (familybot/discord/notices.py)."""

    async def post_notice(self, channel_id: int, notice: Notice) -> bool:
        """Post a short notice (no names) in a group's private channel."""
        ...

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        """Send a private message; False when the person cannot receive DMs."""
        ...


# What the session sub-services (occurrence_changes, series_editor, attendance) are handed by
# SessionsService: its lookup of a typed or picked session, and its SeriesChanged publisher.
Resolve = Callable[[int, str], Awaitable[tuple[SessionSeries, Group]]]
Changed = Callable[[Sequence[int]], Awaitable[None]]
