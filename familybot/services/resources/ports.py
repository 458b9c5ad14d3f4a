"""What the resource library asks of Discord (familybot/discord/resources.py implements it)."""

from __future__ import annotations

from typing import Protocol

from familybot.models import Resource
from familybot.models.notices import Notice


class ResourcesPort(Protocol):
    """The resource library's posts and notes (familybot/discord/resources.py)."""

    async def post_resource(self, channel_id: int, resource: Resource) -> bool:
        """Post a vetted resource's card to a channel (mentions off); False when refused."""
        ...

    async def post_notice(self, channel_id: int, notice: Notice) -> bool:
        """Post a short notice (no names) in a group's private channel."""
        ...

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        """Send a private message; False when the person cannot receive DMs."""
        ...
