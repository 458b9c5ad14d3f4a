"""`/session edit`: a series changed from its next occurrence on (the rules are
series_edit.py); who may edit, RSVPs and reminders handed over, responders told."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from familybot import i18n
from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.reminders import PlannedReminder, ReminderRepository
from familybot.db.repositories.sessions import SessionRepository
from familybot.errors import NotAllowed, UserFacingError
from familybot.i18n import _, ngettext
from familybot.models import Group, LedgerRow, LedgerState, Rsvp, SessionSeries
from familybot.models.notices import Notice
from familybot.models.sessions import EditOutcome
from familybot.models.setup import Actor
from familybot.services.reminders.rules import effective_occurrences, rule_of
from familybot.services.sessions.options import DURATION_MAX, DURATION_MIN, TITLE_MAX
from familybot.services.sessions.ports import Changed, Resolve, SessionsPort
from familybot.services.sessions.recurrence import discord_timestamp
from familybot.services.sessions.series_edit import RuleChange, old_start, partner_start, plan_edit
from familybot.services.sessions.series_rules import describe_rule, session_label
from familybot.services.setup.service import SetupService

log = logging.getLogger(__name__)

_WENT_OUT = frozenset(
    {LedgerState.SENT, LedgerState.SENDING, LedgerState.UNDELIVERABLE, LedgerState.FAILED}
)


def _change_line(before: datetime, after: datetime | None) -> str:
    if after is None:
        return _("{before} → no longer takes place").format(before=discord_timestamp(before))
    if after == before:
        return _("{before} (same time; details changed)").format(before=discord_timestamp(before))
    return f"{discord_timestamp(before)} → {discord_timestamp(after)}"


def _change_notice(
    group: Group, new: SessionSeries, moves: list[tuple[datetime, datetime | None]]
) -> Notice:
    """The DM to one responder, in the current language (the recipient's)."""
    lines = [_change_line(before, after) for before, after in moves[:5]]
    if len(moves) > 5:
        more = len(moves) - 5
        lines.append(ngettext("…and {count} more", "…and {count} more", more).format(count=more))
    heading = ngettext(
        "The session you said you'd come to:", "The sessions you said you'd come to:", len(moves)
    )
    body = [
        _("**{session}** has changed. From now on it meets {rule}.").format(
            session=new.title, rule=describe_rule(rule_of(new))
        ),
        heading,
        *lines,
        _("Your reply still stands; you can change it from the next reminder."),
    ]
    return Notice(_("{group}: session changed").format(group=group.name), "\n".join(body))


class SeriesEditor:
    def __init__(
        self,
        db: Database,
        sessions: SessionRepository,
        groups_repo: GroupRepository,
        reminders: ReminderRepository,
        setup: SetupService,
        discord: SessionsPort,
        clock: Clock,
        resolve: Resolve,
        changed: Changed,
    ) -> None:
        self._db = db
        self._sessions = sessions
        self._groups_repo = groups_repo
        self._reminders = reminders
        self._setup = setup
        self._discord = discord
        self._clock = clock
        self._resolve = resolve
        self._changed = changed

    async def require_group_facilitator(self, group: Group, actor: Actor) -> None:
        """Admins, and facilitators listed for this very group (its creator and those added
        with `/group add-facilitator`); nobody else, not a facilitator of another group."""
        if actor.is_admin:
            return
        listed = {f.user_id for f in await self._groups_repo.facilitators(group.id)}
        if actor.user_id in listed and await self._setup.is_facilitator(group.guild_id, actor):
            return
        log.info("series edit refused guild=%d user=%d", group.guild_id, actor.user_id)
        raise NotAllowed(
            _(
                "Only the facilitators of “{group}” can change its sessions. If you should be "
                "one, ask a facilitator of that group to add you with `/group add-facilitator`."
            ).format(group=group.name)
        )

    async def autocomplete_editable(
        self, guild_id: int, actor: Actor, typed: str
    ) -> list[tuple[str, str]]:
        """Series of groups this person facilitates (every group for admins)."""
        found = await self._sessions.search(guild_id, typed.strip()[:50], limit=100)
        mine: set[int] | None = None
        if not actor.is_admin:
            mine = {
                g.id
                for g, _place in await self._groups_repo.facilitated_by(actor.user_id)
                if g.guild_id == guild_id
            }
        return [
            (session_label(g, s), str(s.id)) for s, g in found if mine is None or s.group_id in mine
        ][:25]

    async def edit(
        self,
        *,
        guild_id: int,
        actor: Actor,
        ref: str,
        change: RuleChange,
        title: str | None = None,
        voice_channel_id: int | None = None,
        clear_voice: bool = False,
    ) -> EditOutcome:
        """Change a series from its next occurrence on (see services/sessions/series_edit.py)."""
        series, group = await self._resolve(guild_id, ref)
        await self.require_group_facilitator(group, actor)
        new_title = " ".join(title.split()) if title else series.title
        if not 1 <= len(new_title) <= TITLE_MAX:
            raise UserFacingError(
                _("Please give the session a title of 1 to {max} characters.").format(max=TITLE_MAX)
            )
        if change.duration_minutes is not None and not (
            DURATION_MIN <= change.duration_minutes <= DURATION_MAX
        ):
            raise UserFacingError(_("A session can last from 15 minutes to 8 hours."))
        voice = None if clear_voice else (voice_channel_id or series.voice_channel_id)
        now = self._clock.now()
        old_rule = rule_of(series)
        try:
            plan = plan_edit(old_rule, change, now)
        except ValueError as exc:
            raise UserFacingError(str(exc)) from exc
        if (
            plan.new_rule.tz == old_rule.tz
            and plan.new_rule.repeat is old_rule.repeat
            and plan.new_rule.duration_minutes == old_rule.duration_minutes
            and plan.new_rule.until_local == old_rule.until_local
            and plan.new_rule.monthly_week in (old_rule.monthly_week, None)
            and all(p.new_rule_start == p.old.start_utc for p in plan.pairs)
            and not plan.unpaired
            and new_title == series.title
            and voice == series.voice_channel_id
        ):
            raise UserFacingError(_("That's how the session already is, so nothing changed."))
        overrides = (await self._sessions.overrides([series.id]))[series.id]
        answered = await self._sessions.responders(series.id, None, (Rsvp.GOING, Rsvp.MAYBE))
        async with self._db.transaction():
            new = await self._sessions.create(
                group_id=group.id,
                guild_id=guild_id,
                title=new_title,
                tz=plan.new_rule.tz,
                first_local=plan.new_rule.first_local,
                repeat=plan.new_rule.repeat.value,
                duration_minutes=plan.new_rule.duration_minutes,
                voice_channel_id=voice,
                created_by=actor.user_id,
                now=now,
                until_local=plan.new_rule.until_local,
                monthly_week=plan.new_rule.monthly_week,
                previous_series_id=series.id,
            )
            await self._sessions.end_at(series.id, plan.old_until)
            changes: dict[str, tuple[datetime | None, datetime | None]] = {}
            for pair in plan.pairs:
                override = overrides.get(pair.old.key)
                if override is not None:
                    await self._sessions.copy_override(
                        override, new.id, pair.new_key, actor.user_id, now
                    )
                await self._sessions.move_occurrence_data(
                    series.id, pair.old.key, new.id, pair.new_key
                )
                before = old_start(pair, override)
                after = partner_start(pair, override)
                changes[pair.old.key] = (before, after)
                await self._hand_over_reminders(series, new, pair.old.key, pair.new_key, after, now)
            for occ in plan.unpaired:
                await self._reminders.cancel_occurrence(series.id, occ.key)
                override = overrides.get(occ.key)
                if override is None or override.status != "cancelled":
                    changes[occ.key] = (override.new_start if override else occ.start_utc, None)
            # A past date moved into the future stays a session. Its reminders and RSVPs move
            # to the new series (its copy of the override carries them); the ended series keeps
            # the override too, since only there is the date an occurrence: calendars and
            # stats read the move from it (the new rule has no such date, so it isn't doubled).
            for key, override in overrides.items():
                moved = override.new_start
                if (
                    override.status == "moved"
                    and moved is not None
                    and moved > now
                    and key not in changes
                    and date.fromisoformat(key) <= plan.old_until.date()
                ):
                    await self._sessions.copy_override(override, new.id, key, actor.user_id, now)
                    await self._sessions.move_occurrence_data(series.id, key, new.id, key)
                    await self._hand_over_reminders(series, new, key, key, moved, now)
        duration = timedelta(minutes=new.duration_minutes)
        old_duration = timedelta(minutes=series.duration_minutes)
        details_changed = (
            new.title != series.title
            or new.voice_channel_id != series.voice_channel_id
            or duration != old_duration
        )
        per_user: dict[int, list[tuple[datetime, datetime | None]]] = {}
        for key, user_id in answered:
            if key not in changes:
                continue
            before, after = changes[key]
            if before is None or (after == before and not details_changed):
                continue
            per_user.setdefault(user_id, []).append((before, after))
        words = describe_rule(rule_of(new))
        told = missed = 0
        for user_id, moves in sorted(per_user.items()):
            # A DM reads its recipient's language, not the facilitator's who edited.
            with i18n.using(i18n.for_dm(user_id, guild_id)):
                notice = _change_notice(group, new, moves)
            if await self._discord.send_dm(user_id, notice):
                told += 1
            else:
                missed += 1
                await self._reminders.record_dm_failure(user_id, "session-change", now)
        first = next(
            (
                o
                for o in effective_occurrences(
                    new,
                    (await self._sessions.overrides([new.id]))[new.id],
                    now,
                    now + timedelta(days=800),
                )
            ),
            None,
        )
        if group.channel_id:
            # The group's channel reads the server's language.
            with i18n.using(i18n.for_guild(guild_id)):
                channel_notice = Notice(
                    _("Changed: {session}").format(session=new.title),
                    _("From now on, **{session}** meets {rule}.").format(
                        session=new.title, rule=describe_rule(rule_of(new))
                    ),
                )
            await self._discord.post_notice(group.channel_id, channel_notice)
        log.info("series edited guild=%d old=%d new=%d", guild_id, series.id, new.id)
        await self._changed([series.id, new.id])
        return EditOutcome(new, group, words, first, told, missed, len(plan.unpaired))

    async def _hand_over_reminders(
        self,
        old: SessionSeries,
        new: SessionSeries,
        old_key: str,
        new_key: str,
        new_start: datetime | None,
        now: datetime,
    ) -> None:
        """Each (offset, target) goes out at most once per occurrence across the edit: a
        reminder already sent is not sent again for the moved occurrence, a pending one is
        moved to it (due at once if its new time has passed), none is planned twice."""
        rows = await self._reminders.for_occurrence(old.id, old_key)
        by_slot: dict[tuple[int, str], list[LedgerRow]] = {}
        for row in rows:
            by_slot.setdefault((row.offset_minutes, row.target), []).append(row)
        markers: list[PlannedReminder] = []
        for (offset, target), slot in by_slot.items():
            went_out = [r for r in slot if r.state in _WENT_OUT]
            pending = [r for r in slot if r.state is LedgerState.PENDING]
            cancel = [r.id for r in pending]
            if new_start is None:
                pass  # the partner is cancelled: nothing to send
            elif exact := [r for r in went_out if r.occurrence_start == new_start]:
                await self._reminders.move_row(
                    exact[0].id, new.id, new_key, new_start, exact[0].due_at
                )
            elif went_out:
                due = new_start - timedelta(minutes=offset)
                markers.append(PlannedReminder(new.id, new_key, new_start, offset, target, due))
            elif pending and new_start > now:
                due = max(now, new_start - timedelta(minutes=offset))
                await self._reminders.move_row(pending[0].id, new.id, new_key, new_start, due)
                cancel = [r.id for r in pending[1:]]
            await self._reminders.mark(cancel, LedgerState.CANCELLED)
        await self._reminders.mark_already_sent(markers)
