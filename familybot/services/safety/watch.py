"""The optional safety watch: crisis phrases in group channels -> a private DM and an alert.

Pure rules, no Discord: the phrase list (familybot/data/crisis_phrases.txt, a transparent
list, no scores), the per-author cooldown, and what to do about one message. What the watch
never does: reply in the channel, delete, punish, or store the message or who matched.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from importlib import resources
from typing import Protocol

from familybot.clock import Clock
from familybot.models.crisis import CrisisLine
from familybot.models.safety import CrisisDM, SafetyAlert, SeenMessage

log = logging.getLogger(__name__)

PHRASES_FILE = "crisis_phrases.txt"
# One DM and one alert per person per server in this window. Kept in memory only, so nothing
# records who matched; a restart forgets it (at worst one more kind DM).
COOLDOWN = timedelta(hours=6)

# How a line of the phrase list starts (see the file's header for what each kind does).
REGEX_PREFIX = "re:"
TOPIC_PREFIX = "topic:"
ALIAS_PREFIX = "alias:"
QUIET_BEFORE_PREFIX = "quiet-before:"
QUIET_SENTENCE_PREFIX = "quiet-sentence:"
CLAUSE_CUT_PREFIX = "clause-cut:"
# A quiet-before pattern looks at this many words just before a match, in the same clause.
BEFORE_WORDS = 4
CLAUSE_MARK = " | "
# Work caps, so that a 4,000-character flood ("if if if ...", a wall of emoji) costs about as
# much as ordinary text of that length: a sentence is read in windows of at most WINDOW_WORDS
# words (overlapping by OVERLAP_WORDS, longer than any pattern), each clause at most
# CLAUSE_CHARS characters, and a window seen before in the same message is not read again.
WINDOW_WORDS = 60
OVERLAP_WORDS = 20
CLAUSE_CHARS = 400
# The most characters one message is read for; Discord's own limit is 4,000.
MAX_CHARS = 4000

_APOSTROPHES = re.compile(r"['’‘`´]")
_LAUGHING = re.compile(r"[😂🤣😆😹💀]")
_NOT_WORD = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")
_SENTENCES = re.compile(r"([.!?\n]+)")
_PUNCTUATION_CUTS = r"[,;:()\[\]]+|\s[-–—]+\s"
# A list without clause-cut lines (the English one): "but" ends a clause, except in "nothing
# but", "anything but", "all but" ("im nothing but a burden" is one clause).
_ENGLISH_CUT = r"(?<!nothing )(?<!anything )(?<!all )\bbut\b"
_CLAUSES = re.compile(f"{_PUNCTUATION_CUTS}|{_ENGLISH_CUT}")


def _strip_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise(text: str) -> str:
    """Lowercase, accents and apostrophes dropped ("más" -> "mas", "don’t" -> "dont"), other
    punctuation (¿ ¡ included) -> spaces."""
    text = _LAUGHING.sub(" lol ", text)
    text = _APOSTROPHES.sub("", _strip_accents(text.casefold()))
    text = _NOT_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class Sentence:
    clauses: tuple[str, ...]  # normalised, aliases applied
    question: bool

    @property
    def text(self) -> str:
        """The clauses joined by " | ", so a pattern can span clauses ("ill do it | i swear")
        while word sequences cannot run across a comma by accident."""
        return CLAUSE_MARK.join(self.clauses)


class PhraseListError(ValueError):
    """A line of the phrase list is not a valid pattern; the message names the line."""


def _words_pattern(words: str) -> str:
    parts = normalise(words).split(" ")
    return r"\b" + r"\s+".join(re.escape(w) for w in parts) + r"\b"


def _compile(source: str, number: int, file: str = PHRASES_FILE) -> re.Pattern[str]:
    try:
        return re.compile(source)
    except re.error as exc:
        raise PhraseListError(f"{file} line {number}: {exc}") from exc


@dataclass(frozen=True)
class Core:
    pattern: re.Pattern[str]
    topic: bool  # a topic word ("self harm", "suicidal"): also quiet in a general question
    line: int


@dataclass(frozen=True)
class PhraseList:
    """The rule-based matcher: crisis patterns, minus what negation, idiom and context quiet."""

    cores: tuple[Core, ...]
    aliases: tuple[tuple[re.Pattern[str], str, str], ...] = ()  # (pattern, meant, its first word)
    quiet_before: tuple[re.Pattern[str], ...] = ()
    quiet_sentence: tuple[re.Pattern[str], ...] = ()
    clauses: re.Pattern[str] = _CLAUSES  # where a sentence is cut into clauses

    @property
    def name(self) -> str:
        return "matcher"

    @classmethod
    def parse(cls, text: str, file: str = PHRASES_FILE) -> PhraseList:
        cores: list[Core] = []
        cuts: list[str] = []
        aliases: list[tuple[re.Pattern[str], str, str]] = []
        before: list[re.Pattern[str]] = []
        sentence: list[re.Pattern[str]] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith(ALIAS_PREFIX):
                spoken, sep, meant = line[len(ALIAS_PREFIX) :].partition("=>")
                if not sep or not normalise(spoken) or not normalise(meant):
                    raise PhraseListError(f"{file} line {number}: alias needs a => b")
                first = normalise(spoken).split(" ")[0]
                aliases.append(
                    (_compile(_words_pattern(spoken), number, file), normalise(meant), first)
                )
            elif line.startswith(QUIET_BEFORE_PREFIX):
                before.append(_compile(line[len(QUIET_BEFORE_PREFIX) :].strip(), number, file))
            elif line.startswith(QUIET_SENTENCE_PREFIX):
                sentence.append(_compile(line[len(QUIET_SENTENCE_PREFIX) :].strip(), number, file))
            elif line.startswith(CLAUSE_CUT_PREFIX):
                cuts.append(_compile(line[len(CLAUSE_CUT_PREFIX) :].strip(), number, file).pattern)
            elif line.startswith(TOPIC_PREFIX):
                source = line[len(TOPIC_PREFIX) :].strip()
                cores.append(Core(_compile(source, number, file), True, number))
            elif line.startswith(REGEX_PREFIX):
                source = line[len(REGEX_PREFIX) :].strip()
                cores.append(Core(_compile(source, number, file), False, number))
            else:
                cores.append(Core(_compile(_words_pattern(line), number, file), False, number))
        if not cores:
            raise PhraseListError(f"{file} has no phrases")
        clauses = re.compile("|".join([_PUNCTUATION_CUTS, *cuts])) if cuts else _CLAUSES
        return cls(tuple(cores), tuple(aliases), tuple(before), tuple(sentence), clauses)

    @classmethod
    def load(cls, name: str = PHRASES_FILE) -> PhraseList:
        """A shipped list from familybot/data (the English one unless named)."""
        shipped = resources.files("familybot") / "data" / name
        return cls.parse(shipped.read_text(encoding="utf-8"), name)

    def __len__(self) -> int:
        return len(self.cores)

    def sentences(self, text: str) -> list[Sentence]:
        """The message cut into sentences and clauses, normalised, aliases applied. A long
        sentence comes back as overlapping windows of at most WINDOW_WORDS words; a window
        already returned for this message is not returned again."""
        parts = _SENTENCES.split(text[:MAX_CHARS])
        out = []
        seen: set[Sentence] = set()
        for i in range(0, len(parts), 2):
            ender = parts[i + 1] if i + 1 < len(parts) else ""
            clauses = []
            for raw in self.clauses.split(parts[i]):
                for clause in _chunks(normalise(raw)):
                    for pattern, meant, first in self.aliases:
                        if first in clause:  # a plain substring test first: much cheaper
                            clause = pattern.sub(meant, clause)
                    if clause:
                        clauses.append(clause)
            for window in _windows(clauses):
                # "¿" opens a question only in a list with its own clause words (Spanish).
                asks = "¿" in parts[i] and self.clauses is not _CLAUSES
                sentence = Sentence(window, "?" in ender or asks)
                if sentence not in seen:
                    seen.add(sentence)
                    out.append(sentence)
        return out

    def first_match(self, text: str) -> int | None:
        """The line number of the first pattern that counts, or None. For tests and tuning."""
        for sentence in self.sentences(text):
            if any(q.search(sentence.text) for q in self.quiet_sentence):
                continue
            text = sentence.text
            for core in self.cores:
                if core.topic and sentence.question:
                    continue
                for found in core.pattern.finditer(text):
                    # The words just before the match, in its clause (a bounded look back).
                    start = found.start()
                    clause = text[max(0, start - 120) : start].rsplit("|", 1)[-1]
                    before = " ".join(clause.split()[-BEFORE_WORDS:])
                    if not any(q.search(before) for q in self.quiet_before):
                        return core.line
        return None

    def matches(self, text: str) -> bool:
        """True when a crisis pattern appears and nothing around it says it is not about now:
        a negation just before it, a general "if someone...", a past time, a quote or a
        training in the same sentence (the quiet lines of the list)."""
        return self.first_match(text) is not None


def _chunks(clause: str) -> list[str]:
    """A clause longer than CLAUSE_CHARS cut at word boundaries (a run-on without commas)."""
    if len(clause) <= CLAUSE_CHARS:
        return [clause]
    words = clause.split(" ")
    step = WINDOW_WORDS - OVERLAP_WORDS
    return [
        " ".join(words[i : i + WINDOW_WORDS])[:CLAUSE_CHARS] for i in range(0, len(words), step)
    ]


def _windows(clauses: list[str]) -> list[tuple[str, ...]]:
    """A sentence's clauses in windows of at most WINDOW_WORDS words, overlapping by about
    OVERLAP_WORDS, so that no one regex search reads more than a few hundred characters."""
    sizes = [clause.count(" ") + 1 for clause in clauses]
    if sum(sizes) <= WINDOW_WORDS:
        return [tuple(clauses)] if clauses else []
    out: list[tuple[str, ...]] = []
    start = 0
    while start < len(clauses):
        end, words = start, 0
        while end < len(clauses) and (end == start or words + sizes[end] <= WINDOW_WORDS):
            words += sizes[end]
            end += 1
        out.append(tuple(clauses[start:end]))
        if end >= len(clauses):
            break
        # Step back over trailing clauses worth about OVERLAP_WORDS, always moving on.
        back, kept = end, 0
        while back - 1 > start and kept + sizes[back - 1] <= OVERLAP_WORDS:
            back -= 1
            kept += sizes[back]
        start = back
    return out


class Detector(Protocol):
    """What the watch asks of a detector: the phrase list, or the optional classifier."""

    @property
    def name(self) -> str: ...

    def matches(self, text: str) -> bool: ...


class SafetyPort(Protocol):
    async def send_crisis_dm(self, user_id: int, dm: CrisisDM) -> bool:
        """Send the private message; False when it could not be delivered (DMs closed)."""
        ...

    async def post_safety_alert(self, channel_id: int, alert: SafetyAlert) -> bool:
        """Post in the alerts channel; False when refused or when that channel is public."""
        ...


class WatchResult(StrEnum):
    NO_MATCH = "no_match"
    COOLING_DOWN = "cooling_down"
    ALERTED = "alerted"


@dataclass(frozen=True)
class WatchOutcome:
    result: WatchResult
    dm_delivered: bool = False
    alert_posted: bool = False


CrisisLinesFor = Callable[[int], tuple[str | None, Sequence[CrisisLine]]]


class Cooldown:
    """When each (server, person) was last helped; in memory only, pruned as it goes."""

    def __init__(self, clock: Clock, period: timedelta = COOLDOWN) -> None:
        self._clock = clock
        self._period = period
        self._last: dict[tuple[int, int], datetime] = {}

    def ready(self, guild_id: int, user_id: int) -> bool:
        """True (and the clock starts) when this person was not helped within the period."""
        now = self._clock.now()
        self._prune(now)
        if (guild_id, user_id) in self._last:
            return False
        self._last[(guild_id, user_id)] = now
        return True

    def _prune(self, now: datetime) -> None:
        expired = [k for k, at in self._last.items() if now - at >= self._period]
        for key in expired:
            del self._last[key]

    def __len__(self) -> int:
        return len(self._last)


class SafetyWatch:
    def __init__(
        self,
        phrases: Detector,
        port: SafetyPort,
        crisis_lines_for: CrisisLinesFor,
        clock: Clock,
        cooldown: timedelta = COOLDOWN,
    ) -> None:
        self.phrases = phrases
        self._port = port
        self._crisis_lines_for = crisis_lines_for
        self.cooldown = Cooldown(clock, cooldown)

    async def consider(self, message: SeenMessage, alerts_channel_id: int | None) -> WatchOutcome:
        """For a message already known to be in a watched group channel. The reading runs in
        a worker thread: a long message (or the classifier) never holds up the event loop."""
        if not await asyncio.to_thread(self.phrases.matches, message.content):
            return WatchOutcome(WatchResult.NO_MATCH)
        if not self.cooldown.ready(message.guild_id, message.author_id):
            log.info("safety watch cooling down guild=%d", message.guild_id)
            return WatchOutcome(WatchResult.COOLING_DOWN)
        region, lines = self._crisis_lines_for(message.guild_id)
        dm = CrisisDM(
            guild_name=message.guild_name,
            region=region,
            lines=tuple(lines),
            facilitators_told=alerts_channel_id is not None,
        )
        delivered = await self._port.send_crisis_dm(message.author_id, dm)
        posted = False
        if alerts_channel_id is None:
            log.warning("safety watch matched but no alerts channel guild=%d", message.guild_id)
        else:
            alert = SafetyAlert(
                guild_id=message.guild_id,
                channel_id=message.channel_id,
                message_id=message.message_id,
                author_id=message.author_id,
                dm_delivered=delivered,
            )
            posted = await self._port.post_safety_alert(alerts_channel_id, alert)
            if not posted:
                log.warning(
                    "safety alert not posted guild=%d channel=%d",
                    message.guild_id,
                    alerts_channel_id,
                )
        log.info(
            "safety watch matched guild=%d dm=%s alert=%s",
            message.guild_id,
            "sent" if delivered else "closed",
            "posted" if posted else "not posted",
        )
        return WatchOutcome(WatchResult.ALERTED, dm_delivered=delivered, alert_posted=posted)


def score(
    detector: Detector, labelled: Iterable[tuple[str, bool]]
) -> tuple[float, float, list[str], list[str]]:
    """(precision, recall, false positives, false negatives) of a detector on labelled text."""
    tp = fp = fn = 0
    false_pos: list[str] = []
    false_neg: list[str] = []
    for text, at_risk in labelled:
        hit = detector.matches(text)
        if hit and at_risk:
            tp += 1
        elif hit:
            fp += 1
            false_pos.append(text)
        elif at_risk:
            fn += 1
            false_neg.append(text)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, false_pos, false_neg
