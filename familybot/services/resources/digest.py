"""The review digest: each server's post once per period, even across a crash (issue 16).

The leader runs the digest once per period (familybot/scheduler/leader.py), but a process
can die between Discord taking a post and the run being stamped finished; the next leader
then runs it again. So each server's post is recorded before it is sent (digest_posts:
the intent, with a nonce sent along with `enforce_nonce`) and its message id after. A run
finding an intent without a message id knows that post was interrupted:

* within NONCE_MEMORY of the intent, it resends with the same nonce: Discord answers with
  the first message if it had it, rather than posting a second;
* past that, it looks once (one history request, 100 messages from the intent on) for this
  bot's message with this digest (its embed's title and text: Discord does not keep a
  message's nonce, so history shows none; the title is compared with its count left out, in
  every plural form, so a list that changed in between is still recognised), and resends only
  if none is there. A lookup that fails leaves the post for the next run rather than risk a
  second one.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from familybot import i18n
from familybot.clock import Clock
from familybot.db.repositories.digest_posts import DigestPostRepository
from familybot.db.repositories.resources import ResourceRepository
from familybot.db.repositories.settings import SettingsRepository
from familybot.models import Resource, to_unix
from familybot.services.resources.ports import ResourcesPort
from familybot.services.resources.rules import review_digest_notice, review_digest_titles

log = logging.getLogger(__name__)

DIGEST_PERIOD = timedelta(days=7)  # once per week (counted from the Unix epoch, UTC)
# Discord remembers a nonce for "a few minutes": within this, resending is safe as is
# (the reminders' NONCE_MEMORY, services/reminders/sender.py).
NONCE_MEMORY = timedelta(minutes=2)
# A message is at least this much older than its intent's record (clocks differ a little).
SLACK = timedelta(seconds=5)
KEEP = timedelta(days=30)


class ReviewDigest:
    def __init__(
        self,
        repo: ResourceRepository,
        settings: SettingsRepository,
        posts: DigestPostRepository,
        discord: ResourcesPort,
        clock: Clock,
    ) -> None:
        self._repo = repo
        self._settings = settings
        self._posts = posts
        self._discord = discord
        self._clock = clock
        self.lookups = 0  # history requests made (at most one per interrupted post)

    async def post(self) -> int:
        """Post each server's resources due for review to its alerts channel, once per
        period. Returns the posts made (or found made) by this run."""
        now = self._clock.now()
        length = int(DIGEST_PERIOD.total_seconds())
        period = to_unix(now) // length * length
        by_guild: dict[int, list[Resource]] = {}
        for resource in await self._repo.due_for_review(now):
            by_guild.setdefault(resource.guild_id, []).append(resource)
        posted = 0
        for guild_id, items in by_guild.items():
            alerts = (await self._settings.get(guild_id)).alerts_channel_id
            if alerts is None:
                log.info("resource review digest skipped guild=%d reason=no-alerts", guild_id)
                continue
            if await self._post_once(guild_id, period, alerts, items):
                posted += 1
        await self._posts.prune(now - KEEP)
        return posted

    async def _post_once(
        self, guild_id: int, period: int, alerts: int, items: list[Resource]
    ) -> bool:
        now = self._clock.now()
        intent = await self._posts.intent(guild_id, period, f"fbd{secrets.token_hex(8)}", now)
        if intent.message_id is not None:
            return False  # posted this period
        with i18n.using(i18n.for_guild(guild_id)):
            notice = review_digest_notice(items)
        if not intent.new and now - intent.started_at > NONCE_MEMORY:
            self.lookups += 1
            try:
                with i18n.using(i18n.for_guild(guild_id)):
                    titles = review_digest_titles()
                found = await self._discord.find_posted(
                    alerts, titles, intent.nonce, intent.started_at - SLACK
                )
            except Exception as exc:
                log.warning(
                    "resource review digest left for later guild=%d error=%s",
                    guild_id,
                    type(exc).__name__,
                )
                return False
            if found is not None:
                log.info("resource review digest found posted guild=%d", guild_id)
                await self._posts.posted(guild_id, period, found)
                return True
        message_id = await self._discord.post_once(alerts, notice, intent.nonce)
        if message_id is None:
            return False
        await self._posts.posted(guild_id, period, message_id)
        return True
