"""Privacy: export everything stored about a person, forget it, and purge after departures.

Scope: a person's data is everything this FamilyBot instance holds about their Discord user
id, in every server it serves. /my data and /my forget are asked by that same person, and
several tables (time zone, DM settings) are not per server at all; forgetting only the
server they typed in would quietly leave the rest behind. The per-server case is retention
after they leave one server (purge_member), which keeps what belongs to their other servers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from familybot import i18n
from familybot.clock import Clock
from familybot.db.repositories.privacy import PrivacyRepository
from familybot.models.privacy import ForgetReport

log = logging.getLogger(__name__)

# PRODUCT/issue 6: a member's data 30 days after leaving; a server's 30 days after removal.
DEPARTURE_GRACE = timedelta(days=30)


class UserDataHolder(Protocol):
    """Every service that stores something about a person (DESIGN.md practice 9)."""

    async def export_user_data(self, user_id: int) -> Any: ...

    async def delete_user_data(self, user_id: int) -> int | None: ...


class UserDataExporter(Protocol):
    async def export_user_data(self, user_id: int) -> Any: ...


class KeptRecord:
    """A holder whose rows are the server's record (the append-only audit log, ids only):
    shown in /my data, kept by /my forget, and removed only with the whole server."""

    def __init__(self, exporter: UserDataExporter) -> None:
        self._exporter = exporter

    async def export_user_data(self, user_id: int) -> Any:
        return await self._exporter.export_user_data(user_id)

    forgets_with_statements_only = True  # it forgets nothing

    async def delete_user_data(self, user_id: int) -> int:
        return 0


@runtime_checkable
class StatementsOnly(Protocol):
    """A holder whose delete_user_data only runs statements on the database: no Discord call,
    no event published, no task started. /my forget runs all of these in one transaction
    (issue 15: on PostgreSQL each transaction is four round trips besides its statements,
    BEGIN, the write lock, COMMIT; nine of them made a third of a forget's round trips), so
    the database part is also all or nothing. A holder that calls Discord or publishes an
    event must not say so: a call would hold every process's writes while it waits, and a
    task started inside would inherit the transaction's connection."""

    forgets_with_statements_only: bool


@runtime_checkable
class GuildUserDataHolder(Protocol):
    """A holder that can also forget a person in one server only (after they left it)."""

    async def delete_user_guild_data(self, guild_id: int, user_id: int) -> int: ...


def _statements_only(holder: UserDataHolder) -> bool:
    return isinstance(holder, StatementsOnly) and holder.forgets_with_statements_only


class PrivacyService:
    def __init__(
        self,
        repo: PrivacyRepository,
        holders: Sequence[tuple[str, UserDataHolder]],
        clock: Clock,
    ) -> None:
        self._repo = repo
        self._holders = list(holders)
        self._clock = clock

    @property
    def holder_names(self) -> list[str]:
        return [name for name, _ in self._holders]

    # --- a person's own request ---------------------------------------------------------------
    async def export_user(self, user_id: int) -> dict[str, Any]:
        """Everything stored about this person, by feature, ready for json.dumps."""
        data: dict[str, Any] = {
            "about": i18n._(
                "Everything FamilyBot stores about your Discord account, in every server this "
                "FamilyBot serves. Times are UTC. Ids are Discord ids."
            ),
            "user_id": str(user_id),
            "exported_at": self._clock.now().isoformat(),
        }
        for name, holder in self._holders:
            data[name] = await holder.export_user_data(user_id)
        data["departures"] = [
            {"guild_id": str(d.guild_id), "left_at": d.left_at.isoformat()}
            for d in await self._repo.departures_of(user_id)
        ]
        log.info("user data exported user=%d", user_id)
        return data

    async def forget_user(self, user_id: int) -> ForgetReport:
        """Ask every holder to forget this person; moderation cases and the audit log stay.
        Holders that call Discord or publish events first, each alone; then all the others
        and the departures in one transaction (StatementsOnly)."""
        counts: dict[str, int] = {name: 0 for name, _ in self._holders}
        together = [(n, h) for n, h in self._holders if _statements_only(h)]
        for name, holder in self._holders:
            if not _statements_only(holder):
                counts[name] = int(await holder.delete_user_data(user_id) or 0)
        async with self._repo.transaction():
            for name, holder in together:
                counts[name] = int(await holder.delete_user_data(user_id) or 0)
            counts["departures"] = await self._repo.forget_departures(user_id)
        log.info("user data forgotten user=%d rows=%d", user_id, sum(counts.values()))
        return ForgetReport(counts)

    # --- leaving and coming back --------------------------------------------------------------
    async def member_left(self, guild_id: int, user_id: int) -> None:
        if await self._repo.record_member_left(guild_id, user_id, self._clock.now()):
            log.info("member departure noted guild=%d user=%d", guild_id, user_id)

    async def member_returned(self, guild_id: int, user_id: int) -> None:
        if await self._repo.member_returned(guild_id, user_id):
            log.info("member returned, purge cancelled guild=%d user=%d", guild_id, user_id)

    async def guild_removed(self, guild_id: int) -> None:
        if await self._repo.record_guild_removed(guild_id, self._clock.now()):
            log.info("bot removed from server, purge in 30 days guild=%d", guild_id)

    async def guild_returned(self, guild_id: int) -> None:
        if await self._repo.guild_returned(guild_id):
            log.info("bot back in server, purge cancelled guild=%d", guild_id)

    async def purge_member(self, guild_id: int, user_id: int) -> int:
        """Forget someone who left this server 30 days ago.

        When the data shows them in no other server, this is the whole /my forget (which
        also covers their personal settings). Otherwise only this server's rows go, from the
        holders that can tell servers apart; their other servers keep what is theirs.
        """
        others = await self._repo.guilds_of_user(user_id) - {guild_id}
        if not others:
            return (await self.forget_user(user_id)).total
        removed = 0
        for _name, holder in self._holders:
            if isinstance(holder, GuildUserDataHolder):
                removed += await holder.delete_user_guild_data(guild_id, user_id)
        removed += await self._repo.forget_departures(user_id, guild_id)
        log.info("departed member purged guild=%d user=%d rows=%d", guild_id, user_id, removed)
        return removed

    async def purge_guild(self, guild_id: int) -> int:
        removed = await self._repo.purge_guild(guild_id)
        log.info("server data purged guild=%d rows=%d", guild_id, removed)
        return removed

    def departure_cutoff(self) -> datetime:
        return self._clock.now() - DEPARTURE_GRACE
