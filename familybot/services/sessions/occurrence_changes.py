"""One-off changes to a session: cancelling one occurrence or the whole series, moving one
occurrence; everyone who said Going or Maybe is told by DM, the group's channel by a notice."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from familybot import i18n
from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.repositories.reminders import ReminderRepository
from familybot.db.repositories.sessions import SessionRepository
from familybot.errors import Conflict, UserFacingError
from familybot.i18n import _
from familybot.models import Group, Rsvp, SessionSeries
from familybot.models.notices import Notice
from familybot.models.sessions import ChangeOutcome, Occurrence
from familybot.services.reminders.rules import effective_occurrences
from familybot.services.sessions.local_input import parse_local_date, parse_local_time
from familybot.services.sessions.options import REASON_MAX, occurrence_from_text
from familybot.services.sessions.ports import Changed, Resolve, SessionsPort
from familybot.services.sessions.recurrence import discord_timestamp, to_utc

log = logging.getLogger(__name__)

# Builds the notice for one reader, in the current language (set by the caller).
NoticeFor = Callable[[], Notice]


def _cancel_notices(
    group: Group, series: SessionSeries, occurrence: Occurrence | None, reason: str | None
) -> tuple[NoticeFor, NoticeFor]:
    """(the DM to a responder, the group channel's notice), each built in its reader's
    language (every sentence whole: Spanish word order differs)."""

    def because() -> str:
        return "\n" + _("The facilitator's note: {note}").format(note=reason) if reason else ""

    def dm() -> Notice:
        if occurrence is not None:
            text = _("**{session}** (the session on {day}) has been cancelled.").format(
                session=series.title, day=discord_timestamp(occurrence.start_utc, "D")
            )
        else:
            text = _("**{session}** (all upcoming sessions) has been cancelled.").format(
                session=series.title
            )
        return Notice(
            _("{group}: session cancelled").format(group=group.name),
            text + because() + "\n" + _("Thank you for letting us know you planned to come. 💙"),
        )

    def channel() -> Notice:
        if occurrence is not None:
            text = _("The session on {day} of **{session}** won't take place.").format(
                day=discord_timestamp(occurrence.start_utc, "D"), session=series.title
            )
        else:
            text = _("All upcoming sessions of **{session}** won't take place.").format(
                session=series.title
            )
        return Notice(_("Cancelled: {session}").format(session=series.title), text + because())

    return dm, channel


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
                raise Conflict(_("That session has already started, so it can't be cancelled."))
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
        dm, channel = _cancel_notices(group, series, occurrence, reason)
        told, missed = await self._tell_responders(series, keys, dm)
        if group.channel_id:
            # The group's channel reads the server's language.
            with i18n.using(i18n.for_guild(guild_id)):
                notice = channel()
            await self._discord.post_notice(group.channel_id, notice)
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
            raise Conflict(_("That session has already started, so it can't be moved."))
        try:
            new_local = datetime.combine(
                parse_local_date(new_date_text), parse_local_time(new_time_text)
            )
        except ValueError as exc:
            raise UserFacingError(str(exc)) from exc
        new_start = to_utc(new_local, series.tz)
        if new_start <= now:
            raise UserFacingError(
                _("The new date and time have already passed. Please choose a later time.")
            )
        if new_start == occurrence.start_utc:
            raise UserFacingError(_("That's the time it already has, so nothing changed."))
        async with self._db.transaction():
            await self._sessions.set_override(
                series.id, occurrence.key, "moved", new_start, None, actor_id, now
            )
            await self._reminders.cancel_occurrence(series.id, occurrence.key)
        old = discord_timestamp(occurrence.start_utc)
        new = discord_timestamp(new_start)

        def dm() -> Notice:
            return Notice(
                _("{group}: session moved").format(group=group.name),
                _(
                    "**{session}**, planned for {old}, now takes place on {new}. "
                    "Your reply still stands; you can change it from the next reminder."
                ).format(session=series.title, old=old, new=new),
            )

        told, missed = await self._tell_responders(series, [occurrence.key], dm)
        if group.channel_id:
            with i18n.using(i18n.for_guild(guild_id)):
                notice = Notice(
                    _("Moved: {session}").format(session=series.title),
                    _("The session planned for {old} now takes place on {new}.").format(
                        old=old, new=new
                    ),
                )
            await self._discord.post_notice(group.channel_id, notice)
        log.info("session moved series=%d", series.id)
        await self._changed([series.id])
        return ChangeOutcome(series, group, occurrence, new_start, told, missed)

    async def _tell_responders(
        self, series: SessionSeries, keys: Sequence[str], notice_for: NoticeFor
    ) -> tuple[int, int]:
        """DM everyone who said Going or Maybe, each in their own language; remember who
        could not be reached."""
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
            with i18n.using(i18n.for_dm(user_id, series.guild_id)):
                notice = notice_for()
            if await self._discord.send_dm(user_id, notice):
                told += 1
            else:
                missed += 1
                await self._reminders.record_dm_failure(
                    user_id, "session-change", self._clock.now()
                )
        return told, missed
