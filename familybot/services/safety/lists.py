"""The matcher the bot watches with: every shipped phrase list, read on every message.

People write in English or Spanish whatever the server's /setup language (and mix them), so
the watch never picks a list by that setting: each list reads the message with its own
aliases, clause cuts and quiet lines, and a match in any of them counts.
"""

from __future__ import annotations

from familybot.services.safety.watch import PHRASES_FILE, PhraseList

SPANISH_PHRASES_FILE = "crisis_phrases_es.txt"
PHRASES_FILES = (PHRASES_FILE, SPANISH_PHRASES_FILE)


class PhraseLists:
    """Detector: a match when any list matches (English first, the larger list)."""

    def __init__(self, lists: dict[str, PhraseList]) -> None:
        self.lists = lists

    @property
    def name(self) -> str:
        return "matcher"

    @classmethod
    def load(cls) -> PhraseLists:
        return cls({name: PhraseList.load(name) for name in PHRASES_FILES})

    def first_match(self, text: str) -> tuple[str, int] | None:
        """(file, line number) of the first pattern that counts, or None. For tests and tuning."""
        for name, phrases in self.lists.items():
            line = phrases.first_match(text)
            if line is not None:
                return name, line
        return None

    def matches(self, text: str) -> bool:
        return any(phrases.matches(text) for phrases in self.lists.values())
