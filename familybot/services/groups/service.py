"""Support groups: creation, consent-first joining, capacity and waitlist, approvals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.settings import SettingsRepository
from familybot.errors import ChannelGone, Conflict, NotAllowed, NotFound, UserFacingError
from familybot.events import EventBus, GroupChanged
from familybot.models import (
    Group,
    GroupStatus,
    JoinMode,
    JoinReview,
    Membership,
    MembershipStatus,
)
from familybot.models.groups import (
    Decision,
    GroupListPage,
    GroupSpace,
    GroupSummary,
    JoinOutcome,
    JoinResult,
    LeaveOutcome,
    Roster,
    RosterEntry,
)
from familybot.models.notices import Notice
from familybot.services.sessions.recurrence import discord_timestamp

log = logging.getLogger(__name__)

NAME_MAX = 50
LIST_PAGE_SIZE = 10  # groups per page of /group list (an embed holds them easily)
DESCRIPTION_MAX = 1000
FOCUS_MAX = 100
GUIDELINES_MAX = 3000
# Discord allows at most 100 permission overwrites on a channel. Each member and each of
# the group's facilitators takes one on the group's channel (that is how access is given:
# never a role, which would show on their profile); room is kept for @everyone's, the bot's,
# the facilitator role's and one an admin may add.
CHANNEL_OVERWRITES_MAX = 100
RESERVED_OVERWRITES = 4
FACILITATORS_MAX = 10
CAPACITY_MAX = CHANNEL_OVERWRITES_MAX - RESERVED_OVERWRITES - FACILITATORS_MAX  # 86 seats
CAPACITY_TOO_HIGH = (
    "A group can have at most {max} members. Discord lets at most 100 people and roles have "
    "their own access to a channel, and I keep some of that room for the group's facilitators "
    "and for me. Please choose {max} or fewer{none}."
)
# After a denied request, the next one may come this long after it at the earliest.
REQUEST_WAIT = timedelta(days=7)
# The same words whether a button names another server's group or one that is gone: a
# forged id learns nothing.
GROUP_NOT_HERE = (
    "I couldn't find that group on this server, so nothing was changed. "
    "`/group list` shows the groups here."
)

DEFAULT_GUIDELINES = (
    "**What is shared here stays here.** Please don't repeat anything another family "
    "shares, and don't share screenshots or names outside this group.\n"
    "**Speak from your own experience.** Listen without judging; everyone's path is different.\n"
    "**This is peer support, not medical advice.** For treatment questions, talk with your "
    "loved one's care team.\n"
    "**Facilitators are not a crisis service.** If anyone is in danger, call your local "
    "emergency number. `/crisis` shows crisis lines any time.\n"
    "**You can leave at any time** with `/group leave`."
)


class SessionSchedulePort(Protocol):
    """What groups read about their sessions (services/sessions/session_schedule.py implements it)."""

    async def next_session_start(self, group_id: int) -> datetime | None: ...

    async def next_session_starts(self, group_ids: Sequence[int]) -> dict[int, datetime | None]: ...

    async def attendance_summary(self, group_id: int) -> tuple[dict[int, int], int]: ...


def seat_limit(group: Group) -> int:
    """How many can be seated: the group's capacity, never more than fit on its channel
    ("no limit" means as many as fit)."""
    if group.capacity is None:
        return CAPACITY_MAX
    return min(group.capacity, CAPACITY_MAX)


def _clean(text: str, limit: int, what: str, *, minimum: int = 1) -> str:
    value = " ".join(text.split()) if what == "name" else text.strip()
    if len(value) < minimum:
        raise UserFacingError(f"The {what} can't be empty. Please try again with a {what}.")
    if len(value) > limit:
        raise UserFacingError(
            f"The {what} is {len(value)} characters long; please keep it to {limit} or fewer."
        )
    return value


class GroupsPort(Protocol):
    """What groups ask of Discord: their private channels, who may see them, and notes to
    people (familybot/discord/groups.py)."""

    async def create_group_space(
        self, guild_id: int, name: str, topic: str, facilitator_ids: Sequence[int]
    ) -> GroupSpace:
        """Create the group's private text channel, open to its facilitators and the bot."""
        ...

    async def delete_group_space(self, guild_id: int, space: GroupSpace) -> None:
        """Undo create_group_space (used when storing the group fails)."""
        ...

    async def update_group_space(
        self, guild_id: int, space: GroupSpace, name: str, topic: str
    ) -> None: ...

    async def archive_group_space(
        self, guild_id: int, space: GroupSpace, reader_ids: Sequence[int]
    ) -> None:
        """Keep the channel readable to `reader_ids` (members and facilitators) but closed to
        new messages."""
        ...

    async def grant_channel_access(
        self, guild_id: int, channel_id: int, user_id: int, *, read_only: bool = False
    ) -> None:
        """Let one person see (and, unless read_only, post in) a group's channel."""
        ...

    async def revoke_channel_access(self, guild_id: int, channel_id: int, user_id: int) -> None:
        """Take one person's access to a group's channel away (already gone counts as done)."""
        ...

    async def remove_member_role(self, guild_id: int, user_id: int, role_id: int) -> None:
        """Take a group role from a member: only for groups made before per-person access,
        until the upgrade (services/groups/group_access.py) has removed their role."""
        ...

    async def delete_role(self, guild_id: int, role_id: int) -> bool:
        """Delete a role; True when it is gone (also when it already was), False when Discord
        refused (the caller tries again later)."""
        ...

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        """Send a private message; False when the person cannot receive DMs."""
        ...

    async def post_join_request(
        self,
        guild_id: int,
        channel_id: int,
        group_id: int,
        group_name: str,
        user_id: int,
        *,
        removed_at: datetime | None = None,
    ) -> None:
        """Post an Approve / Deny request for facilitators in the (private) alerts channel;
        `removed_at` says when a facilitator last removed them from this group."""
        ...


class GroupsService:
    def __init__(
        self,
        db: Database,
        groups: GroupRepository,
        settings: SettingsRepository,
        discord: GroupsPort,
        clock: Clock,
        bus: EventBus,
        schedule: SessionSchedulePort,
    ) -> None:
        self._db = db
        self._groups = groups
        self._settings = settings
        self._discord = discord
        self._clock = clock
        self._locks: dict[int, asyncio.Lock] = {}
        # GroupChanged goes out when who is seated, a group's reminder times, its name or its
        # status changed (wiring.py: reminders re-planned, the Events panel re-synced).
        self._bus = bus
        # Next sessions (one group, or many in a fixed number of queries) and attendance.
        self._schedule = schedule

    def _lock(self, group_id: int) -> asyncio.Lock:
        # One lock per group: a button, a command and a job may touch the same seats.
        return self._locks.setdefault(group_id, asyncio.Lock())

    # --- lookups ----------------------------------------------------------------------------
    async def get_active(self, guild_id: int, name: str) -> Group:
        group = await self._groups.find_active(guild_id, name)
        if group is not None:
            return group
        archived = await self._groups.find_latest_archived(guild_id, name)
        shown = " ".join(name.split())[:NAME_MAX]
        if archived is not None:
            raise Conflict(
                f"The group “{archived.name}” has been archived, so it can't be changed or joined."
            )
        raise NotFound(
            f"I couldn't find a group called “{shown}”. `/group list` shows the open groups."
        )

    async def _get_by_id(self, group_id: int) -> Group:
        group = await self._groups.get(group_id)
        if group is None:
            raise NotFound("That group no longer exists.")
        return group

    async def _get_in_guild(self, group_id: int, guild_id: int | None) -> Group:
        """A group named by a button's id, only if it belongs to the server it was pressed in."""
        group = await self._groups.get(group_id)
        if group is None or guild_id is None or group.guild_id != guild_id:
            raise NotFound(GROUP_NOT_HERE)
        return group

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
            for g, _ in await self._groups.facilitated_by(user_id)
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
        name = _clean(name, NAME_MAX, "name", minimum=2)
        description = _clean(description, DESCRIPTION_MAX, "description")
        focus = _clean(focus, FOCUS_MAX, "focus")
        if capacity is not None and capacity > CAPACITY_MAX:
            raise UserFacingError(CAPACITY_TOO_HIGH.format(max=CAPACITY_MAX, none=""))
        if capacity is not None and capacity < 1:
            raise UserFacingError(f"Capacity should be between 1 and {CAPACITY_MAX} seats.")
        if await self._groups.find_active(guild_id, name) is not None:
            raise Conflict(f"There is already a group called “{name}”. Please pick another name.")
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
                    guidelines=DEFAULT_GUIDELINES,
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
            cleaned = _clean(new_name, NAME_MAX, "name", minimum=2)
            other = await self._groups.find_active(guild_id, cleaned)
            if other is not None and other.id != group.id:
                raise Conflict(f"There is already a group called “{cleaned}”.")
            changes["name"] = cleaned
        if description is not None:
            changes["description"] = _clean(description, DESCRIPTION_MAX, "description")
        if focus is not None:
            changes["focus"] = _clean(focus, FOCUS_MAX, "focus")
        if capacity is not None:
            if capacity > CAPACITY_MAX:
                raise UserFacingError(
                    CAPACITY_TOO_HIGH.format(max=CAPACITY_MAX, none=" (0 means as many as fit)")
                )
            if capacity < 0:
                raise UserFacingError(
                    f"Capacity should be between 1 and {CAPACITY_MAX} seats (0 means no limit)."
                )
            changes["capacity"] = capacity or None
        if join_mode is not None:
            changes["join_mode"] = join_mode
        if guidelines is not None:
            changes["guidelines"] = _clean(guidelines, GUIDELINES_MAX, "guidelines")
            changes["guidelines_version"] = group.guidelines_version + 1
        if reminder_offsets is not None:
            changes["reminder_offsets"] = reminder_offsets
        if not changes:
            raise UserFacingError("Nothing to change: pick at least one thing to edit.")
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
        await self._bus.publish(GroupChanged(group.id))
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
        await self._bus.publish(GroupChanged(group.id))
        return archived

    async def add_facilitator(
        self, guild_id: int, name: str, user_id: int, actor_id: int, target_is_facilitator: bool
    ) -> Group:
        group = await self.get_active(guild_id, name)
        if not target_is_facilitator:
            raise NotAllowed(
                "That member isn't a facilitator yet. An admin can give them the facilitator "
                "role first (see `/setup show`), then add them to the group."
            )
        facilitators = await self._groups.facilitators(group.id)
        if any(f.user_id == user_id for f in facilitators):
            raise Conflict(f"They already facilitate “{group.name}”.")
        if len(facilitators) >= FACILITATORS_MAX:
            raise Conflict(
                f"“{group.name}” already has {FACILITATORS_MAX} facilitators, the most a group "
                "can have (Discord limits how many people can have their own access to a "
                "channel). Nothing was changed."
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
            not_in_group=(
                "That member isn't in this group (or on its waitlist), so there is nothing to remove."
            ),
            removed=True,
        )
        await self._discord.send_dm(
            user_id,
            Notice(
                f"About {group.name}",
                f"A facilitator has removed you from **{group.name}**. If you have questions, "
                "you're welcome to reach out to the facilitators.",
            ),
        )
        return outcome

    # --- member actions ---------------------------------------------------------------------
    async def prepare_join(self, guild_id: int, user_id: int, name: str) -> Group:
        """Check a join can start; the caller then shows the guidelines for consent."""
        return await self._prepare_join(await self.get_active(guild_id, name), user_id)

    async def prepare_join_id(self, guild_id: int | None, user_id: int, group_id: int) -> Group:
        """As prepare_join, for a group picked from a menu (by id, only in its own server)."""
        group = await self._get_in_guild(group_id, guild_id)
        if not group.is_active:
            raise Conflict(f"“{group.name}” has been archived, so it can't be joined.")
        return await self._prepare_join(group, user_id)

    async def _prepare_join(self, group: Group, user_id: int) -> Group:
        await self._ensure_not_joined(group, user_id)
        review = await self._review_of(group, user_id)
        if group.join_mode is JoinMode.APPROVAL or review is not None:
            await self._require_alerts_channel(group, reviewed=review is not None)
        return group

    async def _review_of(self, group: Group, user_id: int) -> JoinReview | None:
        """Whether this person's join must go to the facilitators (removed or denied before);
        refuses kindly while a denial is less than REQUEST_WAIT old."""
        review = await self._groups.join_review(group.id, user_id)
        if review is not None and review.denied_at is not None:
            again = review.denied_at + REQUEST_WAIT
            if self._clock.now() < again:
                raise Conflict(
                    f"Thank you for wanting to join “{group.name}”. The facilitators looked at "
                    "your last request recently, so you can ask again from "
                    f"{discord_timestamp(again)} ({discord_timestamp(again, 'R')}). Until then, "
                    "`/group list` shows the other groups, and `/crisis` is there any time."
                )
        return review

    async def _ensure_not_joined(self, group: Group, user_id: int) -> None:
        existing = await self._groups.membership(group.id, user_id)
        if existing is None:
            return
        if existing.status is MembershipStatus.MEMBER:
            raise Conflict(f"You're already a member of “{group.name}”. 💙")
        if existing.status is MembershipStatus.WAITLISTED:
            position = await self._groups.waitlist_position(group.id, user_id)
            raise Conflict(
                f"You're already on the waitlist for “{group.name}” (number {position} in line). "
                "I'll message you when a seat opens."
            )
        raise Conflict(
            f"Your request to join “{group.name}” is already with the facilitators. "
            "I'll message you when they've looked at it."
        )

    async def _require_alerts_channel(self, group: Group, *, reviewed: bool = False) -> int:
        channel_id = (await self._settings.get(group.guild_id)).alerts_channel_id
        if channel_id is None and reviewed:
            raise Conflict(
                f"Your request to join “{group.name}” needs a facilitator to look at it first, "
                "but the server hasn't set up a place for those requests yet. Please let a "
                "facilitator know."
            )
        if channel_id is None:
            raise Conflict(
                f"“{group.name}” asks facilitators to approve new members, but the server "
                "hasn't set up a place for those requests yet. Please let a facilitator know."
            )
        return channel_id

    async def consent_and_join(
        self, group_id: int, user_id: int, consent_version: int, *, guild_id: int | None
    ) -> JoinOutcome:
        """Record consent to the shown guidelines, then seat, waitlist or request approval.

        Someone a facilitator removed, or whose request was denied, is always sent to the
        facilitators, whatever the group's join mode (see _review_of)."""
        group = await self._get_in_guild(group_id, guild_id)
        if not group.is_active:
            raise Conflict(f"“{group.name}” has been archived, so it can't be joined.")
        if consent_version != group.guidelines_version:
            raise Conflict(
                f"The guidelines for “{group.name}” changed since you opened them. "
                "Please run `/group join` again to read the current version."
            )
        async with self._lock(group.id):
            await self._ensure_not_joined(group, user_id)
            review = await self._review_of(group, user_id)
            now = self._clock.now()
            if group.join_mode is JoinMode.APPROVAL or review is not None:
                alerts = await self._require_alerts_channel(group, reviewed=review is not None)
                await self._groups.add_membership(
                    group.id, user_id, MembershipStatus.PENDING, consent_version, now
                )
                try:
                    await self._discord.post_join_request(
                        group.guild_id,
                        alerts,
                        group.id,
                        group.name,
                        user_id,
                        removed_at=review.removed_at if review else None,
                    )
                except Exception:
                    await self._groups.delete_membership(group.id, user_id)
                    raise
                log.debug("join request group=%d user=%d", group.id, user_id)
                return JoinOutcome(JoinResult.PENDING, group, reviewed=review is not None)
            outcome = await self._seat_or_waitlist(group, user_id, consent_version, now)
        await self._bus.publish(GroupChanged(group.id))
        return outcome

    async def _seat_or_waitlist(
        self,
        group: Group,
        user_id: int,
        consent_version: int,
        now: datetime,
        *,
        existing: bool = False,
    ) -> JoinOutcome:
        taken = await self._groups.count(group.id, MembershipStatus.MEMBER)
        if taken >= seat_limit(group):
            if existing:
                await self._groups.set_status(group.id, user_id, MembershipStatus.WAITLISTED, now)
            else:
                await self._groups.add_membership(
                    group.id, user_id, MembershipStatus.WAITLISTED, consent_version, now
                )
            position = await self._groups.waitlist_position(group.id, user_id)
            return JoinOutcome(JoinResult.WAITLISTED, group, position)
        await self._grant(group, user_id)
        try:
            if existing:
                await self._groups.set_status(group.id, user_id, MembershipStatus.MEMBER, now)
            else:
                await self._groups.add_membership(
                    group.id, user_id, MembershipStatus.MEMBER, consent_version, now
                )
        except Exception:
            await self._revoke(group, user_id)
            raise
        # Who is in which group never goes to INFO, not even by id.
        log.debug("member seated group=%d user=%d", group.id, user_id)
        return JoinOutcome(JoinResult.SEATED, group)

    async def leave(self, guild_id: int, user_id: int, name: str) -> LeaveOutcome:
        group = await self._groups.find_active(guild_id, name)
        if group is None:
            group = await self.get_active(guild_id, name)  # raises the right message
        return await self._leave(
            group,
            user_id,
            not_in_group=f"You're not in “{group.name}”, so there's nothing to leave.",
        )

    async def _leave(
        self, group: Group, user_id: int, *, not_in_group: str, removed: bool = False
    ) -> LeaveOutcome:
        async with self._lock(group.id):
            existing = await self._groups.membership(group.id, user_id)
            if existing is None:
                raise Conflict(not_in_group)
            if existing.status is MembershipStatus.MEMBER:
                await self._revoke(group, user_id)
            async with self._db.transaction():
                await self._groups.delete_membership(group.id, user_id)
                if removed:  # their next join goes to the facilitators
                    await self._groups.mark_removed(group.id, user_id, self._clock.now())
            log.debug("membership ended group=%d user=%d removed=%s", group.id, user_id, removed)
            promoted = await self._promote_waitlist(group)
        await self._bus.publish(GroupChanged(group.id))
        return LeaveOutcome(group, promoted)

    async def _promote_waitlist(self, group: Group) -> list[int]:
        """Seat people from the waitlist, first in line first, while seats are free."""
        promoted: list[int] = []
        while True:
            taken = await self._groups.count(group.id, MembershipStatus.MEMBER)
            if taken >= seat_limit(group):
                break
            nxt = await self._groups.first_waitlisted(group.id)
            if nxt is None:
                break
            try:
                await self._seat_or_waitlist(
                    group, nxt.user_id, nxt.consent_version, self._clock.now(), existing=True
                )
            except UserFacingError:
                log.warning("waitlist promotion failed group=%d", group.id)
                break
            promoted.append(nxt.user_id)
            await self._discord.send_dm(
                nxt.user_id,
                Notice(
                    f"A seat opened in {group.name}",
                    f"Good news: a seat opened in **{group.name}** and it's yours. "
                    "You can now see the group's private channel. Welcome! 💙",
                ),
            )
        return promoted

    async def decide(
        self, group_id: int, user_id: int, approve: bool, *, guild_id: int | None
    ) -> Decision:
        """A facilitator approves or denies a pending request (from the alerts buttons).

        A denial starts REQUEST_WAIT before the next request; an approval clears the slate."""
        group = await self._get_in_guild(group_id, guild_id)
        async with self._lock(group.id):
            existing = await self._groups.membership(group.id, user_id)
            if existing is None or existing.status is not MembershipStatus.PENDING:
                return Decision(group, user_id, None, already_decided=True)
            if not group.is_active:
                await self._groups.delete_membership(group.id, user_id)
                return Decision(group, user_id, None, already_decided=True)
            now = self._clock.now()
            if not approve:
                async with self._db.transaction():
                    await self._groups.delete_membership(group.id, user_id)
                    await self._groups.mark_denied(group.id, user_id, now)
                log.debug("join request denied group=%d user=%d", group.id, user_id)
                again = now + REQUEST_WAIT
                await self._discord.send_dm(
                    user_id,
                    Notice(
                        f"About {group.name}",
                        f"Thank you for asking to join **{group.name}**. The facilitators weren't "
                        "able to offer you a place this time. You're welcome to look at other "
                        "groups with `/group list`, or to reach out to a facilitator. If you'd "
                        f"like to ask again, you can from {discord_timestamp(again)}.",
                    ),
                )
                return Decision(group, user_id, None)
            outcome = await self._seat_or_waitlist(
                group, user_id, existing.consent_version, now, existing=True
            )
            await self._groups.clear_join_review(group.id, user_id)
            log.debug("join request approved group=%d user=%d", group.id, user_id)
        if outcome.result is JoinResult.SEATED:
            body = (
                f"Your request to join **{group.name}** was approved. You can now see the "
                "group's private channel. Welcome! 💙"
            )
        else:
            body = (
                f"Your request to join **{group.name}** was approved. The group is full right "
                f"now, so you're number {outcome.position} on the waitlist; I'll message you "
                "when a seat opens."
            )
        await self._discord.send_dm(user_id, Notice(f"About {group.name}", body))
        await self._bus.publish(GroupChanged(group.id))
        return Decision(group, user_id, outcome)

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
        removed = 0
        changed: list[int] = []
        for membership, group in await self._groups.memberships_for_privacy(user_id, guild_id):
            async with self._lock(group.id):
                if membership.status is MembershipStatus.MEMBER:
                    try:
                        await self._revoke(group, user_id, keep_facilitator=False)
                    except UserFacingError:  # their data still goes; the channel is Discord's
                        log.warning("forget: access not removed group=%d", group.id)
                if await self._groups.delete_membership(group.id, user_id):
                    removed += 1
                if group.is_active:
                    await self._promote_waitlist(group)
            changed.append(group.id)
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
        for group_id in changed:
            with contextlib.suppress(Exception):
                await self._bus.publish(GroupChanged(group_id))
        return removed

    # --- channel access: one member overwrite per person, never a role ------------------------
    async def _reader_ids(self, group: Group) -> list[int]:
        """Everyone who should see the group's channel: its members and its facilitators."""
        members = await self._groups.list_by_status(group.id, MembershipStatus.MEMBER)
        facilitators = await self._groups.facilitators(group.id)
        return list(dict.fromkeys([m.user_id for m in members] + [f.user_id for f in facilitators]))

    async def _grant(self, group: Group, user_id: int) -> None:
        if group.channel_id:
            await self._discord.grant_channel_access(
                group.guild_id, group.channel_id, user_id, read_only=not group.is_active
            )

    async def _revoke(self, group: Group, user_id: int, *, keep_facilitator: bool = True) -> None:
        """Close the channel to someone leaving; a facilitator of the group keeps their access
        (same overwrite) unless they are being forgotten."""
        facilitator = keep_facilitator and any(
            f.user_id == user_id for f in await self._groups.facilitators(group.id)
        )
        if group.channel_id and not facilitator:
            await self._discord.revoke_channel_access(group.guild_id, group.channel_id, user_id)
        if group.role_id is not None:  # a group from before the upgrade, not yet upgraded
            await self._discord.remove_member_role(group.guild_id, user_id, group.role_id)

    async def upgrade_old_role(self, group: Group) -> bool:
        """Replace a group's old named role by per-person access (the upgrade, see
        services/groups/group_access.py). Every step repeats safely: True once role_id is cleared."""
        async with self._lock(group.id):
            current = await self._groups.get(group.id)
            if current is None or current.role_id is None:
                return True
            readers = await self._reader_ids(current)
            if len(readers) > CHANNEL_OVERWRITES_MAX - RESERVED_OVERWRITES:
                log.warning("group too large for per-person access group=%d", group.id)
                return False
            try:
                for user_id in readers:  # members keep access before the role goes
                    await self._grant(current, user_id)
            except ChannelGone:  # no channel, no access to keep: only the label is left
                log.warning("upgrade: group channel gone group=%d", group.id)
            return await self._drop_old_role(current)

    async def _drop_old_role(self, group: Group) -> bool:
        assert group.role_id is not None
        if group.channel_id:
            # The role's own overwrite on the channel (Discord drops it with the role too).
            await self._discord.revoke_channel_access(
                group.guild_id, group.channel_id, group.role_id
            )
        if not await self._discord.delete_role(group.guild_id, group.role_id):
            return False
        await self._groups.update(group.id, role_id=None)
        log.info("group role replaced by channel access group=%d", group.id)
        return True
