"""Handing one reminder to Discord exactly once, also after an interrupted send (see
service.py for the ledger's guarantees)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from familybot import i18n
from familybot.models import LedgerRow, LedgerState
from familybot.models.reminders import Delivery, ReminderCard, ReminderTarget
from familybot.services.reminders.ports import ReminderPort
from familybot.services.reminders.recovery import Recovery

log = logging.getLogger(__name__)

# Discord remembers a nonce for "a few minutes": within this, resending is safe as is.
NONCE_MEMORY = timedelta(minutes=2)


@dataclass(frozen=True)
class ReminderJob:
    """One due ledger row, ready to send: where, what, in which language."""

    row: LedgerRow
    target: ReminderTarget
    card: ReminderCard
    # A group's channel reads the server's language; a DM, the person's own choice.
    language: i18n.Language = i18n.DEFAULT_LANGUAGE


def needs_lookup(row: LedgerRow, now: datetime) -> bool:
    """Whether an earlier attempt may have reached Discord beyond its nonce memory."""
    first = row.first_attempt_at or row.attempt_at
    return row.state is LedgerState.SENDING and first is not None and now - first > NONCE_MEMORY


async def _look_first(
    discord: ReminderPort, job: ReminderJob, first: datetime, recovery: Recovery | None
) -> tuple[str, int | None] | None:
    """An interrupted send beyond the nonce memory: "recovered" when Discord has it, "retry"
    when Discord cannot be asked, None when it must be sent."""
    finder = recovery or Recovery(discord)
    try:
        found = await finder.find(job.target, job.row.id, first, job.card.late)
    except Exception:
        # Not knowing is not "not sent": try again later rather than risk a double.
        log.warning("could not look for an interrupted reminder ledger=%d", job.row.id)
        return "retry", None
    if found is not None:
        log.info("reminder recovered after an interrupted send ledger=%d", job.row.id)
        return "recovered", found
    log.info("interrupted reminder not in Discord, sending it ledger=%d", job.row.id)
    return None


async def _post(discord: ReminderPort, job: ReminderJob, card: ReminderCard) -> Delivery | None:
    """Hand the card to Discord; None when the send crashed (its outcome unknown)."""
    # The card is rendered in the reader's language (set and reset by hand rather than with
    # i18n.using: a burst hands thousands over in a row, issue 15).
    token = i18n.activate(job.language)
    try:
        return await discord.send_reminder(job.target, card, nonce=f"fbr{job.row.id}")
    except Exception:
        log.exception("reminder send crashed ledger=%d", job.row.id)
        return None
    finally:
        i18n.reset(token)


def note_interrupted(recovery: Recovery, jobs: list[ReminderJob], now: datetime) -> None:
    """Tell the run's recovery which of these reminders it will look for, by place."""
    for job in jobs:
        first = job.row.first_attempt_at or job.row.attempt_at
        if first is not None and needs_lookup(job.row, now):
            recovery.note([(job.target, job.row.id, first, job.card.late)])


async def send_one(
    discord: ReminderPort, job: ReminderJob, now: datetime, recovery: Recovery | None = None
) -> tuple[str, int | None]:
    """Send one reminder: "sent", "recovered" (an interrupted send had reached Discord),
    "undeliverable" or "retry", with the message id when there is one. `recovery` shares
    history reads between the interrupted reminders of one run (recovery.py)."""
    row = job.row
    # An earlier attempt may have reached Discord (the process died, or the send failed
    # ambiguously). Any message it made is at least as old as the first attempt. Within
    # Discord's nonce memory of that, a resend is answered with the first message; later,
    # look for the message before sending again.
    first = row.first_attempt_at or row.attempt_at
    card = job.card
    if first is not None and needs_lookup(row, now):
        looked = await _look_first(discord, job, first, recovery)
        if looked is not None:
            return looked
    elif first is not None and row.state is LedgerState.SENDING:
        # A resend within the nonce memory: only while Discord still remembers the nonce,
        # which the pacing queue may outlast (the adapter checks when its turn comes).
        card = replace(card, nonce_fresh_until=first + NONCE_MEMORY)
    delivery = await _post(discord, job, card)
    if delivery is None:
        return "retry", None
    if delivery.stale and first is not None:
        # Its turn came after the nonce memory: look for it, as beyond the memory.
        looked = await _look_first(discord, job, first, recovery)
        if looked is not None:
            return looked
        delivery = await _post(discord, job, job.card)
        if delivery is None:
            return "retry", None
    if delivery.ok:
        return "sent", delivery.message_id
    return ("undeliverable" if delivery.permanent else "retry"), None
