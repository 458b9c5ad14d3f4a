"""The vetted resource library: suggest -> review (approve / reject) -> search, share, retire."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from familybot import i18n
from familybot.clock import Clock
from familybot.db.repositories.digest_posts import DigestPostRepository
from familybot.db.repositories.resources import ResourceRepository
from familybot.db.repositories.settings import SettingsRepository
from familybot.errors import Conflict, DiscordActionFailed, NotAllowed, NotFound, UserFacingError
from familybot.models import Resource, ResourceStatus
from familybot.models.notices import Notice
from familybot.models.resources import REASON_MAX, ResourceListing, ReviewDecision
from familybot.models.setup import Actor
from familybot.services.resources.digest import ReviewDigest
from familybot.services.resources.fuzzy import (
    FUZZY_INLINE_CANDIDATES,
    FUZZY_INLINE_SIFT,
    FUZZY_MAX_TERMS,
    TERM_RE,
    above,
    close_term_lengths,
    close_terms,
    letters_allow,
)
from familybot.services.resources.ports import ResourcesPort
from familybot.services.resources.rules import (
    REVIEW_MONTHS,
    add_months,
    added_notice,
    clean_fields,
    clean_reason,
    rejected_notice,
    suggested_notice,
)
from familybot.services.sessions.recurrence import discord_timestamp
from familybot.services.setup.service import SetupService

log = logging.getLogger(__name__)

SEARCH_LIMIT = 10
FACILITATORS_ONLY = i18n.lazy_gettext(
    "Only facilitators can do that. If you think you should be able to, ask an admin."
)


@dataclass(frozen=True)
class Suggested:
    resource: Resource
    facilitators_told: bool


class ResourcesService:
    def __init__(
        self,
        repo: ResourceRepository,
        settings: SettingsRepository,
        setup: SetupService,
        discord: ResourcesPort,
        clock: Clock,
        digest_posts: DigestPostRepository,
    ) -> None:
        self._digest = ReviewDigest(repo, settings, digest_posts, discord, clock)
        self._repo = repo
        self._settings = settings
        self._setup = setup
        self._discord = discord
        self._clock = clock

    async def _require_facilitator(self, guild_id: int, actor: Actor) -> None:
        if not await self._setup.is_facilitator(guild_id, actor):
            raise NotAllowed(str(FACILITATORS_ONLY))

    def _review_due(self, now: datetime) -> datetime:
        return add_months(now, REVIEW_MONTHS)

    async def allow_http(self, guild_id: int) -> bool:
        return await self._repo.allow_http(guild_id)

    async def set_allow_http(self, guild_id: int, actor: Actor, allow: bool) -> None:
        if not actor.is_admin:
            raise NotAllowed(
                i18n._("Only server admins (with the Manage Server permission) can do that.")
            )
        await self._repo.set_allow_http(guild_id, allow)

    # --- the vetting workflow ---------------------------------------------------------------
    async def suggest(self, guild_id: int, user_id: int, fields: Mapping[str, object]) -> Suggested:
        item = clean_fields(fields, allow_http=await self._repo.allow_http(guild_id))
        resource = await self._repo.create(
            guild_id,
            item,
            status=ResourceStatus.PENDING,
            suggested_by=user_id,
            now=self._clock.now(),
        )
        log.info("resource suggested guild=%d resource=%d", guild_id, resource.id)
        alerts = (await self._settings.get(guild_id)).alerts_channel_id
        told = False
        if alerts is not None:
            with i18n.using(i18n.for_guild(guild_id)):
                notice = suggested_notice(item.title, item.category)
            told = await self._discord.post_notice(alerts, notice)
        return Suggested(resource, told)

    async def add(self, guild_id: int, actor: Actor, fields: Mapping[str, object]) -> Resource:
        await self._require_facilitator(guild_id, actor)
        item = clean_fields(fields, allow_http=await self._repo.allow_http(guild_id))
        now = self._clock.now()
        resource = await self._repo.create(
            guild_id,
            item,
            status=ResourceStatus.APPROVED,
            suggested_by=actor.user_id,
            vetted_by=actor.user_id,
            now=now,
            review_due_at=self._review_due(now),
        )
        log.info("resource added guild=%d resource=%d", guild_id, resource.id)
        return resource

    async def next_pending(self, guild_id: int, actor: Actor) -> tuple[Resource | None, int]:
        """The oldest pending suggestion, and how many are pending in all."""
        await self._require_facilitator(guild_id, actor)
        return await self._repo.next_pending(guild_id), await self._repo.count_pending(guild_id)

    async def _pending(self, guild_id: int, resource_id: int) -> Resource:
        resource = await self._repo.get(resource_id)
        if resource is None or resource.guild_id != guild_id:
            raise NotFound(i18n._("That suggestion no longer exists."))
        return resource

    async def approve(self, guild_id: int, resource_id: int, actor: Actor) -> ReviewDecision:
        await self._require_facilitator(guild_id, actor)
        resource = await self._pending(guild_id, resource_id)
        now = self._clock.now()
        changed = await self._repo.decide(
            resource_id,
            from_status=ResourceStatus.PENDING,
            to_status=ResourceStatus.APPROVED,
            actor_id=actor.user_id,
            now=now,
            review_due_at=self._review_due(now),
        )
        updated = await self._pending(guild_id, resource_id)
        if not changed:
            return ReviewDecision(updated, updated.status is ResourceStatus.APPROVED, True)
        log.info("resource approved guild=%d resource=%d", guild_id, resource_id)
        told = await self._tell_suggester(resource, lambda: added_notice(resource.title))
        return ReviewDecision(updated, True, suggester_told=told)

    async def reject(
        self, guild_id: int, resource_id: int, actor: Actor, reason: str
    ) -> ReviewDecision:
        await self._require_facilitator(guild_id, actor)
        reason = clean_reason(reason)
        resource = await self._pending(guild_id, resource_id)
        changed = await self._repo.decide(
            resource_id,
            from_status=ResourceStatus.PENDING,
            to_status=ResourceStatus.REJECTED,
            actor_id=actor.user_id,
            now=self._clock.now(),
            reason=reason,
        )
        updated = await self._pending(guild_id, resource_id)
        if not changed:
            return ReviewDecision(updated, updated.status is ResourceStatus.APPROVED, True)
        log.info("resource rejected guild=%d resource=%d", guild_id, resource_id)
        told = await self._tell_suggester(resource, lambda: rejected_notice(resource.title, reason))
        return ReviewDecision(updated, False, suggester_told=told)

    async def _tell_suggester(self, resource: Resource, notice: Callable[[], Notice]) -> bool:
        """A DM to who suggested it, written in their language (else the server's)."""
        if resource.suggested_by is None:
            return False
        with i18n.using(i18n.for_dm(resource.suggested_by, resource.guild_id)):
            written = notice()
        return await self._discord.send_dm(resource.suggested_by, written)

    async def retire(self, guild_id: int, actor: Actor, ref: str, reason: str) -> Resource:
        await self._require_facilitator(guild_id, actor)
        reason = clean_reason(reason)
        resource = await self.find_approved(guild_id, ref)
        if not await self._repo.decide(
            resource.id,
            from_status=ResourceStatus.APPROVED,
            to_status=ResourceStatus.RETIRED,
            actor_id=actor.user_id,
            now=self._clock.now(),
            reason=reason,
        ):
            raise Conflict(i18n._("That resource was already retired."))
        log.info("resource retired guild=%d resource=%d", guild_id, resource.id)
        return resource

    # --- re-review (the weekly digest's to-do list) --------------------------------------------
    async def due_for_review(self, guild_id: int, typed: str = "") -> list[Resource]:
        """What the review digest lists for this server (autocomplete for /resource reviewed)."""
        return await self._repo.due_for_review_in(guild_id, self._clock.now(), typed[:150])

    async def mark_reviewed(
        self, guild_id: int, actor: Actor, ref: str, note: str | None = None
    ) -> Resource:
        """A facilitator checked a due (or broken-link) resource again: they become its
        vetter, today its vetting date, and its next review is REVIEW_MONTHS away."""
        await self._require_facilitator(guild_id, actor)
        text = (note or "").strip() or None
        if text is not None and len(text) > REASON_MAX:
            raise UserFacingError(
                i18n._("Please keep the note to {limit} characters or fewer.").format(
                    limit=REASON_MAX
                )
            )
        resource = await self.find_approved(guild_id, ref)
        now = self._clock.now()
        due_at = resource.review_due_at
        if resource.flagged_at is None and due_at is not None and due_at > now:
            raise Conflict(
                i18n._(
                    "“{title}” isn't due for review yet (next review: {when}), so nothing was "
                    "changed. The list shows the ones that are due."
                ).format(title=resource.title, when=discord_timestamp(due_at, "D"))
            )
        if not await self._repo.mark_reviewed(
            resource.id,
            actor_id=actor.user_id,
            now=now,
            review_due_at=self._review_due(now),
            note=text,
        ):
            raise Conflict(i18n._("That resource was retired meanwhile, so nothing was changed."))
        log.info("resource re-reviewed guild=%d resource=%d", guild_id, resource.id)
        updated = await self._repo.get(resource.id)
        assert updated is not None
        return updated

    # --- finding things (approved only) -------------------------------------------------------
    async def find_approved(self, guild_id: int, ref: str) -> Resource:
        """A resource by autocomplete value (its id) or by exact title; approved ones only."""
        ref = ref.strip()
        if ref.isdigit():
            resource = await self._repo.get(int(ref))
            if (
                resource is not None
                and resource.guild_id == guild_id
                and resource.status is ResourceStatus.APPROVED
            ):
                return resource
        else:
            key = " ".join(ref.split()).casefold()
            for resource in await self._repo.titles_like(
                guild_id, ref[:150], [ResourceStatus.APPROVED]
            ):
                if " ".join(resource.title.split()).casefold() == key:
                    return resource
        raise NotFound(
            i18n._(
                "I couldn't find that resource in the library. Please pick one from the list, "
                "or try `/resource search`."
            )
        )

    async def share(self, guild_id: int, ref: str, channel_id: int) -> Resource:
        resource = await self.find_approved(guild_id, ref)
        if not await self._discord.post_resource(channel_id, resource):
            raise DiscordActionFailed(
                i18n._(
                    "Discord didn't let me post in that channel. I may be missing the Send "
                    "Messages or Embed Links permission there; an admin can check with "
                    "`/setup show`."
                )
            )
        log.info("resource shared guild=%d resource=%d", guild_id, resource.id)
        return resource

    async def autocomplete(self, guild_id: int, typed: str) -> list[Resource]:
        return await self._repo.titles_like(guild_id, typed[:150], [ResourceStatus.APPROVED])

    async def categories(self, guild_id: int, typed: str = "") -> list[str]:
        key = typed.casefold().strip()
        return [c for c in await self._repo.categories(guild_id) if key in c.casefold()][:25]

    async def list_resources(
        self, guild_id: int, category: str | None = None, *, limit: int = 25
    ) -> ResourceListing:
        items, total = await self._repo.list_approved(guild_id, category or None, limit)
        return ResourceListing(items, total)

    async def search(
        self, guild_id: int, query: str, category: str | None = None
    ) -> list[Resource]:
        terms = [t.casefold() for t in TERM_RE.findall(query)][:8]
        if not terms:
            raise UserFacingError(i18n._("Please type a word or two to search for."))
        # Quoted terms are always safe FTS5 syntax: \w+ contains no quotes or operators.
        groups = [[f'"{t}"', f'"{t}"*'] for t in terms]
        if len(terms) == 1:  # its best, without ranking all its matches (issue 15)
            results = await self._repo.search_word(
                guild_id, terms[0], category or None, SEARCH_LIMIT, prefix=True
            )
        else:
            results = await self._run(guild_id, groups, "AND", category)
        if not results and len(terms) > 1:
            results = await self._run(guild_id, groups, "OR", category)
        if not results and len(terms) <= FUZZY_MAX_TERMS:
            # The typed words matched nothing here (the searches above), so only their close
            # words can: they alone are searched (the same results in the same order: a phrase
            # matching nothing adds nothing to a resource's rank), and when no word is close
            # enough there is nothing to search (the no-match case stops here).
            close = [near for near in [await self._close_terms(t) for t in terms] if near]
            if len(close) == 1 and len(close[0]) == 1:
                # One close word (the usual typo): its best, without ranking all its matches.
                return await self._repo.search_word(
                    guild_id, close[0][0], category or None, SEARCH_LIMIT, prefix=False
                )
            if close:
                fuzzy = [[f'"{v}"' for v in near] for near in close]
                results = await self._run(guild_id, fuzzy, "OR", category)
        return results

    async def _close_terms(self, term: str) -> list[str]:
        """The index words a small edit away from `term`, exactly as `fuzzy.close_terms` finds them
        over the whole vocabulary, but comparing only candidates from the trigram index.

        Why that is the same answer (difflib's ratio is 2M/T, M matched characters in blocks
        of common text, T both lengths): a word sharing no padded trigram with `term` has
        blocks of at most 2 characters, none at the start of both words, and none of 2 at the
        end of both, so at least one unmatched character per block and a ratio of at most 0.8.
        That covers the prefix comparison (0.8 needed) and every word above 0.8; only when
        fewer than 3 candidates are above 0.8 can words of 0.7-0.8 reach the top 3, and those
        share a bigram with `term`, so the bigram candidates are added then."""
        shortest, longest = close_term_lengths(term)
        candidates = await self._repo.close_term_candidates(term, shortest, longest)
        more: list[str] = []
        have_more = False
        while True:
            # Checked again after gone words are dropped: they may have been the 3 above 0.8.
            if not have_more and above(term, candidates, 0.8) < 3:
                low, high = close_term_lengths(term, prefixes=False)
                more = await self._repo.close_term_candidates(term, low, high, bigrams=True)
                have_more = True
            if more and len(more) <= FUZZY_INLINE_SIFT:
                # Most words sharing only a two-letter piece lack the letters to be close.
                more = letters_allow(term, more)
            if len(candidates) + len(more) <= FUZZY_INLINE_CANDIDATES:
                close = close_terms(term, candidates, more)
            else:
                # Many candidates (very common pieces): CPU work, in a thread, off the loop.
                close = await asyncio.to_thread(close_terms, term, candidates, more)
            # A word the index no longer holds (its resources went) is not offered.
            gone = set(await self._repo.drop_gone_terms(close))
            if not gone:
                return close
            candidates = [c for c in candidates if c not in gone]
            more = [c for c in more if c not in gone] if more else more

    async def _run(
        self, guild_id: int, groups: list[list[str]], joiner: str, category: str | None
    ) -> list[Resource]:
        match = f" {joiner} ".join("(" + " OR ".join(g) + ")" for g in groups)
        return await self._repo.search(guild_id, match, category or None, SEARCH_LIMIT)

    # --- upkeep ---------------------------------------------------------------------------------
    async def post_review_digest(self) -> int:
        """Post each server's resources due for review to its alerts channel, once per
        period (services/resources/digest.py). Returns posts."""
        return await self._digest.post()

    # --- privacy ----------------------------------------------------------------------------------
    async def export_user_data(self, user_id: int) -> list[dict[str, object]]:
        return [
            {
                "title": r.title,
                "url": r.url,
                "status": r.status.value,
                "suggested_by_you": r.suggested_by == user_id,
                "vetted_by_you": r.vetted_by == user_id,
                "suggested_at": r.suggested_at.isoformat(),
            }
            for r in await self._repo.by_suggester(user_id)
        ]

    # Its forget runs statements only: /my forget runs it with the others in one transaction
    # (services/privacy/service.py, StatementsOnly).
    forgets_with_statements_only = True

    async def delete_user_data(self, user_id: int) -> int:
        return await self._repo.forget_user(user_id)

    async def delete_user_guild_data(self, guild_id: int, user_id: int) -> int:
        return await self._repo.forget_user(user_id, guild_id)
