"""A server's crisis region and local lines: stored in the database, served from memory.

`/crisis` reads only the in-memory copy, so it never waits on (or fails with) the
database; every change here writes first and then refreshes that server's copy.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from familybot import i18n
from familybot.clock import Clock
from familybot.db.repositories.crisis_lines import CrisisLineRepository, LocalCrisisLine
from familybot.db.repositories.settings import SettingsRepository
from familybot.errors import Conflict, NotFound, UserFacingError
from familybot.models.crisis import CrisisLine
from familybot.services.crisis.service import SERVER_REGIONS, insecure_url

log = logging.getLogger(__name__)

NAME_MIN, NAME_MAX = 2, 80
CONTACT_MIN, CONTACT_MAX = 3, 200
HOURS_MAX = 80
MAX_LOCAL_LINES = 10


@dataclass(frozen=True)
class GuildCrisis:
    region: str | None
    local_lines: tuple[CrisisLine, ...] = ()


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _as_line(region: str | None, row: LocalCrisisLine) -> CrisisLine:
    return CrisisLine(
        region=region or "LOCAL",
        name=row.name,
        contact=row.contact,
        hours=row.hours,
        notes="Added by this server's admins.",
    )


class CrisisConfigService:
    def __init__(
        self, settings: SettingsRepository, lines: CrisisLineRepository, clock: Clock
    ) -> None:
        self._settings = settings
        self._lines = lines
        self._clock = clock
        self._cache: dict[int, GuildCrisis] = {}

    def cached(self, guild_id: int | None) -> GuildCrisis | None:
        """What is known in memory about a server; None means show the default lines."""
        return None if guild_id is None else self._cache.get(guild_id)

    async def warm(self) -> int:
        """Load every server's region and local lines at start; returns how many servers."""
        regions = await self._lines.regions()
        local: dict[int, list[LocalCrisisLine]] = {}
        for row in await self._lines.all():
            local.setdefault(row.guild_id, []).append(row)
        cache = {}
        for guild_id in set(regions) | set(local):
            region = regions.get(guild_id)
            lines = tuple(_as_line(region, r) for r in local.get(guild_id, []))
            cache[guild_id] = GuildCrisis(region, lines)
        self._cache = cache
        return len(cache)

    async def refresh(self, guild_id: int) -> GuildCrisis:
        region = (await self._settings.get(guild_id)).crisis_region
        rows = await self._lines.for_guild(guild_id)
        entry = GuildCrisis(region, tuple(_as_line(region, r) for r in rows))
        self._cache[guild_id] = entry
        return entry

    async def set_region(self, guild_id: int, region: str) -> GuildCrisis:
        region = region.strip().upper()
        if region not in SERVER_REGIONS:
            raise UserFacingError(i18n._("Please pick a region from the list."))
        await self._settings.set(guild_id, "crisis_region", region, self._clock.now())
        return await self.refresh(guild_id)

    async def add_line(
        self, guild_id: int, actor_id: int, name: str, contact: str, hours: str | None
    ) -> GuildCrisis:
        name = " ".join(name.split())
        contact = " ".join(contact.split())
        hours_text = " ".join((hours or "").split())
        if not NAME_MIN <= len(name) <= NAME_MAX:
            raise UserFacingError(
                i18n._("Please give the line a name of {min} to {max} characters.").format(
                    min=NAME_MIN, max=NAME_MAX
                )
            )
        if not CONTACT_MIN <= len(contact) <= CONTACT_MAX:
            raise UserFacingError(
                i18n._(
                    "Please give how to reach it (a number or an https:// link) in {min} to "
                    "{max} characters."
                ).format(min=CONTACT_MIN, max=CONTACT_MAX)
            )
        if len(hours_text) > HOURS_MAX:
            raise UserFacingError(
                i18n._("Please keep the hours to {limit} characters or fewer.").format(
                    limit=HOURS_MAX
                )
            )
        for text in (name, contact, hours_text):
            scheme = insecure_url(text)
            if scheme:
                raise UserFacingError(
                    i18n._(
                        "Links must start with https:// (this one uses {scheme}://), so people "
                        "reach the real service safely."
                    ).format(scheme=scheme)
                )
        if await self._lines.count(guild_id) >= MAX_LOCAL_LINES:
            raise Conflict(
                i18n._(
                    "This server already has {n} local lines. Please remove one with "
                    "`/setup crisis-line-remove` first."
                ).format(n=MAX_LOCAL_LINES)
            )
        added = await self._lines.add(
            guild_id, name, _key(name), contact, hours_text, actor_id, self._clock.now()
        )
        if not added:
            raise Conflict(
                i18n._(
                    "There's already a local line called “{name}”. Remove it first with "
                    "`/setup crisis-line-remove` to change it."
                ).format(name=name)
            )
        return await self.refresh(guild_id)

    async def remove_line(self, guild_id: int, name: str) -> GuildCrisis:
        if not await self._lines.remove(guild_id, _key(name)):
            raise NotFound(
                i18n._(
                    "I couldn't find a local line called “{name}”. `/crisis` shows the ones "
                    "this server has."
                ).format(name=" ".join(name.split())[:80])
            )
        return await self.refresh(guild_id)

    def local_names(self, guild_id: int) -> list[str]:
        cached = self._cache.get(guild_id)
        return [line.name for line in cached.local_lines] if cached else []

    async def export_user_data(self, user_id: int) -> dict[str, Any]:
        return {"crisis_lines_added": [asdict(r) for r in await self._lines.by_user(user_id)]}

    # Its forget runs statements only: /my forget runs it with the others in one transaction
    # (services/privacy/service.py, StatementsOnly).
    forgets_with_statements_only = True

    async def delete_user_data(self, user_id: int) -> int:
        return await self._lines.forget_user(user_id)

    async def delete_user_guild_data(self, guild_id: int, user_id: int) -> int:
        return await self._lines.forget_user(user_id, guild_id)
