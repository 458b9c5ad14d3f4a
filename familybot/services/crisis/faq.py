"""The server's FAQ: facilitators write the answers; anyone can ask."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from familybot import i18n
from familybot.clock import Clock
from familybot.db.repositories.faq import FaqEntry, FaqRepository
from familybot.errors import Conflict, NotFound, UserFacingError

QUESTION_MIN = 3
# An autocomplete choice's value is at most 100 characters, and the question is the value.
QUESTION_MAX = 100
ANSWER_MAX = 4000
MAX_ENTRIES = 500
AUTOCOMPLETE_LIMIT = 25


def question_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _tidy(text: str) -> str:
    return " ".join(text.split())


class FaqService:
    def __init__(self, repo: FaqRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    async def add(self, guild_id: int, actor_id: int, question: str, answer: str) -> FaqEntry:
        question = _tidy(question)
        answer = answer.strip()
        if len(question) < QUESTION_MIN:
            raise UserFacingError(
                i18n._("Please write a question of at least {min} characters.").format(
                    min=QUESTION_MIN
                )
            )
        if len(question) > QUESTION_MAX:
            raise UserFacingError(
                i18n._(
                    "Please keep the question to {limit} characters or fewer (it has {length})."
                ).format(limit=QUESTION_MAX, length=len(question))
            )
        if not answer:
            raise UserFacingError(i18n._("The answer can't be empty."))
        if len(answer) > ANSWER_MAX:
            raise UserFacingError(
                i18n._(
                    "Please keep the answer to {limit} characters or fewer (it has {length})."
                ).format(limit=ANSWER_MAX, length=len(answer))
            )
        if await self._repo.count(guild_id) >= MAX_ENTRIES:
            raise Conflict(
                i18n._(
                    "This server's FAQ has reached {n} questions. Please remove one with "
                    "`/faq remove` first."
                ).format(n=MAX_ENTRIES)
            )
        entry = await self._repo.add(
            guild_id, question, question_key(question), answer, actor_id, self._clock.now()
        )
        if entry is None:
            raise Conflict(
                i18n._(
                    "There's already a question “{question}”. Remove it with `/faq remove` "
                    "first if you want to rewrite the answer."
                ).format(question=question)
            )
        return entry

    async def find(self, guild_id: int, topic: str) -> FaqEntry:
        """The question named exactly, or the only one containing what was typed."""
        key = question_key(topic)
        if key:
            entry = await self._repo.get(guild_id, key)
            if entry is not None:
                return entry
            matches = [k for _, k in await self._repo.questions(guild_id) if key in k]
            if len(matches) == 1:
                found = await self._repo.get(guild_id, matches[0])
                if found is not None:
                    return found
        shown = _tidy(topic)[:60]
        raise NotFound(
            i18n._(
                "I couldn't find a question matching “{query}”. Please pick one from the list "
                "as you type, or ask a facilitator."
            ).format(query=shown)
        )

    async def remove(self, guild_id: int, topic: str) -> FaqEntry:
        entry = await self.find(guild_id, topic)
        await self._repo.remove(guild_id, question_key(entry.question))
        return entry

    async def autocomplete(self, guild_id: int, current: str) -> list[str]:
        typed = question_key(current)
        questions = await self._repo.questions(guild_id)
        starts = [q for q, k in questions if k.startswith(typed)]
        contains = [q for q, k in questions if typed in k and not k.startswith(typed)]
        return (starts + contains)[:AUTOCOMPLETE_LIMIT]

    async def export_user_data(self, user_id: int) -> dict[str, Any]:
        entries = await self._repo.by_user(user_id)
        return {
            "faq_written": [{**asdict(e), "created_at": e.created_at.isoformat()} for e in entries]
        }

    # Its forget runs statements only: /my forget runs it with the others in one transaction
    # (services/privacy/service.py, StatementsOnly).
    forgets_with_statements_only = True

    async def delete_user_data(self, user_id: int) -> int:
        return await self._repo.forget_user(user_id)

    async def delete_user_guild_data(self, guild_id: int, user_id: int) -> int:
        return await self._repo.forget_user(user_id, guild_id)
