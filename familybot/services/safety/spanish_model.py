"""The safety watch's Spanish classifier, in every install (#17 item 4).

A logistic regression on the words (one and two in a row) and the character runs (3 to 5
letters, within a word) of the message as the watch normalises it (watch.normalise: lowercase,
no accents, no punctuation). Its weights ship as familybot/data/safety_model_es.json, fitted
by `python bench/safety_es.py --train` on the Spanish training sets (tests/data/safety
SPANISH_TRAINING); the two numbers of the rule (SpanishWatch) were chosen there by
leave-one-set-out cross-validation. Plain Python at run time (a dictionary of weights and a
sum), no model download, no new dependency: the file is read once, on first use, in the
watch's worker thread. The text is never logged or kept.

A long message is read in bounded pieces (pieces below), and a message scores the highest
of its pieces, so one sentence of risk inside ordinary news is not averaged away.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from familybot.services.safety.lists import PhraseLists
from familybot.services.safety.watch import (
    MAX_CHARS,
    OVERLAP_WORDS,
    PHRASES_FILE,
    WINDOW_WORDS,
    Detector,
    normalise,
)

log = logging.getLogger(__name__)
WEIGHTS_FILE = "safety_model_es.json"
CHAR_GRAMS = (3, 4, 5)
_SENTENCE_END = re.compile(r"[.!?\n¿¡]+")


# Common words of each language (normalised). A message with more of the English ones than
# of the Spanish ones is not read by the Spanish classifier: it was fitted on Spanish only and
# would guess on English (the English list and the optional English classifier read those).
# Words common to both ("no", "me", "a", "he", "son", "sin") are in neither.


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SPANISH_WORDS = _words(
    "que de la el los las y en mi mis se lo le les por con para una un unos unas ya pero mas "
    "es esta estoy estas esto eso esa ese muy porque xq q pa del al su sus yo tu te nos como "
    "cuando todo toda todos nada hoy manana aqui hay tengo tiene quiero quiere voy va vas ser "
    "estar sobre tambien ella ellos usted vos hijo hija vida bien ahora nadie nunca siempre "
    "puedo puede ni si cosa ver hacer dice dijo hace mejor mucho poco otra otro algo "
    "alguien"
)
ENGLISH_WORDS = _words(
    "the and i to my is it of you im dont this that with for was she they we are be have has "
    "just what so at on in not can will about all but if or do get want going been her his "
    "him your its like know out up would how feel really because when some there any am an "
    "cant wont didnt today tonight from free one two year years month months self harm who "
    "them then than our us"
)


def looks_spanish(text: str) -> bool:
    """True unless the message (its first MAX_CHARS characters) has more common English words
    than common Spanish ones. A message with neither ("kiero morirme") counts as Spanish."""
    words = normalise(text[:MAX_CHARS]).split()
    spanish = sum(1 for w in words if w in SPANISH_WORDS)
    english = sum(1 for w in words if w in ENGLISH_WORDS)
    return spanish >= english


def features(text: str) -> set[str]:
    """The features of one piece of text (already cut to a bounded size): "w:" a word,
    "b:" two words in a row, "c:" a run of 3-5 characters inside a word (padded by a space
    at each end, so word starts and ends count)."""
    words = normalise(text).split()
    out: set[str] = set()
    for i, word in enumerate(words):
        out.add("w:" + word)
        if i:
            out.add(f"b:{words[i - 1]} {word}")
        padded = f" {word} "
        for n in CHAR_GRAMS:
            for j in range(len(padded) - n + 1):
                out.add("c:" + padded[j : j + n])
    return out


def _windows(words: list[str]) -> Iterable[str]:
    """Words in windows of at most WINDOW_WORDS, overlapping by OVERLAP_WORDS."""
    if len(words) <= WINDOW_WORDS:
        yield " ".join(words)
        return
    step = WINDOW_WORDS - OVERLAP_WORDS
    for i in range(0, len(words) - OVERLAP_WORDS, step):
        yield " ".join(words[i : i + WINDOW_WORDS])


def pieces(text: str) -> list[str]:
    """What the classifier scores for one message (its first MAX_CHARS characters): the
    whole of it (in overlapping windows of at most WINDOW_WORDS words when longer) and, when
    it has more than one sentence, each sentence (windowed the same way). A piece already
    listed is not listed again. Every piece is at most WINDOW_WORDS words, and the pieces
    together hold each word at most about three times: the work is linear in the length."""
    text = text[:MAX_CHARS]
    out: list[str] = []
    seen: set[str] = set()

    def add(words: list[str]) -> None:
        for window in _windows(words):
            if window and window not in seen:
                seen.add(window)
                out.append(window)

    add(text.split())
    sentences = [s.split() for s in _SENTENCE_END.split(text)]
    sentences = [s for s in sentences if s]
    if len(sentences) > 1:
        for sentence in sentences:
            add(sentence)
    return out or [""]


@dataclass(frozen=True)
class SpanishWeights:
    """The shipped model: a weight per feature, the intercept, and the rule's two numbers
    (threshold: the classifier alone fires from it; list_floor: a Spanish-list match counts
    when the classifier gives the message at least this)."""

    weights: dict[str, float]
    intercept: float
    threshold: float
    list_floor: float

    def piece_probability(self, text: str) -> float:
        return self.probability_of(features(text))

    def probability_of(self, found: set[str]) -> float:
        """The probability for one piece's features (binary, scaled by 1/sqrt(count))."""
        if not found:
            return 1.0 / (1.0 + math.exp(-self.intercept))
        get = self.weights.get
        z = self.intercept + sum(get(f, 0.0) for f in found) / math.sqrt(len(found))
        return 1.0 / (1.0 + math.exp(-max(-500.0, min(500.0, z))))

    def probability(self, text: str) -> float:
        """The highest probability over the message's pieces."""
        return max(self.piece_probability(piece) for piece in pieces(text))

    @classmethod
    def parse(cls, raw: dict[str, object]) -> SpanishWeights:
        weights = raw["weights"]
        assert isinstance(weights, dict)
        return cls(
            {str(k): float(v) for k, v in weights.items()},
            float(str(raw["intercept"])),
            float(str(raw["threshold"])),
            float(str(raw["list_floor"])),
        )

    @classmethod
    def load(cls) -> SpanishWeights:
        shipped = resources.files("familybot") / "data" / WEIGHTS_FILE
        return cls.parse(json.loads(shipped.read_text(encoding="utf-8")))


_shared: SpanishWeights | None = None
_shared_lock = threading.Lock()


def shared_weights() -> SpanishWeights:
    """The shipped weights, read once per process on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SpanishWeights.load()
            log.info("spanish safety classifier loaded features=%d", len(_shared.weights))
        return _shared


class SpanishWatch:
    """Detector for Spanish: the Spanish list's match counts when the Spanish classifier gives
    the message at least list_floor, and the classifier alone fires from threshold (the third
    Spanish round's rule, README "In Spanish"). A message that does not look Spanish
    (looks_spanish) is read by the Spanish list alone."""

    def __init__(self, spanish_list: Detector, weights: SpanishWeights | None = None) -> None:
        self._list = spanish_list
        self._weights = weights

    @property
    def name(self) -> str:
        return "Spanish list checked by the Spanish classifier, or the Spanish classifier"

    @property
    def weights(self) -> SpanishWeights:
        if self._weights is None:
            self._weights = shared_weights()
        return self._weights

    def matches(self, text: str) -> bool:
        if not looks_spanish(text):
            # Not read by the classifier: the Spanish list alone, as before the classifier.
            return self._list.matches(text)
        weights = self.weights
        p = weights.probability(text)
        if p >= weights.threshold:
            return True
        return p >= weights.list_floor and self._list.matches(text)


class AnyOf:
    """Detector: a match when any of its detectors matches (in order; the first stops)."""

    def __init__(self, *detectors: Detector, name: str) -> None:
        self._detectors = detectors
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def matches(self, text: str) -> bool:
        return any(d.matches(text) for d in self._detectors)


def spanish_watch(lists: PhraseLists) -> SpanishWatch:
    """The Spanish watch over the shipped lists' Spanish one (every list but the English)."""
    spanish = PhraseLists({n: p for n, p in lists.lists.items() if n != PHRASES_FILE})
    return SpanishWatch(spanish)


def light_detector(lists: PhraseLists | None = None) -> Detector:
    """What every install watches with (the English classifier's extra adds to it): the
    English list, or the Spanish watch (SpanishWatch). The Spanish weights are read on the
    first message, in the watch's worker thread."""
    lists = lists or PhraseLists.load()
    return AnyOf(
        lists.lists[PHRASES_FILE],
        spanish_watch(lists),
        name="English list, or Spanish list checked by the Spanish classifier, or the latter",
    )
