"""Server configuration and the facilitator rule."""

from __future__ import annotations

from familybot import i18n
from familybot.clock import Clock
from familybot.db.repositories.settings import SettingsRepository
from familybot.errors import UserFacingError
from familybot.models import GuildSettings
from familybot.models.setup import Actor
from familybot.services.setup.timezones import resolve_timezone


class SetupService:
    def __init__(self, settings: SettingsRepository, clock: Clock, default_timezone: str) -> None:
        self._settings = settings
        self._clock = clock
        self.default_timezone = default_timezone

    async def get(self, guild_id: int) -> GuildSettings:
        return await self._settings.get(guild_id)

    async def timezone_for(self, guild_id: int) -> str:
        return (await self._settings.get(guild_id)).timezone or self.default_timezone

    async def is_facilitator(self, guild_id: int, actor: Actor) -> bool:
        if actor.is_admin:
            return True
        role_id = (await self._settings.get(guild_id)).facilitator_role_id
        return role_id is not None and role_id in actor.role_ids

    async def set_facilitator_role(self, guild_id: int, role_id: int) -> GuildSettings:
        return await self._settings.set(guild_id, "facilitator_role_id", role_id, self._clock.now())

    async def set_modlog_channel(self, guild_id: int, channel_id: int) -> GuildSettings:
        return await self._settings.set(
            guild_id, "modlog_channel_id", channel_id, self._clock.now()
        )

    async def set_alerts_channel(self, guild_id: int, channel_id: int) -> GuildSettings:
        return await self._settings.set(
            guild_id, "alerts_channel_id", channel_id, self._clock.now()
        )

    async def set_safety_watch(self, guild_id: int, on: bool) -> GuildSettings:
        return await self._settings.set(guild_id, "safety_watch", int(on), self._clock.now())

    async def set_automod(self, guild_id: int, on: bool) -> GuildSettings:
        return await self._settings.set(guild_id, "automod", int(on), self._clock.now())

    async def set_timezone(self, guild_id: int, tz: str) -> GuildSettings:
        zone = resolve_timezone(tz)
        if zone is None:
            raise UserFacingError(
                i18n._(
                    "I don't know the time zone “{tz}”. Please pick one from the list, for "
                    "example America/New_York or Europe/London."
                ).format(tz=tz.strip()[:60])
            )
        return await self._settings.set(guild_id, "timezone", zone, self._clock.now())
