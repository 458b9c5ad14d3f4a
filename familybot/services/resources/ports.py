"""What the resource library asks of Discord (familybot/discord/resources.py implements it)."""

from __future__ import annotations

from datetime import datetime
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

    async def post_once(self, channel_id: int, notice: Notice, nonce: str) -> int | None:
        """Post a notice with `nonce` (enforced: a resend within Discord's memory of it
        returns the first message); its message id, None when refused."""
        ...

    async def find_posted(
        self, channel_id: int, titles: frozenset[str], nonce: str, after: datetime
    ) -> int | None:
        """One history request (100 messages after `after`): the id of this bot's message
        whose title, its digits left out, is one of `titles` (or carrying `nonce`, where
        Discord shows it: history does not), None if not there. Raises when Discord could
        not be asked."""
        ...

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        """Send a private message; False when the person cannot receive DMs."""
        ...
