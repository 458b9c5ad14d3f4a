"""The daily retention sweep: old RSVPs and attendance, members who left, servers that left.

Leaving is noticed two ways. With MEMBERS_INTENT on, Discord tells the bot at once
(cogs/privacy_events.py). Without it (the default: that intent is privileged), this sweep
asks Discord, one person at a time and paced, whether each person with stored data in a
server is still a member. Either way the purge waits 30 days, and a person (or server) who
comes back within them keeps everything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from familybot.clock import Clock
from familybot.db.peers import Peers
from familybot.db.repositories.privacy import PrivacyRepository
from familybot.services.privacy.service import PrivacyService
from familybot.sharding import ALL, ShardFilter

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 180
DEFAULT_LEDGER_KEEP_DAYS = 14
# Membership checks per server per sweep: bounds the sweep's Discord calls on big servers
# (the rest are checked on later days); with MEMBERS_INTENT on, none are needed.
MEMBER_CHECK_LIMIT = 1000
# People read per query: a keyset page (by user id) through the server's own index rows, so
# the sweep costs what the servers' rows cost and each read is short (issue 15).
MEMBER_CHECK_PAGE = 200
# Pause between membership checks, so the sweep never competes with reminders for Discord's
# rate limit (discord.py also waits out any 429 by itself).
MEMBER_CHECK_PACE = 0.25


class MemberPresence(Protocol):
    """What the sweep asks Discord (implemented over discord.py in familybot/discord/presence.py)."""

    async def is_member(self, guild_id: int, user_id: int) -> bool | None:
        """True/False when Discord says; None when it could not tell (try again tomorrow)."""
        ...

    def current_guild_ids(self) -> set[int] | None:
        """The servers the bot is in now; None while that is not yet known."""
        ...


@dataclass
class RetentionReport:
    activity: dict[str, int] = field(default_factory=dict)
    checked: int = 0
    departures_noted: int = 0
    members_purged: int = 0
    guilds_noted: int = 0
    guilds_purged: int = 0


class RetentionService:
    def __init__(
        self,
        privacy: PrivacyService,
        repo: PrivacyRepository,
        clock: Clock,
        *,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        ledger_keep_days: int = DEFAULT_LEDGER_KEEP_DAYS,
        presence: MemberPresence | None = None,
        check_members: bool = True,
        pace_seconds: float = MEMBER_CHECK_PACE,
        shards: ShardFilter = ALL,
        peers: Peers | None = None,
    ) -> None:
        self._privacy = privacy
        self._repo = repo
        self._clock = clock
        self.retention_days = retention_days
        self.ledger_keep_days = ledger_keep_days
        self.presence = presence  # None: no Discord client to ask
        # False when the Server Members intent already reports every departure.
        self.check_members = check_members
        self._pace = pace_seconds
        # With several processes, each sweeps only its own servers; the leader (one live
        # process, familybot/db/peers.py) also runs the database-wide age purge.
        self._shards = shards
        self._peers = peers if peers is not None else Peers(leads=shards.primary)
        # Per server, the last person checked: the next sweep goes on after them (wrapping
        # round), so a server with more than MEMBER_CHECK_LIMIT people is covered over days.
        # Kept in memory: after a restart the sweep starts from the beginning again.
        self._member_cursor: dict[int, int] = {}

    async def run(self) -> RetentionReport:
        """The daily job. Each step is logged with counts only; a failure stops this run only."""
        report = RetentionReport()
        try:
            await self._sweep(report)
        except Exception:
            log.exception("retention sweep failed")
        log.info(
            "retention sweep activity=%s checked=%d left=%d purged=%d servers_left=%d "
            "servers_purged=%d",
            report.activity,
            report.checked,
            report.departures_noted,
            report.members_purged,
            report.guilds_noted,
            report.guilds_purged,
        )
        return report

    async def _sweep(self, report: RetentionReport) -> None:
        # Each step on its own: one that fails (Discord unreachable about one server, a
        # database error) is logged and the others still run, the purges above all.
        await self._step("age purge", self._purge_old(report))
        await self._step("removed servers", self._notice_removed_guilds(report))
        if self.check_members and self.presence is not None:
            await self._step("membership check", self._check_members(report))
        await self._step("departed members", self._purge_departed(report))
        await self._step("removed servers' data", self._purge_guilds(report))

    @staticmethod
    async def _step(name: str, work: Awaitable[None]) -> None:
        try:
            await work
        except Exception:
            log.exception("retention step failed step=%s; the other steps go on", name)

    async def _purge_old(self, report: RetentionReport) -> None:
        cutoff = self._clock.now() - timedelta(days=self.retention_days)
        if await self._peers.try_lead():
            report.activity = await self._repo.purge_activity_before(cutoff)
            # Reminders whose session is over by days: nothing will send or read them again.
            done_before = self._clock.now() - timedelta(days=self.ledger_keep_days)
            report.activity["reminders_done"] = await self._repo.prune_ledger_before(done_before)

    async def _purge_guilds(self, report: RetentionReport) -> None:
        for guild_id in await self._repo.guilds_due(self._privacy.departure_cutoff()):
            if not self._shards.owns(guild_id):
                continue
            await self._privacy.purge_guild(guild_id)
            report.guilds_purged += 1

    async def _notice_removed_guilds(self, report: RetentionReport) -> None:
        """A server that removed the bot while it was offline sends no event: compare lists."""
        if self.presence is None:
            return
        current = self.presence.current_guild_ids()
        if current is None:
            return
        for guild_id in await self._repo.known_guild_ids() - current:
            if not self._shards.owns(guild_id):
                continue  # another process's server: it is not in our list by design
            if await self._repo.record_guild_removed(guild_id, self._clock.now()):
                report.guilds_noted += 1
                log.info("server no longer has the bot guild=%d", guild_id)

    async def _check_members(self, report: RetentionReport) -> None:
        assert self.presence is not None
        current = self.presence.current_guild_ids() or set()
        for guild_id in sorted(current):
            try:
                await self._check_guild(guild_id, report)
            except Exception:  # this server tomorrow; the other servers now
                log.exception("membership check failed guild=%d; other servers go on", guild_id)

    async def _check_guild(self, guild_id: int, report: RetentionReport) -> None:
        """Up to MEMBER_CHECK_LIMIT people of one server, a page at a time, from after the
        last one checked on the previous sweep; past the last person, round from the first."""
        assert self.presence is not None
        start = self._member_cursor.get(guild_id, 0)
        after, stop = start, None  # stop: on the second lap, where this sweep began
        checked = 0
        while checked < MEMBER_CHECK_LIMIT:
            want = min(MEMBER_CHECK_PAGE, MEMBER_CHECK_LIMIT - checked)
            page = await self._repo.users_to_check(guild_id, want, after)
            end = len(page) < want
            if stop is not None:
                end = end or any(u > stop for u in page)
                page = [u for u in page if u <= stop]
            for user_id in page:
                present = await self.presence.is_member(guild_id, user_id)
                report.checked += 1
                checked += 1
                after = user_id
                if present is False:
                    await self._privacy.member_left(guild_id, user_id)
                    report.departures_noted += 1
                await asyncio.sleep(self._pace)
            await asyncio.sleep(0)  # between pages, whatever the pace: let the loop run
            if end:
                if stop is None and start > 0:
                    after, stop = 0, start  # the people before where this sweep began
                    continue
                after = 0  # everyone seen: the next sweep starts from the first again
                break
        self._member_cursor[guild_id] = after

    async def _purge_departed(self, report: RetentionReport) -> None:
        current = self.presence.current_guild_ids() if self.presence is not None else None
        for departure in await self._repo.departures_due(self._privacy.departure_cutoff()):
            g, u = departure.guild_id, departure.user_id
            if not self._shards.owns(g):
                continue
            try:
                await self._purge_one(g, u, current, report)
            except Exception:  # asked again tomorrow; the other departures now
                log.exception("departure purge failed guild=%d", g)

    async def _purge_one(
        self, g: int, u: int, current: set[int] | None, report: RetentionReport
    ) -> None:
        # Back within 30 days (noticed without the members intent only by asking again)?
        if self.presence is not None and current is not None and g in current:
            present = await self.presence.is_member(g, u)
            if present is True:
                await self._privacy.member_returned(g, u)
                return
            if present is None:  # Discord could not say today: ask again tomorrow
                return
        await self._privacy.purge_member(g, u)
        report.members_purged += 1
