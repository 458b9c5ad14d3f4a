"""What reminders ask of Discord (familybot/discord/reminders.py implements it)."""

from __future__ import annotations

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

    async def find_reminder(
        self, target: ReminderTarget, ledger_id: int, after: datetime
    ) -> int | None:
        """The id of a reminder message already sent for `ledger_id` after `after`, if any.

        Raises when Discord cannot be asked: not knowing must not count as "not sent".
        """
        ...
