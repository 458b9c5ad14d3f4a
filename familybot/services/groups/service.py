"""Support groups: creation, editing, archiving, rosters; joining is in membership.py."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from familybot import i18n
from familybot.errors import Conflict, NotAllowed, UserFacingError
from familybot.events import GroupChanged
from familybot.i18n import _
from familybot.models import (
    Group,
    GroupStatus,
    JoinMode,
    Membership,
    MembershipStatus,
)
from familybot.models.groups import (
    GroupListPage,
    GroupSpace,
    GroupSummary,
    LeaveOutcome,
    Roster,
    RosterEntry,
)
from familybot.models.notices import Notice
from familybot.services.groups.membership import GroupMembership
from familybot.services.groups.rules import (
    CAPACITY_MAX,
    DEFAULT_GUIDELINES,
    DESCRIPTION_MAX,
    FACILITATORS_MAX,
    FOCUS_MAX,
    GUIDELINES_MAX,
    LIST_PAGE_SIZE,
    NAME_MAX,
    REQUEST_WAIT,
    capacity_too_high,
    clean_field,
)

log = logging.getLogger(__name__)


class GroupsService(GroupMembership):
    """The groups feature: what facilitators and admins do with groups, lists, privacy; the
    member actions come from GroupMembership, the shared core from GroupsBase."""

    async def autocomplete_names(
        self, guild_id: int, typed: str, *, member_id: int | None = None, seated: bool = False
    ) -> list[str]:
        """Active groups (what /group list shows anyone); with `member_id`, only the ones
        that person is in (seated, or also waiting when `seated` is False)."""
        statuses = (MembershipStatus.MEMBER,) if seated else tuple(MembershipStatus)
        return await self._groups.search_names(
            guild_id, typed[:NAME_MAX], member_id=member_id, statuses=statuses
        )

    async def facilitated_group_ids(self, guild_id: int, user_id: int) -> list[int]:
        """The active groups of this server that this person is listed to facilitate."""
        return [
            g.id
            for g, _place in await self._groups.facilitated_by(user_id)
            if g.guild_id == guild_id and g.is_active
        ]

    async def facilitated_names(self, guild_id: int, user_id: int, typed: str) -> list[str]:
        ids = await self.facilitated_group_ids(guild_id, user_id)
        return await self._groups.search_names(guild_id, typed[:NAME_MAX], group_ids=ids)

    async def count_active(self, guild_id: int | None = None) -> int:
        return await self._groups.count_active(guild_id)

    async def _summary(self, group: Group, seats_taken: int | None = None) -> GroupSummary:
        taken = (
            seats_taken
            if seats_taken is not None
            else await self._groups.count(group.id, MembershipStatus.MEMBER)
        )
        return GroupSummary(group, taken, await self._schedule.next_session_start(group.id))

    async def list_groups(self, guild_id: int) -> list[GroupSummary]:
        return (await self.list_page(guild_id, 0, per_page=None)).summaries

    async def list_page(
        self, guild_id: int, page: int, per_page: int | None = LIST_PAGE_SIZE
    ) -> GroupListPage:
        """One page of the open groups (by name), in five queries whatever their number:
        how many, this page of them, their seats, and their series and changed dates.
        A page past the end (groups were archived since) is the last page."""
        total = await self._groups.count_active(guild_id)
        size = per_page or max(1, total)
        pages = max(1, -(-total // size))
        page = min(max(0, page), pages - 1)
        shown = await self._groups.list_active_page(guild_id, page * size, size) if total else []
        ids = [g.id for g in shown]
        counts = await self._groups.seat_counts_of(ids)
        nexts = await self._schedule.next_session_starts(ids) if shown else {}
        summaries = [GroupSummary(g, counts.get(g.id, 0), nexts.get(g.id)) for g in shown]
        return GroupListPage(summaries, page, pages, total)

    async def info(self, guild_id: int, name: str) -> GroupSummary:
        return await self._summary(await self.get_active(guild_id, name))

    # --- facilitator actions ---------------------------------------------------------------
    async def create(
        self,
        *,
        guild_id: int,
        actor_id: int,
        name: str,
        description: str,
        focus: str,
        capacity: int | None,
        join_mode: JoinMode,
    ) -> Group:
        name = clean_field(name, NAME_MAX, "name", minimum=2)
        description = clean_field(description, DESCRIPTION_MAX, "description")
        focus = clean_field(focus, FOCUS_MAX, "focus")
        if capacity is not None and capacity > CAPACITY_MAX:
            raise UserFacingError(capacity_too_high(zero_allowed=False))
        if capacity is not None and capacity < 1:
            raise UserFacingError(
                _("Capacity should be between 1 and {max} seats.").format(max=CAPACITY_MAX)
            )
        if await self._groups.find_active(guild_id, name) is not None:
            raise Conflict(
                _("There is already a group called “{group}”. Please pick another name.").format(
                    group=name
                )
            )
        space = await self._discord.create_group_space(guild_id, name, focus, [actor_id])
        try:
            async with self._db.transaction():
                group = await self._groups.create(
                    guild_id=guild_id,
                    name=name,
                    description=description,
                    focus=focus,
                    capacity=capacity,
                    join_mode=join_mode,
                    guidelines=DEFAULT_GUIDELINES.message,  # shown in each reader's language
                    role_id=None,
                    channel_id=space.channel_id,
                    created_by=actor_id,
                    now=self._clock.now(),
                )
                await self._groups.add_facilitator(group.id, actor_id, actor_id, self._clock.now())
        except Exception:
            log.exception("group store failed guild=%d; removing its channel", guild_id)
            await self._discord.delete_group_space(guild_id, space)
            raise
        log.info("group created guild=%d group=%d", guild_id, group.id)
        return group

    async def edit(
        self,
        *,
        guild_id: int,
        name: str,
        new_name: str | None = None,
        description: str | None = None,
        focus: str | None = None,
        capacity: int | None = None,
        join_mode: JoinMode | None = None,
        guidelines: str | None = None,
        reminder_offsets: tuple[int, ...] | None = None,
    ) -> tuple[Group, list[int]]:
        """Apply the given changes. Returns the group and anyone seated from the waitlist."""
        group = await self.get_active(guild_id, name)
        changes: dict[str, object] = {}
        if new_name is not None:
            cleaned = clean_field(new_name, NAME_MAX, "name", minimum=2)
            other = await self._groups.find_active(guild_id, cleaned)
            if other is not None and other.id != group.id:
                raise Conflict(
                    _("There is already a group called “{group}”.").format(group=cleaned)
                )
            changes["name"] = cleaned
        if description is not None:
            changes["description"] = clean_field(description, DESCRIPTION_MAX, "description")
        if focus is not None:
            changes["focus"] = clean_field(focus, FOCUS_MAX, "focus")
        if capacity is not None:
            if capacity > CAPACITY_MAX:
                raise UserFacingError(capacity_too_high(zero_allowed=True))
            if capacity < 0:
                raise UserFacingError(
                    _("Capacity should be between 1 and {max} seats (0 means no limit).").format(
                        max=CAPACITY_MAX
                    )
                )
            changes["capacity"] = capacity or None
        if join_mode is not None:
            changes["join_mode"] = join_mode
        if guidelines is not None:
            changes["guidelines"] = clean_field(guidelines, GUIDELINES_MAX, "guidelines")
            changes["guidelines_version"] = group.guidelines_version + 1
        if reminder_offsets is not None:
            changes["reminder_offsets"] = reminder_offsets
        if not changes:
            raise UserFacingError(_("Nothing to change: pick at least one thing to edit."))
        async with self._lock(group.id):
            if group.channel_id and ("name" in changes or "focus" in changes):
                await self._discord.update_group_space(
                    guild_id,
                    GroupSpace(group.channel_id),
                    str(changes.get("name", group.name)),
                    str(changes.get("focus", group.focus)),
                )
            updated = await self._groups.update(group.id, **changes)
            promoted = await self._promote_waitlist(updated)
        await self._bus.publish(GroupChanged((group.id,)))
        return updated, promoted

    async def archive(self, guild_id: int, name: str) -> Group:
        group = await self.get_active(guild_id, name)
        async with self._lock(group.id):
            if group.channel_id:
                await self._discord.archive_group_space(
                    guild_id, GroupSpace(group.channel_id), await self._reader_ids(group)
                )
            async with self._db.transaction():
                # Nobody is left waiting on a group that will not meet again.
                for status in (MembershipStatus.WAITLISTED, MembershipStatus.PENDING):
                    for m in await self._groups.list_by_status(group.id, status):
                        await self._groups.delete_membership(group.id, m.user_id)
                archived = await self._groups.update(
                    group.id, status=GroupStatus.ARCHIVED, archived_at=self._clock.now()
                )
            if archived.role_id is not None:  # made before per-person access: its old role goes
                try:
                    await self._drop_old_role(archived)
                except UserFacingError:  # archived all the same; the next start tries again
                    log.warning("old group role not removed on archive group=%d", group.id)
        log.info("group archived guild=%d group=%d", guild_id, group.id)
        await self._bus.publish(GroupChanged((group.id,)))
        return archived

    async def add_facilitator(
        self, guild_id: int, name: str, user_id: int, actor_id: int, target_is_facilitator: bool
    ) -> Group:
        group = await self.get_active(guild_id, name)
        if not target_is_facilitator:
            raise NotAllowed(
                _(
                    "That member isn't a facilitator yet. An admin can give them the facilitator "
                    "role first (see `/setup show`), then add them to the group."
                )
            )
        facilitators = await self._groups.facilitators(group.id)
        if any(f.user_id == user_id for f in facilitators):
            raise Conflict(_("They already facilitate “{group}”.").format(group=group.name))
        if len(facilitators) >= FACILITATORS_MAX:
            raise Conflict(
                _(
                    "“{group}” already has {count} facilitators, the most a group can have "
                    "(Discord limits how many people can have their own access to a channel). "
                    "Nothing was changed."
                ).format(group=group.name, count=FACILITATORS_MAX)
            )
        if group.channel_id:
            await self._discord.grant_channel_access(guild_id, group.channel_id, user_id)
        await self._groups.add_facilitator(group.id, user_id, actor_id, self._clock.now())
        return group

    async def roster(self, guild_id: int, name: str) -> Roster:
        group = await self.get_active(guild_id, name)
        attended, sessions = await self._schedule.attendance_summary(group.id)

        def entries(rows: list[Membership], *, joined: bool) -> list[RosterEntry]:
            out = []
            for m in rows:
                since = m.joined_at if joined else m.requested_at
                out.append(RosterEntry(m.user_id, since, attended.get(m.user_id, 0), sessions))
            return out

        return Roster(
            group=group,
            members=entries(
                await self._groups.list_by_status(group.id, MembershipStatus.MEMBER), joined=True
            ),
            waitlisted=entries(
                await self._groups.list_by_status(group.id, MembershipStatus.WAITLISTED),
                joined=False,
            ),
            pending=entries(
                await self._groups.list_by_status(group.id, MembershipStatus.PENDING), joined=False
            ),
            facilitator_ids=[f.user_id for f in await self._groups.facilitators(group.id)],
        )

    async def remove_member(self, guild_id: int, name: str, user_id: int) -> LeaveOutcome:
        group = await self.get_active(guild_id, name)
        outcome = await self._leave(
            group,
            user_id,
            not_in_group=_(
                "That member isn't in this group (or on its waitlist), so there is nothing to remove."
            ),
            removed=True,
        )
        with i18n.using(i18n.for_dm(user_id, guild_id)):
            notice = Notice(
                _("About {group}").format(group=group.name),
                _(
                    "A facilitator has removed you from **{group}**. If you have questions, "
                    "you're welcome to reach out to the facilitators."
                ).format(group=group.name),
            )
        await self._discord.send_dm(user_id, notice)
        return outcome

    # --- privacy (services/privacy/service.py calls these) -----------------------------------------
    async def export_user_data(self, user_id: int) -> dict[str, Any]:
        memberships = await self._groups.memberships_for_privacy(user_id)
        return {
            "memberships": [
                {
                    "guild_id": str(g.guild_id),
                    "group": g.name,
                    "status": m.status.value,
                    "consent_version": m.consent_version,
                    "consented_at": m.consented_at.isoformat(),
                    "requested_at": m.requested_at.isoformat(),
                    "joined_at": m.joined_at.isoformat() if m.joined_at else None,
                }
                for m, g in memberships
            ],
            "facilitator_of": [
                {"guild_id": str(g.guild_id), "group": g.name, "since": f.added_at.isoformat()}
                for g, f in await self._groups.facilitated_by(user_id)
            ],
            "join_reviews": [
                {
                    "guild_id": str(g.guild_id),
                    "group": g.name,
                    "removed_at": r.removed_at.isoformat() if r.removed_at else None,
                    "denied_at": r.denied_at.isoformat() if r.denied_at else None,
                    "next_request_from": (
                        (r.denied_at + REQUEST_WAIT).isoformat() if r.denied_at else None
                    ),
                }
                for r, g in await self._groups.join_reviews_for_privacy(user_id)
            ],
            "groups_created": [
                {
                    "guild_id": str(g.guild_id),
                    "group": g.name,
                    "created_at": g.created_at.isoformat(),
                }
                for g in await self._groups.created_by(user_id)
            ],
        }

    async def delete_user_data(self, user_id: int) -> int:
        return await self._forget(user_id, None)

    async def delete_user_guild_data(self, guild_id: int, user_id: int) -> int:
        return await self._forget(user_id, guild_id)

    async def _forget(self, user_id: int, guild_id: int | None) -> int:
        """Leave every group as /group leave would (channel closed to them, waitlist moves on),
        then drop facilitator places and their access; groups they created stay."""
        memberships = await self._groups.memberships_for_privacy(user_id, guild_id)
        removed = await self._leave_all(user_id, memberships)
        changed = [group.id for _, group in memberships]
        for group, _place in await self._groups.facilitated_by(user_id):
            if guild_id is not None and group.guild_id != guild_id:
                continue
            try:
                await self._revoke(group, user_id, keep_facilitator=False)
            except UserFacingError:
                log.warning("forget: facilitator access not removed group=%d", group.id)
        # A removal or denial record stays, like a moderation case: the server's record, so
        # forgetting can't undo a facilitator's decision (it goes with the server's purge).
        removed += await self._groups.forget_roles(user_id, guild_id)
        # Only once everything is forgotten: a re-plan that fails (the bus logs it, ids only)
        # must not leave this person's later groups, or the other holders' data, behind.
        # One event for all their groups: their series are re-planned in one pass, in a
        # fixed number of queries, not one pass per group (issue 15).
        if changed:
            with contextlib.suppress(Exception):
                await self._bus.publish(GroupChanged(tuple(changed)))
        return removed
