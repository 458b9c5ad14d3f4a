"""The upgrade from group roles to per-person channel access, run at every start.

Before, each group had a role named after it, and every member held it: anyone on the
server could read it on their profile. Now a group's channel is opened to each member with
a member permission overwrite, which only people who can open that channel ever see.

For each group still recorded with a role (groups.role_id), in order: every member and
facilitator gets their overwrite, the role's overwrite and the role itself are deleted,
and only then is role_id cleared. Each step repeats harmlessly (an overwrite is set, not
added; a role already gone counts as deleted), so a crash anywhere is mended by the next
start, and a finished group is never touched again. Members keep access throughout: the
role goes only after their own access is in place.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from familybot.db.repositories.groups import GroupRepository
from familybot.errors import UserFacingError
from familybot.services.groups.service import GroupsService

log = logging.getLogger(__name__)


@dataclass
class UpgradeReport:
    upgraded: int = 0
    waiting: int = 0  # tried, not finished (Discord refused or the group is too large)


class GroupAccessUpgrade:
    def __init__(self, groups: GroupsService, repo: GroupRepository) -> None:
        self._groups = groups
        self._repo = repo
        self._lock = asyncio.Lock()  # one run at a time (on_ready fires again on reconnect)

    async def pending(self, guild_id: int) -> int:
        return len(await self._repo.with_old_role(guild_id))

    async def run(self, guild_ids: Iterable[int]) -> UpgradeReport:
        report = UpgradeReport()
        async with self._lock:
            for guild_id in guild_ids:
                for group in await self._repo.with_old_role(guild_id):
                    try:
                        done = await self._groups.upgrade_old_role(group)
                    except UserFacingError:  # Discord refused a step: try again next start
                        log.warning("group access upgrade refused group=%d", group.id)
                        done = False
                    if done:
                        report.upgraded += 1
                    else:
                        report.waiting += 1
        if report.upgraded or report.waiting:
            log.info(
                "group roles replaced by channel access upgraded=%d waiting=%d",
                report.upgraded,
                report.waiting,
            )
        return report
