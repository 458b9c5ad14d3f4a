"""Reports and private contact: a private thread between one member and the facilitators.

Order of work: guards (facilitator role set, hourly limit) -> a row reserved with the next
number (no thread yet) -> Discord opens the thread -> the row gets its thread id -> a short
note in the alerts channel. When Discord refuses, the row is removed: nothing half-kept.
No message text is ever stored, only ids, a category and times.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Protocol

from familybot import i18n
from familybot.clock import Clock
from familybot.db.repositories.reports import ReportRepository, ReportRow
from familybot.db.repositories.settings import SettingsRepository
from familybot.errors import Conflict, NotAllowed, UserFacingError
from familybot.models import to_unix
from familybot.models.reports import (
    AskRequest,
    ContactAlert,
    Opened,
    PrivateContact,
    PrivateSpace,
    ReportCategory,
    ReportKind,
    ReportRequest,
)

log = logging.getLogger(__name__)

# Enough for someone who needs several conversations; too few to flood the facilitators.
HOURLY_LIMIT = 3
LIMIT_WINDOW = timedelta(hours=1)
QUESTION_MAX = 1500

NO_FACILITATOR_ROLE = i18n.lazy_gettext(
    "I can't reach the facilitators privately yet, because no facilitator role is set up. "
    "Please ask an admin to run `/setup facilitator-role`. Nothing was sent. If you need help "
    "right now, `/crisis` always works."
)
TOO_MANY = i18n.lazy_gettext(
    "You've opened {limit} private conversations with the facilitators in the last hour, so "
    "please carry on in the ones already open: they see everything you add there. You can "
    "open a new one a little later. If you need help right now, `/crisis` always works."
)


def space_name(kind: ReportKind, number: int) -> str:
    """Names say what the space is for, never who is in it."""
    return f"private-report-{number}" if kind is ReportKind.REPORT else f"ask-{number}"


class ReportsPort(Protocol):
    """Private contact between one member and the facilitators
    (familybot/discord/reports.py)."""

    async def open_private_contact(self, contact: PrivateContact) -> PrivateSpace:
        """Open a private thread under `contact.channel_id` (or, where Discord can't, a private
        channel) holding only the member, the facilitator role and the bot, and post the
        opening messages in it. Raises DiscordActionFailed with nothing left behind."""
        ...

    async def post_contact_alert(self, channel_id: int, alert: ContactAlert) -> bool:
        """A short note with a link in the (private) alerts channel; False when refused."""
        ...


class ReportsService:
    def __init__(
        self,
        repo: ReportRepository,
        settings: SettingsRepository,
        discord: ReportsPort,
        clock: Clock,
        *,
        hourly_limit: int = HOURLY_LIMIT,
    ) -> None:
        self._repo = repo
        self._settings = settings
        self._discord = discord
        self._clock = clock
        self.hourly_limit = hourly_limit

    async def precheck(self, guild_id: int, member_id: int) -> None:
        """Refuse early (before asking anything) when opening could not succeed anyway."""
        if (await self._settings.get(guild_id)).facilitator_role_id is None:
            raise NotAllowed(str(NO_FACILITATOR_ROLE))
        since = self._clock.now() - LIMIT_WINDOW
        if await self._repo.count_since(guild_id, member_id, since) >= self.hourly_limit:
            raise Conflict(TOO_MANY.format(limit=self.hourly_limit))

    async def report(self, request: ReportRequest) -> Opened:
        if request.author_id == request.reporter_id:
            raise UserFacingError(
                i18n._(
                    "That's your own message. To talk with the facilitators privately, use `/ask`."
                )
            )
        return await self._open(
            guild_id=request.guild_id,
            channel_id=request.channel_id,
            member_id=request.reporter_id,
            kind=ReportKind.REPORT,
            category=ReportCategory(request.category),
            author_id=request.author_id,
            message_id=request.message_id,
            question=None,
        )

    async def ask(self, request: AskRequest) -> Opened:
        text = request.text.strip()
        if not text:
            raise UserFacingError(i18n._("Please write a few words for the facilitators."))
        if len(text) > QUESTION_MAX:
            raise UserFacingError(
                i18n._("Please keep it under {limit} characters.").format(limit=QUESTION_MAX)
            )
        return await self._open(
            guild_id=request.guild_id,
            channel_id=request.channel_id,
            member_id=request.member_id,
            kind=ReportKind.ASK,
            category=None,
            author_id=None,
            message_id=None,
            question=text,
        )

    async def _open(
        self,
        *,
        guild_id: int,
        channel_id: int,
        member_id: int,
        kind: ReportKind,
        category: ReportCategory | None,
        author_id: int | None,
        message_id: int | None,
        question: str | None,
    ) -> Opened:
        settings = await self._settings.get(guild_id)
        role_id = settings.facilitator_role_id
        if role_id is None:
            raise NotAllowed(str(NO_FACILITATOR_ROLE))
        now = self._clock.now()
        row = await self._repo.reserve(
            guild_id=guild_id,
            kind=kind.value,
            category=category.value if category else None,
            reporter_id=member_id,
            reported_author_id=author_id,
            reported_message_id=message_id,
            channel_id=channel_id,
            now=now,
            since=now - LIMIT_WINDOW,
            limit=self.hourly_limit,
        )
        if row is None:
            raise Conflict(TOO_MANY.format(limit=self.hourly_limit))
        contact = PrivateContact(
            guild_id=guild_id,
            channel_id=channel_id,
            name=space_name(kind, row.number),
            number=row.number,
            kind=kind.value,
            member_id=member_id,
            facilitator_role_id=role_id,
            category=row.category,
            reported_author_id=author_id,
            reported_message_id=message_id,
            question=question,
        )
        try:
            space = await self._discord.open_private_contact(contact)
        except BaseException:
            await self._repo.discard(row.id)
            raise
        await self._repo.set_space(row.id, space.channel_id, private_channel=not space.is_thread)
        log.info(
            "private %s opened guild=%d number=%d space=%d thread=%s",
            kind.value,
            guild_id,
            row.number,
            space.channel_id,
            space.is_thread,
        )
        alerted = False
        if settings.alerts_channel_id is not None:
            alert = ContactAlert(guild_id, row.number, kind.value, row.category, space.channel_id)
            alerted = await self._discord.post_contact_alert(settings.alerts_channel_id, alert)
        return Opened(row.number, kind, space, category, alerted)

    # --- privacy (/my data, /my forget) -------------------------------------------------------
    async def export_user_data(self, user_id: int) -> dict[str, Any]:
        """What they opened. Reports about them are not exported: that would tell them who
        reported them and when, which the reporter was promised stays private."""
        return {
            "reports_and_asks_opened": [_export(r) for r in await self._repo.by_reporter(user_id)]
        }

    # Its forget runs statements only: /my forget runs it with the others in one transaction
    # (services/privacy/service.py, StatementsOnly).
    forgets_with_statements_only = True

    async def delete_user_data(self, user_id: int) -> int:
        """Removes what they opened and unlinks them from reports about them (the rows stay,
        numbered, as the server's record that a report was made)."""
        return await self._repo.forget_user(user_id)

    async def delete_user_guild_data(self, guild_id: int, user_id: int) -> int:
        """The same, in one server only (they left it; their other servers keep theirs)."""
        return await self._repo.forget_user(user_id, guild_id)


def _export(row: ReportRow) -> dict[str, Any]:
    return {
        "guild_id": row.guild_id,
        "number": row.number,
        "kind": row.kind,
        "category": row.category,
        "reported_author_id": row.reported_author_id,
        "reported_message_id": row.reported_message_id,
        "channel_id": row.channel_id,
        "private_space_id": row.thread_id,
        "created_at": to_unix(row.created_at),
    }
