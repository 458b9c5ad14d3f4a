"""The safety watch's English n-gram classifier, in every install (tenth round).

The same kind of model as the Spanish one (spanish_model.py): a logistic regression on the
words (one and two in a row) and the character runs (3 to 5 letters, within a word) of the
message as the watch normalises it, a message scoring the highest of its bounded pieces. Its
weights ship as familybot/data/safety_model_en.json, fitted by `python bench/safety_en.py
--train` on the English training sets (tests/data/safety ENGLISH_TRAINING); the light rule's
two numbers (EnglishWatch) were chosen there by leave-one-set-out cross-validation. Plain
Python at run time (a dictionary of weights and a sum), no model download, no new dependency:
the file is read once, on first use, in the watch's worker thread. The text is never logged
or kept.
"""

from __future__ import annotations

import json
import logging
import threading
from importlib import resources

from familybot.services.safety.lists import PhraseLists
from familybot.services.safety.spanish_model import AnyOf, SpanishWeights, spanish_watch
from familybot.services.safety.watch import PHRASES_FILE, Detector

log = logging.getLogger(__name__)
WEIGHTS_FILE = "safety_model_en.json"


class EnglishWeights(SpanishWeights):
    """The shipped English model: a weight per feature, the intercept, and the light rule's
    two numbers (threshold: the model alone fires from it; list_floor: an English-list match
    counts when the model gives the message at least this). Scored as SpanishWeights."""

    @classmethod
    def load(cls) -> EnglishWeights:
        shipped = resources.files("familybot") / "data" / WEIGHTS_FILE
        weights = cls.parse(json.loads(shipped.read_text(encoding="utf-8")))
        assert isinstance(weights, EnglishWeights)
        return weights


_shared: EnglishWeights | None = None
_shared_lock = threading.Lock()


def shared_weights() -> EnglishWeights:
    """The shipped English weights, read once per process on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = EnglishWeights.load()
            log.info("english safety n-gram model loaded features=%d", len(_shared.weights))
        return _shared


class EnglishWatch:
    """Detector, every install: the English list's match counts when the n-gram model gives
    the message at least list_floor, and the model alone fires from threshold (the tenth
    round's light rule, README "How the watch decides")."""

    def __init__(self, english_list: Detector, weights: EnglishWeights | None = None) -> None:
        self._list = english_list
        self._weights = weights

    @property
    def name(self) -> str:
        return "English list checked by the n-gram model, or the n-gram model"

    @property
    def weights(self) -> EnglishWeights:
        if self._weights is None:
            self._weights = shared_weights()
        return self._weights

    def probability(self, text: str) -> float:
        return self.weights.probability(text)

    def decide(self, list_hit: bool, q: float) -> bool:
        """The light rule, given the list's answer and the model's probability q."""
        weights = self.weights
        return q >= weights.threshold or (list_hit and q >= weights.list_floor)

    def matches(self, text: str) -> bool:
        weights = self.weights
        q = weights.probability(text)
        if q >= weights.threshold:
            return True
        return q >= weights.list_floor and self._list.matches(text)


class NgramModel:
    """Detector: the English n-gram model alone, from its light threshold (for measuring)."""

    def __init__(self, weights: EnglishWeights | None = None) -> None:
        self._weights = weights

    @property
    def name(self) -> str:
        return "n-gram model"

    def matches(self, text: str) -> bool:
        weights = self._weights or shared_weights()
        return weights.probability(text) >= weights.threshold


def light_detector(lists: PhraseLists | None = None) -> Detector:
    """What every install watches with (the classifier's extra replaces the English half):
    the English list checked by the English n-gram model, or that model (EnglishWatch), or
    the Spanish watch. Both weights files are read on the first message, in the watch's
    worker thread."""
    lists = lists or PhraseLists.load()
    return AnyOf(
        EnglishWatch(lists.lists[PHRASES_FILE]),
        spanish_watch(lists),
        name="light rule: English list checked by the n-gram model, or the n-gram model, "
        "or the Spanish watch",
    )
