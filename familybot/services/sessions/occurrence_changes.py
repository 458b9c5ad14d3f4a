"""One-off changes to a session: cancelling one occurrence or the whole series, moving one
occurrence; everyone who said Going or Maybe is told by DM, the group's channel by a notice."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.repositories.reminders import ReminderRepository
from familybot.db.repositories.sessions import SessionRepository
from familybot.errors import Conflict, UserFacingError
from familybot.models import Rsvp, SessionSeries
from familybot.models.notices import Notice
from familybot.models.sessions import ChangeOutcome, Occurrence
from familybot.services.reminders.rules import effective_occurrences
from familybot.services.sessions.local_input import parse_local_date, parse_local_time
from familybot.services.sessions.options import REASON_MAX, occurrence_from_text
from familybot.services.sessions.ports import Changed, Resolve, SessionsPort
from familybot.services.sessions.recurrence import discord_timestamp, to_utc

log = logging.getLogger(__name__)


class OccurrenceChanges:
    def __init__(
        self,
        db: Database,
        sessions: SessionRepository,
        reminders: ReminderRepository,
        discord: SessionsPort,
        clock: Clock,
        resolve: Resolve,
        changed: Changed,
    ) -> None:
        self._db = db
        self._sessions = sessions
        self._reminders = reminders
        self._discord = discord
        self._clock = clock
        self._resolve = resolve
        self._changed = changed

    async def cancel(
        self,
        *,
        guild_id: int,
        actor_id: int,
        ref: str,
        date_text: str | None = None,
        reason: str | None = None,
    ) -> ChangeOutcome:
        series, group = await self._resolve(guild_id, ref)
        reason = (reason or "").strip()[:REASON_MAX] or None
        now = self._clock.now()
        overrides = (await self._sessions.overrides([series.id]))[series.id]
        occurrence: Occurrence | None = None
        if date_text:
            occurrence = occurrence_from_text(series, overrides, date_text)
            if occurrence.start_utc <= now:
                raise Conflict("That session has already started, so it can't be cancelled.")
            async with self._db.transaction():
                await self._sessions.set_override(
                    series.id, occurrence.key, "cancelled", None, reason, actor_id, now
                )
                await self._reminders.cancel_occurrence(series.id, occurrence.key)
            keys = [occurrence.key]
        else:
            async with self._db.transaction():
                await self._sessions.cancel(series.id, reason, now)
                await self._reminders.cancel_series([series.id])
            upcoming = effective_occurrences(series, overrides, now, now + timedelta(days=400))
            keys = [o.key for o in upcoming]
        when = (
            f"the session on {discord_timestamp(occurrence.start_utc, 'D')}"
            if occurrence
            else "all upcoming sessions"
        )
        because = f"\nThe facilitator's note: {reason}" if reason else ""
        notice = Notice(
            f"{group.name}: session cancelled",
            f"**{series.title}** ({when}) has been cancelled.{because}\n"
            "Thank you for letting us know you planned to come. 💙",
        )
        told, missed = await self._tell_responders(series, keys, notice)
        if group.channel_id:
            await self._discord.post_notice(
                group.channel_id,
                Notice(
                    f"Cancelled: {series.title}",
                    f"{when[0].upper()}{when[1:]} of **{series.title}** won't take place.{because}",
                ),
            )
        log.info("session cancelled series=%d one=%s", series.id, occurrence is not None)
        await self._changed([series.id])
        return ChangeOutcome(series, group, occurrence, None, told, missed)

    async def reschedule(
        self,
        *,
        guild_id: int,
        actor_id: int,
        ref: str,
        date_text: str,
        new_date_text: str,
        new_time_text: str,
    ) -> ChangeOutcome:
        series, group = await self._resolve(guild_id, ref)
        now = self._clock.now()
        overrides = (await self._sessions.overrides([series.id]))[series.id]
        occurrence = occurrence_from_text(series, overrides, date_text)
        if occurrence.start_utc <= now:
            raise Conflict("That session has already started, so it can't be moved.")
        try:
            new_local = datetime.combine(
                parse_local_date(new_date_text), parse_local_time(new_time_text)
            )
        except ValueError as exc:
            raise UserFacingError(str(exc)) from exc
        new_start = to_utc(new_local, series.tz)
        if new_start <= now:
            raise UserFacingError(
                "The new date and time have already passed. Please choose a later time."
            )
        if new_start == occurrence.start_utc:
            raise UserFacingError("That's the time it already has, so nothing changed.")
        async with self._db.transaction():
            await self._sessions.set_override(
                series.id, occurrence.key, "moved", new_start, None, actor_id, now
            )
            await self._reminders.cancel_occurrence(series.id, occurrence.key)
        old = discord_timestamp(occurrence.start_utc)
        new = discord_timestamp(new_start)
        notice = Notice(
            f"{group.name}: session moved",
            f"**{series.title}**, planned for {old}, now takes place on {new}. "
            "Your reply still stands; you can change it from the next reminder.",
        )
        told, missed = await self._tell_responders(series, [occurrence.key], notice)
        if group.channel_id:
            await self._discord.post_notice(
                group.channel_id,
                Notice(
                    f"Moved: {series.title}",
                    f"The session planned for {old} now takes place on {new}.",
                ),
            )
        log.info("session moved series=%d", series.id)
        await self._changed([series.id])
        return ChangeOutcome(series, group, occurrence, new_start, told, missed)

    async def _tell_responders(
        self, series: SessionSeries, keys: Sequence[str], notice: Notice
    ) -> tuple[int, int]:
        """DM everyone who said Going or Maybe; remember who could not be reached."""
        wanted = set(keys)
        people = {
            uid
            for key, uid in await self._sessions.responders(
                series.id, None, (Rsvp.GOING, Rsvp.MAYBE)
            )
            if key in wanted
        }
        told = missed = 0
        for user_id in sorted(people):
            if await self._discord.send_dm(user_id, notice):
                told += 1
            else:
                missed += 1
                await self._reminders.record_dm_failure(
                    user_id, "session-change", self._clock.now()
                )
        return told, missed
