"""What reminders ask of Discord (familybot/discord/reminders.py implements it)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from familybot.models.reminders import Delivery, ReminderCard, ReminderTarget


class ReminderPort(Protocol):
    """Reminders sent, and found again after a crash (familybot/discord/reminders.py)."""

    async def send_reminder(
        self, target: ReminderTarget, card: ReminderCard, nonce: str
    ) -> Delivery:
        """Send one reminder. `nonce` is stable per reminder, so a retried send is not doubled."""
        ...

    async def find_reminders(
        self, target: ReminderTarget, ledger_ids: Collection[int], after: datetime
    ) -> dict[int, int]:
        """Reminder messages already sent to `target` after `after` for any of `ledger_ids`:
        ledger id -> message id. One read of the place's history for all of them.

        Raises when Discord cannot be asked: not knowing must not count as "not sent".
        """
        ...
