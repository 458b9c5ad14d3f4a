"""The optional safety watch: crisis phrases in group channels -> a private DM and an alert.

Pure rules, no Discord: the phrase list (familybot/data/crisis_phrases.txt, a transparent
list, no scores), the per-author cooldown, and what to do about one message. What the watch
never does: reply in the channel, delete, punish, or store the message or who matched.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from importlib import resources
from typing import Protocol

from familybot.clock import Clock
from familybot.services.crisis import CrisisLine

log = logging.getLogger(__name__)

PHRASES_FILE = "crisis_phrases.txt"
REGEX_PREFIX = "re:"
# One DM and one alert per person per server in this window. Kept in memory only, so nothing
# records who matched; a restart forgets it (at worst one more kind DM).
COOLDOWN = timedelta(hours=6)

_APOSTROPHES = re.compile(r"['’‘`´]")
_NOT_WORD = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lowercase, apostrophes dropped ("don’t" -> "dont"), other punctuation -> spaces."""
    text = _APOSTROPHES.sub("", text.casefold())
    text = _NOT_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


class PhraseListError(ValueError):
    """A line of the phrase list is not a valid pattern; the message names the line."""


def _compile(line: str, number: int) -> re.Pattern[str]:
    if line.startswith(REGEX_PREFIX):
        source = line[len(REGEX_PREFIX) :].strip()
    else:
        words = normalise(line).split(" ")
        source = r"\b" + r"\s+".join(re.escape(w) for w in words) + r"\b"
    try:
        return re.compile(source)
    except re.error as exc:
        raise PhraseListError(f"{PHRASES_FILE} line {number}: {exc}") from exc


@dataclass(frozen=True)
class PhraseList:
    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def parse(cls, text: str) -> PhraseList:
        patterns = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if line and not line.startswith("#"):
                patterns.append(_compile(line, number))
        if not patterns:
            raise PhraseListError(f"{PHRASES_FILE} has no phrases")
        return cls(tuple(patterns))

    @classmethod
    def load(cls) -> PhraseList:
        shipped = resources.files("familybot") / "data" / PHRASES_FILE
        return cls.parse(shipped.read_text(encoding="utf-8"))

    def __len__(self) -> int:
        return len(self.patterns)

    def matches(self, text: str) -> bool:
        """True when any phrase appears. Phrases are first-person, which is also what keeps
        "I'm not suicidal" quiet: a separate negation check was measured and added nothing."""
        clean = normalise(text)
        return any(pattern.search(clean) for pattern in self.patterns)


# --- what the watch sends ------------------------------------------------------------------
@dataclass(frozen=True)
class CrisisDM:
    """The private message to the author: warm words, then the server's crisis lines."""

    guild_name: str
    region: str | None
    lines: tuple[CrisisLine, ...]
    facilitators_told: bool


@dataclass(frozen=True)
class SafetyAlert:
    """The facilitators' alert: who and where (ids), a jump link; never the message text."""

    guild_id: int
    channel_id: int
    message_id: int
    author_id: int
    dm_delivered: bool

    @property
    def jump_url(self) -> str:
        return f"https://discord.com/channels/{self.guild_id}/{self.channel_id}/{self.message_id}"


class SafetyPort(Protocol):
    async def send_crisis_dm(self, user_id: int, dm: CrisisDM) -> bool:
        """Send the private message; False when it could not be delivered (DMs closed)."""
        ...

    async def post_safety_alert(self, channel_id: int, alert: SafetyAlert) -> bool:
        """Post in the alerts channel; False when refused or when that channel is public."""
        ...


@dataclass(frozen=True)
class SeenMessage:
    """One message in a server, as the watch and automod need it. Content is never stored."""

    guild_id: int
    guild_name: str
    channel_id: int
    message_id: int
    author_id: int
    content: str
    mention_ids: frozenset[int] = frozenset()  # users and roles mentioned
    mention_everyone: bool = False  # @everyone/@here that actually pinged


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
        phrases: PhraseList,
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
        """For a message already known to be in a watched group channel."""
        if not self.phrases.matches(message.content):
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
    phrases: PhraseList, labelled: Iterable[tuple[str, bool]]
) -> tuple[float, float, list[str], list[str]]:
    """(precision, recall, false positives, false negatives) of the list on labelled text."""
    tp = fp = fn = 0
    false_pos: list[str] = []
    false_neg: list[str] = []
    for text, at_risk in labelled:
        hit = phrases.matches(text)
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
