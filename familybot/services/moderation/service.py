"""Moderation: every action is a numbered case, stored first, then carried out and logged.

Order of work for one action: guards (pure, no side effect) -> case stored as 'pending' ->
DM before a kick or ban (afterwards they may share no server with the bot) -> the Discord
call -> case marked 'done' or 'failed' -> DM after other actions -> mod-log post.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from familybot import i18n
from familybot.clock import Clock
from familybot.db.repositories.moderation import ModerationRepository
from familybot.db.repositories.settings import SettingsRepository
from familybot.errors import DiscordActionFailed, NotAllowed, NotFound, UserFacingError
from familybot.events import EventBus, UnbansCancelled, UnbanScheduled
from familybot.models.moderation import (
    Case,
    CaseOutcome,
    CaseStatus,
    CaseView,
    describe_duration,
    entry_for,
)
from familybot.models.notices import Notice
from familybot.services.moderation.notices import ModRequest as ModRequest
from familybot.services.moderation.notices import dm_for
from familybot.services.moderation.ports import ModerationPort
from familybot.services.moderation.rules import (
    BULK_DELETE_MAX_AGE,
    MAX_SLOWMODE_SECONDS,
    PURGE_MAX,
    REASON_MAX,
    Action,
    check_tempban_length,
    check_timeout_length,
    refusal,
)
from familybot.sharding import ALL, ShardFilter

log = logging.getLogger(__name__)

HISTORY_LIMIT = 15
# Stored with the case, in the server's language (the record its facilitators read).
DEFAULT_REASON = i18n.lazy_gettext("No reason given.")
MAX_DELETE_MESSAGE_SECONDS = 7 * 86400  # Discord's limit for a ban's message deletion
AUTOMATIC = 0  # actor id for what FamilyBot does by itself
UNBAN_RETRY = timedelta(minutes=10)


class ModerationService:
    def __init__(
        self,
        repo: ModerationRepository,
        settings: SettingsRepository,
        discord: ModerationPort,
        clock: Clock,
        bus: EventBus,
    ) -> None:
        self._repo = repo
        self._settings = settings
        self._discord = discord
        self._clock = clock
        self._locks: dict[int, asyncio.Lock] = {}
        # UnbanScheduled / UnbansCancelled keep the scheduler's timed-ban jobs in step with
        # the rows (wiring.py).
        self._bus = bus

    # --- the actions --------------------------------------------------------------------------
    def validate(self, request: ModRequest) -> None:
        """Every refusal, before anything is stored or sent."""
        problem = refusal(request.action, request.actor, request.target, request.bot)
        if problem is None and request.action is Action.TIMEOUT:
            problem = (
                i18n._("Please say how long the timeout should last.")
                if request.length is None
                else check_timeout_length(request.length)
            )
        if problem is None and request.action is Action.BAN and request.length is not None:
            problem = check_tempban_length(request.length)
        if request.action is Action.BAN and not (
            0 <= request.delete_message_seconds <= MAX_DELETE_MESSAGE_SECONDS
        ):
            problem = i18n._("A ban can remove up to 7 days of their recent messages.")
        if request.action is Action.PURGE and not 1 <= request.amount <= PURGE_MAX:
            problem = i18n._("I can look through 1 to {n} messages at a time.").format(n=PURGE_MAX)
        if request.action is Action.SLOWMODE and not (
            0 <= request.slowmode_seconds <= MAX_SLOWMODE_SECONDS
        ):
            problem = i18n._("Slowmode can be up to 6 hours between messages.")
        if len(request.reason) > REASON_MAX:
            problem = i18n._("Please keep the reason under {limit} characters.").format(
                limit=REASON_MAX
            )
        if problem:
            raise NotAllowed(problem)

    async def act(self, request: ModRequest) -> CaseOutcome:
        self.validate(request)
        now = self._clock.now()
        length = request.length if request.action in (Action.TIMEOUT, Action.BAN) else None
        expires_at = now + length if length is not None else None
        target_id = request.target.user_id if request.target is not None else None
        with i18n.using(i18n.for_guild(request.guild_id)):
            default_reason = str(DEFAULT_REASON)
        case = await self._repo.open_case(
            guild_id=request.guild_id,
            action=request.action.value,
            actor_id=request.actor.user_id,
            target_id=target_id,
            channel_id=request.channel_id,
            reason=request.reason.strip() or default_reason,
            duration_seconds=int(length.total_seconds()) if length is not None else None,
            expires_at=expires_at,
            now=now,
        )
        # The DM says "no reason given" in the member's language, not the record's.
        notice = dm_for(replace(request, reason=request.reason.strip()), expires_at)
        request = replace(request, reason=case.reason)
        in_guild = request.target is not None and request.target.in_guild
        dm: str | None = None
        if notice and in_guild and request.action in (Action.KICK, Action.BAN):
            dm = await self._tell(target_id, notice)
        detail: str | None = None
        error: str | None = None
        try:
            detail = await self._carry_out(request, case, expires_at)
        except DiscordActionFailed as failure:
            error = failure.message
            with i18n.using(i18n.for_guild(request.guild_id)):
                refused = i18n._("Discord refused")
            case = await self._repo.finish(case.id, CaseStatus.FAILED, refused, dm)
            log.warning("case failed guild=%d case=%d", case.guild_id, case.number)
        else:
            if notice and in_guild and dm is None:
                dm = await self._tell(target_id, notice)
            case = await self._repo.finish(case.id, CaseStatus.DONE, detail, dm)
        posted, missing = await self._log(case)
        return CaseOutcome(case=case, modlog_posted=posted, modlog_missing=missing, error=error)

    async def _tell(self, user_id: int | None, notice: Notice) -> str:
        assert user_id is not None
        return "sent" if await self._discord.send_dm(user_id, notice) else "closed"

    async def _carry_out(
        self, request: ModRequest, case: Case, expires_at: datetime | None
    ) -> str | None:
        """The Discord side of one case; returns a short detail for the record, written in
        the server's language (the mod log's and Discord's audit log's readers)."""
        with i18n.using(i18n.for_guild(request.guild_id)):
            return await self._carry_out_in(request, case, expires_at)

    async def _carry_out_in(
        self, request: ModRequest, case: Case, expires_at: datetime | None
    ) -> str | None:
        d, g, action = self._discord, request.guild_id, request.action
        audit = i18n._("Case {number}: {reason}").format(number=case.number, reason=case.reason)
        audit = audit[:500]
        target_id = request.target.user_id if request.target else 0
        channel_id = request.channel_id or 0
        if action is Action.TIMEOUT:
            await d.timeout_member(g, target_id, expires_at, audit)
        elif action is Action.UNTIMEOUT:
            await d.timeout_member(g, target_id, None, audit)
        elif action is Action.KICK:
            await d.kick_member(g, target_id, audit)
        elif action is Action.BAN:
            await d.ban_user(g, target_id, request.delete_message_seconds, audit)
            await self._after_ban(case, target_id, expires_at)
        elif action is Action.UNBAN:
            lifted = await d.unban_user(g, target_id, audit)
            cancelled = await self._repo.cancel_unbans_for(g, target_id, self._clock.now())
            await self._cancelled(cancelled)
            return None if lifted else i18n._("They weren't banned.")
        elif action is Action.PURGE:
            cutoff = self._clock.now() - BULK_DELETE_MAX_AGE
            result = await d.purge_messages(
                channel_id, request.amount, request.purge_author_id, cutoff, audit
            )
            detail = i18n.ngettext(
                "Removed {n} message.", "Removed {n} messages.", result.removed
            ).format(n=result.removed)
            if result.too_old:
                detail += " " + i18n.ngettext(
                    "{n} older than 14 days left alone.",
                    "{n} older than 14 days left alone.",
                    result.too_old,
                ).format(n=result.too_old)
            return detail
        elif action is Action.SLOWMODE:
            await d.set_slowmode(channel_id, request.slowmode_seconds, audit)
            seconds = request.slowmode_seconds
            if not seconds:
                return i18n._("Slowmode off.")
            return i18n._("Slowmode {length}.").format(length=describe_duration(seconds))
        elif action in (Action.LOCK, Action.UNLOCK):
            await d.set_channel_locked(g, channel_id, action is Action.LOCK, audit)
        return None

    async def _after_ban(self, case: Case, user_id: int, expires_at: datetime | None) -> None:
        now = self._clock.now()
        if expires_at is None:
            await self._cancelled(await self._repo.cancel_unbans_for(case.guild_id, user_id, now))
            return
        replaced = await self._repo.schedule_unban(case.id, case.guild_id, user_id, expires_at, now)
        await self._cancelled(replaced)
        await self._bus.publish(UnbanScheduled(case.id, expires_at))

    async def _cancelled(self, case_ids: Sequence[int]) -> None:
        if case_ids:
            await self._bus.publish(UnbansCancelled(tuple(case_ids)))

    async def _log(self, case: Case, heading: str | None = None) -> tuple[bool, bool]:
        """(posted, missing): the mod log is optional; the case is stored either way."""
        channel_id = (await self._settings.get(case.guild_id)).modlog_channel_id
        if channel_id is None:
            return False, True
        message_id = await self._discord.post_mod_log(channel_id, entry_for(case, heading))
        if message_id is None:
            log.warning("mod-log post failed guild=%d case=%d", case.guild_id, case.number)
            return False, False
        if heading is None:
            await self._repo.set_modlog_message(case.id, message_id)
        return True, False

    # --- records ------------------------------------------------------------------------------
    async def change_reason(
        self, guild_id: int, number: int, reason: str, actor_id: int
    ) -> tuple[Case, bool, bool]:
        reason = reason.strip()
        if not reason or len(reason) > REASON_MAX:
            raise UserFacingError(
                i18n._("Please give a reason of 1 to {limit} characters.").format(limit=REASON_MAX)
            )
        case = await self._case(guild_id, number)
        if reason == case.reason:
            return case, False, False
        await self._repo.change_reason(case.id, case.reason, reason, actor_id, self._clock.now())
        updated = await self._repo.get(case.id)
        assert updated is not None
        with i18n.using(i18n.for_guild(guild_id)):
            heading = i18n.pgettext("embed-title", "Reason updated")
        posted, missing = await self._log(updated, heading=heading)
        return updated, posted, missing

    async def history(self, guild_id: int, target_id: int) -> list[Case]:
        return await self._repo.for_target(guild_id, target_id, HISTORY_LIMIT)

    async def view_case(self, guild_id: int, number: int) -> CaseView:
        case = await self._case(guild_id, number)
        return CaseView(case, await self._repo.reason_history(case.id))

    async def _case(self, guild_id: int, number: int) -> Case:
        case = await self._repo.by_number(guild_id, number)
        if case is None:
            raise NotFound(
                i18n._("I couldn't find case #{number} on this server.").format(number=number)
            )
        return case

    # --- timed bans ---------------------------------------------------------------------------
    async def pending_unbans(self, shards: ShardFilter = ALL) -> list[tuple[int, datetime]]:
        """Timed bans still to lift, in servers on this process's shards."""
        pending = await self._repo.pending_unbans()
        return [(u.case_id, u.due_at) for u in pending if shards.owns(u.guild_id)]

    async def lift_timed_ban(self, ban_case_id: int) -> datetime | None:
        """Lift one timed ban if it is due. Returns when to try again, or None when settled."""
        lock = self._locks.setdefault(ban_case_id, asyncio.Lock())
        async with lock:
            try:
                return await self._lift(ban_case_id)
            finally:
                self._locks.pop(ban_case_id, None)

    async def _lift(self, ban_case_id: int) -> datetime | None:
        due = await self._repo.pending_unban(ban_case_id)
        if due is None:
            return None  # lifted already, by a job that ran before, or by /mod unban
        now = self._clock.now()
        if due.due_at > now:
            return due.due_at
        ban = await self._repo.get(ban_case_id)
        number = ban.number if ban else 0
        with i18n.using(i18n.for_guild(due.guild_id)):
            reason = i18n._("Timed ban from case #{number} ended.").format(number=number)
            lifted_note = i18n._("Lifted automatically.")
        try:
            await self._discord.unban_user(due.guild_id, due.user_id, reason)
        except DiscordActionFailed:
            await self._repo.count_unban_attempt(ban_case_id)
            log.warning("timed ban not lifted guild=%d case=%d", due.guild_id, ban_case_id)
            return now + UNBAN_RETRY
        if not await self._repo.mark_unban_lifted(ban_case_id, now):
            return None
        case = await self._repo.open_case(
            guild_id=due.guild_id,
            action=Action.UNBAN.value,
            actor_id=AUTOMATIC,
            target_id=due.user_id,
            channel_id=None,
            reason=reason,
            duration_seconds=None,
            expires_at=None,
            now=now,
        )
        case = await self._repo.finish(case.id, CaseStatus.DONE, lifted_note, None)
        await self._log(case)
        log.info("timed ban lifted guild=%d case=%d", due.guild_id, ban_case_id)
        return None

    # --- privacy ------------------------------------------------------------------------------
    # Its forget runs statements only: /my forget runs it with the others in one transaction
    # (services/privacy/service.py, StatementsOnly).
    forgets_with_statements_only = True

    async def delete_user_data(self, user_id: int) -> int:
        """Cases are the server's record and stay (PRODUCT.md, /my forget); the facilitators'
        private notes about the person are not a moderation action, and go."""
        return await self._repo.forget_user(user_id)

    async def delete_user_guild_data(self, guild_id: int, user_id: int) -> int:
        return await self._repo.forget_user(user_id, guild_id)

    async def export_user_data(self, user_id: int) -> dict[str, object]:
        cases = await self._repo.about_user(user_id)
        return {
            "note": i18n._(
                "Moderation cases are kept as the server's record, even after /my forget. "
                "Facilitators' private notes about you are listed without their text, and are "
                "removed by /my forget."
            ),
            "cases_about_you": [
                {
                    "guild_id": str(c.guild_id),
                    "case": c.number,
                    "action": c.action,
                    "created_at": c.created_at.isoformat(),
                    "reason": None if c.action == Action.NOTE.value else c.reason,
                    "expires_at": c.expires_at.isoformat() if c.expires_at else None,
                }
                for c in cases
                if c.target_id == user_id
            ],
            "cases_you_acted_on": [
                {"guild_id": str(c.guild_id), "case": c.number, "action": c.action}
                for c in cases
                if c.actor_id == user_id and c.target_id != user_id
            ],
        }
