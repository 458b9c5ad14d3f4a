"""Who reads which language: a person's /my language and a server's /setup language.

The choices live in the database and, for the per-interaction lookup, in
`familybot.i18n.preferences` (a dict get): loaded at start, updated here on every write,
and read again from the database once it is REFRESH old (`refresh`, run every few seconds
by the bot), so a choice made in another process (issue #16) is seen here within
REFRESH + the job's period (30 s in all), without a restart.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from familybot import i18n
from familybot.clock import Clock
from familybot.db.repositories.language import LanguageRepository

log = logging.getLogger(__name__)

AUTO = "auto"
# How old the in-memory copy may get before `refresh` reads it again (by the injected clock).
REFRESH = timedelta(seconds=25)
REFRESH_JOB_SECONDS = 5  # FamilyBot runs `refresh` this often: a change shows within 30 s


class LanguageService:
    def __init__(
        self,
        repo: LanguageRepository,
        clock: Clock,
        preferences: i18n.LanguagePreferences | None = None,
    ) -> None:
        self._repo = repo
        self._clock = clock
        self.preferences = preferences if preferences is not None else i18n.preferences
        self._loaded_at: datetime | None = None
        self._writes = 0  # this process's own changes: a load racing one is not kept

    async def load(self) -> None:
        """Fill the in-memory choices from the database (at start, and by `refresh`)."""
        writes = self._writes
        now = self._clock.now()
        users = await self._repo.all_users()
        guilds = await self._repo.all_guilds()
        if writes != self._writes:
            return  # a change here landed meanwhile: keep it, read again next time
        self._loaded_at = now
        self.preferences.users = {
            u: lang for u, v in users.items() if (lang := i18n.parse_language(v)) is not None
        }
        self.preferences.guilds = {
            g: lang for g, v in guilds.items() if (lang := i18n.parse_language(v)) is not None
        }
        log.debug(
            "language choices loaded users=%d guilds=%d",
            len(self.preferences.users),
            len(self.preferences.guilds),
        )

    async def refresh(self) -> bool:
        """Read the choices again when the copy is REFRESH old (other processes' changes);
        True when it did."""
        if self._loaded_at is not None and self._clock.now() - self._loaded_at < REFRESH:
            return False
        await self.load()
        return True

    async def set_user_language(self, user_id: int, choice: str) -> i18n.Language | None:
        """ "auto", "en" or "es"; returns the stored language (None for auto)."""
        language = None if choice == AUTO else i18n.parse_language(choice)
        if choice != AUTO and language is None:
            raise ValueError(f"unknown language {choice!r}")
        await self._repo.set_user(user_id, language, self._clock.now())
        self._writes += 1
        if language is None:
            self.preferences.users.pop(user_id, None)
        else:
            self.preferences.users[user_id] = language
        return language

    async def set_guild_language(self, guild_id: int, choice: str) -> i18n.Language:
        language = i18n.parse_language(choice)
        if language is None:
            raise ValueError(f"unknown language {choice!r}")
        await self._repo.set_guild(guild_id, language, self._clock.now())
        self._writes += 1
        if language == i18n.DEFAULT_LANGUAGE:
            self.preferences.guilds.pop(guild_id, None)
        else:
            self.preferences.guilds[guild_id] = language
        return language

    # --- privacy (DESIGN practice 9) ----------------------------------------------------------
    async def export_user_data(self, user_id: int) -> Any:
        return await self._repo.export_user(user_id) or {"language": AUTO}

    # Its forget runs statements only: /my forget runs it with the others in one transaction
    # (services/privacy/service.py, StatementsOnly).
    forgets_with_statements_only = True

    async def delete_user_data(self, user_id: int) -> int:
        self._writes += 1
        self.preferences.users.pop(user_id, None)
        return await self._repo.forget_user(user_id)
