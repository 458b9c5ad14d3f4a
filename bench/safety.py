"""Safety watch detectors side by side: held-out precision/recall, latency and memory.

    python bench/safety.py            # figures for the matcher and, when installed, the model
    python bench/safety.py --train    # refit the classifier's weights on tuning.tsv ONLY

The classifier needs `pip install 'familybot[safety-model]'`; without it only the matcher is
measured and one line says why. Latency is per message, one message at a time as the bot
sees them, on one CPU thread; memory is the process's resident size (VmRSS) from /proc.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from familybot.services import safety_model  # noqa: E402
from familybot.services.safety_watch import Detector, PhraseList, score  # noqa: E402
from tests.data.safety import Example, load  # noqa: E402

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


def train() -> None:
    """Fit a logistic regression on the tuning set's embeddings; pick C and the threshold by
    5-fold cross-validation inside the tuning set. The held-out set is not read."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    tuning = load("tuning")
    encoder = safety_model.load_encoder(threads=None)
    x = safety_model.embed(encoder, [e.text for e in tuning])
    y = [int(e.at_risk) for e in tuning]
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=17)
    best: tuple[float, float, float] | None = None  # (f1, C, threshold)
    for c in (0.3, 1.0, 3.0, 10.0, 30.0):
        model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
        proba = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
        for step in range(20, 81, 2):
            threshold = step / 100
            tp = sum(1 for p, t in zip(proba, y, strict=True) if p >= threshold and t)
            fp = sum(1 for p, t in zip(proba, y, strict=True) if p >= threshold and not t)
            fn = sum(1 for p, t in zip(proba, y, strict=True) if p < threshold and t)
            f1 = 2 * tp / (2 * tp + fp + fn)
            if best is None or f1 > best[0]:
                best = (f1, c, threshold)
    assert best is not None
    f1, c, threshold = best
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(x, y)
    WEIGHTS_PATH.write_text(
        json.dumps(
            {
                "about": "Logistic regression on all-MiniLM-L6-v2 sentence embeddings "
                "(normalised), fitted by bench/safety.py --train on tests/data/safety/"
                f"tuning.tsv only ({len(y)} messages). C={c}, threshold by 5-fold CV F1 "
                f"on the tuning set ({f1:.3f}).",
                "threshold": threshold,
                "intercept": round(float(model.intercept_[0]), 6),
                "coef": [round(float(w), 6) for w in model.coef_[0]],
            },
            indent=None,
        )
        + "\n",
        encoding="utf-8",
    )
    print(
        f"wrote {WEIGHTS_PATH.relative_to(REPO_ROOT)}: C={c} threshold={threshold} cv F1={f1:.3f}"
    )


def bench() -> None:
    heldout, heldout2, heldout3 = load("heldout"), load("heldout2"), load("heldout3")
    tuning, ordinary = load("tuning"), load("ordinary")
    texts = [e.text for e in heldout + heldout2 + heldout3]
    rows: list[str] = []
    perf: list[str] = []

    def add(detector: Detector) -> None:
        sets = (
            ("held-out 1", heldout),
            ("held-out 2", heldout2),
            ("held-out 3", heldout3),
            ("held-out 1+2", heldout + heldout2),
            ("held-out, all three", heldout + heldout2 + heldout3),
            ("tuning", tuning),
        )
        for name, examples in sets:
            p, r, n = figures(detector, examples)
            rows.append(f"| {detector.name} | {name} | {p:.3f} | {r:.3f} | {n} |")
        fired = sum(1 for e in ordinary if detector.matches(e.text))
        rows.append(
            f"| {detector.name} | ordinary chatter: fires on | {fired} | of | {len(ordinary)} |"
        )

    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    matcher = PhraseList.load()
    load_s = time.perf_counter() - start
    add(matcher)
    p50, p99 = latency_ms(matcher.matches, texts)
    perf.append(
        f"| matcher | {load_s:.3f} | {p50:.3f} | {p99:.3f} | {rss_mb() - before:.0f} | {rss_mb():.0f} |"
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
        add(safety_model.Either(matcher, classifier))
        p50, p99 = latency_ms(classifier.matches, texts)
        perf.append(
            f"| classifier (1 thread) | {load_s:.2f} | {p50:.1f} | {p99:.1f} | "
            f"{rss_mb() - before:.0f} | {rss_mb():.0f} |"
        )
    print("| detector | set | precision | recall | n |")
    print("|---|---|---:|---:|---:|")
    print("\n".join(rows))
    print()
    print("| detector | load s | p50 ms/message | p99 ms/message | RSS added MB | RSS total MB |")
    print("|---|---:|---:|---:|---:|---:|")
    print("\n".join(perf))
    if why_not is not None:
        print(f"\nclassifier skipped: {why_not}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="refit the classifier's weights")
    if parser.parse_args().train:
        train()
    else:
        bench()


if __name__ == "__main__":
    main()
