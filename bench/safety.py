"""Safety watch detectors side by side: held-out precision/recall, latency and memory.

    python bench/safety.py            # figures for the matcher and, when installed, the model
    python bench/safety.py --train    # refit the classifier's weights on the training sets
    python bench/safety.py --cv       # cross-validated figures, one fold per labelled set

The classifier needs `pip install 'familybot[safety-model]'`; without it only the matcher is
measured and one line says why. Latency is per message, one message at a time as the bot
sees them, on one CPU thread; memory is the process's resident size (VmRSS) from /proc.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from familybot.services.safety import model as safety_model  # noqa: E402
from familybot.services.safety.lists import SPANISH_PHRASES_FILE, PhraseLists  # noqa: E402
from familybot.services.safety.watch import (  # noqa: E402
    ALIAS_PREFIX,
    CLAUSE_CUT_PREFIX,
    PHRASES_FILE,
    QUIET_BEFORE_PREFIX,
    QUIET_SENTENCE_PREFIX,
    Detector,
    PhraseList,
    score,
)
from tests.data.safety import (  # noqa: E402
    ENGLISH_TRAINING,
    RETIRED,
    SPANISH_TRAINING,
    Example,
    load,
    newest_held_out,
)

WEIGHTS_PATH = REPO_ROOT / "familybot" / "data" / safety_model.WEIGHTS_FILE


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def figures(detector: Detector, examples: tuple[Example, ...]) -> tuple[float, float, int]:
    precision, recall, _, _ = score(detector, [(e.text, e.at_risk) for e in examples])
    return precision, recall, len(examples)


def latency_ms(matches: Callable[[str], bool], texts: list[str]) -> tuple[float, float]:
    times = []
    for text in texts:
        start = time.perf_counter()
        matches(text)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


# What the classifier is trained on (tenth round): the tuning sets, held-out sets 1-9 (retired
# as held-out: their texts may now be read) and the chatter negatives. Held-out 10 never.
TRAINING_SETS = ENGLISH_TRAINING
# The cross-validation folds: one per labelled set, each written by a different hand, so each
# fold is scored on messages written by a hand the fold's model never read (pooled shuffled
# folds leak a writer's style and were over-optimistic: held-out 6 came out at 0.743 precision
# where they promised 0.85). Chatter is dealt round-robin.
FOLD_SETS = tuple(name for name in ENGLISH_TRAINING if name != "chatter")
# Training sets written after reading a set, so not independent of it: left out of the fit of
# that set's fold (and, from the eighth round, of the support a matcher line needs there)
# (tuning7 was written from held-out 6's misses and false alarms, tuning8 from held-out 7's,
# tuning9 from held-out 8's, tuning10 from held-out 9's, each with the other training sets').
FITTED_AFTER = {
    "heldout6": ("tuning7",),
    "heldout7": ("tuning8",),
    "heldout8": ("tuning9",),
    "heldout9": ("tuning10",),
}
# The folds the rule is chosen on: every set written by a hand that never tuned (the retired
# held-out sets). The tuning sets' folds are printed, not used to choose.
CHOOSE_ON = RETIRED
# The rule is chosen so that the LOW QUANTILE of these folds (the second-worst of nine), not
# the pooled figure, reaches the precision asked for: the next hand's set will differ from
# all of ours, and the worst fold of nine is one set's quirks.
CHOOSE_PRECISION = 0.90
QUANTILE_RANK = 1  # 0: the worst fold; 1: the second-worst


def _embeddings(
    encoder: object, name: str, texts: list[str], cache: Path | None
) -> list[list[float]]:
    """The set's embeddings, from a cache file when its texts have not changed."""
    import hashlib

    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    path = cache / f"{name}-{key}.json" if cache else None
    if not texts:
        return []
    if path is not None and path.exists():
        cached: list[list[float]] = json.loads(path.read_text())
        return cached
    vectors = safety_model.embed(encoder, texts)
    if path is not None:
        path.write_text(json.dumps(vectors))
    return vectors


def _training_data(
    cache: Path | None,
) -> tuple[list[list[float]], list[int], list[int], list[list[list[float]]]]:
    """(embeddings, labels, fold of each message, embeddings of each message's extra pieces)
    over TRAINING_SETS, in order. The held-out set (the newest, not retired) is not read."""
    encoder = safety_model.load_encoder(threads=None)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    x: list[list[float]] = []
    y: list[int] = []
    fold: list[int] = []
    # Each message's extra pieces (its sentences; safety_model.pieces): the model is fitted on
    # whole messages, and scored as the bot scores, by the highest over the pieces.
    extra: list[list[list[float]]] = []
    for name in TRAINING_SETS:
        examples = load(name)
        x += _embeddings(encoder, name, [e.text for e in examples], cache)
        y += [int(e.at_risk) for e in examples]
        split = [safety_model.pieces(e.text)[1:] for e in examples]
        flat = _embeddings(encoder, f"{name}-pieces", [p for ps in split for p in ps], cache)
        at = 0
        for ps in split:
            extra.append(flat[at : at + len(ps)])
            at += len(ps)
        fold += folds_of(name, len(examples))
    return x, y, fold, extra


def folds_of(name: str, count: int) -> list[int]:
    """The fold of each message of a training set: its own set's, chatter dealt round-robin."""
    if name in FOLD_SETS:
        return [FOLD_SETS.index(name)] * count
    return [i % len(FOLD_SETS) for i in range(count)]


# The classifier (sixth round): a few small neural networks on the embedding, one hidden layer
# of HIDDEN ReLU units, L2 penalty ALPHA (scikit-learn's MLPClassifier), fitted alike from SEEDS
# random starts, their probabilities averaged. In the sixth round's cross-validation it caught
# far more than the logistic regression it replaced at the same precision (README).
HIDDEN = 128
SEEDS = (0, 1, 2)
ALPHA = 0.03


class _Ensemble:
    """MLPClassifier fitted from each seed; predict_proba averages them (as Weights does)."""

    def __init__(self, alpha: float) -> None:
        from sklearn.neural_network import MLPClassifier

        self.nets = [
            MLPClassifier((HIDDEN,), alpha=alpha, max_iter=500, random_state=seed) for seed in SEEDS
        ]

    def fit(self, x: list[list[float]], y: list[int]) -> _Ensemble:
        for net in self.nets:
            net.fit(x, y)
        return self

    def predict_proba(self, rows: list[list[float]]) -> Any:
        return sum(net.predict_proba(rows) for net in self.nets) / len(self.nets)


def _out_of_fold(
    x: list[list[float]],
    y: list[int],
    fold: list[int],
    extra: list[list[list[float]]],
    alpha: float,
) -> list[float]:
    """Each message's probability from a model fitted on the other folds only (and without
    the sets FITTED_AFTER its own): the highest over the message and its sentences, as the
    bot scores it."""
    proba = [0.0] * len(y)
    for k, name in enumerate(FOLD_SETS):
        left_out = {k, *(FOLD_SETS.index(n) for n in FITTED_AFTER.get(name, ()))}
        train_at = [i for i, f in enumerate(fold) if f not in left_out]
        test_at = [i for i, f in enumerate(fold) if f == k]
        model = _Ensemble(alpha).fit([x[i] for i in train_at], [y[i] for i in train_at])
        rows = [row for i in test_at for row in (x[i], *extra[i])]
        scored = iter(model.predict_proba(rows)[:, 1])
        for i in test_at:
            proba[i] = float(max(next(scored) for _ in range(1 + len(extra[i]))))
    return proba


def per_fold(
    pred: list[bool], truth: list[bool], fold: list[int]
) -> dict[str, tuple[float, float]]:
    """(precision, recall) of each fold, by set name."""
    out = {}
    for k, name in enumerate(FOLD_SETS):
        at = [i for i, f in enumerate(fold) if f == k]
        out[name] = _pr([pred[i] for i in at], [truth[i] for i in at])
    return out


def low_quantile(figures: dict[str, tuple[float, float]]) -> tuple[float, float]:
    """(precision, recall) at QUANTILE_RANK over the CHOOSE_ON folds, each taken separately."""
    precisions = sorted(figures[n][0] for n in CHOOSE_ON)
    recalls = sorted(figures[n][1] for n in CHOOSE_ON)
    return precisions[QUANTILE_RANK], recalls[QUANTILE_RANK]


def gated(proba: list[float], matcher: list[bool], floor: float, threshold: float) -> list[bool]:
    """The seventh round's rule: a matcher match counts when the classifier gives the message
    at least `floor`; the classifier alone fires from `threshold` (model.Gated)."""
    return [(m and p >= floor) or p >= threshold for p, m in zip(proba, matcher, strict=True)]


def choose_rule(
    proba: list[float], matcher: list[bool], truth: list[bool], fold: list[int], gate: bool = True
) -> tuple[float, float, tuple[float, float]]:
    """(floor, threshold, low-quantile (precision, recall)): among the rules whose low-quantile
    fold precision reaches CHOOSE_PRECISION, the one with the highest low-quantile recall (then
    pooled recall); without such a rule, the one with the highest low-quantile min(P, R).
    gate=False: the matcher ungated (floor 0, the old OR)."""
    best: tuple[tuple[float, ...], float, float, tuple[float, float]] | None = None
    for t_step in range(30, 100):
        threshold = t_step / 100
        floors = range(0, t_step + 1, 5) if gate else (0,)
        for f_step in floors:
            floor = f_step / 100
            pred = gated(proba, matcher, floor, threshold)
            low = low_quantile(per_fold(pred, truth, fold))
            pooled = _pr(pred, truth)
            ok = low[0] >= CHOOSE_PRECISION
            key = (1.0, low[1], pooled[1]) if ok else (0.0, min(low), low[1])
            if best is None or key > best[0]:
                best = (key, floor, threshold, low)
    assert best is not None
    return best[1], best[2], best[3]


def _cv_inputs(
    cache: Path | None, alpha: float
) -> tuple[list[Example], list[int], list[bool], list[float]]:
    """Every training message, its fold, the fold's matcher answer and classifier score."""
    examples, fold, matcher = matcher_folds()
    x, y, cfold, extra = _training_data(cache)
    assert cfold == fold and y == [int(e.at_risk) for e in examples]
    return examples, fold, matcher, _out_of_fold(x, y, fold, extra, alpha)


def train(cache: Path | None = None) -> None:
    """Fit the classifier's nets on the training sets' embeddings; pick the rule (the
    classifier's threshold and the matcher's floor) by cross-validation over the sets (see
    FOLD_SETS and choose_rule). The held-out set is not read."""
    examples, fold, matcher, proba = _cv_inputs(cache, ALPHA)
    truth = [e.at_risk for e in examples]
    if cache is not None:
        (cache / "cv-proba.json").write_text(json.dumps([proba, fold, matcher]))
    floor, threshold, low = choose_rule(proba, matcher, truth, fold)
    # The table the rule was chosen on (as --cv prints it, without fitting everything again).
    _print_folds(
        {
            "matcher": matcher,
            f"classifier >= {threshold}": [p >= threshold for p in proba],
            f"matcher or classifier >= {threshold}": gated(proba, matcher, 0.0, threshold),
            f"chosen: matcher if >= {floor}, or >= {threshold}": gated(
                proba, matcher, floor, threshold
            ),
        },
        truth,
        fold,
    )
    write_weights(cache, floor, threshold, low)


def write_weights(
    cache: Path | None, floor: float, threshold: float, low: tuple[float, float]
) -> None:
    """Fit the nets on every training message and ship them with the chosen rule."""
    precision, recall = low
    x, y, _, _ = _training_data(cache)
    model = _Ensemble(ALPHA).fit(x, y)
    nets = [
        {
            "hidden": [[round(float(w), 5) for w in row] for row in net.coefs_[0].T],
            "hidden_bias": [round(float(b), 5) for b in net.intercepts_[0]],
            "coef": [round(float(w), 5) for w in net.coefs_[1][:, 0]],
            "intercept": round(float(net.intercepts_[1][0]), 5),
        }
        for net in model.nets
    ]
    WEIGHTS_PATH.write_text(
        json.dumps(
            {
                "about": f"{len(SEEDS)} neural networks (one hidden layer of {HIDDEN} ReLU "
                "units, logistic output; their probabilities averaged) on all-MiniLM-L6-v2 "
                "sentence embeddings (normalised), fitted by bench/safety.py --train on "
                f"tests/data/safety/{{{','.join(TRAINING_SETS)}}}.tsv ({len(y)} messages, "
                f"{sum(y)} at risk). L2 penalty alpha={ALPHA}; a message scores the highest "
                "over it and its sentences. Rule (chosen by leave-one-set-out cross-validation, "
                "the second-worst of the nine retired held-out folds): the classifier alone "
                f"fires from {threshold}; a matcher match counts from {floor} (low-quantile "
                f"fold precision {precision:.3f}, recall {recall:.3f}).",
                "threshold": threshold,
                "matcher_floor": floor,
                "alpha": ALPHA,
                "nets": nets,
            },
            indent=None,
            separators=(",", ":"),
        )
        + "\n",
        encoding="utf-8",
    )
    print(
        f"wrote {WEIGHTS_PATH.relative_to(REPO_ROOT)}: threshold={threshold} floor={floor} "
        f"low-quantile fold precision={precision:.3f} recall={recall:.3f}"
    )


def _both(english: PhraseList) -> PhraseLists:
    """The matcher as the bot watches with it: this English list and the shipped Spanish one
    (both read every message; a match in either counts)."""
    return PhraseLists({PHRASES_FILE: english, SPANISH_PHRASES_FILE: _spanish()})


@functools.cache
def _spanish() -> PhraseList:
    return PhraseList.load(SPANISH_PHRASES_FILE)


def bench() -> None:
    # English and Spanish sets: the bot reads every message with both lists.
    training = {name: load(name) for name in (*TRAINING_SETS, *SPANISH_TRAINING)}
    held = [name for name in (newest_held_out(), newest_held_out("es_heldout")) if name]
    held_outs = {name: load(name) for name in held}
    ordinary = load("ordinary")
    # Latency over the held-out sets, or every sixth training message on a branch without.
    every = [e for examples in training.values() for e in examples]
    texts = [e.text for examples in held_outs.values() for e in examples] or [
        e.text for e in every[::6]
    ]
    # Long and adversarial messages (4,000 characters): what must never stall the bot.
    floods = [
        ("if " * 1333)[:4000],
        "😂" * 4000,
        ("a " * 2000)[:4000],
        " ".join(str(n) for n in range(1100))[:4000],
    ]
    rows: list[str] = []
    perf: list[str] = []

    def add(detector: Detector) -> None:
        for held_name, held_out in held_outs.items():
            p, r, n = figures(detector, held_out)
            rows.append(f"| {detector.name} | **{held_name}** | {p:.3f} | {r:.3f} | {n} |")
        for name, examples in training.items():
            p, r, n = figures(detector, examples)
            rows.append(f"| {detector.name} | {name} (training) | {p:.3f} | {r:.3f} | {n} |")
        fired = sum(1 for e in ordinary if detector.matches(e.text))
        rows.append(
            f"| {detector.name} | ordinary chatter: fires on | {fired} | of | {len(ordinary)} |"
        )

    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    matcher = PhraseLists.load()
    load_s = time.perf_counter() - start
    added_mb = rss_mb() - before
    add(matcher)
    # The matcher as the bot runs it (both lists), then what each list costs alone.
    timed = [("matcher (both lists)", matcher.matches, load_s, added_mb)]
    timed += [(f"{name} alone", one.matches, None, None) for name, one in matcher.lists.items()]
    alone: dict[str, tuple[float, float]] = {}
    for label, matches, took, mb in timed:
        p50, p99 = latency_ms(matches, texts)
        _, flood_max = latency_ms(matches, floods)
        alone[label] = (p50, flood_max)
        load_col = "" if took is None else f"{took:.3f}"
        mb_col = "" if mb is None else f"{mb:.0f}"
        perf.append(
            f"| {label} | {load_col} | {p50:.3f} | {p99:.3f} | {flood_max:.0f} | "
            f"{mb_col} | {rss_mb():.0f} |"
        )

    why_not = safety_model.missing()
    if why_not is None:
        gc.collect()
        before = rss_mb()
        start = time.perf_counter()
        classifier = safety_model.SafetyClassifier()
        classifier.matches("warm-up")
        load_s = time.perf_counter() - start
        add(classifier)
        # As the bot watches (model.bot_detector): the English list's match is checked by the
        # classifier (trained on English), a Spanish list's match counts alone.
        english = matcher.lists[PHRASES_FILE]
        spanish = PhraseLists({n: p for n, p in matcher.lists.items() if n != PHRASES_FILE})
        add(safety_model.combined(english, classifier, spanish))
        p50, p99 = latency_ms(classifier.matches, texts)
        _, flood_max = latency_ms(classifier.matches, floods)
        perf.append(
            f"| classifier (1 thread) | {load_s:.2f} | {p50:.1f} | {p99:.1f} | "
            f"{flood_max:.0f} | {rss_mb() - before:.0f} | {rss_mb():.0f} |"
        )
    print("| detector | set | precision | recall | n |")
    print("|---|---|---:|---:|---:|")
    print("\n".join(rows))
    print()
    print(
        "| detector | load s | p50 ms/message | p99 ms/message | slowest 4,000-char flood ms "
        "| RSS added MB | RSS total MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(perf))
    # The README's claim: the Spanish list adds about half what the English one costs.
    english = alone.get(f"{PHRASES_FILE} alone")
    spanish = alone.get(f"{SPANISH_PHRASES_FILE} alone")
    if english and spanish:
        print(
            f"\nSpanish list / English list: {spanish[0] / english[0]:.2f} of its cost per "
            f"message (p50), {spanish[1] / english[1]:.2f} on the slowest flood"
        )
    if why_not is not None:
        print(f"\nclassifier skipped: {why_not}")


# --- cross-validation by set (python bench/safety.py --cv) ----------------------------------
# The round's candidates: the phrase list's lines after ROUND_MARKER, and the older lines it
# edited (each right under a WAS comment giving the line as it was). In the fold that scores
# set k, a candidate is kept only when the OTHER sets support it: over their messages where it
# changes the answer, +1 for each it gets right and -2 for each it gets wrong, at least
# SUPPORT; otherwise a new line is left out and an edited line goes back to what it was. So
# a line written for one message of set k does not count when set k is scored (as if set k
# had been held out while the list was written). Lines that only catch messages another new
# line also catches get no credit here, so the figures lean low, not high.
ROUND_MARKER = "# === Fifth round ==="
WAS = "# was (before the fifth round): "
SUPPORT = 2


def _without(text: str, drop: set[int]) -> PhraseList:
    lines = text.splitlines()
    for number in drop:
        above = lines[number - 2] if number > 1 else ""
        lines[number - 1] = above.removeprefix(WAS) if above.startswith(WAS) else "# (left out)"
    return PhraseList.parse("\n".join(lines))


def matcher_folds(support: int = SUPPORT) -> tuple[list[Example], list[int], list[bool]]:
    """Every training message, its fold, and the fold's matcher's answer on it (the fold's
    English list with the shipped Spanish one, as the bot reads)."""
    text = (REPO_ROOT / "familybot" / "data" / PHRASES_FILE).read_text(encoding="utf-8")
    lines = text.splitlines()
    marker = next(i for i, line in enumerate(lines, start=1) if line.startswith(ROUND_MARKER))
    candidates = [
        n
        for n, line in enumerate(lines, start=1)
        if (n > marker or (n > 1 and lines[n - 2].startswith(WAS)))
        and line.strip()
        and not line.lstrip().startswith("#")
    ]
    examples: list[Example] = []
    fold: list[int] = []
    for name in TRAINING_SETS:
        rows = load(name)
        examples += rows
        fold += folds_of(name, len(rows))
    full = _both(PhraseList.parse(text))
    answer = [full.matches(e.text) for e in examples]
    # The English line that makes each match (None: no English match).
    english = PhraseList.parse(text)
    first = [english.first_match(e.text) for e in examples]
    # What each candidate changes: the messages whose answer differs without it. Leaving out
    # a new pattern line can only change the messages whose first counting English line it is
    # (any other counting line still matches), so only those are read again; an alias, a quiet
    # line or an edited line (its old version may match more) is read against every message.
    changes: dict[int, list[int]] = {}
    for n in candidates:
        loo = _both(_without(text, {n}))
        line = lines[n - 1].strip()
        pattern = not line.startswith(
            (ALIAS_PREFIX, QUIET_BEFORE_PREFIX, QUIET_SENTENCE_PREFIX, CLAUSE_CUT_PREFIX)
        ) and not (n > 1 and lines[n - 2].startswith(WAS))
        at = [i for i, f in enumerate(first) if f == n] if pattern else range(len(examples))
        changes[n] = [i for i in at if loo.matches(examples[i].text) != answer[i]]
    out = [False] * len(examples)
    for k in range(len(FOLD_SETS)):
        # Support comes from the other sets, less those written after reading set k.
        unread = {k, *(FOLD_SETS.index(n) for n in FITTED_AFTER.get(FOLD_SETS[k], ()))}
        drop = set()
        for n in candidates:
            gain = sum(
                1 if answer[i] == examples[i].at_risk else -2
                for i in changes[n]
                if fold[i] not in unread
            )
            if gain < support:
                drop.add(n)
        matcher = _both(_without(text, drop))
        print(
            f"fold {FOLD_SETS[k]}: {len(candidates) - len(drop)} of {len(candidates)} new lines kept"
        )
        for i, e in enumerate(examples):
            if fold[i] == k:
                out[i] = matcher.matches(e.text)
    return examples, fold, out


def _pr(pred: list[bool], truth: list[bool]) -> tuple[float, float]:
    tp = sum(1 for p, t in zip(pred, truth, strict=True) if p and t)
    fp = sum(1 for p, t in zip(pred, truth, strict=True) if p and not t)
    fn = sum(1 for p, t in zip(pred, truth, strict=True) if not p and t)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def cross_validate(cache: Path | None) -> None:
    """Per-fold, low-quantile and pooled precision/recall of each detector, every message
    scored by a detector that did not learn from its set (see ROUND_MARKER and _out_of_fold):
    the shipped rule (safety_model.json), and the rules choose_rule picks for these scores."""
    if safety_model.missing() is not None:
        examples, fold, matcher = matcher_folds()
        _print_folds({"matcher": matcher}, [e.at_risk for e in examples], fold)
        return
    weights = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
    examples, fold, matcher, proba = _cv_inputs(cache, float(weights["alpha"]))
    truth = [e.at_risk for e in examples]
    if cache is not None:
        (cache / "cv-proba.json").write_text(json.dumps([proba, fold, matcher]))
    threshold, floor = float(weights["threshold"]), float(weights.get("matcher_floor", 0.0))
    detectors: dict[str, list[bool]] = {
        "matcher": matcher,
        f"classifier >= {threshold}": [p >= threshold for p in proba],
        f"matcher or classifier >= {threshold}": gated(proba, matcher, 0.0, threshold),
        f"shipped: matcher if >= {floor}, or >= {threshold}": gated(
            proba, matcher, floor, threshold
        ),
    }
    for gate in (False, True):
        f, t, _ = choose_rule(proba, matcher, truth, fold, gate)
        detectors[f"chosen here: matcher if >= {f}, or >= {t}"] = gated(proba, matcher, f, t)
    _print_folds(detectors, truth, fold)


def _print_folds(detectors: dict[str, list[bool]], truth: list[bool], fold: list[int]) -> None:
    print("| detector | fold (set scored) | precision | recall | messages (at risk) |")
    print("|---|---|---:|---:|---:|")
    for name, pred in detectors.items():
        figures = per_fold(pred, truth, fold)
        for k, set_name in enumerate(FOLD_SETS):
            n = sum(1 for f in fold if f == k)
            pos = sum(1 for f, t in zip(fold, truth, strict=True) if f == k and t)
            p, r = figures[set_name]
            print(f"| {name} | {set_name} | {p:.3f} | {r:.3f} | {n} ({pos}) |")
        low_p, low_r = low_quantile(figures)
        print(f"| {name} | **held-out folds, second-worst** | {low_p:.3f} | {low_r:.3f} | |")
        p, r = _pr(pred, truth)
        total = f"{len(truth)} ({sum(truth)})"
        print(f"| {name} | **all folds pooled** | {p:.3f} | {r:.3f} | {total} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="refit the classifier's weights")
    parser.add_argument("--cv", action="store_true", help="cross-validated figures by set")
    parser.add_argument("--cache", type=Path, help="--train/--cv: keep embeddings here")
    args = parser.parse_args()
    if args.train:
        train(args.cache)
    elif args.cv:
        cross_validate(args.cache)
    else:
        bench()


if __name__ == "__main__":
    main()
