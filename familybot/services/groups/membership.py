"""Joining and leaving a group: consent-first joining, capacity and waitlist, approvals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from familybot import i18n
from familybot.errors import Conflict, UserFacingError
from familybot.events import GroupChanged
from familybot.i18n import _
from familybot.models import (
    Group,
    JoinMode,
    JoinReview,
    Membership,
    MembershipStatus,
)
from familybot.models.groups import (
    Decision,
    JoinOutcome,
    JoinResult,
    LeaveOutcome,
)
from familybot.models.notices import Notice
from familybot.services.groups.base import GroupsBase
from familybot.services.groups.rules import (
    REQUEST_WAIT,
    seat_limit,
    shown_guidelines,
)
from familybot.services.sessions.recurrence import discord_timestamp

log = logging.getLogger(__name__)


def _archived(group: Group) -> str:
    return _("“{group}” has been archived, so it can't be joined.").format(group=group.name)


def _about(group: Group) -> str:
    """A DM's title about one group (in the current language: the recipient's)."""
    return _("About {group}").format(group=group.name)


class GroupMembership(GroupsBase):
    """Member actions: join (with consent), leave, the waitlist, facilitators' decisions."""

    # --- member actions ---------------------------------------------------------------------
    async def prepare_join(self, guild_id: int, user_id: int, name: str) -> Group:
        """Check a join can start; the caller then shows the guidelines for consent (the
        default guidelines in the reader's language)."""
        return await self._prepare_join(await self.get_active(guild_id, name), user_id)

    async def prepare_join_id(self, guild_id: int | None, user_id: int, group_id: int) -> Group:
        """As prepare_join, for a group picked from a menu (by id, only in its own server)."""
        group = await self._get_in_guild(group_id, guild_id)
        if not group.is_active:
            raise Conflict(_archived(group))
        return await self._prepare_join(group, user_id)

    async def _prepare_join(self, group: Group, user_id: int) -> Group:
        await self._ensure_not_joined(group, user_id)
        review = await self._review_of(group, user_id)
        if group.join_mode is JoinMode.APPROVAL or review is not None:
            await self._require_alerts_channel(group, reviewed=review is not None)
        return replace(group, guidelines=shown_guidelines(group))

    async def _review_of(self, group: Group, user_id: int) -> JoinReview | None:
        """Whether this person's join must go to the facilitators (removed or denied before);
        refuses kindly while a denial is less than REQUEST_WAIT old."""
        review = await self._groups.join_review(group.id, user_id)
        if review is not None and review.denied_at is not None:
            again = review.denied_at + REQUEST_WAIT
            if self._clock.now() < again:
                raise Conflict(
                    _(
                        "Thank you for wanting to join “{group}”. The facilitators looked at "
                        "your last request recently, so you can ask again from {when} "
                        "({relative}). Until then, `/group list` shows the other groups, and "
                        "`/crisis` is there any time."
                    ).format(
                        group=group.name,
                        when=discord_timestamp(again),
                        relative=discord_timestamp(again, "R"),
                    )
                )
        return review

    async def _ensure_not_joined(self, group: Group, user_id: int) -> None:
        existing = await self._groups.membership(group.id, user_id)
        if existing is None:
            return
        if existing.status is MembershipStatus.MEMBER:
            raise Conflict(_("You're already a member of “{group}”. 💙").format(group=group.name))
        if existing.status is MembershipStatus.WAITLISTED:
            position = await self._groups.waitlist_position(group.id, user_id)
            raise Conflict(
                _(
                    "You're already on the waitlist for “{group}” (number {position} in line). "
                    "I'll message you when a seat opens."
                ).format(group=group.name, position=position)
            )
        raise Conflict(
            _(
                "Your request to join “{group}” is already with the facilitators. "
                "I'll message you when they've looked at it."
            ).format(group=group.name)
        )

    async def _require_alerts_channel(self, group: Group, *, reviewed: bool = False) -> int:
        channel_id = (await self._settings.get(group.guild_id)).alerts_channel_id
        if channel_id is None and reviewed:
            raise Conflict(
                _(
                    "Your request to join “{group}” needs a facilitator to look at it first, "
                    "but the server hasn't set up a place for those requests yet. Please let a "
                    "facilitator know."
                ).format(group=group.name)
            )
        if channel_id is None:
            raise Conflict(
                _(
                    "“{group}” asks facilitators to approve new members, but the server "
                    "hasn't set up a place for those requests yet. Please let a facilitator know."
                ).format(group=group.name)
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
            raise Conflict(_archived(group))
        if consent_version != group.guidelines_version:
            raise Conflict(
                _(
                    "The guidelines for “{group}” changed since you opened them. "
                    "Please run `/group join` again to read the current version."
                ).format(group=group.name)
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
        await self._bus.publish(GroupChanged((group.id,)))
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
            not_in_group=_("You're not in “{group}”, so there's nothing to leave.").format(
                group=group.name
            ),
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
        await self._bus.publish(GroupChanged((group.id,)))
        return LeaveOutcome(group, promoted)

    async def _leave_all(
        self, user_id: int, memberships: Sequence[tuple[Membership, Group]]
    ) -> int:
        """Leave these groups as /group leave would (channel closed to them, waitlist moves
        on), for /my forget: the channels are closed together and the rows go in one
        statement, not a Discord round trip and a commit per group in turn (issue 15). Every
        group's lock is held meanwhile, taken in id order (no other path holds two)."""
        groups = {group.id: group for _, group in memberships}
        async with contextlib.AsyncExitStack() as held:
            for group_id in sorted(groups):
                await held.enter_async_context(self._lock(group_id))

            async def close(group: Group) -> None:
                try:
                    await self._revoke(group, user_id, keep_facilitator=False)
                except UserFacingError:  # their data still goes; the channel is Discord's
                    log.warning("forget: access not removed group=%d", group.id)

            # Read again under the locks: a /group leave that held one may have seated them
            # from the waitlist (and opened the channel to them) since `memberships` was read.
            now = await self._groups.statuses(user_id, sorted(groups))
            members = [g for gid, g in groups.items() if now.get(gid) is MembershipStatus.MEMBER]
            # Every close ends before the locks go or anything is deleted, even when one fails
            # (then nothing is deleted and /my forget can be asked again).
            for outcome in await asyncio.gather(
                *(close(g) for g in members), return_exceptions=True
            ):
                if isinstance(outcome, BaseException):
                    raise outcome
            removed = await self._groups.delete_memberships(user_id, sorted(groups))
            # Only where someone waits: one look-up for all, not two per group.
            for group_id in sorted(await self._groups.with_waitlist(sorted(groups))):
                if groups[group_id].is_active:
                    await self._promote_waitlist(groups[group_id])
        return removed

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
            # A DM reads its recipient's language, whoever's action opened the seat.
            with i18n.using(i18n.for_dm(nxt.user_id, group.guild_id)):
                notice = Notice(
                    _("A seat opened in {group}").format(group=group.name),
                    _(
                        "Good news: a seat opened in **{group}** and it's yours. "
                        "You can now see the group's private channel. Welcome! 💙"
                    ).format(group=group.name),
                )
            await self._discord.send_dm(nxt.user_id, notice)
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
                with i18n.using(i18n.for_dm(user_id, group.guild_id)):
                    notice = Notice(
                        _about(group),
                        _(
                            "Thank you for asking to join **{group}**. The facilitators weren't "
                            "able to offer you a place this time. You're welcome to look at "
                            "other groups with `/group list`, or to reach out to a facilitator. "
                            "If you'd like to ask again, you can from {when}."
                        ).format(group=group.name, when=discord_timestamp(again)),
                    )
                await self._discord.send_dm(user_id, notice)
                return Decision(group, user_id, None)
            outcome = await self._seat_or_waitlist(
                group, user_id, existing.consent_version, now, existing=True
            )
            await self._groups.clear_join_review(group.id, user_id)
            log.debug("join request approved group=%d user=%d", group.id, user_id)
        with i18n.using(i18n.for_dm(user_id, group.guild_id)):
            if outcome.result is JoinResult.SEATED:
                body = _(
                    "Your request to join **{group}** was approved. You can now see the "
                    "group's private channel. Welcome! 💙"
                ).format(group=group.name)
            else:
                body = _(
                    "Your request to join **{group}** was approved. The group is full right "
                    "now, so you're number {position} on the waitlist; I'll message you "
                    "when a seat opens."
                ).format(group=group.name, position=outcome.position)
            notice = Notice(_about(group), body)
        await self._discord.send_dm(user_id, notice)
        await self._bus.publish(GroupChanged((group.id,)))
        return Decision(group, user_id, outcome)
