"""`/my calendar` and live calendar links: the file, the member's title choice, their
private feed token and the feed a calendar app fetches with it.

Tokens (README "Live calendar links"):

* One per (server, member): 32 random bytes from :mod:`secrets` (256 bits), URL-safe.
  A link names one member in one server, so a leaked link shows that member's sessions
  in that server and nothing else.
* Only a SHA-256 of the token is stored. The link is shown once, when it is made or
  renewed; after that `/my calendar` says a link exists and how to get a new one. A
  database copy or backup therefore holds no working link (an HMAC of a stored secret
  could show the link again, but would put every link in every backup).
* Looked up by its hash (an index), and the stored hash is compared in constant time.
* A new link replaces the hash, so the old URL finds nothing (404) at once.

The feed is exactly `/my calendar`'s file for that member and server at request time,
with the member's title choice, except its DTSTAMP: the instant this process first
served those contents (kept in memory), which is also the Last-Modified, so an unchanged
calendar keeps the same bytes and ETag.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from familybot import i18n
from familybot.clock import Clock
from familybot.db.repositories.calendar_feeds import CalendarFeedRepository
from familybot.errors import UserFacingError
from familybot.i18n import _
from familybot.models.calendar import MyCalendar
from familybot.services.privacy.retention import MemberPresence
from familybot.services.sessions.service import SessionsService

log = logging.getLogger(__name__)

TITLES = ("neutral", "full")
DEFAULT_TITLES = "neutral"  # privacy first: no group names until the member asks for them
FEED_PATH = "/calendar/{token}.ics"
# 32 bytes of token_urlsafe: 43 characters of [A-Za-z0-9_-].
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")
# Built with this DTSTAMP, then given the real one: the contents' fingerprint ignores it.
_CANONICAL_STAMP = datetime(2000, 1, 1, tzinfo=UTC)
_STAMPS_KEPT = 10_000
PRESENCE_TTL = timedelta(minutes=10)  # how long Discord's answer about a member is trusted


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class FeedResponse:
    body: bytes
    etag: str  # quoted, as sent
    last_modified: datetime


class CalendarFeedService:
    def __init__(
        self,
        repo: CalendarFeedRepository,
        sessions: SessionsService,
        clock: Clock,
        base_url: str | None = None,
        presence: MemberPresence | None = None,
    ) -> None:
        self._repo = repo
        self._sessions = sessions
        self._clock = clock
        self._base_url = base_url.rstrip("/") if base_url else None
        # token hash -> (fingerprint of the contents, when first served): Last-Modified.
        self._stamps: OrderedDict[str, tuple[bytes, datetime]] = OrderedDict()
        #: Asks Discord whether the member is still on the server (None without a Discord
        #: client, as in the command-line tools). Without the members intent a departure is otherwise only noticed
        #: by the daily sweep, and a removed member's link would show the schedule till then.
        self.presence = presence
        self._present: OrderedDict[tuple[int, int], tuple[bool, datetime]] = OrderedDict()

    @property
    def feed_on(self) -> bool:
        return self._base_url is not None

    async def my_calendar(
        self, guild_id: int, user_id: int, *, new_link: bool = False, titles: str | None = None
    ) -> MyCalendar:
        """The member's file (with their title choice, saved first if given) and, where the
        feed runs, their link: made on first use or when ``new_link`` asks (revoking the
        old one), otherwise only said to exist."""
        if titles is not None:
            if titles not in TITLES:
                raise UserFacingError(_("Event titles can be `neutral` or `full`."))
            await self._repo.set_titles(guild_id, user_id, titles, self._clock.now())
        row = await self._repo.get(guild_id, user_id)
        chosen = row.titles if row is not None else DEFAULT_TITLES
        ics, count = await self._sessions.calendar_for(
            guild_id, user_id, neutral=chosen == "neutral"
        )
        if self._base_url is None:
            return MyCalendar(ics, count, chosen, feed_on=False)
        had_link = row is not None and row.has_link
        if had_link and not new_link:
            assert row is not None
            return MyCalendar(ics, count, chosen, feed_on=True, link_since=row.link_created_at)
        token = secrets.token_urlsafe(32)
        await self._repo.set_token_hash(guild_id, user_id, hash_token(token), self._clock.now())
        log.info(
            "calendar link %s guild=%d user=%d",
            "renewed" if had_link else "made",
            guild_id,
            user_id,
        )
        return MyCalendar(
            ics,
            count,
            chosen,
            feed_on=True,
            url=self._base_url + FEED_PATH.format(token=token),
            token=token,
            renewed=had_link,
        )

    async def _still_member(self, guild_id: int, user_id: int) -> bool:
        """Whether Discord still lists them on the server, asked at most every few minutes
        per member; when Discord can't say, the link keeps working (the sweep decides)."""
        if self.presence is None:
            return True
        key = (guild_id, user_id)
        now = self._clock.now()
        known = self._present.get(key)
        if known is not None and now - known[1] < PRESENCE_TTL:
            return known[0]
        answer = await self.presence.is_member(guild_id, user_id)
        present = answer is not False
        self._present[key] = (present, now)
        self._present.move_to_end(key)
        while len(self._present) > _STAMPS_KEPT:
            self._present.popitem(last=False)
        return present

    async def feed(self, token: str) -> FeedResponse | None:
        """The calendar behind ``token``, or None (no such link, revoked, or its member or
        server gone). Never logs the token."""
        if not TOKEN_RE.fullmatch(token):
            return None
        digest = hash_token(token)
        found = await self._repo.find_by_token_hash(digest)
        if found is None:
            return None
        row, stored = found
        if not hmac.compare_digest(stored.encode("ascii"), digest.encode("ascii")):
            return None
        if not await self._still_member(row.guild_id, row.user_id):
            return None
        # No interaction here (a calendar app asks): the member's stored language, else
        # the server's, as for a DM.
        with i18n.using(i18n.for_dm(row.user_id, row.guild_id)):
            ics, _count = await self._sessions.calendar_for(
                row.guild_id,
                row.user_id,
                neutral=row.titles == "neutral",
                dtstamp=_CANONICAL_STAMP,
            )
        contents = hashlib.sha256(ics).digest()
        kept = self._stamps.get(digest)
        if kept is not None and kept[0] == contents:
            stamp = kept[1]
            self._stamps.move_to_end(digest)
        else:
            stamp = self._clock.now().astimezone(UTC).replace(microsecond=0)
            self._stamps[digest] = (contents, stamp)
            while len(self._stamps) > _STAMPS_KEPT:
                self._stamps.popitem(last=False)
        # icalendar is imported when a calendar is first built, not at start-up (issue 15).
        from familybot.services.sessions.calendar import restamp

        body = restamp(ics, _CANONICAL_STAMP, stamp)
        etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
        return FeedResponse(body, etag, stamp)

    # --- privacy (services/privacy/service.py calls these) -----------------------------------------
    async def export_user_data(self, user_id: int) -> list[dict[str, object]]:
        return list(await self._repo.export(user_id))

    # Its forget runs statements only: /my forget runs it with the others in one transaction
    # (services/privacy/service.py, StatementsOnly).
    forgets_with_statements_only = True

    async def delete_user_data(self, user_id: int) -> int:
        return await self._repo.forget(user_id)

    async def delete_user_guild_data(self, guild_id: int, user_id: int) -> int:
        return await self._repo.forget(user_id, guild_id)
