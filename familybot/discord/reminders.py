"""Reminders: sent paced under Discord's global limit, and found again after a crash."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from datetime import UTC, datetime

import discord

from familybot.discord.common import CANNOT_DM, MISSING_ACCESS
from familybot.discord.notices import DiscordNotices
from familybot.models.reminders import Delivery, ReminderCard, ReminderTarget
from familybot.ui.sessions import RSVP_TEMPLATE, reminder_embed, rsvp_view

log = logging.getLogger(__name__)

_RSVP = re.compile(RSVP_TEMPLATE)
# Messages per history request: Discord's most.
HISTORY_PAGE = 100


class DiscordReminders:
    """Implements ReminderPort (services/reminders/ports.py). Shares the DM channels and the pace
    with `notices`: opening a DM channel is a request too."""

    def __init__(self, client: discord.Client, notices: DiscordNotices) -> None:
        self._client = client
        self._notices = notices

    async def _messageable(self, target: ReminderTarget) -> discord.abc.Messageable:
        if target.channel_id is not None:
            return self._client.get_partial_messageable(target.channel_id)
        assert target.user_id is not None
        return await self._notices.dm_channel(target.user_id)

    async def send_reminder(
        self, target: ReminderTarget, card: ReminderCard, nonce: str
    ) -> Delivery:
        try:
            destination = await self._messageable(target)
            async with self._notices.limiter.slot():
                fresh_until = card.nonce_fresh_until
                if fresh_until is not None and datetime.now(UTC) > fresh_until:
                    return Delivery(ok=False, stale=True)
                message = await destination.send(
                    embed=reminder_embed(card),
                    view=rsvp_view(card.series_id, card.occurrence_key, card.ledger_id),
                    nonce=nonce,
                )
        except discord.Forbidden as error:
            permanent = error.code in (CANNOT_DM, MISSING_ACCESS)
            log.warning(
                "reminder refused ledger=%d code=%s target=%s",
                card.ledger_id,
                error.code,
                "dm" if target.user_id else "channel",
            )
            return Delivery(ok=False, permanent=permanent)
        except discord.NotFound:
            log.warning("reminder target gone ledger=%d", card.ledger_id)
            return Delivery(ok=False, permanent=True)
        except discord.HTTPException as error:
            log.warning("reminder send failed ledger=%d status=%s", card.ledger_id, error.status)
            return Delivery(ok=False)
        return Delivery(ok=True, message_id=message.id)

    async def find_reminders(
        self, target: ReminderTarget, ledger_ids: Collection[int], after: datetime
    ) -> dict[int, int]:
        """One walk through the place's history since `after` (oldest first, 100 messages a
        request), until every one of `ledger_ids` is found or the history ends. Each request
        takes a slot of the pace: reads during a burst count against Discord's global limit
        as the sends do (after a crash, a run may read many places while it sends)."""
        wanted = set(ledger_ids)
        found: dict[int, int] = {}
        me = self._client.user
        try:
            destination = await self._messageable(target)
            since: datetime | discord.Message = after
            while len(found) < len(wanted):
                async with self._notices.limiter.slot():  # one page: one request
                    page = [
                        m
                        async for m in destination.history(
                            after=since, limit=HISTORY_PAGE, oldest_first=True
                        )
                    ]
                for message in page:
                    if me is not None and message.author.id != me.id:
                        continue
                    ledger_id = _ledger_of(message)
                    if ledger_id in wanted and ledger_id not in found:
                        found[ledger_id] = message.id
                if len(page) < HISTORY_PAGE:
                    break  # the end of the history
                since = page[-1]
        except discord.HTTPException as error:
            log.warning("could not look for %d reminders status=%s", len(wanted), error.status)
            raise
        return found


def _ledger_of(message: discord.Message) -> int | None:
    """The ledger id a reminder's buttons carry (ui/sessions.py RSVP_TEMPLATE), if any."""
    for row in message.components:
        for child in getattr(row, "children", []):
            match = _RSVP.fullmatch(str(getattr(child, "custom_id", "") or ""))
            if match and match["ledger"]:
                return int(match["ledger"])
    return None
