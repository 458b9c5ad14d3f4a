"""The start-here panel's place (`/setup welcome`): the cog posts or edits the message."""

from __future__ import annotations

from familybot.clock import Clock
from familybot.db.repositories.welcome import WelcomePanelRepository
from familybot.models import WelcomePanel


class WelcomeService:
    def __init__(self, panels: WelcomePanelRepository, clock: Clock) -> None:
        self._panels = panels
        self._clock = clock

    async def panel(self, guild_id: int) -> WelcomePanel | None:
        return await self._panels.get(guild_id)

    async def panel_posted(self, guild_id: int, channel_id: int, message_id: int) -> WelcomePanel:
        panel = WelcomePanel(guild_id, channel_id, message_id)
        await self._panels.save(panel, self._clock.now())
        return panel
