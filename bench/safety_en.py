"""The English n-gram model (tenth round) and the rules that use it, cross-validated by set.

    python bench/safety.py --train --cache DIR  # first: the MiniLM nets' out-of-fold scores
    python bench/safety_en.py --cv --cache DIR     # the n-gram model's and the rules' folds
    python bench/safety_en.py --train --cache DIR  # --cv, then fit on everything and ship
    python bench/safety_en.py --cost               # load time, latency, memory

The model (familybot/services/safety/english_model.py) is the Spanish one's kind: a logistic
regression (scikit-learn, here only; the bot reads the weights in plain Python) on
spanish_model.features, fitted per fold on the other sets (less the sets FITTED_AFTER the
fold's, as bench/safety.py does), a message scoring the highest of its pieces as the bot
scores it. The folds, the matcher's answer in each fold and the MiniLM nets' out-of-fold
probability come from bench/safety.py (its cache's cv-proba.json, written by its --train or
--cv with the same --cache), so every detector here is scored on the same messages by models
that never learned from the set scored.

Two rules are chosen, each on the second-worst of the retired held-out folds (CHOOSE_ON):
the light install's, an English-list match counting when the n-gram model gives at least a
floor, or the model alone from a threshold; and the extra's, over three scores (the matcher's
match, the nets' probability p and the model's q): a match counts when max(p, q) (or their
mean) reaches a floor, and p alone, q alone or their mean alone fire from their thresholds.
Among the rules whose second-worst fold precision reaches CHOOSE_PRECISION, the one with the
highest second-worst fold recall (then pooled recall).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.safety_folds import (  # noqa: E402
    CHOOSE_ON,
    FITTED_AFTER,
    FOLD_SETS,
    TRAINING_SETS,
    folds_of,
)
from bench.safety_side import rss_mb  # noqa: E402
from familybot.services.safety import english_model  # noqa: E402
from familybot.services.safety.spanish_model import features, pieces  # noqa: E402
from tests.data.safety import Example, load, newest_held_out  # noqa: E402

WEIGHTS_PATH = REPO_ROOT / "familybot" / "data" / english_model.WEIGHTS_FILE
EXTRA_PATH = REPO_ROOT / "familybot" / "data" / "safety_model.json"
# Regularisation strengths tried (scikit-learn's C: larger fits the training sets closer).
CS = (3.0, 10.0, 30.0, 100.0)
# A feature must appear in at least this many training messages to get a weight.
MIN_DF = 2
# Weights are shipped rounded to this many decimals; smaller ones are dropped.
DECIMALS = 2
# The brief: the held-out figure has come out about 0.02 below the quantile fold, so the
# rule is asked for 0.91 there.
CHOOSE_PRECISION = 0.91
QUANTILE_RANK = 1  # 0: the worst fold; 1: the second-worst
OFF = 1.01  # a threshold no probability reaches


def fit(rows: list[set[str]], y: list[int], c: float) -> tuple[dict[str, float], float]:
    """Logistic regression on binary features scaled by 1/sqrt(count), as the bot scores
    them (SpanishWeights.probability_of); returns (weights by feature, intercept)."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    df = Counter(f for row in rows for f in row)
    vocab = {f: j for j, f in enumerate(sorted(f for f, n in df.items() if n >= MIN_DF))}
    r: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for i, row in enumerate(rows):
        at = [vocab[f] for f in row if f in vocab]
        r += [i] * len(at)
        cols += at
        vals += [1.0 / math.sqrt(len(row))] * len(at)
    x = csr_matrix((vals, (r, cols)), shape=(len(rows), len(vocab)))
    model = LogisticRegression(C=c, max_iter=5000).fit(x, y)
    coef = model.coef_[0]
    return {f: float(coef[j]) for f, j in vocab.items()}, float(model.intercept_[0])


def _model(weights: dict[str, float], intercept: float) -> english_model.EnglishWeights:
    return english_model.EnglishWeights(weights, intercept, 1.0, 1.0)


def training() -> tuple[list[Example], list[int]]:
    """Every English training message and its fold, in bench/safety.py's order."""
    examples: list[Example] = []
    fold: list[int] = []
    for name in TRAINING_SETS:
        rows = load(name)
        examples += rows
        fold += folds_of(name, len(rows))
    return examples, fold


def out_of_fold(examples: list[Example], fold: list[int], c: float) -> list[float]:
    """Each message's n-gram probability from a model fitted without its set (and without the
    sets FITTED_AFTER it): the highest over its pieces, as the bot scores it."""
    whole = [features(e.text) for e in examples]
    parts = [[features(p) for p in pieces(e.text)] for e in examples]
    y = [int(e.at_risk) for e in examples]
    proba = [0.0] * len(examples)
    for k, name in enumerate(FOLD_SETS):
        left_out = {k, *(FOLD_SETS.index(n) for n in FITTED_AFTER.get(name, ()))}
        at = [i for i, f in enumerate(fold) if f not in left_out]
        model = _model(*fit([whole[i] for i in at], [y[i] for i in at], c))
        for i, f in enumerate(fold):
            if f == k:
                proba[i] = max(model.probability_of(row) for row in parts[i])
    return proba


def ngram_scores(examples: list[Example], fold: list[int], c: float, cache: Path) -> list[float]:
    """out_of_fold, kept in the cache under a key of the texts, labels and folds."""
    import hashlib

    text = "\n".join(f"{e.at_risk}\t{f}\t{e.text}" for e, f in zip(examples, fold, strict=True))
    key = hashlib.sha256(f"{c}|{MIN_DF}|{text}".encode()).hexdigest()[:16]
    path = cache / f"cv-ngram-{key}.json"
    if path.exists():
        cached: list[float] = json.loads(path.read_text())
        return cached
    scores = out_of_fold(examples, fold, c)
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(scores))
    return scores


class Folds:
    """Per-fold precision/recall of many rules at once (numpy)."""

    def __init__(self, truth: list[bool], fold: list[int]) -> None:
        import numpy as np

        self.np = np
        self.truth = np.array(truth, dtype=bool)
        self.fold = np.array(fold)
        self.k = len(FOLD_SETS)
        self.choose = [FOLD_SETS.index(n) for n in CHOOSE_ON]

    def figures(self, pred: Any) -> tuple[Any, Any]:
        np = self.np
        tp = np.bincount(self.fold, weights=pred & self.truth, minlength=self.k)
        fp = np.bincount(self.fold, weights=pred & ~self.truth, minlength=self.k)
        fn = np.bincount(self.fold, weights=~pred & self.truth, minlength=self.k)
        precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 1.0)
        recall = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), 1.0)
        return precision, recall

    def low(self, pred: Any) -> tuple[float, float]:
        precision, recall = self.figures(pred)
        p = sorted(precision[self.choose])[QUANTILE_RANK]
        r = sorted(recall[self.choose])[QUANTILE_RANK]
        return float(p), float(r)

    def pooled(self, pred: Any) -> tuple[float, float]:
        tp = int((pred & self.truth).sum())
        fp = int((pred & ~self.truth).sum())
        fn = int((~pred & self.truth).sum())
        return tp / max(tp + fp, 1), tp / max(tp + fn, 1)

    def key(self, pred: Any, precision: float) -> tuple[float, ...]:
        low = self.low(pred)
        pooled = self.pooled(pred)
        if low[0] >= precision:
            return (1.0, low[1], pooled[1], low[0])
        return (0.0, min(low), low[1], pooled[1])


def _grid(step: int, start: int, stop: int) -> list[float]:
    return [n / 100 for n in range(start, stop, step)]


def choose_light(
    q: Any, m: Any, folds: Folds, precision: float
) -> tuple[tuple[float, ...], float, float]:
    """(key, list floor, threshold) of the light rule: (list and q >= floor) or q >= threshold."""
    best: tuple[tuple[float, ...], float, float] | None = None
    for threshold in [*_grid(1, 30, 100), OFF]:
        for floor in _grid(5, 0, int(min(threshold, 1.0) * 100) + 1):
            key = folds.key((m & (q >= floor)) | (q >= threshold), precision)
            if best is None or key > best[0]:
                best = (key, floor, threshold)
    assert best is not None
    return best


def full_rule(p: Any, q: Any, m: Any, rule: dict[str, Any]) -> Any:
    """The extra's rule over the matcher's match m and the probabilities p (nets), q (n-gram)."""
    np = folds_np()
    gate = np.maximum(p, q) if rule["gate"] == "max" else (p + q) / 2
    return (
        (m & (gate >= rule["floor"]))
        | (p >= rule["p"])
        | (q >= rule["q"])
        | ((p + q) / 2 >= rule["mean"])
    )


def folds_np() -> Any:
    import numpy as np

    return np


def choose_full(
    p: Any, q: Any, m: Any, folds: Folds, precision: float
) -> tuple[tuple[float, ...], dict[str, Any]]:
    """The best rule of the three-score family on the grid."""
    best: tuple[tuple[float, ...], dict[str, Any]] | None = None
    grid = itertools.product(
        ("max", "mean"),
        _grid(5, 0, 96),
        [0.9, 0.92, 0.94, 0.96, 0.98, OFF],
        [*_grid(5, 50, 100), 0.97, 0.99, OFF],
        [*_grid(5, 50, 100), 0.97, 0.99, OFF],
    )
    for gate, floor, tp, tq, tm in grid:
        rule = {"gate": gate, "floor": floor, "p": tp, "q": tq, "mean": tm}
        key = folds.key(full_rule(p, q, m, rule), precision)
        if best is None or key > best[0]:
            best = (key, rule)
    assert best is not None
    return best


def _row(label: str, pred: Any, folds: Folds) -> str:
    precision, recall = folds.figures(pred)
    cells = [f"{a:.3f} / {b:.3f}" for a, b in zip(precision, recall, strict=True)]
    low = folds.low(pred)
    pooled = folds.pooled(pred)
    return (
        f"| {label} | {' | '.join(cells)} | **{low[0]:.3f} / {low[1]:.3f}** | "
        f"{pooled[0]:.3f} / {pooled[1]:.3f} |"
    )


def _describe(rule: dict[str, Any]) -> str:
    parts = [f"matcher if {rule['gate']}(p, q) >= {rule['floor']:.2f}"]
    for name, label in (("p", "p"), ("q", "q"), ("mean", "mean(p, q)")):
        if rule[name] <= 1.0:
            parts.append(f"{label} >= {rule[name]:.2f}")
    return ", or ".join(parts)


def cross_validate(cache: Path) -> tuple[float, tuple[float, float], dict[str, Any]]:
    """Print the table; return the chosen (C, (light floor, light threshold), full rule)."""
    np = folds_np()
    examples, fold = training()
    proba, cfold, matcher = json.loads((cache / "cv-proba.json").read_text())
    assert cfold == fold, "bench/safety.py's cache is for other training sets: rerun it"
    truth = [e.at_risk for e in examples]
    folds = Folds(truth, fold)
    m = np.array(matcher, dtype=bool)
    p = np.array(proba)
    extra = json.loads(EXTRA_PATH.read_text(encoding="utf-8"))
    names = [n.removeprefix("heldout").replace("tuning", "t") or "1" for n in FOLD_SETS]
    print("| detector | " + " | ".join(names) + " | second-worst held-out fold | pooled |")
    print("|---|" + "---:|" * (len(FOLD_SETS) + 2))
    print(_row("matcher", m, folds))
    t, f = float(extra["threshold"]), float(extra["matcher_floor"])
    print(_row(f"classifier >= {t}", p >= t, folds))
    print(
        _row(
            f"ninth round's rule (matcher if p >= {f}, or p >= {t})",
            (m & (p >= f)) | (p >= t),
            folds,
        )
    )
    chosen: tuple[tuple[float, ...], float, Any] | None = None
    for c in CS:
        started = time.perf_counter()
        q = np.array(ngram_scores(examples, fold, c, cache))
        key, floor, threshold = choose_light(q, m, folds, CHOOSE_PRECISION)
        alone = choose_light(q, np.zeros_like(m), folds, CHOOSE_PRECISION)
        print(_row(f"C={c:g}: n-gram model >= {alone[2]:.2f}", q >= alone[2], folds))
        label = f"C={c:g}: light rule, list if q >= {floor:.2f}, or q >= {threshold:.2f}"
        print(_row(label, (m & (q >= floor)) | (q >= threshold), folds))
        print(f"(C={c:g}: {time.perf_counter() - started:.0f} s)", file=sys.stderr)
        if chosen is None or key > chosen[0]:
            chosen = (key, c, q)
    assert chosen is not None
    _, c, q = chosen
    _, floor, threshold = choose_light(q, m, folds, CHOOSE_PRECISION)
    for precision in (0.90, CHOOSE_PRECISION):
        _, rule = choose_full(p, q, m, folds, precision)
        print(
            _row(
                f"full rule for {precision:.2f}: {_describe(rule)}", full_rule(p, q, m, rule), folds
            )
        )
    _, rule = choose_full(p, q, m, folds, CHOOSE_PRECISION)
    print(f"chosen: C={c:g}; light: list if q >= {floor:.2f}, or q >= {threshold:.2f}")
    print(f"chosen: full: {_describe(rule)}")
    return c, (floor, threshold), rule


def train(cache: Path) -> None:
    """--cv, then the n-gram model fitted on every training message, and both rules shipped."""
    c, (floor, threshold), rule = cross_validate(cache)
    examples, _ = training()
    weights, intercept = fit(
        [features(e.text) for e in examples], [int(e.at_risk) for e in examples], c
    )
    kept = {f: round(w, DECIMALS) for f, w in sorted(weights.items()) if round(w, DECIMALS)}
    shipped = {
        "about": (
            "The safety watch's English n-gram model (familybot/services/safety/english_model.py):"
            f" logistic regression, C={c:g}, on the features of {len(examples)} messages of "
            f"{', '.join(TRAINING_SETS)}, fitted by bench/safety_en.py --train; the light rule's "
            "threshold and list_floor chosen there by leave-one-set-out cross-validation (the "
            "second-worst retired held-out fold)."
        ),
        "intercept": round(intercept, 6),
        "threshold": threshold,
        "list_floor": floor,
        "weights": kept,
    }
    WEIGHTS_PATH.write_text(json.dumps(shipped, ensure_ascii=True, separators=(",", ":")) + "\n")
    print(f"wrote {WEIGHTS_PATH.name}: {len(kept)} weights, {WEIGHTS_PATH.stat().st_size} bytes")
    extra = json.loads(EXTRA_PATH.read_text(encoding="utf-8"))
    extra["rule"] = rule
    EXTRA_PATH.write_text(json.dumps(extra, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote the full rule into {EXTRA_PATH.name}: {_describe(rule)}")


def cost() -> None:
    """The n-gram model as the bot runs it: load time, latency per message, memory."""
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    weights = english_model.shared_weights()
    loaded = time.perf_counter() - start
    after = rss_mb()
    held = newest_held_out()
    examples = load(held) if held else training()[0][::6]
    texts = [e.text for e in examples] + [e.text for e in load("ordinary")]
    floods = [("if " * 1333)[:4000], "😂" * 4000, ("a " * 2000)[:4000]]
    floods.append(" ".join(str(n) for n in range(1100))[:4000])
    floods.append(("i want to die. " * 300)[:4000])

    def times(items: list[str]) -> list[float]:
        out = []
        for text in items:
            t0 = time.perf_counter()
            weights.probability(text)
            out.append((time.perf_counter() - t0) * 1000)
        return sorted(out)

    ms = times(texts)
    flood = times(floods)
    print(
        f"n-gram model: {len(texts)} messages, p50 {statistics.median(ms):.2f} ms, p99 "
        f"{ms[int(0.99 * (len(ms) - 1))]:.2f} ms; slowest 4,000-char flood {flood[-1]:.1f} ms; "
        f"{len(weights.weights)} features, loaded in {loaded * 1000:.0f} ms, "
        f"+{after - before:.1f} MB resident ({after:.0f} MB in all)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="the model's and the rules' folds")
    parser.add_argument("--train", action="store_true", help="fit and write the weights")
    parser.add_argument("--cost", action="store_true", help="load time, latency, memory")
    parser.add_argument("--cache", type=Path, default=Path(".cache/safety"))
    args = parser.parse_args()
    if args.train:
        train(args.cache)
    elif args.cv:
        cross_validate(args.cache)
    else:
        cost()


if __name__ == "__main__":
    main()
